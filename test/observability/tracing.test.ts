// Tracing (components/observability/tracing.ts): the config, Jaeger from Istio's own addon manifest adapted to the
// stack (schema-valid, Pod Security, volume), the mesh's OTLP provider in istiod's rendered mesh config, the mesh-wide
// Telemetry, Kiali's link in its rendered config, what the program registers and in which order, the cost, the
// platform diff and the plan line.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CostLine, estimateMonthlyCost, observabilityLines } from "../../components/cost/cost";
import { ObservabilityInput, parseObservability } from "../../components/observability/config";
import {
    JAEGER_CLAIM,
    JAEGER_COLLECTOR_SERVICE,
    JAEGER_CONFIG_ANNOTATION,
    JAEGER_MANIFEST,
    JAEGER_QUERY_SERVICE,
    jaegerObjects,
    jaegerUpstreamObjects,
    meshExtensionProviders,
    meshTelemetry,
    TRACING_PROVIDER,
    tracingAccess,
} from "../../components/observability/tracing";
import { parseCluster } from "../../components/platform/config";
import { istioReleases } from "../../components/platform/istio";
import { platformFieldChanges, PlatformRevision } from "../../components/platform/platform-diff";
import { EBS_STORAGE_CLASS } from "../../components/platform/storage";
import { ConfigError } from "../../components/shared/errors";
import { tracingLine } from "../../scripts/plan";
import { readStackConfig } from "../../scripts/stack-file";
import { kind, one, programReleases, renderRelease } from "../helpers/charts";
import { dependencyNames, ofType, Registered, runProgram } from "../helpers/mocks";
import { podSecurityViolations } from "../helpers/pod-security";
import { validateObject } from "../helpers/schemas";
import { manualSection } from "../helpers/manual";

const SHARED_MANIFEST = path.resolve(__dirname, "../../../shared/manifests/jaeger-istio-1.30.3.yaml");
const obs = (raw: ObservabilityInput | unknown) => parseObservability("uat", raw);
const TRACING = (over: Record<string, unknown> = {}) => obs({ tracing: { enabled: true, ...over } });
const stackObs = (stack: string) => parseObservability(stack, readStackConfig(stack).observability);

function problems(raw: unknown): string[] {
    try {
        parseObservability("uat", raw);
        return [];
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return e.problems;
    }
}

const byKind = (objects: any[], k: string, name?: string) => {
    const found = objects.filter((o) => o.kind === k && (name === undefined || o.metadata.name === name));
    assert.strictEqual(found.length, 1, `one ${k} ${name ?? ""}`);
    return found[0];
};

describe("tracing: the Jaeger manifest's provenance", () => {
    it("the repository's copy is Istio's addon as the shared copy has it, byte for byte", function () {
        if (!fs.existsSync(SHARED_MANIFEST)) this.skip();
        assert.strictEqual(fs.readFileSync(JAEGER_MANIFEST, "utf8"), fs.readFileSync(SHARED_MANIFEST, "utf8"));
    });

    it("the constants are the manifest's own: the collector's OTLP gRPC port, the query Service and its base path", () => {
        const objects = jaegerUpstreamObjects();
        const collector = byKind(objects, "Service", JAEGER_COLLECTOR_SERVICE.name);
        assert.ok(collector.spec.ports.some((p: any) => p.port === JAEGER_COLLECTOR_SERVICE.otlpGrpcPort && p.name === "grpc-otel"));
        const query = byKind(objects, "Service", JAEGER_QUERY_SERVICE.name);
        assert.deepStrictEqual(
            query.spec.ports.map((p: any) => [p.port, p.targetPort]),
            [
                [JAEGER_QUERY_SERVICE.httpPort, JAEGER_QUERY_SERVICE.uiPort],
                [JAEGER_QUERY_SERVICE.grpcPort, JAEGER_QUERY_SERVICE.grpcPort],
            ],
        );
        const config = parseYaml(byKind(objects, "ConfigMap").data["config.yaml"]);
        assert.strictEqual(config.receivers.otlp.protocols.grpc.endpoint, `0.0.0.0:${JAEGER_COLLECTOR_SERVICE.otlpGrpcPort}`);
        assert.strictEqual(config.extensions.jaeger_query.base_path, JAEGER_QUERY_SERVICE.basePath);
    });
});

