// service-chart-source-allowed and service-rendered-restricted: what Helm installs for a service, rendered with the
// real helm (policies/rendered.ts), and where its chart may come from. A team chart is written to a temp dir; it
// passes its values through to the objects, as a careless chart does.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { chartSourceAllowedRule, renderedRestricted } from "../../policies/rules/rendered";
import { helm } from "../../scripts/helm";
import { release, valuesAt } from "./fixtures";
import { checkResource, passes, ROOT } from "./harness";

const TEAM_CHART_TEMPLATE = `apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Values.fullnameOverride }}}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata:
      labels: {app: x}
      annotations: {{ toJson (.Values.podAnnotations | default dict) }}
    spec:
      hostNetwork: {{ .Values.hostNetwork | default false }}
      securityContext: {{ toJson .Values.podSecurityContext }}
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.tracks.production.tag }}"
          securityContext: {{ toJson .Values.containerSecurityContext }}
      volumes: {{ toJson (.Values.volumes | default list) }}
---
apiVersion: v1
kind: Service
metadata: {name: {{ .Values.fullnameOverride }}}
spec: {type: {{ .Values.service.type }}, ports: [{port: 80}], selector: {app: x}}
{{- if .Values.clusterWide }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: {{ .Values.fullnameOverride }}}
rules: []
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: {{ .Values.fullnameOverride }}-allow-all}
spec: {action: ALLOW, rules: [{}]}
{{- end }}
`;

const GOOD_SECURITY = {
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containerSecurityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    service: { type: "ClusterIP" },
};

