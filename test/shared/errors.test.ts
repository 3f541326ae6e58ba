// What `pulumi preview` prints when the program refuses a stack: the headline and one problem per line.
// The SDK's program runner formats an uncaught error as below (@pulumi/pulumi/cmd/run/run.js, uncaughtHandler):
// a RunError's message alone, anything else through `defaultErrorMessage` (util.inspect with the stack).
import * as pulumi from "@pulumi/pulumi";
import * as assert from "assert";
import { ConfigError } from "../../components/shared/errors";
import { MoveError } from "../../components/service/moves";
import { runProgram } from "../helpers/mocks";

// Internal to the SDK (not in its typings), but the very function its runner calls.
const { defaultErrorMessage } = require("@pulumi/pulumi/cmd/run/error") as { defaultErrorMessage(err: unknown): string };

/** The text the Pulumi CLI shows for an error the program threw. */
function asPulumiPrintsIt(err: unknown): string {
    return pulumi.RunError.isInstance(err as Error) ? (err as Error).message : `Running program failed with an unhandled exception:\n${defaultErrorMessage(err)}`;
}

describe("errors as the Pulumi CLI prints them (components/shared/errors.ts)", () => {
    it("a config error: the headline, then one problem per line, nothing else", async () => {
        const err = await runProgram("staging", { cluster: { kind: "existing" }, services: { checkout: { image: "ghcr.io/acme/checkout", stable: "latest", stage: 1, replicas: 0 } } }).then(
            () => assert.fail("the program accepted bad config"),
            (e) => e,
        );
        assert.ok(err instanceof ConfigError);
        assert.strictEqual(
            asPulumiPrintsIt(err),
            [
                "invalid stagehand config for stack staging:",
                '  - stack staging, service checkout, field stable: expected a fixed image tag or digest, not "latest" (it cannot be reviewed or rolled back), found "latest"',
                "  - stack staging, service checkout, field replicas: expected the production replica count, a whole number from 1 to 1000, found 0",
            ].join("\n"),
        );
    });

    it("a refused move: the headline, then one refusal per line", async () => {
        const cluster = { kind: "existing" };
        const svc = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3 };
        const first = await runProgram("uat", { cluster, services: { checkout: svc } });
        const err = await runProgram("uat", { cluster, services: { checkout: { ...svc, stage: 4 } } }, first.outputs).then(
            () => assert.fail("the program allowed a skip"),
            (e) => e,
        );
        assert.ok(err instanceof MoveError);
        assert.strictEqual(
            asPulumiPrintsIt(err),
            "illegal stage move in stack uat:\n" +
                "  - stack uat, service checkout, field stage: cannot move from stage 2 to 4: stage 2 (canary 10%) -> 4 (canary 100%) skips stage 3 (move one stage at a time, or set allowSkip). Allowed next: stay at 2, 3 (canary 90%), or 1 (rollback).",
        );
    });

    it("keeps the trace every Error has, and names the stack as stackName", () => {
        const err = new ConfigError("prod", ["stack prod, field cluster: expected an object"]);
        assert.match(String(err.stack), /^ConfigError: invalid stagehand config for stack prod:\n {2}- stack prod, field cluster: expected an object\n {4}at /);
        assert.strictEqual(err.stackName, "prod");
    });

    it("any other error is dumped with its stack and fields: what the marker spares a reviewer", () => {
        const plain = Object.assign(new Error("invalid stagehand config for stack prod"), { problems: ["a"] });
        const printed = asPulumiPrintsIt(plain);
        assert.match(printed, /problems: \[/);
        assert.match(printed, /\n\s+at /);
    });
});
