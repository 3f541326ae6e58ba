import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { addonNode, CostLine, estimateMonthlyCost, observabilityLines } from "../../components/cost/cost";
import { OBSERVABILITY_OFF, ObservabilityConfig, ObservabilityInput, parseObservability } from "../../components/observability/config";
import { parseCluster } from "../../components/platform/config";
import { ConfigError } from "../../components/shared/errors";
import { cpuCores, memoryGiB } from "../../components/shared/quantity";
import { EBS_STORAGE_CLASS } from "../../components/platform/storage";
import { grafanaValues, ISTIO_DASHBOARDS, kialiValues, observabilityReleases, prometheusValues } from "../../components/observability/values";
import { observabilityAccess, PROMETHEUS_PORT_FORWARD_ROLE, PROMETHEUS_PORT_FORWARD_RULES, PROMETHEUS_READERS_GROUP, prometheusPortForwardRbac } from "../../components/observability/access";
import { Observability } from "../../components/observability/observability";
import { findSecrets } from "../../policies/secrets";
import { DEFAULT_PROMETHEUS } from "../../scripts/verdict";
import { readStackConfig } from "../../scripts/stack-file";
import { dependencyNames, ofType, Registered, runMocked, runProgram } from "../helpers/mocks";
import { validateObject } from "../helpers/schemas";
import { manualSection } from "../helpers/manual";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry";
const STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass";
const ISTIO_RELEASES = ["istio-base", "istio-istiod-1-30-3", "istio-gateway"];

const obs = (raw: ObservabilityInput | unknown) => parseObservability("uat", raw);
const ALL_ON: ObservabilityInput = { prometheus: { enabled: true }, grafana: { enabled: true }, kiali: { enabled: true } };
const stackObs = (stack: string) => parseObservability(stack, readStackConfig(stack).observability);

/** The config problems of `raw`, or [] when it is valid. */
function problems(raw: unknown, stack = "uat"): string[] {
    try {
        parseObservability(stack, raw);
        return [];
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return e.problems;
    }
}

/** A fast program: an existing cluster (no AWS), one service, the given observability. */
const existingStack = (observability?: unknown) => ({
    cluster: { kind: "existing" },
    services: { checkout: { image: "ghcr.io/acme/checkout", stable: "1.0.0", stage: 1, replicas: 1 } },
    ...(observability === undefined ? {} : { observability }),
});

const observabilityReleasesOf = (resources: Registered[]) =>
    Object.fromEntries(ofType(resources, RELEASE).filter((r) => r.name.startsWith("observability-")).map((r) => [r.name, r]));

