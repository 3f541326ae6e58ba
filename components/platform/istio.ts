// Istio: the official Helm charts `base` and `cni` (the Istio CNI node agent) → `istiod` → `gateway`, at the
// version the stack pins, each waiting for the ones before; mesh-wide STRICT mTLS; an ingress gateway with a shared `Gateway` that service
// VirtualServices can bind to. Every istiod is a revision named after its release (./revisions.ts); during an
// upgrade a second one (`canaryVersion`) runs beside the first (docs/upgrades.md "Upgrading Istio").
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformReleaseSpec } from "../shared/helm";
import { platformReleases } from "../shared/helm-release";
import { SHARED_GATEWAY_NAME } from "../shared/mesh";
import { INGRESS_NAMESPACE, ISTIO_ROOT_NAMESPACE } from "../shared/namespaces";
import { ISTIO_CNI_NAMESPACE, PLATFORM_NAMESPACE_LEVELS, podSecurityLabels } from "../shared/pod-security";
import { compareVersions, IstioConfig } from "./istio-config";
import { defaultRevision, installedRevisions } from "./revisions";
import { edgeTls, EKS_LOAD_BALANCER_ANNOTATIONS, gatewayServicePorts, INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT, tlsAnnotations } from "./ingress";

/** The official Istio chart repository (the old storage.googleapis.com bucket is being retired). */
export const ISTIO_CHART_REPO = "https://blob.istio.io/istio-release/charts";
/** Helm release (and Deployment) name of the ingress gateway; its pods are labelled `istio: ingress`. */
export const INGRESS_RELEASE = "istio-ingress";
/** The shared Istio `Gateway` services bind to: `values.istio.gateways: [istio-ingress/ingress]`. */
export const INGRESS_GATEWAY_NAME = SHARED_GATEWAY_NAME;
/** Helm release (and DaemonSet `istio-cni-node`'s chart) name of the Istio CNI node agent. */
export const CNI_RELEASE = "istio-cni";
/** Releases of Istio: the CRDs, the CNI node agent, one istiod per revision (`istiod-<revision>`), the gateway. */
export type IstioReleaseKey = "base" | "cni" | `istiod-${string}` | "gateway";

/** The seccomp profile every Istio pod stagehand installs runs with: `restricted` requires one. */
const RUNTIME_DEFAULT_SECCOMP = { type: "RuntimeDefault" } as const;

/** One Helm release of Istio: what it installs and which releases it waits for. */
export type IstioReleaseSpec = PlatformReleaseSpec<IstioReleaseKey>;

/**
 * istiod values of one revision: one small replica, or several with a PodDisruptionBudget and an autoscaler.
 * `extensionProviders`: meshConfig's telemetry backends (Jaeger when the stack traces, components/observability/
 * tracing.ts), merged by the chart into its default meshConfig; none: no meshConfig is written.
 */
export function istiodValues(config: IstioConfig, revision: string, extensionProviders: Record<string, unknown>[] = []): Record<string, unknown> {
    const { replicas, maxReplicas, cpu, memory } = config.istiod;
    return {
        revision,
        ...(extensionProviders.length > 0 ? { meshConfig: { extensionProviders: extensionProviders.map((p) => ({ ...p })) } } : {}),
        pilot: {
            replicaCount: replicas,
            autoscaleEnabled: maxReplicas > replicas,
            autoscaleMin: replicas,
            autoscaleMax: maxReplicas,
            resources: { requests: { cpu, memory } },
            // The Istio CNI node agent sets up each pod's traffic redirection: injection adds no `istio-init`
            // (root, NET_ADMIN, NET_RAW) but the unprivileged `istio-validation` init container, so injected pods pass
            // the `restricted` Pod Security Standard.
            cni: { enabled: true },
            seccompProfile: { ...RUNTIME_DEFAULT_SECCOMP },
        },
        global: {
            istioNamespace: ISTIO_ROOT_NAMESPACE,
            // The chart's PDB keeps one istiod up; with a single replica it would only block node drains.
            defaultPodDisruptionBudget: { enabled: replicas > 1 },
            // Injected sidecars (and istio-validation) carry the RuntimeDefault seccomp profile themselves.
            proxy: { seccompProfile: { ...RUNTIME_DEFAULT_SECCOMP } },
        },
    };
}

/**
 * The Istio CNI node agent's values. Its defaults are the paths of a standard CNI node, which is what EKS's AWS VPC
 * CNI uses (its `10-aws.conflist` in /etc/cni/net.d, its plugins in /opt/cni/bin; the chart has platform profiles for
 * GKE, k3s, k3d, microk8s, minikube and OpenShift, none for EKS): istio-cni chains itself as one more plugin into the
 * VPC CNI's configuration list (`chained`), so pod IPs still come from the VPC CNI. Written out, so a change of the
 * chart's defaults shows in a diff. Not kube-system's pods: they are never injected.
 */
export function cniValues(): Record<string, unknown> {
    return {
        cniBinDir: "/opt/cni/bin",
        cniConfDir: "/etc/cni/net.d",
        chained: true,
        excludeNamespaces: [ISTIO_CNI_NAMESPACE],
    };
}

