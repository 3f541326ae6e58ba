// Pod security of services: every pod the reference chart renders, at every stage and in every stack's real
// releases, passes the `restricted` Pod Security Standard (checked by test/helpers/pod-security.ts, written from the
// standard); every service namespace enforces it; the ServiceAccount token is mounted only when a service asks.
import * as assert from "assert";
import * as path from "path";
import { parseServices } from "../../components/service/config";
import { stagePlans } from "../../components/service/stages";
import { chartValues } from "../../components/service/values";
import { podSecurityLabels } from "../../components/shared/pod-security";
import { helm, helmTemplate } from "../../scripts/helm";
import { readStackConfig } from "../../scripts/stack-file";
import { liveCanaryValues, merge, rawService, Values } from "../helpers/fixtures";
import { ofType, runProgram } from "../helpers/mocks";
import { podSecurityViolations, podSpecOf } from "../helpers/pod-security";
import { validateAll } from "../helpers/schemas";

const CHART = path.resolve(__dirname, "../../charts/service");
const STACKS = ["staging", "uat", "prod"];
const render = (values: Values, namespace = "shop") => {
    const objects = helmTemplate(CHART, { releaseName: "checkout", namespace, values });
    validateAll(objects);
    return objects;
};
const pods = (objects: any[]) => objects.filter((o) => podSpecOf(o)).map((o) => ({ name: `${o.kind}/${o.metadata.name}`, pod: podSpecOf(o)! }));

describe("the reference chart passes the restricted Pod Security Standard", () => {
    for (const steps of [undefined, [10, 25, 50, 75, 100], [100]]) {
        it(`every stage of the steps ${JSON.stringify(steps ?? [10, 90, 100])}: every pod spec is restricted`, () => {
            const service = parseServices("test", { checkout: rawService({ replicas: 3, ...(steps ? { steps } : {}) }) }).checkout;
            const plans = stagePlans(service);
            assert.ok(plans.length >= 4);
            for (const [i, plan] of plans.entries()) {
                const rendered = pods(render(chartValues("checkout", service, plan)));
                assert.strictEqual(rendered.length, 2, `stage ${i + 1}: both tracks' Deployments`);
                for (const { name, pod } of rendered) assert.deepStrictEqual(podSecurityViolations(pod, "restricted"), [], `stage ${i + 1} ${name}`);
            }
        });
    }

    for (const stack of STACKS) {
        it(`${stack}: every service release the program installs renders restricted pods`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const releases = ofType(resources, "kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "./charts/service");
            assert.ok(releases.length > 0);
            let checked = 0;
            for (const r of releases) {
                for (const { name, pod } of pods(render(r.inputs.values, r.inputs.namespace))) {
                    checked++;
                    assert.deepStrictEqual(podSecurityViolations(pod, "restricted"), [], `${stack} ${r.name} ${name}`);
                }
            }
            assert.ok(checked > 0, `${stack}: pods checked`);
        });
    }

    it("a team value that breaks restricted is seen: a container that adds NET_ADMIN (past the chart's schema, as a chart without one would render it)", () => {
        const values = merge(liveCanaryValues(), {});
        values.containerSecurityContext = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] } };
        // The reference chart's schema refuses it first (test/policies/rendered.test.ts); the checker must see it anyway.
        assert.throws(() => render(values), /value must be 'NET_BIND_SERVICE'/);
        const objects = helmTemplate(CHART, { releaseName: "checkout", namespace: "shop", values, skipSchemaValidation: true });
        const [first] = pods(objects);
        assert.deepStrictEqual(podSecurityViolations(first.pod, "restricted"), ["container checkout: adds NET_ADMIN (baseline: Capabilities)", "container checkout: adds NET_ADMIN (restricted: Capabilities)"]);
    });
});

describe("the reference chart mounts no ServiceAccount token unless asked", () => {
    it("by default: the ServiceAccount and every pod spec say automountServiceAccountToken: false", () => {
        const objects = render(liveCanaryValues());
        const accounts = objects.filter((o) => o.kind === "ServiceAccount");
        assert.deepStrictEqual(accounts.map((a) => [a.metadata.name, a.automountServiceAccountToken]), [["checkout", false]]);
        const deployments = objects.filter((o) => o.kind === "Deployment");
        assert.strictEqual(deployments.length, 2);
        for (const d of deployments) assert.strictEqual(d.spec.template.spec.automountServiceAccountToken, false, d.metadata.name);
    });

    it("serviceAccount.automountToken: true mounts it, for a service that calls the Kubernetes API; the schema wants a boolean", () => {
        const objects = render(merge(liveCanaryValues(), { serviceAccount: { automountToken: true } }));
        assert.strictEqual(objects.find((o) => o.kind === "ServiceAccount").automountServiceAccountToken, true);
        for (const d of objects.filter((o) => o.kind === "Deployment")) assert.strictEqual(d.spec.template.spec.automountServiceAccountToken, true);
        const result = helm(["template", "checkout", CHART, "--namespace", "shop", "--values", "-"], JSON.stringify(merge(liveCanaryValues(), { serviceAccount: { automountToken: "yes" } })));
        assert.notStrictEqual(result.status, 0);
        assert.match(result.stderr, /at '\/serviceAccount\/automountToken': got string, want boolean/);
    });
});

describe("every service namespace enforces restricted", () => {
    for (const stack of STACKS) {
        it(`${stack}: each service namespace is labelled enforce/warn/audit restricted at the cluster's Kubernetes minor`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const namespaces = ofType(resources, "kubernetes:core/v1:Namespace").filter((n) => n.name.startsWith("namespace-"));
            assert.ok(namespaces.length > 0);
            for (const n of namespaces) {
                const labels = n.inputs.metadata.labels;
                for (const [k, v] of Object.entries(podSecurityLabels("restricted", "1.35"))) assert.strictEqual(labels[k], v, `${n.name} ${k}`);
                assert.ok(labels["istio.io/rev"], `${n.name} keeps its revision label`);
            }
        });
    }

    it("on an existing cluster (Kubernetes version unknown) the standard's version is `latest`", async () => {
        const config = readStackConfig("staging");
        const { resources } = await runProgram("staging", { ...config, cluster: { kind: "existing" } });
        const namespaces = ofType(resources, "kubernetes:core/v1:Namespace").filter((n) => n.name.startsWith("namespace-"));
        assert.ok(namespaces.length > 0);
        for (const n of namespaces) {
            assert.strictEqual(n.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
            assert.strictEqual(n.inputs.metadata.labels["pod-security.kubernetes.io/enforce-version"], "latest");
        }
    });
});
