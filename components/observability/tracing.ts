// Pure: distributed tracing where a stack turns it on (`stagehand:observability.tracing`):
// - Jaeger, installed from Istio's own addon manifest (./manifests/jaeger-istio-1.30.3.yaml, a byte-for-byte copy
//   of Istio 1.30.3's samples/addons/jaeger.yaml: see ./manifests/README.md), moved into the `observability`
//   namespace, sized, its spans kept `retentionHours` in badger, on a persistent volume when `storageGi` > 0;
// - the mesh sending spans to it: an OpenTelemetry extension provider in istiod's meshConfig (OTLP over gRPC to the
//   collector's port 4317) and a mesh-wide Telemetry in Istio's root namespace naming it, at the stack's sampling rate.
// The track and tag on every span are the service chart's (charts/service/templates/telemetry.yaml): a Telemetry per
// track that adds `stagehand.track` and `stagehand.tag` to the spans of that track's pods.
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { ISTIO_ROOT_NAMESPACE, OBSERVABILITY_NAMESPACE } from "../shared/namespaces";
import { ObservabilityConfig } from "./config";

/** Istio's Jaeger addon as published with Istio 1.30.3 (samples/addons/jaeger.yaml), copied unchanged. */
export const JAEGER_MANIFEST = path.join(__dirname, "manifests", "jaeger-istio-1.30.3.yaml");
/** Where Jaeger runs: beside Grafana and Kiali, outside the mesh. */
export const JAEGER_NAMESPACE = OBSERVABILITY_NAMESPACE;

/** The Services the manifest creates: the query UI and API (`tracing`), the collector (`jaeger-collector`). */
export const JAEGER_QUERY_SERVICE = { name: "tracing", httpPort: 80, grpcPort: 16685, uiPort: 16686, basePath: "/jaeger" } as const;
export const JAEGER_COLLECTOR_SERVICE = { name: "jaeger-collector", otlpGrpcPort: 4317 } as const;

/**
 * Jaeger's requests and limits. The manifest asks for 10m CPU and no memory: badger keeps its indexes in memory and
 * grows with the spans kept, so a memory request keeps it off crowded nodes and limits keep it from starving them
 * (the policy pack's `containers-resources-and-readiness` asks every container for both).
 */
