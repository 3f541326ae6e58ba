// Istio upgrades by revision: every istiod is a revision named after its release, every service namespace is
// labelled with the revision it injects from, an upgrade installs the new revision beside the old one, moves
// namespaces one pull request at a time, then makes the new one the default and removes the old one last.
import * as assert from "assert";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { parseCluster } from "../../components/platform/config";
import { defaultRevision, formatRevisions, installedRevisions, namespaceRevision, revisionOf } from "../../components/platform/revisions";
import { chartValues, ONLY } from "../../components/service/values";
import { helmTemplate } from "../../scripts/helm";
import { ofType, Registered, runProgram } from "../helpers/mocks";
import { problemsOf } from "../helpers/problems";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const svc = (image: string) => ({ image: `ghcr.io/acme/${image}`, stable: "1", stage: 1, replicas: 2 });
const services = { checkout: svc("checkout"), cart: svc("cart") };
const istio = (over: Record<string, unknown>) => ({ kind: "existing", istio: { version: "1.29.6", ...over } });

const problems = (cluster: unknown) => problemsOf(() => parseStackConfig("uat", { services, cluster }));

describe("Istio revisions (components/platform/revisions.ts)", () => {
    it("names a revision after its release, and says which namespaces each serves", () => {
        const config = parseCluster("uat", istio({ canaryVersion: "1.30.3", canaryNamespaces: ["checkout"] })).istio;
        assert.strictEqual(revisionOf("1.30.3"), "1-30-3");
        assert.strictEqual(defaultRevision(config), "1-29-6");
        assert.deepStrictEqual([namespaceRevision(config, "checkout"), namespaceRevision(config, "cart")], ["1-30-3", "1-29-6"]);
        assert.deepStrictEqual(installedRevisions(config), [
            { revision: "1-29-6", version: "1.29.6", role: "default" },
            { revision: "1-30-3", version: "1.30.3", role: "canary" },
        ]);
        assert.strictEqual(formatRevisions(config, ["checkout", "cart", "cart"]), "istio 1.29.6 (revision 1-29-6, default): cart, the ingress gateway\nistio 1.30.3 (revision 1-30-3, canary): checkout");
    });

    it("refuses canaryNamespaces without a canaryVersion, twice, or naming no service's namespace", () => {
        assert.deepStrictEqual(problems(istio({ canaryNamespaces: ["checkout"] })), [
            'stack uat, field cluster.istio.canaryNamespaces: expected no canaryNamespaces without a canaryVersion (there is no second control plane to move them to), found ["checkout"]',
        ]);
        assert.deepStrictEqual(problems(istio({ canaryVersion: "1.30.3", canaryNamespaces: ["checkout", "checkout", "payments"] })), [
            'stack uat, field cluster.istio.canaryNamespaces[1]: expected each namespace once, found "checkout"',
        ]);
        assert.deepStrictEqual(problems(istio({ canaryVersion: "1.30.3", canaryNamespaces: ["payments"] })), [
            'stack uat, field cluster.istio.canaryNamespaces[0]: expected the namespace of a service of this stack (cart, checkout), found "payments"',
        ]);
    });

    it("a track's pods carry the revision (moving the namespace restarts them); the routing does not", () => {
        const { checkout } = parseStackConfig("uat", { services, cluster: istio({}) }).services;
        const plan = { ...require("../../components/service/stages").stagePlans(checkout)[0] };
        const values = chartValues("checkout", checkout, plan, ONLY.production, { istioRevision: "1-30-3" });
        const objects = helmTemplate(path.resolve(__dirname, "../../charts/service"), { releaseName: "checkout-production", namespace: "checkout", values });
        const deployment = objects.find((o) => o.kind === "Deployment");
        assert.strictEqual(deployment.spec.template.metadata.annotations["stagehand.dev/istio-revision"], "1-30-3");
        assert.ok(!("istioRevision" in chartValues("checkout", checkout, plan, ONLY.routing, { istioRevision: "1-30-3" })));
    });
});

describe("an Istio minor upgrade, step by step, under Pulumi mocks", () => {
    const key = (r: Registered) => `${r.type}::${r.name}`;
    const changed = (a: Registered[], b: Registered[]) => {
        const before = new Map(a.map((r) => [key(r), JSON.stringify(r.inputs)]));
        const after = new Map(b.map((r) => [key(r), JSON.stringify(r.inputs)]));
        return {
            added: [...after.keys()].filter((k) => !before.has(k)).sort(),
            removed: [...before.keys()].filter((k) => !after.has(k)).sort(),
            updated: [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k)).sort(),
        };
    };
    const labelOf = (run: { resources: Registered[] }, ns: string) => ofType(run.resources, NAMESPACE).find((n) => n.inputs.metadata.name === ns)!.inputs.metadata.labels["istio.io/rev"];

    it("installs the new revision beside the old, moves one namespace per pull request, then removes the old revision", async () => {
        const a = await runProgram("uat", { services, cluster: istio({}) });
        const b = await runProgram("uat", { services, cluster: istio({ canaryVersion: "1.30.3" }) }, a.outputs);
        const c = await runProgram("uat", { services, cluster: istio({ canaryVersion: "1.30.3", canaryNamespaces: ["checkout"] }) }, b.outputs);
        const d = await runProgram("uat", { services, cluster: istio({ version: "1.30.3" }) }, c.outputs);

        // 1. A second control plane beside the first; the CRDs follow the newest release. No namespace moves.
        assert.deepStrictEqual(changed(a.resources, b.resources), { added: [`${RELEASE}::istio-istiod-1-30-3`], removed: [], updated: [`${RELEASE}::istio-base`] });
        assert.deepStrictEqual([labelOf(b, "checkout"), labelOf(b, "cart")], ["1-29-6", "1-29-6"]);
        // 2. One namespace moves: its label, and its workloads (their pods restart onto the new revision's sidecars).
        assert.deepStrictEqual(changed(b.resources, c.resources), {
            added: [],
            removed: [],
            updated: [`${NAMESPACE}::namespace-checkout`, `${RELEASE}::checkout-canary`, `${RELEASE}::checkout-production`],
        });
        assert.deepStrictEqual([labelOf(c, "checkout"), labelOf(c, "cart")], ["1-30-3", "1-29-6"]);
        assert.deepStrictEqual(c.outputs.istioRevisions, [
            { revision: "1-29-6", version: "1.29.6", role: "default", namespaces: ["cart"] },
            { revision: "1-30-3", version: "1.30.3", role: "canary", namespaces: ["checkout"] },
        ]);
        // 3. The new revision becomes the default: the rest moves, the gateway and validation follow, the old istiod
        //    goes (Pulumi deletes a removed resource after everything else of the update). The moved one is untouched.
        //    The CNI node agent (one per cluster, at the default version) is upgraded in place.
        assert.deepStrictEqual(changed(c.resources, d.resources), {
            added: [],
            removed: [`${RELEASE}::istio-istiod-1-29-6`],
            updated: [`${NAMESPACE}::namespace-cart`, `${RELEASE}::cart-canary`, `${RELEASE}::cart-production`, `${RELEASE}::istio-base`, `${RELEASE}::istio-cni`, `${RELEASE}::istio-gateway`],
        });
        assert.deepStrictEqual([labelOf(d, "checkout"), labelOf(d, "cart")], ["1-30-3", "1-30-3"]);
        const base = ofType(d.resources, RELEASE).find((r) => r.name === "istio-base")!.inputs.values;
        assert.strictEqual(base.defaultRevision, "1-30-3");
    });
});
