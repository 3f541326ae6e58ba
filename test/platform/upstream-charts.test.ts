// Every third-party Helm release the program installs, rendered by the real helm with its real upstream chart
// (../shared/charts, exact released versions) and the program's own values for each stack: helm accepts them (the
// chart's values.schema.json included), every object is schema-valid, and the objects are what the stack asks for.
// The platform's charts here; the observability addons' in test/observability/upstream-charts.test.ts.
import * as assert from "assert";
import { parse as parseYaml } from "yaml";
import { EksClusterConfig, parseCluster } from "../../components/platform/config";
import { IstioConfig } from "../../components/platform/istio-config";
import { istioReleases } from "../../components/platform/istio";
import { PlatformReleaseSpec } from "../../components/shared/helm";
import { readStackConfig } from "../../scripts/stack-file";
import { containersOf, imagePinned, kind, one, programReleases, ProgramRelease, renderRelease, vendoredArchive, vendoredArchives } from "../helpers/charts";
import { ofType, runProgram } from "../helpers/mocks";
import { validateAll } from "../helpers/schemas";

const STACKS = ["staging", "uat", "prod"];
const istioOf = (stack: string): IstioConfig => parseCluster(stack, readStackConfig(stack).cluster).istio;

/** The program's release of a chart in a stack (exactly one). */
async function releaseOf(stack: string, resource: string): Promise<{ release: ProgramRelease; objects: any[] }> {
    const { releases, kubernetesVersion } = await programReleases(stack);
    const found = releases.filter((r) => r.resource === resource);
    assert.strictEqual(found.length, 1, `${stack} installs ${resource} once (it installs: ${releases.map((r) => r.resource).join(", ")})`);
    return { release: found[0], objects: renderRelease(found[0], kubernetesVersion) };
}

const renderSpec = (spec: PlatformReleaseSpec<string>) => renderRelease({ chart: spec.chart, version: spec.version, name: spec.name, namespace: spec.namespace, values: spec.values });

describe("upstream charts: the version deployed is the version tested", () => {
    for (const stack of STACKS) {
        it(`${stack}: every third-party chart the program installs has its exact version in ../shared/charts, and renders`, async function () {
            this.timeout(120_000);
            const { releases, kubernetesVersion } = await programReleases(stack);
            assert.ok(releases.length >= 3, `${stack} installs third-party charts: ${releases.map((r) => r.resource).join(", ")}`);
            for (const r of releases) {
                vendoredArchive(r.chart, r.version);
                const objects = renderRelease(r, kubernetesVersion);
                assert.ok(objects.length > 0, `${r.resource} renders objects`);
                validateAll(objects);
            }
        });
    }

    it("a version with no archive fails, naming the versions that are there", () => {
        assert.throws(() => vendoredArchive("istiod", "1.30.5"), /chart istiod 1\.30\.5 has no archive in .*\(there: (1\.29\.6, 1\.30\.3|1\.30\.3, 1\.29\.6)\)/);
        assert.throws(() => vendoredArchive("no-such-chart", "1.0.0"), /none of that chart/);
        assert.ok(vendoredArchives().some((a) => a.chart === "karpenter-crd" && a.version === "1.14.1"), "names with dashes are read whole");
    });

    it("a value the chart's schema refuses makes helm, and so the render, fail", () => {
        const base = istioReleases(istioOf("staging"), "eks").find((r) => r.key === "gateway")!;
        assert.throws(() => renderSpec({ ...base, values: { ...base.values, service: { type: "LoadBalancer", ports: "80" } } }), /exited 1/);
    });
});

