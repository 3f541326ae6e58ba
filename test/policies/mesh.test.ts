// The mesh rule, passing and violating cases: mesh-wide STRICT mTLS and the PeerAuthentications that weaken it.
import * as assert from "assert";
import { meshMtlsStrict } from "../../policies/rules/mesh";
import { istiod, release, valuesAt } from "./fixtures";
import { checkStack, PEER_AUTH, passes, StackRes, SUBNET } from "./harness";

describe("policy mesh-mtls-strict", () => {
    const peer = (namespace: string, name: string, spec: Record<string, unknown>): StackRes => ({ type: PEER_AUTH, name: `${namespace}-${name}`, props: { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name, namespace }, spec } });
    const strict = peer("istio-system", "default", { mtls: { mode: "STRICT" } });
    const checkout = release("checkout", valuesAt(2));

    it("passes a stack with mesh-wide STRICT mTLS", async () => {
        passes(await checkStack(meshMtlsStrict, "prod", [istiod, strict, checkout]));
    });

    it("refuses a stack with services but no mesh-wide STRICT policy", async () => {
        assert.deepStrictEqual((await checkStack(meshMtlsStrict, "prod", [checkout])).messages, [
            'no mesh-wide STRICT mTLS: expected a PeerAuthentication "default" in namespace istio-system without selector and spec.mtls.mode STRICT, found none in this stack',
        ]);
        const permissive = peer("istio-system", "default", { mtls: { mode: "PERMISSIVE" } });
        assert.deepStrictEqual((await checkStack(meshMtlsStrict, "prod", [istiod, permissive])).messages, [
            'no mesh-wide STRICT mTLS: expected a PeerAuthentication "default" in namespace istio-system without selector and spec.mtls.mode STRICT, found istio-system/default mode "PERMISSIVE"',
            "PeerAuthentication istio-system/default sets mTLS mode PERMISSIVE, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)",
        ]);
    });

    it("refuses namespace or port overrides that weaken it, unless listed as exceptions", async () => {
        const legacy = peer("legacy", "default", { mtls: { mode: "PERMISSIVE" } });
        const port = peer("checkout", "metrics", { selector: { matchLabels: { app: "checkout" } }, portLevelMtls: { "9090": { mode: "DISABLE" } } });
        const out = await checkStack(meshMtlsStrict, "prod", [strict, legacy, port, checkout]);
        assert.deepStrictEqual(out.messages, [
            "PeerAuthentication legacy/default sets mTLS mode PERMISSIVE, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)",
            "PeerAuthentication checkout/metrics sets mTLS mode DISABLE on port 9090, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)",
        ]);
        passes(await checkStack(meshMtlsStrict, "prod", [strict, legacy, port, checkout], { permissiveExceptions: ["legacy/default", "checkout/metrics"] }));
    });

    it("does not apply to a stack without a mesh or services", async () => {
        const out = await checkStack(meshMtlsStrict, "prod", [{ type: SUBNET, name: "a", props: { availabilityZone: "us-east-1a" } }]);
        assert.strictEqual(out.notApplicable, "no Istio mesh or service releases in this stack");
    });
});
