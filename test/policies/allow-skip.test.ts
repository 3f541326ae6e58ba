// service-allow-skip-allowed: allowSkip (a service's own, or the stack-wide stagehand:allowSkip) only where the
// stack's policy config allows it — mandatory in prod, allowed stack-wide in staging.
import * as assert from "assert";
import { levelOf, parametersOf, readPackConfig } from "../../policies/offline";
import { allowSkipAllowed } from "../../policies/rules/services";
import { runProgram } from "../helpers/mocks";
import { checkResource, passes, PACK } from "./harness";

const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "01", stage: 1, replicas: 2, ...over });
const COMPONENT = "stagehand:index:ServiceRelease";

/** The rule's messages on every ServiceRelease the program registers for `stack` with `config`, with the stack's policy config. */
async function onProgram(stack: string, config: Record<string, unknown>): Promise<string[]> {
    const { resources } = await runProgram(stack, { cluster: { kind: "existing" }, ...config });
    const components = resources.filter((r) => r.type === COMPONENT);
    assert.ok(components.length > 0, "the program registers ServiceRelease components");
    const parameters = parametersOf(allowSkipAllowed, readPackConfig(stack, PACK));
    const messages: string[] = [];
    for (const c of components) messages.push(...(await checkResource(allowSkipAllowed, { type: c.type, name: c.name, props: c.inputs, stack }, parameters)).messages);
    return messages;
}

describe("policy service-allow-skip-allowed", () => {
    it("is mandatory in prod, advisory in uat, mandatory (and allowed stack-wide) in staging", () => {
        assert.strictEqual(levelOf(allowSkipAllowed, readPackConfig("prod", PACK)), "mandatory");
        assert.strictEqual(levelOf(allowSkipAllowed, readPackConfig("uat", PACK)), "advisory");
        assert.deepStrictEqual(parametersOf(allowSkipAllowed, readPackConfig("staging", PACK)), { stackWide: true });
    });

    it("refuses the stack-wide allowSkip in prod, naming where it comes from and what to write instead", async () => {
        assert.deepStrictEqual(await onProgram("prod", { allowSkip: true, services: { checkout: svc() } }), [
            `service checkout: allowSkip is true (from stagehand:allowSkip, the stack-wide default): a pull request could skip canary stages or change stable without a canary, and stack prod's policy config allows that for no service. Remove stagehand:allowSkip from Pulumi.prod.yaml (or set allowSkip: false on the service), or list "checkout" in "services" of service-allow-skip-allowed in policies/config.prod.json`,
        ]);
    });

    it("refuses a service's own allowSkip in prod; passes without it, or with allowSkip: false overriding the stack", async () => {
        const [own] = await onProgram("prod", { services: { checkout: svc({ allowSkip: true }), cart: svc({ image: "ghcr.io/acme/cart" }) } });
        assert.match(own, /^service checkout: allowSkip is true \(its own allowSkip in stagehand:services\.checkout\).* Remove allowSkip from stagehand:services\.checkout in Pulumi\.prod\.yaml/);
        assert.deepStrictEqual(await onProgram("prod", { services: { checkout: svc() } }), []);
        assert.deepStrictEqual(await onProgram("prod", { allowSkip: true, services: { checkout: svc({ allowSkip: false }) } }), []);
    });

    it("allows it in staging, stack-wide", async () => {
        assert.deepStrictEqual(await onProgram("staging", { allowSkip: true, services: { checkout: svc(), cart: svc({ image: "ghcr.io/acme/cart", allowSkip: true }) } }), []);
    });

    it("allows the services the policy config lists, and only those", async () => {
        const props = { allowSkip: true, allowSkipFrom: "service" };
        passes(await checkResource(allowSkipAllowed, { type: COMPONENT, name: "checkout", props, stack: "prod" }, { services: ["checkout"] }));
        assert.match(
            (await checkResource(allowSkipAllowed, { type: COMPONENT, name: "cart", props, stack: "prod" }, { services: ["checkout"] })).messages[0],
            /stack prod's policy config allows that only for checkout\. Remove allowSkip from stagehand:services\.cart/,
        );
    });
});