describe("stagehand:observability config", () => {
    it("absent, or an empty block: every addon off, with Prometheus's defaults ready", () => {
        for (const raw of [undefined, null, {}]) assert.deepStrictEqual(obs(raw), OBSERVABILITY_OFF);
        assert.deepStrictEqual(OBSERVABILITY_OFF, {
            prometheus: { enabled: false, retention: "15d", storageGi: 0, resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "2Gi" } } },
            grafana: { enabled: false, dashboards: true },
            kiali: { enabled: false },
            alertmanager: { enabled: false, for: "5m", gatewayMaxErrorRate: 0.05, groupWait: "30s", groupInterval: "5m", repeatInterval: "4h", receivers: [] },
            tracing: { enabled: false, samplingPercent: 1, storageGi: 0, retentionHours: 72 },
        });
        // An addon not written out stays off, even when another is on.
        assert.deepStrictEqual([obs({ prometheus: { enabled: true } }).grafana.enabled, obs({ prometheus: { enabled: true } }).kiali.enabled], [false, false]);
    });

    it("the stack files: off in staging, on in uat (a week, no volume) and prod (30 days on 50 GiB)", () => {
        assert.deepStrictEqual(stackObs("staging"), OBSERVABILITY_OFF);
        assert.strictEqual(readStackConfig("staging").observability, undefined, "staging writes no block at all");
        const uat = stackObs("uat");
        assert.deepStrictEqual(
            [uat.prometheus.enabled, uat.prometheus.retention, uat.prometheus.storageGi, uat.grafana.enabled, uat.grafana.dashboards, uat.kiali.enabled],
            [true, "7d", 0, true, true, true],
        );
        const prod = stackObs("prod");
        assert.deepStrictEqual(
            [prod.prometheus.enabled, prod.prometheus.retention, prod.prometheus.storageGi, prod.grafana.enabled, prod.kiali.enabled],
            [true, "30d", 50, true, true],
        );
        assert.deepStrictEqual(prod.prometheus.resources, { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } });
    });

    it("bad fields: each named, with what was expected and what was found", () => {
        assert.deepStrictEqual(problems({ prometheus: { enabled: true, retention: "15 days", storageGi: 2.5 } }), [
            'stack uat, field observability.prometheus.retention: expected a Prometheus duration of at least 1h, such as "15d" or "720h" (units y, w, d, h, m, largest first), found "15 days"',
            "stack uat, field observability.prometheus.storageGi: expected Prometheus's volume size in GiB (0: an emptyDir, lost when the pod moves), a whole number from 0 to 16384, found 2.5",
        ]);
        assert.deepStrictEqual(problems({ prometheus: { enabled: true, retention: "30m" } }), [
            'stack uat, field observability.prometheus.retention: expected a Prometheus duration of at least 1h, such as "15d" or "720h" (units y, w, d, h, m, largest first), found "30m"',
        ]);
        assert.deepStrictEqual(problems({ prometheus: { enabled: "yes" }, grafana: { enabled: true, dashbaords: false } }), [
            'stack uat, field observability.prometheus.enabled: expected true or false, found "yes"',
            "stack uat, field observability.grafana.dashbaords: unknown field; did you mean dashboards?",
        ]);
        assert.deepStrictEqual(problems({ prometheus: { enabled: true, resources: { requests: { cpu: "lots", memory: "1Gi" } } } }), [
            'stack uat, field observability.prometheus.resources.requests.cpu: expected a Kubernetes quantity such as "250m" or "128Mi", found "lots"',
        ]);
        assert.deepStrictEqual(problems("on", "prod"), ['stack prod, field observability: expected an object with `prometheus`, `grafana`, `kiali`, `alertmanager` and `tracing`, found "on"']);
    });

    it("Grafana and Kiali need Prometheus: both named at once", () => {
        assert.deepStrictEqual(problems({ grafana: { enabled: true }, kiali: { enabled: true } }), [
            "stack uat, field observability.grafana.enabled: expected false unless prometheus.enabled is true (Grafana's only data source is that Prometheus), found true",
            "stack uat, field observability.kiali.enabled: expected false unless prometheus.enabled is true (Kiali draws the mesh's traffic from Prometheus), found true",
        ]);
        assert.deepStrictEqual(problems({ prometheus: { enabled: false }, kiali: { enabled: true } }).length, 1);
        assert.deepStrictEqual(problems(ALL_ON), []);
    });

    it("parseStackConfig reports observability problems together with the others'", () => {
        assert.throws(
            () => parseStackConfig("prod", { services: { checkout: { image: "ghcr.io/a/b", stable: "latest", stage: 1, replicas: 1 } }, observability: { kiali: { enabled: true } } }),
            (e: any) =>
                e instanceof ConfigError &&
                e.problems.length === 2 &&
                e.problems[0].startsWith("stack prod, service checkout, field stable:") &&
                e.problems[1].startsWith("stack prod, field observability.kiali.enabled: expected false unless prometheus.enabled is true"),
        );
        assert.deepStrictEqual(parseStackConfig("uat", readStackConfig("uat")).observability, stackObs("uat"));
    });
});

