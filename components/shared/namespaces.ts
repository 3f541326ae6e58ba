// Namespaces the platform owns. Istio's root namespace holds istiod, the mesh-wide PeerAuthentication and the
// PeerAuthentication; the observability addons have namespaces of their own, named in Istio's integrations.

/** Istio's root namespace (`meshConfig.rootNamespace`, Istio's default): istiod and mesh-wide policy. */
export const ISTIO_ROOT_NAMESPACE = "istio-system";
/** The ingress gateway's namespace. */
export const INGRESS_NAMESPACE = "istio-ingress";

/** Prometheus alone: the preview role's port-forward (components/observability/values.ts) reaches nothing else. */
export const PROMETHEUS_NAMESPACE = "prometheus";
/** Grafana and Kiali, outside the mesh and apart from istiod. */
export const OBSERVABILITY_NAMESPACE = "observability";

/**
 * Namespaces no service may own: Kubernetes' own, Istio's and the addons' (in Istio's root namespace). A service
 * creates its namespace and deletes it when it is removed; `default` cannot be deleted at all.
 */
export const SYSTEM_NAMESPACES: readonly string[] = ["default", "kube-system", "kube-public", "kube-node-lease", ISTIO_ROOT_NAMESPACE, INGRESS_NAMESPACE, PROMETHEUS_NAMESPACE, OBSERVABILITY_NAMESPACE];