describe("upstream charts: Istio 1.30.3 (base, istiod, gateway) with each stack's values", () => {
    for (const stack of STACKS) {
        it(`${stack}: istiod replicas, autoscaler and PodDisruptionBudget as configured; pilot image pinned to the release`, async () => {
            const config = istioOf(stack);
            const { replicas, maxReplicas, cpu, memory } = config.istiod;
            const { release, objects } = await releaseOf(stack, "istio-istiod-1-30-3");
            assert.strictEqual(release.version, "1.30.3");
            const deployment = one(objects, "Deployment", "istiod-1-30-3");
            const hpa = kind(objects, "HorizontalPodAutoscaler");
            if (maxReplicas > replicas) {
                assert.deepStrictEqual(hpa.map((h) => [h.metadata.name, h.spec.minReplicas, h.spec.maxReplicas, h.spec.scaleTargetRef.name]), [["istiod-1-30-3", replicas, maxReplicas, "istiod-1-30-3"]]);
            } else {
                assert.deepStrictEqual(hpa, []);
                assert.strictEqual(deployment.spec.replicas, replicas);
            }
            const pdb = kind(objects, "PodDisruptionBudget");
            assert.deepStrictEqual(pdb.map((p) => p.spec.minAvailable), replicas > 1 ? [1] : [], "a PDB only with several replicas");
            const [discovery] = containersOf(deployment).filter((c) => c.name === "discovery");
            assert.strictEqual(discovery.image, "registry.istio.io/release/pilot:1.30.3");
            assert.deepStrictEqual(discovery.resources.requests, { cpu, memory });
            assert.ok(kind(objects, "ServiceAccount").some((sa) => sa.metadata.name === deployment.spec.template.spec.serviceAccountName));
        });

        it(`${stack}: the gateway's replicas, autoscaler, PodDisruptionBudget, zone spread and Service`, async () => {
            const { replicas, maxReplicas, serviceType } = istioOf(stack).gateway;
            const { objects } = await releaseOf(stack, "istio-gateway");
            const deployment = one(objects, "Deployment", "istio-ingress");
            const hpa = kind(objects, "HorizontalPodAutoscaler");
            if (maxReplicas > replicas) {
                assert.deepStrictEqual(hpa.map((h) => [h.spec.minReplicas, h.spec.maxReplicas]), [[replicas, maxReplicas]]);
            } else {
                assert.deepStrictEqual(hpa, []);
                assert.strictEqual(deployment.spec.replicas, replicas);
            }
            assert.deepStrictEqual(kind(objects, "PodDisruptionBudget").map((p) => p.spec.minAvailable), replicas > 1 ? [1] : []);
            const spread = deployment.spec.template.spec.topologySpreadConstraints ?? [];
            assert.deepStrictEqual(spread.map((s: any) => s.topologyKey), replicas > 1 ? ["topology.kubernetes.io/zone"] : []);
            // The spread selects the gateway's own pods.
            for (const s of spread) for (const [k, v] of Object.entries(s.labelSelector.matchLabels)) assert.strictEqual(deployment.spec.template.metadata.labels[k], v);
            const service = one(objects, "Service", "istio-ingress");
            assert.strictEqual(service.spec.type, serviceType);
            // `image: auto`: istiod's injector puts its own proxy image (pinned with istiod) in the gateway pods.
            assert.deepStrictEqual(containersOf(deployment).map((c) => c.image), ["auto"]);
            assert.strictEqual(one(objects, "ServiceAccount").metadata.name, deployment.spec.template.spec.serviceAccountName);
        });

        it(`${stack}: base installs Istio's CRDs and the default revision's validating webhook`, async () => {
            const { objects } = await releaseOf(stack, "istio-base");
            const crds = kind(objects, "CustomResourceDefinition").map((c) => c.metadata.name);
            for (const crd of ["virtualservices.networking.istio.io", "destinationrules.networking.istio.io", "gateways.networking.istio.io", "peerauthentications.security.istio.io"]) {
                assert.ok(crds.includes(crd), crd);
            }
            assert.strictEqual(one(objects, "ValidatingWebhookConfiguration").metadata.name, "istiod-default-validator");
        });
    }

    it("a canary control plane (1.29.6 → 1.30.3): the second istiod renders as revision 1-30-3, beside the first; each injects only namespaces labelled with its revision", () => {
        const releases = istioReleases(parseCluster("uat", { istio: { version: "1.29.6", canaryVersion: "1.30.3" } }).istio, "eks");
        const canary = renderSpec(releases.find((r) => r.key === "istiod-1-30-3")!);
        validateAll(canary);
        assert.strictEqual(one(canary, "Deployment").metadata.name, "istiod-1-30-3");
        const injector = one(canary, "MutatingWebhookConfiguration");
        assert.strictEqual(injector.metadata.name, "istio-sidecar-injector-1-30-3");
        // The revision's webhooks select namespaces by `istio.io/rev`: what stagehand labels each service namespace with.
        const selectors = injector.webhooks.map((w: any) => w.namespaceSelector?.matchExpressions ?? []).flat();
        assert.ok(selectors.some((e: any) => e.key === "istio.io/rev" && e.operator === "In" && e.values.includes("1-30-3")), JSON.stringify(selectors));
        assert.ok(containersOf(one(canary, "Deployment")).every((c) => c.image === "registry.istio.io/release/pilot:1.30.3"));
        const first = renderSpec(releases.find((r) => r.key === "istiod-1-29-6")!);
        validateAll(first);
        assert.strictEqual(one(first, "Deployment").metadata.name, "istiod-1-29-6");
        assert.ok(containersOf(one(first, "Deployment")).every((c) => c.image === "docker.io/istio/pilot:1.29.6"));
        validateAll(renderSpec(releases.find((r) => r.key === "base")!));
        validateAll(renderSpec(releases.find((r) => r.key === "gateway")!));
    });

    it("every image the platform's Istio renders is pinned", async () => {
        for (const stack of STACKS) {
            for (const resource of ["istio-istiod-1-30-3", "istio-gateway"]) {
                const { objects } = await releaseOf(stack, resource);
                for (const w of objects.filter((o) => ["Deployment", "DaemonSet", "StatefulSet"].includes(o.kind))) {
                    for (const c of containersOf(w)) assert.ok(c.image === "auto" || imagePinned(c.image), `${stack} ${resource} ${c.name}: ${c.image}`);
                }
            }
        }
        assert.deepStrictEqual(["a/b", "a/b:latest", "registry:5000/a/b", "a/b:1.2", `a/b@sha256:${"0".repeat(64)}`].map(imagePinned), [false, false, false, true, true]);
    });
});