describe("observability releases (pure)", () => {
    it("Prometheus → Grafana → Kiali, pinned charts from their own repositories: Prometheus alone in prometheus, Grafana and Kiali in observability", () => {
        const releases = observabilityReleases(obs(ALL_ON));
        assert.deepStrictEqual(
            releases.map((r) => [r.key, r.name, r.chart, r.repo, r.version, r.namespace, r.after]),
            [
                ["prometheus", "prometheus", "prometheus", "https://prometheus-community.github.io/helm-charts", "27.20.0", "prometheus", []],
                ["grafana", "grafana", "grafana", "https://grafana.github.io/helm-charts", "9.2.2", "observability", ["prometheus"]],
                ["kiali", "kiali", "kiali-server", "https://kiali.org/helm-charts", "2.24.0", "observability", ["prometheus", "grafana"]],
            ],
        );
        assert.deepStrictEqual(observabilityReleases(OBSERVABILITY_OFF), []);
        assert.deepStrictEqual(observabilityReleases(obs({ prometheus: { enabled: true }, kiali: { enabled: true } })).map((r) => [r.key, r.after]), [
            ["prometheus", []],
            ["kiali", ["prometheus"]],
        ]);
    });

    it("the Prometheus Service is prometheus:9090, and Kiali and Grafana read exactly that Service", () => {
        const config = obs(ALL_ON);
        const server = (prometheusValues(config) as any).server;
        // The chart names its server Service after server.fullnameOverride, on server.service.servicePort.
        const installed = `http://${server.fullnameOverride}.prometheus:${server.service.servicePort}`;
        assert.strictEqual(installed, "http://prometheus.prometheus:9090", "the address Kiali and Grafana are given");
        assert.strictEqual((kialiValues(config) as any).external_services.prometheus.url, installed);
        const datasources = (grafanaValues(config) as any).datasources["datasources.yaml"].datasources;
        assert.deepStrictEqual(datasources.map((d: any) => [d.name, d.type, d.url, d.isDefault]), [["Prometheus", "prometheus", installed, true]]);
        // And `npm run verdict` reads it through the port-forward the stack exports.
        const access = observabilityAccess(config) as any;
        assert.strictEqual(access.prometheus.portForward, `kubectl -n prometheus port-forward svc/${server.fullnameOverride} 9090:${server.service.servicePort}`);
        assert.strictEqual(access.prometheus.open, DEFAULT_PROMETHEUS);
    });

    it("Prometheus: retention and storage from config, the server only, 15 s scrapes, out of the mesh", () => {
        const uat = prometheusValues(stackObs("uat")) as any;
        assert.deepStrictEqual([uat.server.retention, uat.server.persistentVolume], ["7d", { enabled: false }]);
        assert.deepStrictEqual(uat.server.global, { scrape_interval: "15s" });
        assert.deepStrictEqual(uat.server.podLabels, { "sidecar.istio.io/inject": "false" });
        assert.deepStrictEqual(uat.server.resources, { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "2Gi" } });
        for (const sub of ["alertmanager", "prometheus-pushgateway", "prometheus-node-exporter", "kube-state-metrics"]) assert.deepStrictEqual(uat[sub], { enabled: false }, sub);
        const prod = prometheusValues(stackObs("prod"), EBS_STORAGE_CLASS) as any;
        assert.deepStrictEqual([prod.server.retention, prod.server.persistentVolume], ["30d", { enabled: true, size: "50Gi", storageClass: "stagehand-gp3", annotations: { "helm.sh/resource-policy": "keep" } }]);
        // Without a class (an existing cluster): the cluster's default StorageClass.
        assert.deepStrictEqual((prometheusValues(stackObs("prod")) as any).server.persistentVolume, { enabled: true, size: "50Gi", annotations: { "helm.sh/resource-policy": "keep" } });
    });

    it("Grafana: Istio's dashboards from grafana.com through the chart's dashboardProviders, or none", () => {
        const values = grafanaValues(obs(ALL_ON)) as any;
        const provider = values.dashboardProviders["dashboardproviders.yaml"].providers;
        assert.deepStrictEqual(provider.map((p: any) => [p.name, p.folder, p.type, p.options.path]), [["istio", "Istio", "file", "/var/lib/grafana/dashboards/istio"]]);
        assert.deepStrictEqual(Object.keys(values.dashboards), ["istio"], "the dashboards' key is the provider's name");
        assert.deepStrictEqual(
            Object.entries(values.dashboards.istio).map(([k, d]: [string, any]) => [k, d.gnetId, d.datasource]),
            [
                ["istio-mesh", 7639, [{ name: "DS_PROMETHEUS", value: "Prometheus" }]],
                ["istio-service", 7636, [{ name: "DS_PROMETHEUS", value: "Prometheus" }]],
                ["istio-workload", 7630, [{ name: "DS_PROMETHEUS", value: "Prometheus" }]],
                ["istio-performance", 11829, [{ name: "DS_PROMETHEUS", value: "Prometheus" }]],
                ["istio-control-plane", 7645, [{ name: "DS_PROMETHEUS", value: "Prometheus" }]],
            ],
        );
        // One pinned revision for all five (grafana.com numbers Istio's uploads together), never "latest".
        assert.deepStrictEqual([...new Set(Object.values(values.dashboards.istio).map((d: any) => d.revision))], [300]);
        assert.deepStrictEqual([values.fullnameOverride, values.service.port], ["grafana", 3000]);
        const without = grafanaValues(obs({ ...ALL_ON, grafana: { enabled: true, dashboards: false } })) as any;
        assert.deepStrictEqual([without.dashboards, without.dashboardProviders, without.extraInitContainers], [undefined, undefined, undefined]);
        assert.deepStrictEqual(values.extraInitContainers.map((c: any) => c.name), ["check-dashboards"]);
    });

    it("Kiali: token login in every stack, never anonymous; Grafana linked only when installed", () => {
        for (const stack of ["uat", "prod"]) {
            const values = kialiValues(stackObs(stack)) as any;
            assert.deepStrictEqual(values.auth, { strategy: "token" }, stack);
            assert.deepStrictEqual(values.external_services.grafana.internal_url, "http://grafana.observability:3000");
            assert.deepStrictEqual(values.external_services.grafana.auth, { type: "basic", username: "admin", password: "secret:grafana:admin-password" });
            // Both stacks trace: Kiali reads Jaeger's query API over gRPC and links to its UI (./tracing.test.ts).
            assert.deepStrictEqual(values.external_services.tracing.internal_url, "http://tracing.observability:16685/jaeger");
            assert.deepStrictEqual([values.server.port, values.server.web_root], [20001, "/kiali"]);
        }
        assert.deepStrictEqual((kialiValues(obs({ prometheus: { enabled: true }, kiali: { enabled: true } })) as any).external_services.grafana, { enabled: false });
        assert.deepStrictEqual((kialiValues(obs({ prometheus: { enabled: true }, kiali: { enabled: true } })) as any).external_services.tracing, { enabled: false });
    });

    it("no addon's values carry a secret in plain text (Kiali references Grafana's password in its Secret)", () => {
        for (const r of observabilityReleases(obs(ALL_ON))) assert.deepStrictEqual(findSecrets(r.values, [], "values"), [], r.name);
        // The rule is not blind to this path: a password written out is caught.
        const leaked = kialiValues(obs(ALL_ON)) as any;
        leaked.external_services.grafana.auth.password = "hunter2hunter2";
        assert.deepStrictEqual(findSecrets(leaked, [], "values").map((f) => f.path), ["values.external_services.grafana.auth.password"]);
    });
});

