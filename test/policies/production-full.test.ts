// service-production-full: production at full size through a release (instant rollback), unless the stack's policy
// config allows lean releases — warned about in uat and prod, allowed stack-wide in staging.
import * as assert from "assert";
import { levelOf, parametersOf, readPackConfig } from "../../policies/offline";
import { productionFull } from "../../policies/rules/services";
import { checkResource, passes, PACK, ruleOnServiceReleases, SERVICE_RELEASE } from "./harness";

const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "01", stage: 1, replicas: 2, ...over });
const onProgram = (stack: string, config: Record<string, unknown>) => ruleOnServiceReleases(productionFull, stack, config);

describe("policy service-production-full", () => {
    it("is advisory in every stack, and allows lean releases stack-wide in staging", () => {
        for (const stack of ["staging", "uat", "prod"]) assert.strictEqual(levelOf(productionFull, readPackConfig(stack, PACK)), "advisory");
        assert.deepStrictEqual(parametersOf(productionFull, readPackConfig("staging", PACK)), { stackWide: true });
    });

    it("warns in prod of a service whose production follows traffic, from the stack or its own block, saying what to write instead", async () => {
        assert.deepStrictEqual(await onProgram("prod", { production: "follows-traffic", services: { checkout: svc(), cart: svc({ image: "ghcr.io/acme/cart", production: "full" }) } }), [
            `service checkout: production follows traffic (its own production, or stagehand:production): a rollback from the canary's last weight steps waits for production's pods to start, and stack prod's policy config expects production at full size. Set production: full on stagehand:services.checkout in Pulumi.prod.yaml, or list "checkout" in "services" of service-production-full in policies/config.prod.json`,
        ]);
        assert.deepStrictEqual(await onProgram("prod", { services: { checkout: svc() } }), []);
    });

    it("allows it in staging, stack-wide, and for the services a policy config lists", async () => {
        assert.deepStrictEqual(await onProgram("staging", { production: "follows-traffic", services: { checkout: svc() } }), []);
        const props = { allowSkip: false, allowSkipFrom: "stack", production: "follows-traffic" };
        passes(await checkResource(productionFull, { type: SERVICE_RELEASE, name: "checkout", props, stack: "prod" }, { services: ["checkout"] }));
        assert.match((await checkResource(productionFull, { type: SERVICE_RELEASE, name: "cart", props, stack: "prod" }, { services: ["checkout"] })).messages[0], /expects production at full size for all but checkout\./);
    });
});