describe("upstream charts: metrics-server 3.13.1 and cluster-autoscaler 9.59.0 with each stack's values", () => {
    const platformReplicasOf = (stack: string) => (istioOf(stack).gateway.replicas > 1 ? 2 : 1);

    for (const stack of STACKS) {
        it(`${stack}: metrics-server serves metrics.k8s.io, replicated with a PodDisruptionBudget where the platform is highly available`, async () => {
            const { release, objects } = await releaseOf(stack, "cluster-addons-metrics-server");
            assert.deepStrictEqual([release.chart, release.version, release.namespace], ["metrics-server", "3.13.1", "kube-system"]);
            const api = one(objects, "APIService", "v1beta1.metrics.k8s.io");
            assert.deepStrictEqual([api.spec.service.name, api.spec.service.namespace], ["metrics-server", "kube-system"]);
            const deployment = one(objects, "Deployment", "metrics-server");
            const replicas = platformReplicasOf(stack);
            assert.strictEqual(deployment.spec.replicas, replicas);
            assert.deepStrictEqual(kind(objects, "PodDisruptionBudget").map((p) => p.spec.minAvailable), replicas > 1 ? [1] : []);
            assert.deepStrictEqual((deployment.spec.template.spec.topologySpreadConstraints ?? []).map((t: any) => t.topologyKey), replicas > 1 ? ["topology.kubernetes.io/zone"] : []);
            const [server] = containersOf(deployment);
            assert.strictEqual(server.image, "registry.k8s.io/metrics-server/metrics-server:v0.8.1");
            assert.deepStrictEqual(server.resources.requests, { cpu: "100m", memory: "200Mi" });
            assert.strictEqual(deployment.spec.template.spec.priorityClassName, "system-cluster-critical");
            assert.strictEqual(one(objects, "ServiceAccount").metadata.name, deployment.spec.template.spec.serviceAccountName);
        });

        it(`${stack}: the cluster-autoscaler discovers this cluster's node groups, in its region, with the image of the cluster's Kubernetes minor`, async () => {
            const { release, objects } = await releaseOf(stack, "cluster-addons-cluster-autoscaler");
            assert.deepStrictEqual([release.chart, release.version, release.namespace], ["cluster-autoscaler", "9.59.0", "kube-system"]);
            const deployment = one(objects, "Deployment", "cluster-autoscaler");
            assert.strictEqual(deployment.spec.replicas, 1);
            const [autoscaler] = containersOf(deployment);
            assert.strictEqual(autoscaler.image, `registry.k8s.io/autoscaling/cluster-autoscaler:${(parseCluster(stack, readStackConfig(stack).cluster) as EksClusterConfig).addons["cluster-autoscaler"]}`);
            assert.strictEqual((parseCluster(stack, readStackConfig(stack).cluster) as EksClusterConfig).kubernetesVersion, "1.35");
            const args: string[] = autoscaler.command;
            for (const arg of [
                "--cloud-provider=aws",
                `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/stagehand-${stack}`,
                "--balance-similar-node-groups=true",
                // Meshed pods all have emptyDir volumes (the sidecar's): with the default, no such node would be removed.
                "--skip-nodes-with-local-storage=false",
            ]) {
                assert.ok(args.includes(arg), `${arg} in ${args.join(" ")}`);
            }
            assert.deepStrictEqual(autoscaler.env.find((e: any) => e.name === "AWS_REGION"), { name: "AWS_REGION", value: "us-east-1" });
            // No access keys: its credentials come through EKS Pod Identity, for this ServiceAccount.
            assert.ok(!autoscaler.env.some((e: any) => /AWS_ACCESS_KEY|AWS_SECRET/.test(e.name)));
            assert.deepStrictEqual(kind(objects, "Secret"), []);
            assert.strictEqual(deployment.spec.template.spec.serviceAccountName, "cluster-autoscaler");
            assert.strictEqual(one(objects, "ServiceAccount").metadata.name, "cluster-autoscaler");
            assert.deepStrictEqual(autoscaler.resources.requests, { cpu: "100m", memory: "300Mi" });
            assert.ok(imagePinned(autoscaler.image));
        });

        it(`${stack}: every HorizontalPodAutoscaler the platform renders reads resource metrics, which metrics-server serves`, async () => {
            const { releases, kubernetesVersion } = await programReleases(stack);
            const hpas = releases.flatMap((r) => kind(renderRelease(r, kubernetesVersion), "HorizontalPodAutoscaler"));
            const served = releases.flatMap((r) => kind(renderRelease(r, kubernetesVersion), "APIService")).map((a) => a.metadata.name);
            for (const hpa of hpas) {
                for (const m of hpa.spec.metrics) assert.strictEqual(m.type, "Resource", `${hpa.metadata.name}: ${m.type} metrics need another adapter`);
            }
            assert.deepStrictEqual(served, ["v1beta1.metrics.k8s.io"], `${stack}: ${hpas.length} HPAs, resource metrics served`);
        });
    }
});