describe("program with observability (index.ts under Pulumi mocks)", () => {
    it("addons on: three atomic Releases in their namespaces, each waiting for every Istio release; Kiali after the other two", async () => {
        const { resources, outputs } = await runProgram("uat", existingStack(ALL_ON));
        const releases = observabilityReleasesOf(resources);
        assert.deepStrictEqual(Object.keys(releases).sort(), ["observability-grafana", "observability-kiali", "observability-prometheus"]);
        const expected: Record<string, [string, string, string]> = {
            "observability-prometheus": ["prometheus", "https://prometheus-community.github.io/helm-charts", "27.20.0"],
            "observability-grafana": ["grafana", "https://grafana.github.io/helm-charts", "9.2.2"],
            "observability-kiali": ["kiali-server", "https://kiali.org/helm-charts", "2.24.0"],
        };
        for (const [name, r] of Object.entries(releases)) {
            const { chart, repositoryOpts, version, namespace, atomic, timeout } = r.inputs;
            assert.deepStrictEqual([chart, repositoryOpts.repo, version], expected[name], name);
            assert.deepStrictEqual([namespace, atomic, timeout], [name === "observability-prometheus" ? "prometheus" : "observability", true, 600], name);
            assert.ok(dependencyNames(r).includes(`observability-namespace-${namespace}`), `${name} waits for its namespace`);
            const deps = dependencyNames(r);
            for (const istio of [...ISTIO_RELEASES, "istio-system"]) assert.ok(deps.includes(istio), `${name} waits for ${istio} (it waits for: ${deps.join(", ")})`);
            assert.ok(r.parent?.endsWith("stagehand:index:Observability::observability"), `${name} is a child of the Observability component`);
        }
        assert.deepStrictEqual(
            ["observability-prometheus", "observability-grafana"].map((n) => dependencyNames(releases["observability-kiali"]).includes(n)),
            [true, true],
        );
        assert.strictEqual(releases["observability-kiali"].inputs.values.external_services.prometheus.url, "http://prometheus.prometheus:9090");
        // An existing cluster: no AWS, and Prometheus's volume (if any) from the cluster's default class.
        assert.deepStrictEqual([resources.filter((r) => r.type.startsWith("aws:")).length, ofType(resources, STORAGE_CLASS).length], [0, 0]);
        assert.deepStrictEqual(outputs.observability.kiali.portForward, "kubectl -n observability port-forward svc/kiali 20001:20001");
        assert.deepStrictEqual(outputs.observability.grafana.open, "http://127.0.0.1:3000");
        // Istio waits for none of it.
        for (const r of ofType(resources, RELEASE).filter((x) => ISTIO_RELEASES.includes(x.name))) {
            assert.ok(!dependencyNames(r).some((d) => d.startsWith("observability")), r.name);
        }
    });

    it("addons off (no block): no Observability component and no addon release; the output says so", async () => {
        const { resources, outputs } = await runProgram("uat", existingStack());
        assert.deepStrictEqual(Object.keys(observabilityReleasesOf(resources)), []);
        assert.ok(!resources.some((r) => r.type === "stagehand:index:Observability"));
        assert.deepStrictEqual(outputs.observability, { prometheus: { enabled: false }, grafana: { enabled: false }, kiali: { enabled: false }, alertmanager: { enabled: false }, tracing: { enabled: false } });
    });

    it("Prometheus alone: one release, and Kiali's and Grafana's absence changes nothing else", async () => {
        const { resources } = await runProgram("uat", existingStack({ prometheus: { enabled: true, retention: "2d", storageGi: 5 } }));
        const releases = observabilityReleasesOf(resources);
        assert.deepStrictEqual(Object.keys(releases), ["observability-prometheus"]);
        assert.deepStrictEqual(releases["observability-prometheus"].inputs.values.server.retention, "2d");
        assert.deepStrictEqual(releases["observability-prometheus"].inputs.values.server.persistentVolume, { enabled: true, size: "5Gi", annotations: { "helm.sh/resource-policy": "keep" } });
    });

    it("a config error in the block fails before anything is registered", async () => {
        await assert.rejects(runProgram("prod", existingStack({ kiali: { enabled: true } })), (e: any) => {
            assert.match(e.message, /stack prod, field observability\.kiali\.enabled: expected false unless prometheus\.enabled is true/);
            assert.deepStrictEqual(e.registered ?? [], []);
            return true;
        });
    });

    it("the stack files: staging has none; uat has the three releases on emptyDir; the component owns no AWS resource and no StorageClass", async () => {
        const staging = await runProgram("staging", readStackConfig("staging"));
        assert.deepStrictEqual(Object.keys(observabilityReleasesOf(staging.resources)), []);
        const uat = await runProgram("uat", readStackConfig("uat"));
        const releases = observabilityReleasesOf(uat.resources);
        assert.deepStrictEqual(Object.keys(releases).sort(), ["observability-grafana", "observability-kiali", "observability-prometheus"]);
        assert.deepStrictEqual(releases["observability-prometheus"].inputs.values.server.persistentVolume, { enabled: false });
        assert.deepStrictEqual(uat.outputs.observability.prometheus.retention, "7d");
        // Storage is the platform's (components/platform/storage.ts): nothing of it is a child of Observability. Its
        // only children besides the releases: uat's port-forward to Prometheus for the viewers (EKS, Prometheus on),
        // and Jaeger with the mesh-wide Telemetry (tracing on, no volume: ./tracing.test.ts).
        const children = (resources: Registered[]) =>
            resources
                .filter((r) => r.parent?.endsWith("stagehand:index:Observability::observability") && r.type !== RELEASE)
                .map((r) => r.type)
                .sort();
        assert.deepStrictEqual(children(staging.resources), []);
        assert.deepStrictEqual(children(uat.resources), [
            "kubernetes:apps/v1:Deployment",
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:Service",
            "kubernetes:core/v1:Service",
            "kubernetes:core/v1:Service",
            ROLE,
            ROLE_BINDING,
            "kubernetes:telemetry.istio.io/v1:Telemetry",
        ]);
    });

    it("prod: a 50 GiB volume of the platform's encrypted gp3 StorageClass, which Prometheus waits for", async () => {
        const { resources, outputs } = await runProgram("prod", readStackConfig("prod"));
        const prometheus = observabilityReleasesOf(resources)["observability-prometheus"];
        assert.deepStrictEqual(prometheus.inputs.values.server.persistentVolume, { enabled: true, size: "50Gi", storageClass: EBS_STORAGE_CLASS, annotations: { "helm.sh/resource-policy": "keep" } });
        const [sc] = ofType(resources, STORAGE_CLASS);
        assert.strictEqual(sc.inputs.metadata.name, EBS_STORAGE_CLASS);
        assert.deepStrictEqual(sc.inputs.parameters, { type: "gp3", encrypted: "true" });
        assert.ok(dependencyNames(prometheus).includes(sc.name), "Prometheus waits for its StorageClass");
        assert.ok(!sc.parent?.includes("Observability"), "the StorageClass is the platform's");
        assert.deepStrictEqual(prometheus.inputs.values.server.retention, "30d");
        assert.deepStrictEqual(outputs.observability.prometheus.storage, "50Gi persistent volume");
        // The exported estimate carries the addons' lines.
        const items = outputs.monthlyCost.lines.map((l: CostLine) => l.item);
        for (const item of ["Prometheus (share of a node)", "Grafana (share of a node)", "Kiali (share of a node)", "Prometheus volume (EBS gp3)", "Jaeger (share of a node)", "Jaeger volume (EBS gp3)"]) {
            assert.ok(items.includes(item), item);
        }
        assert.strictEqual(outputs.monthlyCost.total, 698.16);
    });
});

