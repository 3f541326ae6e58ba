// The observability addons rendered by the real helm with their real upstream charts (../shared/charts) and the
// values each stack's program gives them: what Prometheus keeps and where, the Services Istio's integrations and
// `npm run verdict` expect, Grafana's data source and dashboards, Kiali's login, pinned images, nothing extra.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
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

/**
 * Runs the Grafana pod's dashboard init containers as rendered — the chart's `download-dashboards` (its script from
 * the ConfigMap) then stagehand's `check-dashboards` — on this machine, in a scratch directory standing for
 * /var/lib/grafana, with a stand-in `curl` on the PATH that records its arguments and either prints `body` (as
 * grafana.com would) or fails as `curl -f` does on an HTTP error (exit 22, nothing written).
 */
function runDashboardInit(objects: any[], body: string | undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-dashboards-"));
    const root = path.join(dir, "var-lib-grafana");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const calls = path.join(dir, "curl-calls");
    const bodyFile = path.join(dir, "body.json");
    if (body !== undefined) fs.writeFileSync(bodyFile, body);
    fs.writeFileSync(path.join(bin, "curl"), `#!/bin/sh\necho "$*" >> ${calls}\nif [ -f ${bodyFile} ]; then cat ${bodyFile}; exit 0; fi\nexit 22\n`, { mode: 0o755 });
    const script = path.join(dir, "download_dashboards.sh");
    const local = (text: string) => text.split("/var/lib/grafana").join(root).split("/etc/grafana/download_dashboards.sh").join(script);
    fs.writeFileSync(script, local(one(objects, "ConfigMap", "grafana").data["download_dashboards.sh"]));
    const init = one(objects, "Deployment", "grafana").spec.template.spec.initContainers;
    const run = (name: string) => {
        const c = init.find((x: any) => x.name === name);
        assert.ok(c, `an init container ${name}`);
        const argv = [...c.command, ...(c.args ?? [])];
        assert.strictEqual(argv[0], "/bin/sh");
        const r = spawnSync("/bin/sh", argv.slice(1).map(local), { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
        return { status: r.status, stderr: r.stderr };
    };
    const order = init.map((c: any) => c.name);
    const download = run("download-dashboards");
    const check = run("check-dashboards");
    const written = path.join(root, "dashboards/istio");
    const files = fs.existsSync(written) ? fs.readdirSync(written).sort() : [];
    const contents: Record<string, string> = Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(written, f), "utf8")]));
    const curlCalls = fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [];
    fs.rmSync(dir, { recursive: true, force: true });
    return { order, download, check, files, contents, curlCalls };
}

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

        it(`${stack}: Prometheus alone in its namespace, its lifecycle and admin APIs off, no reloader calling them`, async () => {
            const objects = await addon(stack, "observability-prometheus");
            const server = one(objects, "Deployment", "prometheus");
            assert.strictEqual(server.metadata.namespace, "prometheus");
            const containers = containersOf(server);
            assert.deepStrictEqual(containers.map((c) => c.name), ["prometheus-server"]);
            const args: string[] = containers[0].args;
            assert.ok(args.length > 0);
            assert.deepStrictEqual(args.filter((a) => /enable-lifecycle|enable-admin-api/.test(a)), [], args.join(" "));
            // Nothing else runs in its namespace: the viewers' port-forward reaches Prometheus only.
            const { releases } = await programReleases(stack);
            assert.deepStrictEqual(releases.filter((r) => r.namespace === "prometheus").map((r) => r.resource), ["observability-prometheus"]);
            // A change of its values rolls the pod (nothing reloads the configuration).
            assert.match(server.spec.template.metadata.annotations["stagehand.dev/prometheus-values"], /^[0-9a-f]{16}$/);
        });

        it(`${stack}: Grafana on grafana:3000 with Prometheus as its only data source, out of the mesh`, async () => {
            const objects = await addon(stack, "observability-grafana");
            const grafana = one(objects, "Deployment", "grafana");
            assert.strictEqual(grafana.spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
            assert.deepStrictEqual(one(objects, "Service", "grafana").spec.ports.map((p: any) => p.port), [3000]);
            const datasources = parseYaml(one(objects, "ConfigMap", "grafana").data["datasources.yaml"]).datasources;
            assert.deepStrictEqual(datasources.map((d: any) => [d.name, d.url, d.isDefault]), [["Prometheus", "http://prometheus.prometheus:9090", true]]);
            // No test pod: the chart's test framework is off.
            assert.deepStrictEqual(kind(objects, "Pod"), []);
        });

        it(`${stack}: Istio's dashboards (control plane 7645) at a pinned revision, over verified TLS, bound to our data source`, async () => {
            const objects = await addon(stack, "observability-grafana");
            const published = '{"title": "Istio Mesh Dashboard", "panels": [{"datasource": "${DS_PROMETHEUS}", "targets": []}], "__inputs": [{"name": "DS_PROMETHEUS"}]}';
            const run = runDashboardInit(objects, published);
            assert.deepStrictEqual([run.download.status, run.check.status], [0, 0], run.download.stderr + run.check.stderr);
            assert.deepStrictEqual(run.order.slice(-2), ["download-dashboards", "check-dashboards"], "the check runs after the download");
            const urls = run.curlCalls.map((c) => /https:\/\/\S+/.exec(c)![0]).sort();
            assert.deepStrictEqual(urls, [7630, 7636, 7639, 7645, 11829].map((id) => `https://grafana.com/api/dashboards/${id}/revisions/300/download`).sort());
            for (const call of run.curlCalls) {
                assert.match(call, /(^| )-sSf( |$)/, `fails on HTTP errors and says why: ${call}`);
                assert.doesNotMatch(call, /(^| )-[a-zA-Z]*k/, `verifies TLS: ${call}`);
            }
            assert.deepStrictEqual(run.files, ["istio-control-plane.json", "istio-mesh.json", "istio-performance.json", "istio-service.json", "istio-workload.json"]);
            // The published dashboards name their data source `${DS_PROMETHEUS}`: it becomes ours, and the JSON stays JSON.
            const mesh = JSON.parse(run.contents["istio-mesh.json"]);
            assert.deepStrictEqual(mesh.panels[0].datasource, "Prometheus");
            assert.ok(!run.contents["istio-mesh.json"].includes("${DS_PROMETHEUS}"));
        });

        it(`${stack}: a dashboard download that fails fails the Grafana pod, loudly, instead of leaving an empty dashboard`, async () => {
            const objects = await addon(stack, "observability-grafana");
            const run = runDashboardInit(objects, undefined);
            // The chart's own script pipes curl into sed without pipefail: it exits 0 and leaves empty files.
            assert.strictEqual(run.download.status, 0);
            assert.strictEqual(run.files.length, 5);
            // The check after it fails the pod and names every dashboard.
            assert.strictEqual(run.check.status, 1);
            for (const key of ["istio-mesh", "istio-service", "istio-workload", "istio-performance", "istio-control-plane"]) {
                assert.match(run.check.stderr, new RegExp(`dashboard \\S*/dashboards/istio/${key}\\.json is missing, empty or not a dashboard`), run.check.stderr);
            }
            // An answer that is not a dashboard (an error page, an HTML redirect) fails it too.
            assert.strictEqual(runDashboardInit(objects, "<html>Too Many Requests</html>").check.status, 1);
        });

        it(`${stack}: Kiali logs in with a Kubernetes token, reads the installed Prometheus, serves /kiali on kiali:20001`, async () => {
            const objects = await addon(stack, "observability-kiali");
            const config = parseYaml(one(objects, "ConfigMap", "kiali").data["config.yaml"]);
            assert.strictEqual(config.auth.strategy, "token");
            assert.strictEqual(config.external_services.prometheus.url, "http://prometheus.prometheus:9090");
            // Istio is found in its root namespace, not in Kiali's own.
            assert.strictEqual(config.external_services.istio.root_namespace, "istio-system");
            assert.strictEqual(one(objects, "Deployment", "kiali").metadata.namespace, "observability");
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
