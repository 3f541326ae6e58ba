// Who may call a service (`callers`), the deny-by-default stacks, and one service per host on the shared Gateway:
// the chart rendered by the real helm, every object validated against Istio's own CRD schemas, the program under mocks.
import * as assert from "assert";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { allowNothingPolicy } from "../../components/service/authorization";
import { parseServices } from "../../components/service/config";
import { serviceFieldChanges } from "../../components/service/field-changes";
import { stagePlans } from "../../components/service/stages";
import { ALL_PARTS, chartValues, serviceReleaseSpecs } from "../../components/service/values";
import { helmTemplate } from "../../scripts/helm";
import { readStackConfig } from "../../scripts/stack-file";
import { dependencyNames, ofType, runProgram } from "../helpers/mocks";
import { INGRESS_PRINCIPAL, principalOf } from "../../components/shared/mesh";
import { one, programReleases, renderRelease } from "../helpers/charts";
import { problemsOf } from "../helpers/problems";
import { validateAll, validateObject } from "../helpers/schemas";

const CHART = path.resolve(__dirname, "../../charts/service");
type Obj = Record<string, any>;
const base = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 1, replicas: 2 };
const CALLERS = { namespaces: ["storefront"], serviceAccounts: ["orders/orders-worker"], ingress: true };
const AUTHZ = "kubernetes:security.istio.io/v1:AuthorizationPolicy";

function render(config: Obj, parts = ALL_PARTS, stageIndex = 0): Obj[] {
    const service = parseServices("test", { checkout: { ...base, ...config } }).checkout;
    const plan = stagePlans(service)[stageIndex];
    const objects = helmTemplate(CHART, { releaseName: "checkout", namespace: "shop", values: chartValues("checkout", service, plan, parts) });
    validateAll(objects);
    return objects;
}
const policies = (objects: Obj[]) => objects.filter((o) => o.kind === "AuthorizationPolicy");

/** Whether a selector's matchLabels select a pod's labels. */
const selects = (matchLabels: Record<string, string>, labels: Record<string, string>) => Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

/** A minimal stack config around services (cluster defaults, with the given authorization). */
function stack(services: Obj, authorization?: string): Obj {
    // An EKS cluster names its admins (the creator gets none: components/platform/config.ts adminProblems).
    return { services, cluster: { admins: ["arn:aws:iam::123456789012:role/stagehand-deploy-test"], istio: authorization ? { authorization } : {} } };
}

