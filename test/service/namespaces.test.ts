// Namespaces and removal (components/service/namespaces.ts, removal.ts, service-namespace.ts), under the SDK's mocks:
// one Namespace per namespace, adopted from the `<svc>-namespace` of earlier stagehands, kept while a service is in it,
// deleted only with its last service removed explicitly; a running service is neither removed nor moved unannounced.
import * as assert from "assert";
import { parseStackConfig } from "../../components/config";
import { readDeployedServices } from "../../components/service/deployed";
import { planNamespaces } from "../../components/service/namespaces";
import { LiveServiceError } from "../../components/service/removal";
import { ConfigError } from "../../components/shared/errors";
import { readStackConfig } from "../../scripts/stack-file";
import { dependencyNames, ofType, Registered, runProgram } from "../helpers/mocks";
import { problemsOf } from "../helpers/problems";
import { podSecurityLabels } from "../../components/shared/pod-security";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const SERVICE_RELEASE = "stagehand:index:ServiceRelease";
const ISTIO_NAMESPACES = ["istio-system", "istio-ingress"];
const cluster = { kind: "existing" };
const svc = (image: string, over: Record<string, unknown> = {}) => ({ image: `ghcr.io/acme/${image}`, stable: "01", stage: 1, replicas: 3, namespace: "shop", ...over });

/** The service namespaces registered (Istio's own aside), by resource name. */
function namespaces(resources: Registered[]): Record<string, Registered> {
    return Object.fromEntries(ofType(resources, NAMESPACE).filter((n) => !ISTIO_NAMESPACES.includes(n.inputs.metadata.name)).map((n) => [n.name, n]));
}

/** The URN today's `<svc>-namespace` has in stack `stack`: a Namespace under the ServiceRelease `<svc>`, itself at the stack's root. */
const legacyUrn = (stack: string, service: string) => `urn:pulumi:${stack}::stagehand::${SERVICE_RELEASE}$${NAMESPACE}::${service}-namespace`;

/** What the preview of a refused update says, and that nothing was registered. */
async function refused(run: Promise<unknown>): Promise<LiveServiceError> {
    let error: any;
    await assert.rejects(run, (e: any) => {
        error = e;
        return true;
    });
    assert.ok(error instanceof LiveServiceError, String(error));
    assert.deepStrictEqual((error as { registered?: unknown }).registered, [], "no resource registered");
    return error;
}