describe("policies: what Helm installs for a service (rendered with the real helm)", function () {
    this.timeout(120_000);
    let dir: string;
    let teamChart: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-team-chart-"));
        teamChart = path.join(dir, "team");
        fs.mkdirSync(path.join(teamChart, "templates"), { recursive: true });
        fs.writeFileSync(path.join(teamChart, "Chart.yaml"), "apiVersion: v2\nname: team\nversion: 0.1.0\n");
        fs.writeFileSync(path.join(teamChart, "templates", "all.yaml"), TEAM_CHART_TEMPLATE);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const teamRelease = (values: Record<string, unknown>) => release("checkout-production", { ...valuesAt(2), ...GOOD_SECURITY, ...values }, { chart: teamChart });

    describe("service-rendered-restricted", () => {
        it("passes the reference chart with the program's values, and a team chart that renders restricted pods", async () => {
            passes(await checkResource(renderedRestricted, release("checkout-production", valuesAt(2))));
            passes(await checkResource(renderedRestricted, teamRelease({})));
        });

        it("refuses what a team chart renders: capabilities, seccomp, privilege, host namespaces and paths, LoadBalancer, sidecar bypass, cluster RBAC, mesh objects", async () => {
            const outcome = await checkResource(
                renderedRestricted,
                teamRelease({
                    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "Unconfined" } },
                    containerSecurityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN", "NET_BIND_SERVICE"] } },
                    podAnnotations: { "traffic.sidecar.istio.io/excludeInboundPorts": "8080", "prometheus.io/scrape": "true" },
                    hostNetwork: true,
                    volumes: [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }],
                    service: { type: "LoadBalancer" },
                    clusterWide: true,
                }),
            );
            const fix = "set it in the chart's values (containerSecurityContext/podSecurityContext in the reference chart) or fix the chart's templates";
            const c = "release checkout-production: Deployment checkout: spec.template.spec.containers[0] (app).securityContext";
            assert.deepStrictEqual(outcome.messages, [
                "release checkout-production: ClusterRole checkout: kind: found ClusterRole; a service's chart may not grant permissions across the cluster. To fix: use a namespaced Role and RoleBinding, or ask the platform owners for the cluster-wide permission",
                'release checkout-production: Service checkout: spec.type: found "LoadBalancer"; it opens the service outside the mesh (on every node, or through a cloud load balancer), around the gateway\'s TLS and mTLS. To fix: use type ClusterIP (service.type in the reference chart) and reach the service through the Istio gateway (istio.gateways/hosts)',
                'release checkout-production: Deployment checkout: spec.template.metadata.annotations["traffic.sidecar.istio.io/excludeInboundPorts"]: found "8080"; it changes which traffic the Istio sidecar intercepts: ports or addresses it names bypass mTLS, the mesh\'s authorization and its telemetry. To fix: remove it (podAnnotations/podLabels in the reference chart); a port that must skip the mesh is a platform decision, asked of the platform owners',
                "release checkout-production: Deployment checkout: spec.template.spec.hostNetwork: found true; the pod shares the node's namespaces, outside the mesh and the restricted Pod Security profile. To fix: remove hostNetwork from the chart",
                'release checkout-production: Deployment checkout: spec.template.spec.volumes[0].hostPath: found "/var/run/docker.sock"; a hostPath volume reads or writes the node\'s filesystem. To fix: use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead',
                `release checkout-production: Deployment checkout: spec.template.spec.securityContext.seccompProfile.type: found "Unconfined"; the restricted Pod Security profile requires RuntimeDefault or Localhost. To fix: set seccompProfile.type: RuntimeDefault; ${fix}`,
                `${c}.privileged: found true; a privileged container has every capability and the node's devices. To fix: remove privileged; ${fix}`,
                `${c}.capabilities.add: found ["SYS_ADMIN"]; the restricted Pod Security profile lets a container add only NET_BIND_SERVICE. To fix: remove them from capabilities.add; ${fix}`,
                `${c}.readOnlyRootFilesystem: found nothing; a writable root filesystem lets a compromised process change the image's binaries. To fix: set readOnlyRootFilesystem: true and mount an emptyDir where the process writes; ${fix}`,
                "release checkout-production: AuthorizationPolicy checkout-allow-all: kind: found AuthorizationPolicy; mesh security (mTLS, authorization, request authentication, proxy configuration) is the platform's: a team's object can weaken it for every caller. To fix: remove it from the chart; the reference chart's values (or the platform owners) set what the service needs",
            ]);
        });

        it("refuses sidecar injection turned off, and a container that may run as root", async () => {
            const outcome = await checkResource(
                renderedRestricted,
                teamRelease({ podAnnotations: { "sidecar.istio.io/inject": "false" }, podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } } }),
            );
            assert.deepStrictEqual(
                outcome.messages.map((m) => m.split(";")[0]),
                [
                    'release checkout-production: Deployment checkout: spec.template.metadata.annotations["sidecar.istio.io/inject"]: found "false"',
                    "release checkout-production: Deployment checkout: spec.template.spec.containers[0] (app).securityContext.runAsNonRoot: found nothing (neither the container nor the pod sets it)",
                ],
            );
        });

        it("refuses a remote chart it cannot fetch (a Helm repository, an OCI registry), saying so", async () => {
            for (const [extra, words] of [
                [{ chart: "checkout", version: "1.0.0", repositoryOpts: { repo: "https://127.0.0.1:1/charts" } }, "chart checkout 1.0.0 from https://127.0.0.1:1/charts"],
                [{ chart: "oci://127.0.0.1:1/acme/checkout", version: "1.0.0" }, "chart oci://127.0.0.1:1/acme/checkout 1.0.0"],
            ] as const) {
                const { messages } = await checkResource(renderedRestricted, release("checkout-production", valuesAt(2), extra));
                assert.strictEqual(messages.length, 1, messages.join("\n"));
                assert.ok(messages[0].startsWith(`release checkout-production: ${words} could not be rendered (`), messages[0]);
                assert.ok(
                    messages[0].endsWith(
                        "): the pack judges what Helm installs, so a chart it cannot fetch or render is refused. Make the chart reachable from where the preview runs (repository, version and credentials), fix its values, or use a chart under charts/",
                    ),
                    messages[0],
                );
            }
        });

        it("judges only service releases (Istio's own charts are the platform's)", async () => {
            const istio = { type: "kubernetes:helm.sh/v3:Release", name: "gateway", props: { name: "gateway", chart: "gateway", repositoryOpts: { repo: "https://127.0.0.1:1/charts" }, values: { service: { type: "LoadBalancer" } } } };
            passes(await checkResource(renderedRestricted, istio));
        });
    });

    describe("service-chart-source-allowed", () => {
        const allowed = { allowedSources: ["charts/", "https://charts.acme.example/", "oci://ghcr.io/acme/charts"] };
        it("passes the reference chart, and charts from listed repositories and registries", async () => {
            passes(await checkResource(chartSourceAllowedRule, release("checkout-production", valuesAt(2))));
            passes(await checkResource(chartSourceAllowedRule, release("c", valuesAt(2), { chart: "checkout", version: "1.0.0", repositoryOpts: { repo: "https://charts.acme.example/stable" } }), allowed));
            passes(await checkResource(chartSourceAllowedRule, release("c", valuesAt(2), { chart: "oci://ghcr.io/acme/charts/checkout", version: "1.0.0" }), allowed));
        });

        it("refuses any other source (by default only charts/), and a local chart outside the project", async () => {
            const refused = (chart: string) =>
                `release checkout-production: chart ${chart} is not from a source stack prod allows (charts/): a chart from elsewhere installs what no reviewer of this repository has read. Use a chart under charts/ or from an allowed source, or add its source to "allowedSources" of service-chart-source-allowed in policies/config.prod.json (reviewed by the platform owners)`;
            assert.deepStrictEqual((await checkResource(chartSourceAllowedRule, release("checkout-production", valuesAt(2), { chart: "oci://any-registry.example/x/checkout", version: "1.0.0" }))).messages, [
                refused("oci://any-registry.example/x/checkout 1.0.0"),
            ]);
            assert.deepStrictEqual((await checkResource(chartSourceAllowedRule, teamRelease({}))).messages, [refused(`./${path.relative(ROOT, teamChart)}`)]);
            // A prefix matches at a path boundary only.
            const evil = release("c", valuesAt(2), { chart: "checkout", version: "1.0.0", repositoryOpts: { repo: "https://charts.acme.example.evil.example/" } });
            assert.strictEqual((await checkResource(chartSourceAllowedRule, evil, { allowedSources: ["https://charts.acme.example"] })).messages.length, 1);
        });
    });

    describe("the reference chart's values.schema.json refuses the same through values", () => {
        const base = { image: "ghcr.io/acme/checkout", stable: "1.0.0", stage: 1, replicas: 2 };
        const cases: [Record<string, unknown>, string][] = [
            [{ containerSecurityContext: { capabilities: { add: ["SYS_ADMIN"] } } }, 'field values.containerSecurityContext.capabilities.add.0: expected "NET_BIND_SERVICE" (Capabilities to add: the restricted Pod Security profile allows only NET_BIND_SERVICE), found "SYS_ADMIN"'],
            [{ containerSecurityContext: { privileged: true } }, "field values.containerSecurityContext.privileged: expected false (Container securityContext; must keep runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true and drop ALL capabilities; never privileged), found true"],
            [{ podSecurityContext: { seccompProfile: { type: "Unconfined" } } }, 'field values.podSecurityContext.seccompProfile.type: expected one of "RuntimeDefault", "Localhost" (Seccomp profile; the restricted Pod Security profile allows RuntimeDefault or Localhost, never Unconfined), found "Unconfined"'],
            [{ service: { type: "LoadBalancer" } }, 'field values.service.type: expected one of "ClusterIP" (Service type: ClusterIP only; the service is reached through the mesh and the Istio gateway (istio.gateways/hosts), never a NodePort or a load balancer of its own), found "LoadBalancer"'],
            [{ podAnnotations: { "traffic.sidecar.istio.io/excludeInboundPorts": "8080" } }, 'field values.podAnnotations.traffic.sidecar.istio.io/excludeInboundPorts: expected no such value (Pod template annotations; none that takes traffic out of the Istio sidecar (traffic.sidecar.istio.io/*, such as excludeInboundPorts; sidecar.istio.io/inject: "false")), found "8080"'],
            [{ podLabels: { "sidecar.istio.io/inject": "false" } }, 'field values.podLabels.sidecar.istio.io/inject: expected no such value (Extra pod labels; the labels the chart sets itself win; never sidecar.istio.io/inject: "false"), found "false"'],
        ];
        for (const [values, problem] of cases) {
            it(`config error and helm's refusal: ${JSON.stringify(values)}`, async () => {
                assert.throws(
                    () => parseStackConfig("staging", { services: { checkout: { ...base, values } }, cluster: { kind: "existing" } }),
                    (e: Error) => e.message === `invalid stagehand config for stack staging:\n  - stack staging, service checkout, ${problem}`,
                );
                // Helm itself refuses them (the chart's schema at install), and so the rendered rule does.
                const r = helm(["template", "checkout", path.join(ROOT, "charts/service"), "--values", "-"], JSON.stringify({ ...valuesAt(2), ...values }));
                assert.notStrictEqual(r.status, 0);
                assert.match(r.stderr, /values don't meet the specifications of the schema/);
                const { messages } = await checkResource(renderedRestricted, release("checkout-production", { ...valuesAt(2), ...values }));
                assert.match(messages[0] ?? "", /^release checkout-production: chart \.\/charts\/service could not be rendered \(/);
            });
        }
    });
});