describe("callers: who may call a service (components/service/authorization.ts, chart authorizationpolicy.yaml)", () => {
    it("renders an ALLOW AuthorizationPolicy from the callers' principals and namespaces, selecting both tracks' pods, at every stage", () => {
        const service = parseServices("test", { checkout: { ...base, stage: 2, callers: CALLERS } }).checkout;
        for (const plan of stagePlans(service)) {
            const objects = helmTemplate(CHART, { releaseName: "checkout", namespace: "shop", values: chartValues("checkout", service, plan) });
            validateAll(objects);
            const [policy] = policies(objects);
            assert.ok(policy, `stage ${plan.stage}`);
            assert.strictEqual(policy.apiVersion, "security.istio.io/v1");
            assert.deepStrictEqual(policy.metadata.name, "checkout");
            assert.deepStrictEqual(policy.metadata.namespace, "shop");
            assert.deepStrictEqual(policy.spec.action, "ALLOW");
            assert.deepStrictEqual(policy.spec.rules, [
                {
                    from: [
                        { source: { principals: ["cluster.local/ns/orders/sa/orders-worker", "cluster.local/ns/istio-ingress/sa/istio-ingress"] } },
                        { source: { namespaces: ["storefront"] } },
                    ],
                },
            ]);
            assert.deepStrictEqual(policy.spec.selector, { matchLabels: { "app.kubernetes.io/name": "checkout", "app.kubernetes.io/instance": "checkout" } });
            const deployments = objects.filter((o) => o.kind === "Deployment");
            assert.deepStrictEqual(deployments.map((d) => d.metadata.name).sort(), ["checkout-canary", "checkout-production"]);
            for (const d of deployments) assert.ok(selects(policy.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name);
        }
    });

    it("is part of the routing release only: the tracks' releases render none", () => {
        const service = parseServices("test", { checkout: { ...base, callers: { ingress: true } } }).checkout;
        const specs = serviceReleaseSpecs({ name: "checkout", service, plan: stagePlans(service)[0] });
        const kinds = Object.fromEntries(
            Object.entries(specs).map(([part, spec]) => {
                const objects = helmTemplate(CHART, { releaseName: spec.name, namespace: spec.namespace, values: spec.values });
                validateAll(objects);
                return [part, policies(objects).length];
            }),
        );
        assert.deepStrictEqual(kinds, { production: 0, canary: 0, routing: 1 });
    });

    it("without callers renders no policy (the service takes any call unless its namespace denies by default)", () => {
        assert.deepStrictEqual(policies(render({})), []);
        assert.deepStrictEqual(policies(render({ callers: { namespaces: ["shop"] } }))[0].spec.rules, [{ from: [{ source: { namespaces: ["shop"] } }] }]);
    });

    it("refuses callers that name no one, a malformed or repeated ServiceAccount, and chart values that bypass callers", () => {
        const problems = (config: Obj) => problemsOf(() => parseServices("prod", { checkout: { ...base, ...config } }));
        assert.deepStrictEqual(problems({ callers: {} }), [
            'stack prod, service checkout, field callers: expected at least one caller (an empty list lets no one call the service): an object naming who may call the service: {namespaces?: [<namespace>, …], serviceAccounts?: ["<namespace>/<serviceaccount>", …], ingress?: true}, found an object',
        ]);
        assert.deepStrictEqual(problems({ callers: { serviceAccounts: ["orders"], namespaces: ["a", "a"] } }), [
            'stack prod, service checkout, field callers.namespaces[1]: expected each one once ("a" is listed twice), found "a"',
            'stack prod, service checkout, field callers.serviceAccounts[0]: expected a ServiceAccount as "<namespace>/<serviceaccount>", e.g. "checkout/checkout" (a service\'s pods run as its own name\'s ServiceAccount), found "orders"',
        ]);
        assert.deepStrictEqual(problems({ callers: { ingres: true } })[0], "stack prod, service checkout, field callers.ingres: unknown field; did you mean ingress?");
        assert.deepStrictEqual(problems({ values: { authorization: { enabled: false } } }), [
            "stack prod, service checkout, field values.authorization: expected no `authorization` (set the service's `callers` instead: stagehand writes the chart's authorization from it), found an object",
        ]);
    });
});

describe("deny-by-default stacks (cluster.istio.authorization)", () => {
    it("the shipped stack files: staging open, uat and prod deny by default, every uat and prod service naming its callers", () => {
        const modes = Object.fromEntries(["staging", "uat", "prod"].map((s) => [s, parseStackConfig(s, readStackConfig(s)).cluster.istio.authorization]));
        assert.deepStrictEqual(modes, { staging: "open", uat: "deny-by-default", prod: "deny-by-default" });
        assert.strictEqual(parseStackConfig("x", stack({ a: base })).cluster.istio.authorization, "open");
    });

    it("refuses a service without callers in a deny-by-default stack, and one bound to the shared Gateway that the ingress may not call", () => {
        const bound = { values: { istio: { gateways: ["istio-ingress/ingress"], hosts: ["shop.example.com"] } } };
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", stack({ checkout: { ...base, ...bound }, catalog: base }, "deny-by-default"))), [
            "stack uat, service checkout, field callers: expected who may call the service (cluster.istio.authorization is deny-by-default: a service without callers takes no call at all), found nothing; write e.g. callers: {namespaces: [checkout], ingress: true}",
            "stack uat, service catalog, field callers: expected who may call the service (cluster.istio.authorization is deny-by-default: a service without callers takes no call at all), found nothing; write e.g. callers: {namespaces: [catalog]}",
        ]);
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("staging", stack({ checkout: { ...base, ...bound, callers: { namespaces: ["shop"] } } }))), [
            "stack staging, service checkout, field callers.ingress: expected true for a service bound to the shared Gateway istio-ingress/ingress (values.istio.gateways), or the ingress gateway may not call it and no request from outside reaches it, found false; add ingress: true to callers, or unbind the Gateway",
        ]);
        assert.doesNotThrow(() => parseStackConfig("staging", stack({ checkout: { ...base, ...bound }, catalog: base })));
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("x", { ...stack({ a: base }), cluster: { istio: { authorization: "closed" } } })), [
            'stack x, field cluster.istio.authorization: expected deny-by-default or open, found "closed"',
        ]);
    });

    it("the allow-nothing policy is valid Istio and selects the whole namespace", () => {
        const policy = allowNothingPolicy("shop");
        validateObject(policy);
        assert.deepStrictEqual(policy.spec, { action: "ALLOW" });
        assert.strictEqual((policy.spec as Record<string, unknown>).selector, undefined);
    });

    it("under mocks: uat puts allow-nothing in every service namespace after its services' routing releases; staging none", async () => {
        const uat = await runProgram("uat", readStackConfig("uat"));
        const denies = ofType(uat.resources, AUTHZ);
        const services = Object.keys(readStackConfig("uat").services as object).sort();
        assert.deepStrictEqual(denies.map((r) => r.inputs.metadata.namespace).sort(), services);
        for (const r of denies) {
            const ns = r.inputs.metadata.namespace;
            assert.deepStrictEqual(r.inputs.spec, { action: "ALLOW" });
            assert.strictEqual(r.inputs.metadata.name, "allow-nothing");
            const deps = dependencyNames(r);
            assert.ok(deps.includes(`${ns}-routing`), `${ns}: ${deps.join(", ")}`);
        }
        const routing = ofType(uat.resources, "kubernetes:helm.sh/v3:Release").find((r) => r.name === "catalog-routing")!;
        assert.deepStrictEqual(routing.inputs.values.authorization, { enabled: true, principals: ["cluster.local/ns/checkout/sa/checkout"], namespaces: [] });
        const staging = await runProgram("staging", readStackConfig("staging"));
        assert.deepStrictEqual(ofType(staging.resources, AUTHZ), []);
    });
});