describe("the viewers' port-forward to Prometheus (the metrics verdict on a pull request)", () => {
    const eksStack = (stack: string, extra: Record<string, unknown> = {}) => {
        const config = readStackConfig(stack);
        return { ...config, cluster: { ...(config.cluster as object), ...extra } };
    };
    const PREVIEW = "arn:aws:iam::123456789012:role/stagehand-preview";
    const rbacOf = (resources: Registered[]) => [...ofType(resources, ROLE), ...ofType(resources, ROLE_BINDING)];

    it("the Role: get on the Service prometheus only, get and list on pods, get and create on pods/portforward; nothing else", () => {
        const { role } = prometheusPortForwardRbac();
        assert.deepStrictEqual(role.rules, [
            { apiGroups: [""], resources: ["services"], resourceNames: ["prometheus"], verbs: ["get"] },
            { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
            { apiGroups: [""], resources: ["pods/portforward"], verbs: ["get", "create"] },
        ]);
        assert.deepStrictEqual(role.rules, PROMETHEUS_PORT_FORWARD_RULES);
        // No wildcard, no write but the port-forward, no Secret.
        const all = role.rules.flatMap((r) => [...r.resources, ...r.verbs, ...r.apiGroups]);
        assert.ok(!all.includes("*"), all.join());
        assert.deepStrictEqual([...new Set(role.rules.flatMap((r) => r.verbs))].sort(), ["create", "get", "list"]);
        assert.deepStrictEqual(role.rules.filter((r) => r.verbs.includes("create")).map((r) => r.resources), [["pods/portforward"]]);
        // The Service it may read is the one the chart creates and the verdict's port-forward names, in its namespace.
        const server = (prometheusValues(obs(ALL_ON)) as any).server;
        const [prometheusRelease] = observabilityReleases(obs(ALL_ON));
        assert.deepStrictEqual(role.metadata, { name: PROMETHEUS_PORT_FORWARD_ROLE, namespace: prometheusRelease.namespace });
        assert.strictEqual(role.rules[0].resourceNames?.[0], server.fullnameOverride);
        assert.strictEqual(
            (observabilityAccess(obs(ALL_ON)) as any).prometheus.portForward,
            `kubectl -n ${role.metadata.namespace} port-forward svc/${role.rules[0].resourceNames?.[0]} 9090:9090`,
        );
        validateObject(role);
        assert.throws(() => validateObject({ ...role, rules: [{ apiGroups: [""], resources: ["pods"] }] }), /verbs/);
    });

    it("the RoleBinding binds the viewers' group to that Role, in prometheus (Prometheus alone); fresh objects each time", () => {
        const { role, roleBinding } = prometheusPortForwardRbac();
        assert.deepStrictEqual(roleBinding.metadata, { name: "stagehand-prometheus-port-forward", namespace: "prometheus" });
        assert.deepStrictEqual(roleBinding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name });
        assert.deepStrictEqual(roleBinding.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "stagehand:prometheus-readers" }]);
        assert.strictEqual(PROMETHEUS_READERS_GROUP, "stagehand:prometheus-readers");
        validateObject(roleBinding);
        assert.throws(() => validateObject({ ...roleBinding, roleRef: { kind: "Role", name: role.metadata.name } }), /apiGroup/);
        role.rules[0].verbs.push("list");
        assert.deepStrictEqual(prometheusPortForwardRbac().role.rules[0].verbs, ["get"], "the constant is not shared with what a caller changes");
    });

    it("uat on EKS: the Role and RoleBinding of Observability, after Istio; the binding's group is the one in the viewers' access entries", async () => {
        const { resources } = await runProgram("uat", eksStack("uat", { viewers: [PREVIEW] }));
        const [role] = ofType(resources, ROLE);
        const [binding] = ofType(resources, ROLE_BINDING);
        assert.deepStrictEqual(rbacOf(resources).map((r) => r.name), ["observability-prometheus-port-forward", "observability-prometheus-port-forward"]);
        for (const r of [role, binding]) {
            assert.ok(r.parent?.endsWith("stagehand:index:Observability::observability"), `${r.type} is a child of Observability`);
            assert.deepStrictEqual(r.inputs.metadata, { name: "stagehand-prometheus-port-forward", namespace: "prometheus" });
            const deps = dependencyNames(r);
            for (const istio of [...ISTIO_RELEASES, "istio-system"]) assert.ok(deps.includes(istio), `${r.type} waits for ${istio} (it waits for: ${deps.join(", ")})`);
            validateObject(r.inputs);
        }
        assert.deepStrictEqual(role.inputs.rules, prometheusPortForwardRbac().role.rules);
        assert.ok(dependencyNames(binding).includes(role.name), "the binding waits for its Role");
        assert.deepStrictEqual(binding.inputs.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.inputs.metadata.name });
        // No drift: the group bound is the group EKS puts the viewer in (read from both resources, not the constant).
        const viewerEntries = ofType(resources, ACCESS_ENTRY).filter((e) => e.inputs.principalArn === PREVIEW);
        assert.strictEqual(viewerEntries.length, 1);
        assert.deepStrictEqual(binding.inputs.subjects, viewerEntries[0].inputs.kubernetesGroups.map((name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name })));
        // The admins' entries name no group: their access is the cluster admin policy alone.
        const admin = await runProgram("uat", eksStack("uat", { admins: ["arn:aws:iam::123456789012:role/stagehand-deploy-uat"] }));
        assert.deepStrictEqual(ofType(admin.resources, ACCESS_ENTRY).map((e) => [e.name, e.inputs.kubernetesGroups]), [["cluster-admin-0", undefined]]);
    });

    it("none without Prometheus (staging), nor on an existing cluster with Prometheus on (its access is not the program's)", async () => {
        const staging = await runProgram("staging", eksStack("staging", { viewers: [PREVIEW] }));
        assert.deepStrictEqual(rbacOf(staging.resources).map((r) => r.type), []);
        // The viewer is still in the group: bound to nothing, it grants nothing.
        assert.deepStrictEqual(ofType(staging.resources, ACCESS_ENTRY).filter((e) => e.inputs.principalArn === PREVIEW).map((e) => e.inputs.kubernetesGroups), [[PROMETHEUS_READERS_GROUP]]);
        const existing = await runProgram("uat", existingStack(ALL_ON));
        assert.deepStrictEqual(Object.keys(observabilityReleasesOf(existing.resources)).length, 3);
        assert.deepStrictEqual(rbacOf(existing.resources).map((r) => r.type), []);
    });

    it("the component: the port-forward on EKS with Prometheus on, whatever the StorageClass; none elsewhere", async () => {
        const run = (args: Omit<ConstructorParameters<typeof Observability>[1], "config">, config = obs(ALL_ON)) =>
            runMocked("uat", {}, () => {
                new Observability("observability", { config, ...args });
            }).then(({ resources }) => rbacOf(resources).map((r) => r.type));
        assert.deepStrictEqual(await run({ platform: "eks" }), [ROLE, ROLE_BINDING]);
        assert.deepStrictEqual(await run({ platform: "eks", storageClassName: EBS_STORAGE_CLASS }), [ROLE, ROLE_BINDING]);
        assert.deepStrictEqual(await run({ platform: "existing", storageClassName: EBS_STORAGE_CLASS }), []);
        assert.deepStrictEqual(await run({ platform: "existing" }), []);
        assert.deepStrictEqual(await run({ platform: "eks" }, OBSERVABILITY_OFF), []);
    });
});