describe("stagehand:observability.tracing config", () => {
    it("off by default, Istio's 1% sampling and Jaeger's 72h retention ready, no volume", () => {
        assert.deepStrictEqual(obs({}).tracing, { enabled: false, samplingPercent: 1, storageGi: 0, retentionHours: 72 });
        assert.deepStrictEqual(TRACING({ samplingPercent: 0.5 }).tracing.samplingPercent, 0.5);
        assert.deepStrictEqual(TRACING({ samplingPercent: 100 }).tracing.samplingPercent, 100);
    });

    it("needs no other addon: tracing alone is valid", () => {
        assert.deepStrictEqual(problems({ tracing: { enabled: true } }), []);
    });

    it("bad fields: each named, with what was expected and what was found", () => {
        assert.deepStrictEqual(problems({ tracing: { enabled: true, samplingPercent: 101, storageGi: 1.5, retentionHours: 0 } }), [
            "stack uat, field observability.tracing.samplingPercent: expected a percentage of requests traced from 0 to 100, decimals allowed (Istio's randomSamplingPercentage, e.g. 1 or 0.5), found 101",
            "stack uat, field observability.tracing.storageGi: expected Jaeger's volume size in GiB (0: an emptyDir, lost when the pod moves), a whole number from 0 to 16384, found 1.5",
            "stack uat, field observability.tracing.retentionHours: expected how many hours Jaeger keeps spans, a whole number from 1 to 8760, found 0",
        ]);
        assert.deepStrictEqual(problems({ tracing: { enabled: true, samplingPercent: "10%" } }), [
            'stack uat, field observability.tracing.samplingPercent: expected a percentage of requests traced from 0 to 100, decimals allowed (Istio\'s randomSamplingPercentage, e.g. 1 or 0.5), found "10%"',
        ]);
        assert.deepStrictEqual(problems({ tracing: { enabled: true, samplingPercnt: 5 } }), ["stack uat, field observability.tracing.samplingPercnt: unknown field; did you mean samplingPercent?"]);
        assert.deepStrictEqual(problems({ tracing: { enabled: true, sampling: 5 } }), [
            "stack uat, field observability.tracing.sampling: unknown field; the fields here are enabled, samplingPercent, storageGi, retentionHours",
        ]);
        assert.deepStrictEqual(problems({ tracing: "on" }), [
            'stack uat, field observability.tracing: expected an object with `enabled`, and optionally `samplingPercent`, `storageGi` and `retentionHours`, found "on"',
        ]);
    });

    it("the stack files: off in staging, 10% on an emptyDir in uat, 1% kept a week on 20 GiB in prod", () => {
        assert.strictEqual(stackObs("staging").tracing.enabled, false);
        assert.deepStrictEqual(stackObs("uat").tracing, { enabled: true, samplingPercent: 10, storageGi: 0, retentionHours: 72 });
        assert.deepStrictEqual(stackObs("prod").tracing, { enabled: true, samplingPercent: 1, storageGi: 20, retentionHours: 168 });
    });
});