/**
 * The version of the CNI node agent: the oldest installed revision's, i.e. the default `version` (a `canaryVersion`
 * is always newer). The agent is a cluster singleton, not a revision: its chart names its ClusterRoles, bindings and
 * DaemonSet `istio-cni*` whatever the revision, and every node has one CNI configuration chain, so two releases
 * cannot run side by side. Istio's CNI supports control planes of its own minor and one minor above, which is what
 * a canary revision can be; making the canary the default upgrades the agent in place (a rolling update of the
 * DaemonSet; running pods keep the redirection set up when they started).
 */
export function cniVersion(config: Pick<IstioConfig, "version">): string {
    return config.version;
}

/** Labels of the ingress gateway pods (the gateway chart derives them from the release name). */
export const INGRESS_SELECTOR = { app: INGRESS_RELEASE, istio: "ingress" };

/** Gateway chart values: replicas, autoscaling and PDB for several replicas, the Service for the platform. */
export function gatewayValues(config: IstioConfig, platform: "eks" | "existing"): Record<string, unknown> {
    const { replicas, maxReplicas, serviceType } = config.gateway;
    const nlb = platform === "eks" && serviceType === "LoadBalancer";
    const tls = edgeTls(config, platform) ? config.gateway.tls : undefined;
    return {
        // Its proxies come from the default revision, and move with it when an upgrade makes the new one default.
        revision: defaultRevision(config),
        replicaCount: replicas,
        autoscaling: { enabled: maxReplicas > replicas, minReplicas: replicas, maxReplicas },
        podDisruptionBudget: replicas > 1 ? { minAvailable: 1 } : {},
        // Several replicas spread over the zones, so losing one zone keeps the ingress up.
        topologySpreadConstraints:
            replicas > 1
                ? [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: INGRESS_SELECTOR } }]
                : [],
        // Restricted: no root, RuntimeDefault seccomp; port 80 through the safe sysctl (the chart's own default, which
        // setting a securityContext would otherwise drop).
        securityContext: { seccompProfile: { ...RUNTIME_DEFAULT_SECCOMP }, sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }] },
        service: {
            type: serviceType,
            annotations: nlb ? { ...EKS_LOAD_BALANCER_ANNOTATIONS, ...(tls ? tlsAnnotations(tls.certificateArn) : {}) } : {},
            // Only what the shared Gateway serves: not the chart's default status port (15021, the readiness endpoint
            // the NLB health-checks on the pods directly). With TLS at the NLB, 443 alone (to the pods' HTTP port):
            // port 80 closes, since an NLB cannot redirect it (./ingress.ts).
            ports: gatewayServicePorts(tls !== undefined),
            // IP targets need no NodePort: none is opened on any node.
            ...(nlb ? { allocateLoadBalancerNodePorts: false } : {}),
        },
    };
}

/**
 * The Istio Helm releases of a config, in install order: base (CRDs, at the newest version in use; its validation
 * webhook served by the default revision) and the CNI node agent (in kube-system, one per cluster, see `cniVersion`)
 * → one istiod per installed revision (`istiod-<revision>`: the default,
 * and during an upgrade the canary beside it) → the gateway, injected by the default revision. Each istiod is its
 * own resource, named by its revision: making the canary the default changes neither, and the old one is removed
 * when it leaves the config — after everything else of that update, so last.
 */
export function istioReleases(config: IstioConfig, platform: "eks" | "existing", extensionProviders: Record<string, unknown>[] = []): IstioReleaseSpec[] {
    const newest = config.canaryVersion && compareVersions(config.canaryVersion, config.version) > 0 ? config.canaryVersion : config.version;
    // Every Istio chart comes from Istio's repository and is described by its chart and version.
    const release = (key: IstioReleaseKey, name: string, chart: "base" | "cni" | "istiod" | "gateway", version: string, namespace: string, values: Record<string, unknown>, after: IstioReleaseKey[]): IstioReleaseSpec =>
        ({ key, name, chart, repo: ISTIO_CHART_REPO, version, namespace, values, after, description: `Istio ${chart} ${version}` });
    const istiods = installedRevisions(config).map(({ revision, version }) =>
        release(`istiod-${revision}`, `istiod-${revision}`, "istiod", version, ISTIO_ROOT_NAMESPACE, istiodValues(config, revision, extensionProviders), ["base", "cni"]),
    );
    return [
        release("base", "istio-base", "base", newest, ISTIO_ROOT_NAMESPACE, { defaultRevision: defaultRevision(config) }, []),
        // Before any istiod: a pod injected without istio-init has its traffic redirected only by the node agent.
        release("cni", CNI_RELEASE, "cni", cniVersion(config), ISTIO_CNI_NAMESPACE, cniValues(), []),
        ...istiods,
        release("gateway", INGRESS_RELEASE, "gateway", config.version, INGRESS_NAMESPACE, gatewayValues(config, platform), [istiods[0].key]),
    ];
}