describe("upstream charts: the ingress NLB through the AWS Load Balancer Controller 3.5.0", () => {
    const platformReplicasOf = (stack: string) => (istioOf(stack).gateway.replicas > 1 ? 2 : 1);

    /** The readiness probe istiod's injector gives gateway pods (the gateway chart's `image: auto`). */
    async function gatewayReadiness(stack: string): Promise<{ path: string; port: number }> {
        const { objects } = await releaseOf(stack, "istio-istiod-1-30-3");
        const template: string = parseYaml(one(objects, "ConfigMap", "istio-sidecar-injector-1-30-3").data.config).templates.gateway;
        const probe = template.slice(template.indexOf("readinessProbe:")).split("\n").slice(0, 5).join("\n");
        const path = /path: (\S+)/.exec(probe)?.[1];
        const port = Number(/port: (\d+)/.exec(probe)?.[1]);
        assert.ok(path && port, `a readiness probe in the gateway injection template: ${probe}`);
        return { path: path!, port };
    }

    for (const stack of STACKS) {
        it(`${stack}: the controller knows its cluster, region and VPC, targets IPs by default, creates no ALB IngressClass`, async () => {
            const { release, objects } = await releaseOf(stack, "cluster-addons-aws-load-balancer-controller");
            assert.deepStrictEqual([release.chart, release.version, release.namespace], ["aws-load-balancer-controller", "3.5.0", "kube-system"]);
            const deployment = one(objects, "Deployment", "aws-load-balancer-controller");
            const replicas = platformReplicasOf(stack);
            assert.strictEqual(deployment.spec.replicas, replicas);
            assert.deepStrictEqual(kind(objects, "PodDisruptionBudget").map((p) => p.spec.minAvailable), replicas > 1 ? [1] : []);
            const [controller] = containersOf(deployment);
            assert.strictEqual(controller.image, "public.ecr.aws/eks/aws-load-balancer-controller:v3.5.0");
            for (const arg of [`--cluster-name=stagehand-${stack}`, "--aws-region=us-east-1", "--aws-vpc-id=cluster-vpc-id", "--default-target-type=ip"]) {
                assert.ok(controller.args.includes(arg), `${arg} in ${controller.args.join(" ")}`);
            }
            assert.strictEqual(deployment.spec.template.spec.serviceAccountName, "aws-load-balancer-controller");
            assert.strictEqual(one(objects, "ServiceAccount").metadata.name, "aws-load-balancer-controller");
            assert.deepStrictEqual(kind(objects, "IngressClass"), []);
            // Its webhook takes new LoadBalancer Services (and the pods' readiness gates) for the controller.
            assert.ok(one(objects, "MutatingWebhookConfiguration").webhooks.some((w: any) => w.name === "mservice.elbv2.k8s.aws"));
            assert.deepStrictEqual(controller.resources.requests, { cpu: "50m", memory: "128Mi" });
        });

        it(`${stack}: the gateway's Service is the controller's internet-facing NLB with IP targets, health-checked on the gateway pods' readiness endpoint`, async () => {
            const { objects } = await releaseOf(stack, "istio-gateway");
            const service = one(objects, "Service", "istio-ingress");
            const annotations = service.metadata.annotations;
            assert.strictEqual(service.spec.type, "LoadBalancer");
            assert.strictEqual(annotations["service.beta.kubernetes.io/aws-load-balancer-type"], "external", "the legacy in-tree controller ignores `external`");
            assert.strictEqual(annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "ip");
            assert.strictEqual(annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internet-facing");
            const readiness = await gatewayReadiness(stack);
            assert.deepStrictEqual(
                [annotations["service.beta.kubernetes.io/aws-load-balancer-healthcheck-port"], annotations["service.beta.kubernetes.io/aws-load-balancer-healthcheck-path"], annotations["service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol"]],
                [String(readiness.port), readiness.path, "http"],
            );
            assert.deepStrictEqual(readiness, { port: 15021, path: "/healthz/ready" });
        });
    }
});

describe("upstream charts: every Pod Identity association names a ServiceAccount a chart renders", () => {
    for (const stack of STACKS) {
        it(`${stack}: each association's namespace/ServiceAccount is rendered by the release it is for, and its Deployment runs as it`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const associations = ofType(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
            assert.ok(associations.length >= 2, `${stack}: ${associations.map((a) => a.name).join()}`);
            const { releases, kubernetesVersion } = await programReleases(stack);
            for (const a of associations) {
                const release = releases.find((r) => r.resource === a.name);
                assert.ok(release, `a release ${a.name} beside its association`);
                const objects = renderRelease(release!, kubernetesVersion);
                assert.strictEqual(release!.namespace, a.inputs.namespace);
                assert.ok(kind(objects, "ServiceAccount").some((sa) => sa.metadata.name === a.inputs.serviceAccount), `${a.name}: ServiceAccount ${a.inputs.serviceAccount}`);
                assert.strictEqual(one(objects, "Deployment").spec.template.spec.serviceAccountName, a.inputs.serviceAccount);
            }
        });
    }
});