export const JAEGER_RESOURCES = { requests: { cpu: "50m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } } as const;

/** The claim of Jaeger's volume when `storageGi` > 0, mounted where the manifest's badger keeps its files. */
export const JAEGER_CLAIM = "jaeger-data";
const BADGER_MOUNT = "/badger";

/**
 * The user the jaegertracing/jaeger image runs as (its Dockerfile's `USER 10001`): fsGroup makes the volume
 * writable by it.
 */
export const JAEGER_USER = 10001;

/**
 * The mesh's name for Jaeger (meshConfig `extensionProviders[].name`), which the mesh-wide Telemetry names. OTLP over
 * gRPC to the collector's Service, in the cluster's DNS.
 */
export const TRACING_PROVIDER = "stagehand-jaeger";
/** The mesh-wide Telemetry in Istio's root namespace. */
export const MESH_TELEMETRY_NAME = "mesh-default";

/** A fingerprint of Jaeger's collector config on its pod: a change of the ConfigMap rolls the pod, which reads it when it starts. */
export const JAEGER_CONFIG_ANNOTATION = "stagehand.dev/jaeger-config";
/** The cluster-autoscaler's annotation: "false" keeps it from draining the node under spans kept in an emptyDir. */
const SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict";

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

/** The objects of Istio's Jaeger addon, as published (parsed; each call a fresh copy). */
export function jaegerUpstreamObjects(file = JAEGER_MANIFEST): K8sObject[] {
    return parseAllDocuments(fs.readFileSync(file, "utf8"))
        .map((d) => d.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null && typeof o === "object");
}

/** Whether Jaeger keeps its spans on a persistent volume (otherwise an emptyDir). */
export function tracingPersistent(config: ObservabilityConfig): boolean {
    return config.tracing.enabled && config.tracing.storageGi > 0;
}

/**
 * The collector's config (the manifest's ConfigMap `config.yaml`) with the stack's retention: badger deletes spans
 * older than `retentionHours`, so a volume holds a bounded window and an emptyDir does not fill the node's disk.
 */
export function jaegerCollectorConfig(upstream: string, config: ObservabilityConfig): string {
    const collector = parseYaml(upstream) as Record<string, any>;
    const badger = collector?.extensions?.jaeger_storage?.backends?.badger_storage?.badger;
    // The manifest is pinned; a new one whose storage moved is refused here, not deployed with the wrong retention.
    if (!badger || typeof badger !== "object") throw new Error(`${JAEGER_MANIFEST}: no extensions.jaeger_storage.backends.badger_storage.badger in the Jaeger ConfigMap's config.yaml`);
    badger.ttl = { spans: `${config.tracing.retentionHours}h` };
    return stringifyYaml(collector);
}

/**
 * Istio's Jaeger addon adapted to the stack: every object in JAEGER_NAMESPACE; the collector's config with the
 * retention; the Deployment sized (JAEGER_RESOURCES), running as the image's non-root user with the RuntimeDefault
 * seccomp profile and no capabilities, its badger directory on the claim JAEGER_CLAIM when `storageGi` > 0 (then
 * `Recreate`: the volume is ReadWriteOnce and badger locks its directory, so the old pod must stop before the new
 * one starts); and that claim. Nothing when tracing is off.
 */
export function jaegerObjects(config: ObservabilityConfig, storageClass?: string, file = JAEGER_MANIFEST): K8sObject[] {
    if (!config.tracing.enabled) return [];
    const persistent = tracingPersistent(config);
    const objects: K8sObject[] = jaegerUpstreamObjects(file).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: JAEGER_NAMESPACE } }));
    const configMap = objects.find((o) => o.kind === "ConfigMap");
    const deployment = objects.find((o) => o.kind === "Deployment");
    if (!configMap || !deployment) throw new Error(`${file}: expected Istio's Jaeger addon (a Deployment and a ConfigMap)`);
    configMap.data = { ...configMap.data, "config.yaml": jaegerCollectorConfig(configMap.data?.["config.yaml"] ?? "", config) };

    const pod = deployment.spec.template;
    const containers = (pod.spec.containers as any[]).map((c) =>
        c.name !== "jaeger"
            ? c
            : {
                  ...c,
                  resources: { requests: { ...JAEGER_RESOURCES.requests }, limits: { ...JAEGER_RESOURCES.limits } },
                  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
              },
    );
    const volumes = (pod.spec.volumes as any[]).map((v) => (v.name === "data" && persistent ? { name: "data", persistentVolumeClaim: { claimName: JAEGER_CLAIM } } : v));
    const annotations: Record<string, string> = {
        ...pod.metadata.annotations,
        [JAEGER_CONFIG_ANNOTATION]: createHash("sha256").update(configMap.data["config.yaml"]).digest("hex").slice(0, 16),
        ...(persistent ? {} : { [SAFE_TO_EVICT]: "false" }),
    };
    deployment.spec = {
        ...deployment.spec,
        replicas: 1,
        strategy: { type: "Recreate" },
        template: {
            metadata: { ...pod.metadata, annotations },
            spec: {
                ...pod.spec,
                securityContext: { runAsNonRoot: true, runAsUser: JAEGER_USER, runAsGroup: JAEGER_USER, fsGroup: JAEGER_USER, seccompProfile: { type: "RuntimeDefault" } },
                containers,
                volumes,
            },
        },
    };
    if (!persistent) return objects;
    const claim: K8sObject = {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: JAEGER_CLAIM, namespace: JAEGER_NAMESPACE, labels: { app: "jaeger" } },
        spec: {
            accessModes: ["ReadWriteOnce"],
            ...(storageClass ? { storageClassName: storageClass } : {}),
            resources: { requests: { storage: `${config.tracing.storageGi}Gi` } },
        },
    };
    return [claim, ...objects];
}

/** Where the sidecars send their spans: the collector's OTLP gRPC port, by its cluster DNS name. */
export const TRACING_COLLECTOR_HOST = `${JAEGER_COLLECTOR_SERVICE.name}.${JAEGER_NAMESPACE}.svc.cluster.local`;

/**
 * istiod's meshConfig `extensionProviders` for the stack: the OpenTelemetry provider to Jaeger when tracing is on,
 * none otherwise (a provider no Telemetry names does nothing, but it would be a change of istiod with no purpose).
 */