describe("a host on the shared Gateway belongs to one service", () => {
    const gw = (hosts: string[], gateways = ["istio-ingress/ingress"]) => ({ values: { istio: { gateways, hosts } } });
    it("refuses a second service claiming a host, naming both", () => {
        const services = {
            checkout: { ...base, ...gw(["shop.example.com", "pay.example.com"]) },
            catalog: { ...base, ...gw(["shop.example.com"]) },
            payments: { ...base, canary: { tag: "02", values: gw(["pay.example.com"]).values }, stage: 2 },
        };
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("prod", stack(services))), [
            'stack prod, service catalog, field values.istio.hosts: expected hosts on the shared Gateway istio-ingress/ingress that no other service claims (a host belongs to one service; two VirtualServices for it on one Gateway merge unpredictably), found "shop.example.com", already claimed by service checkout: remove it from one of checkout and catalog, or route it to both from one service\'s VirtualService',
            'stack prod, service payments, field values.istio.hosts: expected hosts on the shared Gateway istio-ingress/ingress that no other service claims (a host belongs to one service; two VirtualServices for it on one Gateway merge unpredictably), found "pay.example.com", already claimed by service checkout: remove it from one of checkout and catalog, or route it to both from one service\'s VirtualService'.replace("checkout and catalog", "checkout and payments"),
        ]);
    });
    it("accepts distinct hosts, and the same host on a Gateway of the service's own", () => {
        assert.doesNotThrow(() => parseStackConfig("prod", stack({ checkout: { ...base, ...gw(["a.example.com"]) }, catalog: { ...base, ...gw(["b.example.com"]) } })));
        assert.doesNotThrow(() => parseStackConfig("prod", stack({ checkout: { ...base, ...gw(["a.example.com"]) }, catalog: { ...base, ...gw(["a.example.com"], ["catalog/own"]) } })));
    });
});

describe("the platform side of mesh authorization", () => {
    it("the ingress principal callers.ingress allows is the ServiceAccount the gateway chart runs its pods as", async () => {
        const { releases } = await programReleases("uat");
        const gateway = releases.find((r) => r.chart === "gateway")!;
        const objects = renderRelease(gateway);
        const deployment = one(objects, "Deployment", "istio-ingress");
        assert.strictEqual(principalOf(gateway.namespace, deployment.spec.template.spec.serviceAccountName), INGRESS_PRINCIPAL);
        assert.strictEqual(INGRESS_PRINCIPAL, "cluster.local/ns/istio-ingress/sa/istio-ingress");
    });

    for (const stack of ["staging", "uat", "prod"]) {
        it(`${stack}: the VPC CNI add-on enforces NetworkPolicies (enableNetworkPolicy "true")`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const cni = ofType(resources, "aws:eks/addon:Addon").filter((r) => r.inputs.addonName === "vpc-cni");
            assert.strictEqual(cni.length, 1);
            assert.deepStrictEqual(JSON.parse(cni[0].inputs.configurationValues), { enableNetworkPolicy: "true" });
        });
    }
});

describe("a change of callers in the preview", () => {
    it("is named field by field, reaching who may call the service, not the pods", () => {
        const a = parseServices("uat", { checkout: { ...base, callers: { namespaces: ["shop"] } } }).checkout;
        const b = parseServices("uat", { checkout: { ...base, callers: { namespaces: ["shop"], ingress: true } } }).checkout;
        const plan = (s: typeof a) => stagePlans(s)[0];
        const lines: string[] = serviceFieldChanges(a, plan(a), b, plan(b));
        assert.strictEqual(lines.length, 1, lines.join("\n"));
        assert.match(lines[0], /^callers\.ingress: .*\(reaches who may call the service \(its AuthorizationPolicy\)\)$/);
    });
});
