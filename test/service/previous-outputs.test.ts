// The program reads what the stack last deployed from its own outputs, failing closed (components/service/deployed.ts
// `readPreviousServices`): no outputs at all is a first deployment; outputs without `serviceStages` are refused
// unless `stagehand:acknowledge` has `serviceStages: unknown`.
import * as assert from "assert";
import { readPreviousServices } from "../../components/service/deployed";
import { deployedOutputs } from "../../scripts/policies";
import { runProgram } from "../helpers/mocks";

const config = { cluster: { kind: "existing" }, services: { checkout: { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 5 } } };
const refusal = (stack: string, others: string) =>
    `stack ${stack}, output serviceStages: missing, but the stack has outputs of an earlier update (${others}): what each service runs is unknown. ` +
    "Taking every service as new would judge no move (a skipped stage would pass) and remove no service gone from the config. " +
    "Restore the outputs of the last good update (pulumi stack history; pulumi stack export --version <version> --file state.json; pulumi stack import --file state.json), " +
    `or, to deploy every service from an unknown previous stage (the cautious order), add to Pulumi.${stack}.yaml: stagehand:acknowledge: { serviceStages: unknown } and remove it after that update`;

describe("previous outputs: a deployed stack without serviceStages fails closed", () => {
    it("no outputs at all: a first deployment, every service from an unknown stage (the cautious order)", async () => {
        const first = await runProgram("uat", config, {});
        assert.match(first.outputs.serviceStages.checkout.move, /^first deployment at stage 2 \(canary 10%\) \(previous stage unknown: cautious order/);
    });

    it("outputs without serviceStages: refused before anything is registered, saying how to recover", async () => {
        const { outputs } = await runProgram("uat", config, {});
        const lost = { ...outputs };
        delete lost.serviceStages;
        assert.ok(Object.keys(lost).length > 0, "the program exports more than serviceStages");
        await assert.rejects(runProgram("uat", config, lost), (e: any) => {
            // The outputs the stack really holds (Pulumi keeps no output whose value is undefined).
            const held = Object.keys(lost).filter((k) => lost[k] !== undefined);
            assert.deepStrictEqual(e.problems, [refusal("uat", held.sort().join(", "))]);
            assert.match(e.message, /^unreadable deployed state in stack uat:/);
            assert.deepStrictEqual(e.registered, [], "no resource registered");
            return true;
        });
    });

    it("acknowledged with serviceStages: unknown, the update goes on in the cautious order; the diff never calls it unused", async () => {
        const { outputs } = await runProgram("uat", config, {});
        const lost = { ...outputs };
        delete lost.serviceStages;
        const run = await runProgram("uat", { ...config, acknowledge: { serviceStages: "unknown" } }, lost);
        assert.match(run.outputs.serviceStages.checkout.move, /previous stage unknown: cautious order/);
        // With serviceStages back, the acknowledgement changes nothing.
        const next = await runProgram("uat", { ...config, acknowledge: { serviceStages: "unknown" } }, run.outputs);
        assert.strictEqual(next.outputs.serviceStages.checkout.move, "stay at stage 2 (canary 10%)");
    });

    it("the pure reader: nothing, or serviceStages alone, is read as before", () => {
        assert.deepStrictEqual(readPreviousServices("prod", [], undefined, false), {});
        assert.deepStrictEqual(readPreviousServices("prod", ["serviceStages"], {}, false), {});
        assert.throws(() => readPreviousServices("prod", ["platformState"], null, false), (e: any) => e.problems[0] === refusal("prod", "platformState"));
        assert.deepStrictEqual(readPreviousServices("prod", ["platformState"], undefined, true), {});
    });

    it("plan --policies builds a base with no services as deployed with none, never as outputs lost", () => {
        const outputs = deployedOutputs("staging", { cluster: { kind: "existing" } });
        assert.deepStrictEqual(outputs.serviceStages, {});
        assert.deepStrictEqual(readPreviousServices("staging", Object.keys(outputs), outputs.serviceStages, false), {});
    });
});