describe("observability cost (components/cost/cost.ts)", () => {
    const stackCluster = (stack: string) => parseCluster(stack, readStackConfig(stack).cluster);
    const byItem = (lines: CostLine[]) => Object.fromEntries(lines.map((l) => [l.item, [l.quantity, l.unitMonthly, l.monthly]]));

    it("quantities: CPU in cores, memory in GiB", () => {
        assert.deepStrictEqual(["250m", "1", "0.5", "1500m"].map(cpuCores), [0.25, 1, 0.5, 1.5]);
        assert.deepStrictEqual(["1Gi", "512Mi", "2048Ki"].map(memoryGiB), [1, 0.5, 2 / 1024]);
        assert.ok(Math.abs(memoryGiB("1G") - 1e9 / 2 ** 30) < 1e-12);
        assert.throws(() => memoryGiB("lots"), /not a memory quantity: lots/);
    });

    it("uat: each addon's requests as a share of an m6i.large at its price; no volume", () => {
        assert.deepStrictEqual(byItem(observabilityLines(stackCluster("uat") as any, stackObs("uat"))), {
            "Prometheus (share of a node)": [0.125, 70.08, 8.76], // 250m of 2 vCPU = 1Gi of 8 GiB = 12.5%
            "Grafana (share of a node)": [0.025, 70.08, 1.75], // 50m of 2 vCPU (the larger share)
            "Kiali (share of a node)": [0.025, 70.08, 1.75],
            "Jaeger (share of a node)": [0.031, 70.08, 2.17], // 256Mi of 8 GiB = 3.1% (the larger share)
        });
    });

    it("prod: a bigger Prometheus and its 50 GiB gp3 volume", () => {
        const lines = observabilityLines(stackCluster("prod") as any, stackObs("prod"));
        assert.deepStrictEqual(byItem(lines)["Prometheus (share of a node)"], [0.25, 70.08, 17.52]);
        assert.deepStrictEqual(byItem(lines)["Prometheus volume (EBS gp3)"], [50, 0.08, 4]);
        assert.match(lines[0].basis, /requests 500m CPU \/ 2Gi of a m6i\.large \(2 vCPU, 8 GiB\): CPU share 25%/);
    });

    it("the totals: staging unchanged (off), uat and prod with their addons; staging stays under 40% of prod", () => {
        const totals = ["staging", "uat", "prod"].map((s) => estimateMonthlyCost(stackCluster(s), { observability: stackObs(s) }).total);
        assert.deepStrictEqual(totals, [130.28, 380.11, 698.16]);
        assert.deepStrictEqual(
            ["staging", "uat", "prod"].map((s) => estimateMonthlyCost(stackCluster(s)).total),
            [130.28, 365.68, 669.37], // uat and prod with the $1 KMS key of Secrets encryption
            "without the addons: the cluster alone",
        );
        assert.ok(totals[0] / totals[2] <= 0.4);
    });

    it("a spot pool prices by its smallest type, memory-bound here; an existing cluster prices nothing", () => {
        const spot = parseCluster("staging", {}) as any; // t3.medium / t3a.medium / t2.medium: 2 vCPU, 4 GiB
        assert.deepStrictEqual(addonNode(spot).vcpu, 2);
        assert.deepStrictEqual(addonNode(spot).memoryGiB, 4);
        const [prom] = observabilityLines(spot, obs({ prometheus: { enabled: true } }));
        assert.deepStrictEqual([prom.quantity, prom.unitMonthly, prom.monthly], [0.25, 10.7, 2.68]); // 1Gi of 4 GiB
        assert.match(prom.basis, /memory share 25%/);
        const existing = estimateMonthlyCost(parseCluster("dev", { kind: "existing" }), { observability: obs(ALL_ON) });
        assert.deepStrictEqual([existing.lines, existing.total], [[], 0]);
        assert.deepStrictEqual(observabilityLines(spot, OBSERVABILITY_OFF), []);
    });
});

