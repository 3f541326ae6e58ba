// The observability addons rendered by the real helm with their real upstream charts (../shared/charts) and the
// values each stack's program gives them: what Prometheus keeps and where, the Services Istio's integrations and
// `npm run verdict` expect, Grafana's data source and dashboards, Kiali's login, pinned images, nothing extra.
import * as assert from "assert";
import { parse as parseYaml } from "yaml";
import { parseObservability } from "../../components/observability/config";
import { readStackConfig } from "../../scripts/stack-file";
import { containersOf, imagePinned, kind, one, programReleases, renderRelease } from "../helpers/charts";

const stackObs = (stack: string) => parseObservability(stack, readStackConfig(stack).observability);

async function addon(stack: string, resource: string): Promise<any[]> {
    const { releases, kubernetesVersion } = await programReleases(stack);
    const release = releases.find((r) => r.resource === resource);
    assert.ok(release, `${stack} installs ${resource}`);
    return renderRelease(release, kubernetesVersion);
}

const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet"];

describe("upstream charts: observability addons with each stack's values", () => {
    it("staging installs none of them", async () => {
        const { releases } = await programReleases("staging");
        assert.deepStrictEqual(releases.filter((r) => r.resource.startsWith("observability-")), []);
    });

    for (const stack of ["uat", "prod"]) {
        it(`${stack}: Prometheus is one server, Service prometheus:9090, the configured retention and storage, out of the mesh`, async () => {
            const config = stackObs(stack).prometheus;
            const objects = await addon(stack, "observability-prometheus");
            // The server only: no Alertmanager, Pushgateway, node-exporter or kube-state-metrics.
            assert.deepStrictEqual(objects.filter((o) => WORKLOADS.includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`), ["Deployment/prometheus"]);
            const server = one(objects, "Deployment", "prometheus");
            assert.strictEqual(server.spec.replicas, 1);
            assert.strictEqual(server.spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
            const prometheus = containersOf(server).find((c) => c.image.startsWith("quay.io/prometheus/prometheus:"))!;
            assert.ok(prometheus.args.includes(`--storage.tsdb.retention.time=${config.retention}`), prometheus.args.join(" "));
            assert.deepStrictEqual(prometheus.resources.requests, config.resources.requests);
            const service = one(objects, "Service", "prometheus");
            assert.deepStrictEqual(service.spec.ports.map((p: any) => p.port), [9090]);
            const claims = kind(objects, "PersistentVolumeClaim");
            if (config.storageGi > 0) {
                assert.deepStrictEqual(claims.map((c) => [c.spec.storageClassName, c.spec.resources.requests.storage]), [["stagehand-gp3", `${config.storageGi}Gi`]]);
                assert.ok(server.spec.template.spec.volumes.some((v: any) => v.persistentVolumeClaim?.claimName === claims[0].metadata.name));
            } else {
                assert.deepStrictEqual(claims, []);
                assert.ok(server.spec.template.spec.volumes.some((v: any) => v.name === "storage-volume" && v.emptyDir));
            }
            // Data on the node's emptyDir: the cluster-autoscaler may not drain that node to scale down.
            const annotations = server.spec.template.metadata.annotations ?? {};
            assert.strictEqual(annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"], config.storageGi > 0 ? undefined : "false");
            // Istio's pods are scraped through the chart's kubernetes-pods job, every 15 s.
            const scrape = parseYaml(one(objects, "ConfigMap", "prometheus").data["prometheus.yml"]);
            assert.strictEqual(scrape.global.scrape_interval, "15s");
            assert.ok(scrape.scrape_configs.some((j: any) => j.job_name === "kubernetes-pods"));
        });

        it(`${stack}: Grafana on grafana:3000 with Prometheus as its only data source, out of the mesh`, async () => {
            const objects = await addon(stack, "observability-grafana");
            const grafana = one(objects, "Deployment", "grafana");
            assert.strictEqual(grafana.spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
            assert.deepStrictEqual(one(objects, "Service", "grafana").spec.ports.map((p: any) => p.port), [3000]);
            const datasources = parseYaml(one(objects, "ConfigMap", "grafana").data["datasources.yaml"]).datasources;
            assert.deepStrictEqual(datasources.map((d: any) => [d.name, d.url, d.isDefault]), [["Prometheus", "http://prometheus.istio-system:9090", true]]);
            // No test pod: the chart's test framework is off.
            assert.deepStrictEqual(kind(objects, "Pod"), []);
        });

        it(`${stack}: Kiali logs in with a Kubernetes token, reads the installed Prometheus, serves /kiali on kiali:20001`, async () => {
            const objects = await addon(stack, "observability-kiali");
            const config = parseYaml(one(objects, "ConfigMap", "kiali").data["config.yaml"]);
            assert.strictEqual(config.auth.strategy, "token");
            assert.strictEqual(config.external_services.prometheus.url, "http://prometheus.istio-system:9090");
            assert.strictEqual(config.server.web_root, "/kiali");
            assert.ok(one(objects, "Service", "kiali").spec.ports.some((p: any) => p.port === 20001));
            assert.strictEqual(one(objects, "Deployment", "kiali").spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
        });

        it(`${stack}: every image the addons run is pinned, and each workload's ServiceAccount is rendered`, async () => {
            for (const resource of ["observability-prometheus", "observability-grafana", "observability-kiali"]) {
                const objects = await addon(stack, resource);
                const accounts = kind(objects, "ServiceAccount").map((sa) => sa.metadata.name);
                for (const w of objects.filter((o) => WORKLOADS.includes(o.kind))) {
                    for (const c of containersOf(w)) assert.ok(imagePinned(c.image), `${resource} ${c.name}: ${c.image}`);
                    assert.ok(accounts.includes(w.spec.template.spec.serviceAccountName), `${resource}: ${w.spec.template.spec.serviceAccountName} in ${accounts.join()}`);
                }
            }
        });
    }
});