export function meshExtensionProviders(config: ObservabilityConfig): Record<string, unknown>[] {
    if (!config.tracing.enabled) return [];
    return [{ name: TRACING_PROVIDER, opentelemetry: { service: TRACING_COLLECTOR_HOST, port: JAEGER_COLLECTOR_SERVICE.otlpGrpcPort } }];
}

/**
 * The mesh-wide Telemetry (Istio's root namespace, no selector): every sidecar and the ingress gateway report spans
 * to Jaeger for `samplingPercent` of the requests that arrive with no sampling decision (a request already sampled
 * upstream stays sampled). Istio merges Telemetry field by field, root → namespace → workload, so the charts' per-track
 * Telemetries, which set only `customTags`, keep this provider and this rate (istio pilot/pkg/model/telemetry.go).
 */
export function meshTelemetry(config: ObservabilityConfig): K8sObject | undefined {
    if (!config.tracing.enabled) return undefined;
    return {
        apiVersion: "telemetry.istio.io/v1",
        kind: "Telemetry",
        metadata: { name: MESH_TELEMETRY_NAME, namespace: ISTIO_ROOT_NAMESPACE },
        spec: { tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: config.tracing.samplingPercent }] },
    };
}

/** In-cluster address of Jaeger's query API over gRPC, with its base path: what Kiali reads traces from. */
export const JAEGER_QUERY_GRPC_URL = `http://${JAEGER_QUERY_SERVICE.name}.${JAEGER_NAMESPACE}:${JAEGER_QUERY_SERVICE.grpcPort}${JAEGER_QUERY_SERVICE.basePath}`;
/** What a browser opens: Jaeger's UI through the port-forward `tracingAccess` gives. */
export const JAEGER_UI_URL = `http://127.0.0.1:${JAEGER_QUERY_SERVICE.uiPort}${JAEGER_QUERY_SERVICE.basePath}`;

/** kiali-server's `external_services.tracing`: Jaeger when tracing is on, off otherwise. */
export function kialiTracing(config: ObservabilityConfig): Record<string, unknown> {
    if (!config.tracing.enabled) return { enabled: false };
    return { enabled: true, provider: "jaeger", internal_url: JAEGER_QUERY_GRPC_URL, use_grpc: true, external_url: JAEGER_UI_URL };
}

/** The span tags the service chart adds to every span of a track's pods: which track, which image tag. */
export const TRACK_TAGS = { track: "stagehand.track", tag: "stagehand.tag" } as const;

/** The `tracing` part of the stack's `observability` output: on or off, and how a reviewer opens it. */
export function tracingAccess(config: ObservabilityConfig): Record<string, unknown> {
    const t = config.tracing;
    if (!t.enabled) return { enabled: false };
    return {
        enabled: true,
        samplingPercent: t.samplingPercent,
        retention: `${t.retentionHours}h`,
        storage: t.storageGi > 0 ? `${t.storageGi}Gi persistent volume` : "emptyDir (lost when the pod moves)",
        // The UI listens on 16686; the Service maps its port 80 to it.
        portForward: `kubectl -n ${JAEGER_NAMESPACE} port-forward svc/${JAEGER_QUERY_SERVICE.name} ${JAEGER_QUERY_SERVICE.uiPort}:${JAEGER_QUERY_SERVICE.httpPort}`,
        open: JAEGER_UI_URL,
        compareTracks: `search by tags ${TRACK_TAGS.track}=canary or ${TRACK_TAGS.track}=production (and ${TRACK_TAGS.tag}=<tag>)`,
    };
}

/** Tracing in words, as `npm run plan` prints it: "off", or Jaeger's sampling rate, retention and storage. */
export function tracingWords(config: ObservabilityConfig): string {
    const t = config.tracing;
    if (!t.enabled) return "off";
    const storage = t.storageGi > 0 ? `a ${t.storageGi}Gi persistent volume` : "an emptyDir (lost when the pod moves)";
    return `on, Jaeger: ${t.samplingPercent}% of requests sampled, spans kept ${t.retentionHours}h on ${storage}; spans tagged ${TRACK_TAGS.track} and ${TRACK_TAGS.tag}`;
}
