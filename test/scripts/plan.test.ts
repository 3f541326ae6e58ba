import * as assert from "assert";
import { parseStackConfig } from "../../components/config";
import { formatPlan } from "../../scripts/plan";

describe("npm run plan: the table and each service's words (scripts/plan.ts)", () => {
    it("says each service's stage in words and the waits a move may take, from the stack's and the service's settings", () => {
        const base = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 4 };
        const config = parseStackConfig("uat", {
            cluster: { kind: "existing" },
            settleSeconds: 8,
            services: { checkout: base, cart: { ...base, image: "ghcr.io/acme/cart", settleSeconds: 2, drainSeconds: 45, production: "follows-traffic" } },
        });
        const text = formatPlan("uat", config.planned);
        assert.deepStrictEqual(text.split("\n").slice(-6), [
            "cart: stage 2/6 canary 10%: 90% -> 01 (production x4), 10% -> 02 (canary x2); strategy canary",
            "  waits: settle 2s before weight moves onto new pods, drain 45s before pods that carried traffic go",
            // How production is sized through the release (docs/releasing.md "Lean releases"), what that holds and what a rollback starts.
            "  release: production follows traffic (headroom 20%): holds up to 2 pods beyond x4 (at canary 10%, canary 90%), 4 pods for the minutes of a switch back or rollback (make before break); a rollback from canary 100% starts 3 pods of production before traffic returns",
            "checkout: stage 2/6 canary 10%: 90% -> 01 (production x4), 10% -> 02 (canary x2); strategy canary",
            "  waits: settle 8s before weight moves onto new pods, drain 30s before pods that carried traffic go",
            "  release: production keeps its full size: holds up to 4 pods beyond x4 (at canary 90%, canary 100%, promote, switch back); a rollback from a weight step is instant (production is at full size)",
        ]);
        assert.match(text, /^stack uat: 2 services\n\nSERVICE +NAMESPACE +STAGE +TRAFFIC prod\/canary +PRODUCTION revision x replicas +CANARY revision x replicas\ncart +cart +2\/6 canary 10% +90 \/ 10 +01 x4 +02 x2\n/);
    });

    it("refuses a bad stack-wide settle time with the usual words", () => {
        assert.throws(() => parseStackConfig("uat", { cluster: { kind: "existing" }, settleSeconds: -1, services: {} }), /stack uat, stagehand:settleSeconds: expected the settle time in seconds, a whole number from 0 to 600, found -1/);
    });

    it("shows sticky sessions and what a canary revision changes, field by field", () => {
        const config = parseStackConfig("uat", {
            cluster: { kind: "existing" },
            services: {
                checkout: { image: "ghcr.io/acme/checkout", stable: "01", canary: { tag: "02", env: { CACHE: "on" } }, stage: 2, replicas: 4, sticky: { cookie: "checkout-track", maxAgeSeconds: 3600 } },
                cart: { image: "ghcr.io/acme/cart", stable: "01", stage: 1, replicas: 2, sticky: { header: "x-cart-track" } },
            },
        });
        const lines = formatPlan("uat", config.planned).split("\n");
        assert.match(lines[4], /^checkout +checkout +2\/6 canary 10% +90 \/ 10 +01 x4 +02\+env x2$/);
        assert.ok(lines.includes("checkout: stage 2/6 canary 10%: 90% -> 01 (production x4), 10% -> 02+env (canary x2); strategy canary"), lines.join("\n"));
        assert.ok(lines.includes("  canary revision 02+env: env.CACHE: (not set) -> on"), lines.join("\n"));
        assert.ok(lines.includes("  sticky: cookie checkout-track (max age 3600s) marks each user with the version that served them during the weight steps"), lines.join("\n"));
        assert.ok(lines.includes("  sticky: header x-cart-track marks each user with the version that served them during the weight steps"), lines.join("\n"));
    });
});