describe("Jaeger's objects (pure)", () => {
    it("none when tracing is off", () => {
        assert.deepStrictEqual(jaegerObjects(obs({})), []);
        assert.deepStrictEqual(meshExtensionProviders(obs({})), []);
        assert.strictEqual(meshTelemetry(obs({})), undefined);
    });

    it("every object of Istio's addon, moved to `observability`, each valid for the API server", () => {
        const objects = jaegerObjects(TRACING());
        assert.deepStrictEqual(
            objects.map((o) => `${o.kind}/${o.metadata.name}`),
            jaegerUpstreamObjects().map((o) => `${o.kind}/${o.metadata.name}`),
        );
        for (const o of objects) {
            assert.strictEqual(o.metadata.namespace, "observability");
            validateObject(o);
        }
        // The upstream file is read afresh: adapting it changes nothing of it.
        assert.ok(jaegerUpstreamObjects().every((o) => o.metadata.namespace === "istio-system"));
    });

    it("the collector's config is upstream's with the stack's retention", () => {
        const upstream = parseYaml(byKind(jaegerUpstreamObjects(), "ConfigMap").data["config.yaml"]);
        const adapted = parseYaml(byKind(jaegerObjects(TRACING({ retentionHours: 168 })), "ConfigMap").data["config.yaml"]);
        assert.deepStrictEqual(adapted.extensions.jaeger_storage.backends.badger_storage.badger.ttl, { spans: "168h" });
        delete adapted.extensions.jaeger_storage.backends.badger_storage.badger.ttl;
        assert.deepStrictEqual(adapted, upstream);
    });

    it("a change of the collector's config rolls the pod (its fingerprint on the pod template)", () => {
        const fingerprint = (retentionHours: number) => byKind(jaegerObjects(TRACING({ retentionHours })), "Deployment").spec.template.metadata.annotations[JAEGER_CONFIG_ANNOTATION];
        assert.notStrictEqual(fingerprint(72), fingerprint(24));
        assert.strictEqual(fingerprint(72), fingerprint(72));
    });

    it("the Deployment: sized, outside the mesh, passing the `restricted` Pod Security level, one pod replaced by Recreate", () => {
        const deployment = byKind(jaegerObjects(TRACING()), "Deployment");
        const pod = deployment.spec.template;
        assert.strictEqual(pod.metadata.labels["sidecar.istio.io/inject"], "false");
        assert.deepStrictEqual(pod.spec.containers[0].resources, { requests: { cpu: "50m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } });
        assert.deepStrictEqual(podSecurityViolations({ spec: pod.spec, annotations: pod.metadata.annotations }, "restricted"), []);
        assert.deepStrictEqual([deployment.spec.replicas, deployment.spec.strategy], [1, { type: "Recreate" }]);
        // The image stays the manifest's, pinned.
        assert.strictEqual(pod.spec.containers[0].image, byKind(jaegerUpstreamObjects(), "Deployment").spec.template.spec.containers[0].image);
    });

    it("storageGi 0: badger on the emptyDir, and the autoscaler told not to drain its node", () => {
        const objects = jaegerObjects(TRACING());
        assert.ok(!objects.some((o) => o.kind === "PersistentVolumeClaim"));
        const pod = byKind(objects, "Deployment").spec.template;
        assert.deepStrictEqual(pod.spec.volumes.find((v: any) => v.name === "data"), { name: "data", emptyDir: {} });
        assert.strictEqual(pod.metadata.annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"], "false");
    });

    it("storageGi > 0: a claim of that size on the given class, mounted where badger keeps its files", () => {
        const objects = jaegerObjects(TRACING({ storageGi: 20 }), EBS_STORAGE_CLASS);
        const claim = byKind(objects, "PersistentVolumeClaim", JAEGER_CLAIM);
        validateObject(claim);
        assert.deepStrictEqual(claim.spec, { accessModes: ["ReadWriteOnce"], storageClassName: EBS_STORAGE_CLASS, resources: { requests: { storage: "20Gi" } } });
        const pod = byKind(objects, "Deployment").spec.template;
        assert.deepStrictEqual(pod.spec.volumes.find((v: any) => v.name === "data"), { name: "data", persistentVolumeClaim: { claimName: JAEGER_CLAIM } });
        const mount = pod.spec.containers[0].volumeMounts.find((m: any) => m.name === "data");
        const badger = parseYaml(byKind(objects, "ConfigMap").data["config.yaml"]).extensions.jaeger_storage.backends.badger_storage.badger;
        for (const dir of Object.values(badger.directories) as string[]) assert.ok(dir.startsWith(mount.mountPath), `${dir} is on the volume`);
        assert.strictEqual(badger.ephemeral, false);
        assert.strictEqual(pod.metadata.annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"], undefined);
        assert.strictEqual(pod.spec.securityContext.fsGroup, 10001, "the volume is writable by the image's user");
        // No class given: the claim names none (the cluster's default class).
        assert.strictEqual(byKind(jaegerObjects(TRACING({ storageGi: 5 })), "PersistentVolumeClaim").spec.storageClassName, undefined);
    });
});

describe("the mesh's spans to Jaeger", () => {
    it("the mesh-wide Telemetry: in Istio's root namespace, no selector, the provider and the stack's rate; schema-valid", () => {
        const telemetry = meshTelemetry(TRACING({ samplingPercent: 0.5 }))!;
        validateObject(telemetry);
        assert.deepStrictEqual(telemetry.metadata, { name: "mesh-default", namespace: "istio-system" });
        assert.deepStrictEqual(telemetry.spec, { tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: 0.5 }] });
    });

    it("istiod 1.30.3 rendered with the provider: the mesh config names it beside the chart's defaults", () => {
        const config = parseCluster("uat", {}).istio;
        const release = istioReleases(config, "eks", meshExtensionProviders(TRACING())).find((r) => r.chart === "istiod")!;
        const objects = renderRelease(release);
        const mesh = parseYaml(one(objects, "ConfigMap", `istio-${release.values.revision}`).data.mesh);
        assert.deepStrictEqual(mesh.extensionProviders.find((p: any) => p.name === TRACING_PROVIDER), {
            name: TRACING_PROVIDER,
            opentelemetry: { service: "jaeger-collector.observability.svc.cluster.local", port: 4317 },
        });
        assert.strictEqual(mesh.enablePrometheusMerge, true, "the chart's own meshConfig is kept");
        // Tracing off: no meshConfig written at all.
        const off = istioReleases(config, "eks", meshExtensionProviders(obs({}))).find((r) => r.chart === "istiod")!;
        assert.strictEqual((off.values as any).meshConfig, undefined);
    });

    it("the service's Jaeger collector name resolves to the Service the manifest creates in observability", () => {
        const [provider] = meshExtensionProviders(TRACING()) as any[];
        const service = byKind(jaegerObjects(TRACING()), "Service", JAEGER_COLLECTOR_SERVICE.name);
        assert.strictEqual(provider.opentelemetry.service, `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`);
    });
});

describe("Kiali linked to Jaeger (kiali-server rendered)", () => {
    it("uat: Kiali's config reads Jaeger's query API over gRPC and links to its UI through the port-forward", async () => {
        const { releases, kubernetesVersion } = await programReleases("uat");
        const kiali = releases.find((r) => r.resource === "observability-kiali")!;
        const config = parseYaml(one(renderRelease(kiali, kubernetesVersion), "ConfigMap", "kiali").data["config.yaml"]);
        assert.strictEqual(config.external_services.tracing.enabled, true);
        assert.strictEqual(config.external_services.tracing.internal_url, `http://tracing.observability:16685/jaeger`);
        assert.strictEqual(config.external_services.tracing.use_grpc, true);
        assert.strictEqual(config.external_services.tracing.external_url, "http://127.0.0.1:16686/jaeger");
        assert.strictEqual(tracingAccess(stackObs("uat")).open, config.external_services.tracing.external_url);
    });
});

describe("program with tracing (index.ts under Pulumi mocks)", () => {
    const jaegerOf = (resources: Registered[]) => resources.filter((r) => r.name.startsWith("observability-jaeger-"));
    const named = (resources: Registered[], name: string) => {
        const r = resources.find((x) => x.name === name);
        assert.ok(r, `registered ${name}`);
        return r!;
    };

    it("uat: Jaeger's objects and the mesh Telemetry, in order; every istiod knows the provider", async () => {
        const { resources, outputs } = await runProgram("uat", readStackConfig("uat"));
        assert.deepStrictEqual(jaegerOf(resources).map((r) => r.name).sort(), [
            "observability-jaeger-configmap-jaeger",
            "observability-jaeger-deployment-jaeger",
            "observability-jaeger-service-jaeger-collector",
            "observability-jaeger-service-tracing",
            "observability-jaeger-service-zipkin",
        ]);
        const deployment = named(resources, "observability-jaeger-deployment-jaeger");
        assert.deepStrictEqual(deployment.inputs.metadata, { name: "jaeger", namespace: "observability", labels: { app: "jaeger" } });
        assert.deepStrictEqual(deployment.inputs.spec, byKind(jaegerObjects(stackObs("uat")), "Deployment").spec);
        assert.ok(dependencyNames(deployment).includes("observability-jaeger-configmap-jaeger"), "the ConfigMap before the pod that mounts it");
        assert.ok(dependencyNames(deployment).includes("observability-namespace-observability"));
        const telemetry = named(resources, "observability-mesh-telemetry");
        assert.deepStrictEqual(telemetry.inputs.spec, { tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: 10 }] });
        assert.ok(dependencyNames(telemetry).includes("observability-jaeger-deployment-jaeger"), "spans go to Jaeger once it is up");
        for (const istiod of ofType(resources, "kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "istiod")) {
            assert.deepStrictEqual(istiod.inputs.values.meshConfig, { extensionProviders: meshExtensionProviders(stackObs("uat")) });
        }
        assert.deepStrictEqual(outputs.observability.tracing.portForward, "kubectl -n observability port-forward svc/tracing 16686:80");
        assert.deepStrictEqual(outputs.observability.tracing.samplingPercent, 10);
    });

    it("prod: the claim on the platform's gp3 class, waited for by the Deployment; the cost has Jaeger and its volume", async () => {
        const { resources, outputs } = await runProgram("prod", readStackConfig("prod"));
        const claim = named(resources, `observability-jaeger-persistentvolumeclaim-${JAEGER_CLAIM}`);
        assert.deepStrictEqual(claim.inputs.spec, { accessModes: ["ReadWriteOnce"], storageClassName: EBS_STORAGE_CLASS, resources: { requests: { storage: "20Gi" } } });
        const deployment = named(resources, "observability-jaeger-deployment-jaeger");
        assert.ok(dependencyNames(deployment).includes(claim.name));
        const [storageClass] = ofType(resources, "kubernetes:storage.k8s.io/v1:StorageClass");
        assert.ok(dependencyNames(claim).includes(storageClass.name), "the claim waits for its StorageClass");
        const items = Object.fromEntries(outputs.monthlyCost.lines.map((l: CostLine) => [l.item, l.monthly]));
        assert.deepStrictEqual([items["Jaeger (share of a node)"], items["Jaeger volume (EBS gp3)"]], [2.17, 1.6]);
    });

    it("staging, tracing off: no Jaeger, no Telemetry, istiod without meshConfig", async () => {
        const { resources, outputs } = await runProgram("staging", readStackConfig("staging"));
        assert.deepStrictEqual(jaegerOf(resources), []);
        assert.ok(!resources.some((r) => r.name === "observability-mesh-telemetry"));
        for (const istiod of ofType(resources, "kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "istiod")) assert.strictEqual(istiod.inputs.values.meshConfig, undefined);
        assert.deepStrictEqual(outputs.observability.tracing, { enabled: false });
    });

    it("tracing alone on an existing cluster: the Observability component with Jaeger only, and its namespace", async () => {
        const { resources } = await runProgram("uat", {
            cluster: { kind: "existing" },
            services: { checkout: { image: "ghcr.io/acme/checkout", stable: "1.0.0", stage: 1, replicas: 1 } },
            observability: { tracing: { enabled: true } },
        });
        assert.ok(resources.some((r) => r.type === "stagehand:index:Observability"));
        assert.deepStrictEqual(ofType(resources, "kubernetes:helm.sh/v3:Release").filter((r) => r.name.startsWith("observability-")), []);
        assert.strictEqual(jaegerOf(resources).length, 5);
        assert.ok(resources.some((r) => r.name === "observability-namespace-observability"));
    });
});

describe("tracing in the cost, the platform diff and the plan", () => {
    // uat's cluster: on-demand m6i.large nodes (2 vCPU, 8 GiB).
    const cluster = parseCluster("uat", readStackConfig("uat").cluster);

    it("cost: Jaeger's requests as a share of a node, its volume per GiB; nothing when off", () => {
        const lines = observabilityLines(cluster as any, TRACING({ storageGi: 10 }));
        assert.deepStrictEqual(
            lines.map((l) => [l.item, l.quantity, l.monthly]),
            [
                ["Jaeger (share of a node)", 0.031, 2.17], // 256Mi of 8 GiB (the larger share)
                ["Jaeger volume (EBS gp3)", 10, 0.8],
            ],
        );
        assert.deepStrictEqual(observabilityLines(cluster as any, obs({})), []);
        const delta = estimateMonthlyCost(cluster, { observability: TRACING({ storageGi: 10 }) }).total - estimateMonthlyCost(cluster, { observability: obs({}) }).total;
        assert.strictEqual(Math.round(delta * 100) / 100, 2.97);
    });

    it("the platform diff names every tracing field that changes", () => {
        const revision = (tracing: Record<string, unknown>): PlatformRevision => ({ cluster, observability: obs({ tracing }), allowSkip: false, settleSeconds: 30 });
        assert.deepStrictEqual(platformFieldChanges(revision({ enabled: false }), revision({ enabled: true, samplingPercent: 5, storageGi: 10 })), [
            "observability.tracing.enabled: false -> true",
            "observability.tracing.samplingPercent: 1 -> 5",
            "observability.tracing.storageGi: 0 -> 10",
        ]);
        assert.deepStrictEqual(platformFieldChanges(revision({ enabled: true, retentionHours: 72 }), revision({ enabled: true, retentionHours: 24 })), ["observability.tracing.retentionHours: 72 -> 24"]);
    });

    it("plan: what each stack has turned on", () => {
        assert.strictEqual(tracingLine("staging", stackObs("staging")), "tracing in staging: off");
        assert.strictEqual(
            tracingLine("uat", stackObs("uat")),
            "tracing in uat: on, Jaeger: 10% of requests sampled, spans kept 72h on an emptyDir (lost when the pod moves); spans tagged stagehand.track and stagehand.tag",
        );
        assert.strictEqual(
            tracingLine("prod", stackObs("prod")),
            "tracing in prod: on, Jaeger: 1% of requests sampled, spans kept 168h on a 20Gi persistent volume; spans tagged stagehand.track and stagehand.tag",
        );
    });
});

describe("README: Tracing", () => {
    const section = manualSection;

    it("gives the port-forward and URL the stack exports, the tags to filter on and the plan's line", () => {
        const text = section("### Tracing: comparing canary and production traces");
        const access = tracingAccess(stackObs("prod")) as any;
        assert.ok(text.includes(access.portForward), access.portForward);
        assert.ok(text.includes(access.open), access.open);
        for (const tag of ["stagehand.track=canary", "stagehand.track=production", "stagehand.tag"]) assert.ok(text.includes(tag), tag);
        assert.ok(text.replace(/\s+/g, " ").includes(tracingLine("prod", stackObs("prod"))), "the plan's line, as printed for prod");
    });

    it("the config reference lists every tracing field with its default", () => {
        const text = section("### `stagehand:observability`");
        for (const [field, value] of Object.entries(obs({}).tracing)) assert.ok(text.includes(`| \`tracing.${field}\` | \`${value}\` |`), `README documents tracing.${field} = ${value}`);
    });
});
