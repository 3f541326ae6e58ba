// service-allow-skip-allowed: allowSkip (a service's own, or the stack-wide stagehand:allowSkip) only where the
// stack's policy config allows it — mandatory in prod, allowed stack-wide in staging.
import * as assert from "assert";
import { levelOf, parametersOf, readPackConfig } from "../../policies/offline";
import { allowSkipAllowed } from "../../policies/rules/services";
import { checkResource, passes, PACK, ruleOnServiceReleases, SERVICE_RELEASE } from "./harness";

const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "01", stage: 1, replicas: 2, ...over });
const onProgram = (stack: string, config: Record<string, unknown>) => ruleOnServiceReleases(allowSkipAllowed, stack, config);

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
        passes(await checkResource(allowSkipAllowed, { type: SERVICE_RELEASE, name: "checkout", props, stack: "prod" }, { services: ["checkout"] }));
        assert.match(
            (await checkResource(allowSkipAllowed, { type: SERVICE_RELEASE, name: "cart", props, stack: "prod" }, { services: ["checkout"] })).messages[0],
            /stack prod's policy config allows that only for checkout\. Remove allowSkip from stagehand:services\.cart/,
        );
    });
});