describe("README: Observability", () => {
    const section = manualSection;

    it("gives the port-forward commands the stack exports, for the Services the charts create", () => {
        const text = section("## Observability");
        const access = observabilityAccess(obs(ALL_ON)) as any;
        for (const addon of ["prometheus", "grafana", "kiali"]) assert.ok(text.includes(access[addon].portForward), `README: ${access[addon].portForward}`);
        // The verdict section's command too.
        assert.ok(section("## Metrics verdict").includes(access.prometheus.portForward));
        for (const c of observabilityReleases(obs(ALL_ON))) assert.ok(text.includes(`\`${c.chart}\` ${c.version}`), `README names ${c.chart} ${c.version}`);
        for (const d of ISTIO_DASHBOARDS) assert.ok(text.includes(`(${d.gnetId})`), `README lists dashboard ${d.gnetId}`);
    });

    it("the config reference lists every field of stagehand:observability", () => {
        const text = section("### `stagehand:observability`");
        const fields = [
            ...Object.keys(OBSERVABILITY_OFF.prometheus).map((f) => `prometheus.${f}`),
            ...Object.keys(OBSERVABILITY_OFF.grafana).map((f) => `grafana.${f}`),
            ...Object.keys(OBSERVABILITY_OFF.kiali).map((f) => `kiali.${f}`),
            ...Object.keys(OBSERVABILITY_OFF.alertmanager).map((f) => `alertmanager.${f}`),
            ...["name", "type", "severities", "services", "url", "channel", "routingKey"].map((f) => `alertmanager.receivers[].${f}`),
        ];
        for (const f of fields) assert.ok(text.includes(`| \`${f}\` |`), `README documents ${f}`);
    });

    it("states the config's defaults as the schema has them", () => {
        const text = section("### `stagehand:observability`");
        const config: ObservabilityConfig = OBSERVABILITY_OFF;
        assert.ok(text.includes(`| \`prometheus.retention\` | \`${config.prometheus.retention}\` |`));
        assert.ok(text.includes(`| \`prometheus.storageGi\` | \`${config.prometheus.storageGi}\` |`));
        assert.ok(text.includes(`| \`grafana.dashboards\` | \`${config.grafana.dashboards}\` |`));
        for (const f of ["for", "gatewayMaxErrorRate", "groupWait", "groupInterval", "repeatInterval"] as const) {
            assert.ok(text.includes(`| \`alertmanager.${f}\` | \`${config.alertmanager[f]}\` |`), `README states alertmanager.${f}'s default`);
        }
    });
});
