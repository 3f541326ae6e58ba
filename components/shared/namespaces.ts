// Namespaces the platform owns. Istio's root namespace holds istiod, the mesh-wide PeerAuthentication and the
// observability addons (where Istio's integrations look for Prometheus, Grafana and Kiali).

/** Istio's root namespace (`meshConfig.rootNamespace`, Istio's default): istiod and mesh-wide policy. */
export const ISTIO_ROOT_NAMESPACE = "istio-system";
/** The ingress gateway's namespace. */
export const INGRESS_NAMESPACE = "istio-ingress";
