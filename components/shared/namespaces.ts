// Namespaces the platform owns. Istio's root namespace holds istiod, the mesh-wide PeerAuthentication and the
// observability addons (where Istio's integrations look for Prometheus, Grafana and Kiali).

/** Istio's root namespace (`meshConfig.rootNamespace`, Istio's default): istiod and mesh-wide policy. */
export const ISTIO_ROOT_NAMESPACE = "istio-system";
/** The ingress gateway's namespace. */
export const INGRESS_NAMESPACE = "istio-ingress";

/**
 * Namespaces no service may own: Kubernetes' own, Istio's and the addons' (in Istio's root namespace). A service
 * creates its namespace and deletes it when it is removed; `default` cannot be deleted at all.
 */
export const SYSTEM_NAMESPACES: readonly string[] = ["default", "kube-system", "kube-public", "kube-node-lease", ISTIO_ROOT_NAMESPACE, INGRESS_NAMESPACE];