describe("namespaces and removal", () => {
    describe("one Namespace per namespace, registered by the program", () => {
        it("staging: namespace-<ns>, labelled for injection, adopting each service's <svc>-namespace; every service waits for it", async () => {
            const { resources } = await runProgram("staging", readStackConfig("staging"));
            const ns = namespaces(resources);
            assert.deepStrictEqual(Object.keys(ns).sort(), ["namespace-catalog", "namespace-checkout", "namespace-payments"]);
            for (const [service, n] of Object.entries(ns).map(([k, v]) => [k.replace(/^namespace-/, ""), v] as const)) {
                assert.deepStrictEqual(n.inputs.metadata, { name: service, labels: { "istio.io/rev": "1-30-3", "app.kubernetes.io/managed-by": "stagehand", ...podSecurityLabels("restricted", "1.35") } });
                assert.match(n.parent!, /::pulumi:pulumi:Stack::/, "a child of the stack, not of a ServiceRelease");
                assert.deepStrictEqual(n.aliases, [legacyUrn("staging", service)]);
                assert.ok(dependencyNames(n).includes("istio-istiod-1-30-3"), "waits for Istio");
                const release = resources.find((r) => r.type === SERVICE_RELEASE && r.name === service)!;
                assert.ok(dependencyNames(release).includes(`namespace-${service}`), `ServiceRelease ${service} depends on its namespace`);
                for (const part of ["production", "canary", "routing"]) {
                    const helm = resources.find((r) => r.type === RELEASE && r.name === `${service}-${part}`)!;
                    assert.ok(dependencyNames(helm).includes(`namespace-${service}`), `${service}-${part} waits for the namespace`);
                }
            }
            assert.ok(!resources.some((r) => r.name.endsWith("-namespace")), "no <svc>-namespace any more");
        });

        it("a shared namespace adopts every service of it, and a service added first by name changes nothing of it", async () => {
            const before = await runProgram("uat", { cluster, services: { cart: svc("cart"), checkout: svc("checkout") } });
            const after = await runProgram("uat", { cluster, services: { api: svc("api"), cart: svc("cart"), checkout: svc("checkout") } }, before.outputs);
            const [a, b] = [namespaces(before.resources), namespaces(after.resources)];
            assert.deepStrictEqual(Object.keys(b), ["namespace-shop"]);
            assert.deepStrictEqual(b["namespace-shop"].inputs, a["namespace-shop"].inputs, "same inputs");
            assert.deepStrictEqual([b["namespace-shop"].type, b["namespace-shop"].parent, b["namespace-shop"].dependencies], [a["namespace-shop"].type, a["namespace-shop"].parent, a["namespace-shop"].dependencies]);
            // Today's owner was cart (first by name): its namespace is adopted; api's alias names nothing that exists.
            assert.deepStrictEqual(a["namespace-shop"].aliases, [legacyUrn("uat", "cart"), legacyUrn("uat", "checkout")]);
            assert.deepStrictEqual(b["namespace-shop"].aliases, [legacyUrn("uat", "api"), legacyUrn("uat", "cart"), legacyUrn("uat", "checkout")]);
            for (const service of ["api", "cart", "checkout"]) {
                assert.ok(dependencyNames(after.resources.find((r) => r.type === SERVICE_RELEASE && r.name === service)!).includes("namespace-shop"));
            }
            const charts = ofType(after.resources, RELEASE).filter((r) => r.inputs.chart === "./charts/service");
            assert.deepStrictEqual(charts.map((r) => r.inputs.namespace), Array(9).fill("shop"));
        });

        it("kept while a service remains in it: removing one explicitly keeps it, still adopting the removed one's", async () => {
            const first = await runProgram("uat", { cluster, services: { cart: svc("cart"), checkout: svc("checkout") } });
            assert.strictEqual(first.outputs.serviceStages.cart.namespace, "shop");
            const second = await runProgram("uat", { cluster, remove: ["cart"], services: { checkout: svc("checkout") } }, first.outputs);
            const ns = namespaces(second.resources);
            assert.deepStrictEqual(Object.keys(ns), ["namespace-shop"]);
            assert.deepStrictEqual(ns["namespace-shop"].inputs, namespaces(first.resources)["namespace-shop"].inputs);
            assert.deepStrictEqual(ns["namespace-shop"].aliases, [legacyUrn("uat", "cart"), legacyUrn("uat", "checkout")], "cart may have created it");
            assert.ok(!second.resources.some((r) => r.name.startsWith("cart")), "cart's releases are gone");
            assert.deepStrictEqual(Object.keys(second.outputs.serviceStages), ["checkout"]);
        });

        it("deleted with its last service removed explicitly, and only then", async () => {
            const first = await runProgram("uat", { cluster, services: { cart: svc("cart"), checkout: svc("checkout"), search: svc("search", { namespace: "find" }) } });
            const second = await runProgram("uat", { cluster, remove: ["cart", "checkout"], services: { search: svc("search", { namespace: "find" }) } }, first.outputs);
            assert.deepStrictEqual(Object.keys(namespaces(second.resources)), ["namespace-find"]);
        });

        it("planNamespaces: a deployed service is adopted where its outputs place it, once", () => {
            const plans = planNamespaces(
                { b: { namespace: "shop" }, a: { namespace: "find" } },
                { a: { namespace: "find" }, gone: { namespace: "shop" }, elsewhere: { namespace: "old" }, unknown: {} },
            );
            assert.deepStrictEqual(plans, [
                { namespace: "find", services: ["a"], adopts: ["a"] },
                { namespace: "shop", services: ["b"], adopts: ["b", "gone"] },
            ]);
        });
    });

    describe("a running service is never removed or moved unannounced (refused before anything is registered)", () => {
        it("refuses a removal stagehand:remove does not list, saying what would be deleted and what to add", async () => {
            const first = await runProgram("uat", { cluster, services: { cart: svc("cart", { canary: "02", stage: 2 }), checkout: svc("checkout") } });
            const e = await refused(runProgram("uat", { cluster, services: { checkout: svc("checkout") } }, first.outputs));
            // The pods as the outputs record them: the first deployment held the canary at full size (x3).
            assert.strictEqual(
                e.message,
                "refused change to running services in stack uat:\n" +
                    "  - stack uat, service cart, field stagehand:remove: cannot remove a running service unless the stack says so: its block is gone from stagehand:services, " +
                    "but it is deployed at stage 2, and this update would delete the Helm releases cart-production, cart-canary and cart-routing and the pods they run " +
                    "(production x3 of 01, canary x3 of 02); namespace shop stays (checkout still in it). To remove it, add it to stagehand:remove for this update " +
                    "(stagehand:remove: [cart]); to keep it, restore its block.",
            );
        });

        it("names the namespace that would go with the last service, and a near miss in stagehand:remove", async () => {
            const first = await runProgram("uat", { cluster, services: { cart: svc("cart"), search: svc("search", { namespace: "find" }) } });
            const e = await refused(runProgram("uat", { cluster, remove: ["crat"], services: { search: svc("search", { namespace: "find" }) } }, first.outputs));
            assert.deepStrictEqual(e.problems, [
                "stack uat, service cart, field stagehand:remove: cannot remove a running service unless the stack says so: its block is gone from stagehand:services, " +
                    "but it is deployed at stage 1, and this update would delete the Helm releases cart-production, cart-canary and cart-routing and the pods they run " +
                    "(production x3 of 01, canary x0 of 01), and namespace shop with everything else in it (no service of the stack is left there). To remove it, add it to " +
                    'stagehand:remove for this update (stagehand:remove: [cart]) — stagehand:remove lists "crat": did you mean cart?; to keep it, restore its block.',
            ]);
        });

        it("refuses a running service's namespace change with how to move a service, together with every other refusal", async () => {
            const first = await runProgram("uat", { cluster, services: { cart: svc("cart"), checkout: svc("checkout", { canary: "02", stage: 2 }) } });
            const e = await refused(
                runProgram("uat", { cluster, services: { cart: svc("cart", { namespace: "basket" }), checkout: svc("checkout", { canary: "02", stage: 4 }) } }, first.outputs),
            );
            assert.deepStrictEqual(e.problems, [
                "stack uat, service cart, field namespace: cannot move a running service from namespace shop to basket: that deletes its Helm releases and their pods in shop " +
                    "and creates them anew in basket, with nothing serving in between. Keep namespace shop. To move the service, add a new service block (another name) with " +
                    "namespace basket, move its callers and traffic to it, then remove cart explicitly (delete its block and list it under stagehand:remove).",
                "stack uat, service checkout, field stage: cannot move from stage 2 to 4: stage 2 (canary 10%) -> 4 (canary 100%) skips stage 3 (move one stage at a time, or set allowSkip). Allowed next: stay at 2, 3 (canary 90%), or 1 (rollback).",
            ]);
        });

        it("moving a service is adding one in the new namespace, then removing the old one explicitly", async () => {
            const first = await runProgram("uat", { cluster, services: { cart: svc("cart") } });
            const both = await runProgram("uat", { cluster, services: { cart: svc("cart"), basket: svc("cart", { namespace: "basket" }) } }, first.outputs);
            assert.deepStrictEqual(Object.keys(namespaces(both.resources)).sort(), ["namespace-basket", "namespace-shop"]);
            const moved = await runProgram("uat", { cluster, remove: ["cart"], services: { basket: svc("cart", { namespace: "basket" }) } }, both.outputs);
            assert.deepStrictEqual(Object.keys(namespaces(moved.resources)), ["namespace-basket"]);
            assert.deepStrictEqual(namespaces(moved.resources)["namespace-basket"].aliases, [legacyUrn("uat", "basket")]);
        });

        it("outputs written before namespaces were recorded: a listed removal waits one update, since the namespace is unknown", async () => {
            const first = await runProgram("uat", { cluster, services: { cart: svc("cart"), checkout: svc("checkout") } });
            const old = JSON.parse(JSON.stringify(first.outputs));
            for (const s of Object.values(old.serviceStages) as any[]) delete s.namespace;
            const e = await refused(runProgram("uat", { cluster, remove: ["cart"], services: { checkout: svc("checkout") } }, old));
            assert.deepStrictEqual(e.problems, [
                "stack uat, service cart, field stagehand:remove: cannot remove cart in this update: the stack's previous outputs do not record which namespace it runs in " +
                    "(an earlier stagehand wrote them), so this update cannot tell whether the namespace goes with it. Restore its block and drop it from stagehand:remove " +
                    "for one update (the outputs then record its namespace), then remove it.",
            ]);
            // With its block back, the update records the namespace; an unlisted removal still says what would go.
            const kept = await runProgram("uat", { cluster, services: { cart: svc("cart"), checkout: svc("checkout") } }, old);
            assert.strictEqual(kept.outputs.serviceStages.cart.namespace, "shop");
            const unlisted = await refused(runProgram("uat", { cluster, services: { checkout: svc("checkout") } }, old));
            assert.match(unlisted.problems[0], /cart-routing and the pods they run \(production x3 of 01, canary x0 of 01\), and its namespace if no other service is in it \(the previous outputs do not record which namespace it runs in\)\. To remove it/);
        });
    });

    describe("stagehand:remove", () => {
        const services = { checkout: svc("checkout") };
        it("is a list of service names, each once, none of them still configured", () => {
            assert.deepStrictEqual(parseStackConfig("uat", { cluster, services }).remove, []);
            assert.deepStrictEqual(parseStackConfig("uat", { cluster, services, remove: ["cart"] }).remove, ["cart"]);
            assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { cluster, services, remove: ["cart", "checkout"] })), [
                'stack uat, service checkout, field stagehand:remove[1]: expected only services whose block is gone from stagehand:services, found "checkout", which still has its block (remove it from stagehand:remove, or remove its block)',
            ]);
            assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { cluster, services, remove: "cart" })), [
                'stack uat, stagehand:remove: expected a list of the service names this update removes, e.g. [cart], found "cart"',
            ]);
            assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { cluster, services, remove: ["cart", "Cart!", "cart"] })), [
                'stack uat, stagehand:remove, field [1]: expected a DNS label (lower-case letters, digits and \'-\', starting with a letter), found "Cart!"',
                'stack uat, stagehand:remove, field [2]: expected each service once, found "cart"',
            ]);
        });

        it("a configured service listed is refused by the program before anything is registered", async () => {
            await assert.rejects(runProgram("uat", { cluster, services, remove: ["checkout"] }), (e: any) => {
                assert.ok(e instanceof ConfigError);
                assert.match(e.message, /field stagehand:remove\[0\]: .*\(remove it from stagehand:remove, or remove its block\)/);
                assert.deepStrictEqual((e as { registered?: unknown }).registered, [], "no resource registered");
                return true;
            });
        });
    });

    describe("serviceStages.<svc>.namespace", () => {
        it("is exported, read back, and optional in older outputs", async () => {
            const { outputs } = await runProgram("uat", { cluster, services: { cart: svc("cart") } });
            assert.strictEqual(outputs.serviceStages.cart.namespace, "shop");
            assert.strictEqual(readDeployedServices("uat", outputs.serviceStages).cart.namespace, "shop");
            const { namespace, ...older } = outputs.serviceStages.cart;
            assert.ok(!("namespace" in readDeployedServices("uat", { cart: older }).cart), "absent: not read");
        });
    });
});