/** Mesh-wide mutual TLS: a PeerAuthentication named `default` in the root namespace, mode STRICT. */
export function meshMtls(): Record<string, any> {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: { name: "default", namespace: ISTIO_ROOT_NAMESPACE },
        spec: { mtls: { mode: "STRICT" } },
    };
}

/**
 * The shared HTTP `Gateway` on the ingress gateway pods, for service VirtualServices to bind to. With TLS at the NLB
 * its server is the Service's port 443, protocol HTTP (the NLB has already decrypted): Istio translates a Gateway
 * port that is a Service port to that port's targetPort, so the pods still listen on 80, behind the NLB only.
 */
export function ingressGateway(tls = false): Record<string, any> {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: { name: INGRESS_GATEWAY_NAME, namespace: INGRESS_NAMESPACE },
        spec: {
            selector: { istio: INGRESS_SELECTOR.istio },
            servers: [{ port: tls ? { number: INGRESS_HTTPS_PORT, name: "http-tls", protocol: "HTTP" } : { number: INGRESS_HTTP_PORT, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
        },
    };
}

export interface IstioArgs {
    /** The stack's validated `cluster.istio`. */
    config: IstioConfig;
    /** Where it runs: on EKS the ingress is an NLB. */
    platform: "eks" | "existing";
    provider?: k8s.Provider;
    /** The cluster's Kubernetes minor ("1.35"), which the Pod Security labels' versions are pinned to; absent: `latest`. */
    kubernetesVersion?: string;
    /** What Istio's releases wait for: on EKS, the platform's add-ons on the cluster (components/platform/cluster-addons.ts). */
    waitFor?: pulumi.Input<pulumi.Resource>[];
    /** meshConfig `extensionProviders` of every istiod: the tracing backend when the stack traces. */
    extensionProviders?: Record<string, unknown>[];
}

export class Istio extends pulumi.ComponentResource {
    public readonly releases: Partial<Record<IstioReleaseKey, k8s.helm.v3.Release>>;
    public readonly peerAuthentication: k8s.apiextensions.CustomResource;
    public readonly ingressGateway: k8s.apiextensions.CustomResource;
    public readonly version: pulumi.Output<string>;
    /** The revisions installed and the namespaces each serves (the `istio` part of the stack output). */
    public readonly revisions: pulumi.Output<{ revision: string; version: string; role: string }[]>;
    /** `namespace/name` of the shared ingress Gateway. */
    public readonly gatewayRef: pulumi.Output<string>;

    constructor(name: string, args: IstioArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:Istio", name, {}, opts);
        const childOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };

        // Each namespace enforces the Pod Security level its pods need (components/shared/pod-security.ts).
        const labels = (ns: string) => podSecurityLabels(PLATFORM_NAMESPACE_LEVELS[ns], args.kubernetesVersion);
        const namespaces: Record<string, pulumi.Resource> = {
            [ISTIO_ROOT_NAMESPACE]: new k8s.core.v1.Namespace(`${name}-system`, { metadata: { name: ISTIO_ROOT_NAMESPACE, labels: labels(ISTIO_ROOT_NAMESPACE) } }, childOpts),
            [INGRESS_NAMESPACE]: new k8s.core.v1.Namespace(`${name}-ingress`, { metadata: { name: INGRESS_NAMESPACE, labels: labels(INGRESS_NAMESPACE) } }, childOpts),
            // kube-system exists already: its labels are applied to it (server-side apply), saying outright that the CNI
            // node agent's namespace is privileged.
            [ISTIO_CNI_NAMESPACE]: new k8s.core.v1.NamespacePatch(`${name}-kube-system`, { metadata: { name: ISTIO_CNI_NAMESPACE, labels: labels(ISTIO_CNI_NAMESPACE) } }, childOpts),
        };

        const waitFor = args.waitFor ?? [];
        this.releases = platformReleases(name, istioReleases(args.config, args.platform, args.extensionProviders ?? []), childOpts, (spec) => [namespaces[spec.namespace], ...waitFor]);

        // Both need istiod: its CRDs come with base, its validating webhook with istiod.
        const mtls = meshMtls();
        this.peerAuthentication = new k8s.apiextensions.CustomResource(
            `${name}-mesh-mtls`,
            { apiVersion: mtls.apiVersion, kind: mtls.kind, metadata: mtls.metadata, spec: mtls.spec },
            { ...childOpts, dependsOn: [this.releases[`istiod-${defaultRevision(args.config)}`]!] },
        );
        const gw = ingressGateway(edgeTls(args.config, args.platform));
        this.ingressGateway = new k8s.apiextensions.CustomResource(
            `${name}-ingress-gateway`,
            { apiVersion: gw.apiVersion, kind: gw.kind, metadata: gw.metadata, spec: gw.spec },
            { ...childOpts, dependsOn: [this.releases.gateway!] },
        );

        this.version = pulumi.output(args.config.version);
        this.revisions = pulumi.output(installedRevisions(args.config));
        this.gatewayRef = pulumi.output(`${INGRESS_NAMESPACE}/${INGRESS_GATEWAY_NAME}`);
        this.registerOutputs({ version: this.version, revisions: this.revisions, gatewayRef: this.gatewayRef });
    }
}
