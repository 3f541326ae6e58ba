// Pure: Pod Security Standards levels of the namespaces stagehand creates or owns, as the labels Pod Security
// Admission reads (https://kubernetes.io/docs/concepts/security/pod-security-admission/): `enforce` rejects a pod
// that breaks the level, `warn` tells whoever applies it, `audit` records it in the audit log. Each mode's version
// is pinned to the cluster's Kubernetes minor, so a cluster upgrade never tightens a level by itself.
import { INGRESS_NAMESPACE, ISTIO_ROOT_NAMESPACE, OBSERVABILITY_NAMESPACE, PROMETHEUS_NAMESPACE } from "./namespaces";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** Every service namespace: its pods (the reference chart's, with CNI-injected sidecars) pass `restricted`. */
export const SERVICE_NAMESPACE_LEVEL: PodSecurityLevel = "restricted";

/** Where the Istio CNI node agent runs (a DaemonSet on every node), as Istio's Helm install documents it. */
export const ISTIO_CNI_NAMESPACE = "kube-system";

/**
 * The platform's namespaces and the level their pods need:
 * - kube-system: `privileged`. The Istio CNI node agent (host network, hostPath mounts of the node's CNI
 *   directories, NET_ADMIN/SYS_ADMIN) and EKS's own node agents (aws-node, kube-proxy) run there;
 * - istio-system: `restricted`. istiod alone runs there (it is given the RuntimeDefault seccomp profile); the
 *   observability addons have namespaces of their own;
 * - istio-ingress: `restricted`. The gateway runs as non-root with the RuntimeDefault seccomp profile, and binds
 *   port 80 through the safe sysctl `net.ipv4.ip_unprivileged_port_start`, not a capability;
 * - prometheus, observability: `baseline`. Prometheus, Grafana and Kiali, as their charts render them, set no
 *   seccomp profile or do not drop every capability: they pass `baseline`, not `restricted`.
 */
export const PLATFORM_NAMESPACE_LEVELS: Readonly<Record<string, PodSecurityLevel>> = {
    [ISTIO_CNI_NAMESPACE]: "privileged",
    [ISTIO_ROOT_NAMESPACE]: "restricted",
    [INGRESS_NAMESPACE]: "restricted",
    [PROMETHEUS_NAMESPACE]: "baseline",
    [OBSERVABILITY_NAMESPACE]: "baseline",
};

/**
 * The Pod Security Admission labels of a namespace at `level`: enforced, warned and audited, each pinned to
 * `kubernetesVersion` ("1.35" → "v1.35"); `latest` when the cluster's version is not known (`kind: existing`).
 */
export function podSecurityLabels(level: PodSecurityLevel, kubernetesVersion?: string): Record<string, string> {
    const version = kubernetesVersion ? `v${kubernetesVersion}` : "latest";
    const labels: Record<string, string> = {};
    for (const mode of ["enforce", "warn", "audit"]) {
        labels[`pod-security.kubernetes.io/${mode}`] = level;
        labels[`pod-security.kubernetes.io/${mode}-version`] = version;
    }
    return labels;
}
