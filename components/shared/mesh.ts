// Pure: the mesh's identities every domain names — the shared ingress Gateway services bind to, and the ingress
// gateway's workload identity (its SPIFFE principal), which a service's `callers: {ingress: true}` allows.
import { INGRESS_NAMESPACE } from "./namespaces";

/** The shared Istio `Gateway` on the ingress gateway (components/platform/istio.ts). */
export const SHARED_GATEWAY_NAME = "ingress";
/** How a VirtualService names it: `values: {istio: {gateways: [istio-ingress/ingress]}}`. */
export const SHARED_GATEWAY_REF = `${INGRESS_NAMESPACE}/${SHARED_GATEWAY_NAME}`;
/** Helm release (and ServiceAccount) name of the ingress gateway: the gateway chart names its ServiceAccount after it. */
export const INGRESS_GATEWAY_SERVICE_ACCOUNT = "istio-ingress";
/** Istio's default trust domain (meshConfig.trustDomain, not set by the stack). */
export const TRUST_DOMAIN = "cluster.local";

/** The mTLS principal of a workload, as an AuthorizationPolicy `source.principals` names it. */
export function principalOf(namespace: string, serviceAccount: string): string {
    return `${TRUST_DOMAIN}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The ingress gateway's principal. */
export const INGRESS_PRINCIPAL = principalOf(INGRESS_NAMESPACE, INGRESS_GATEWAY_SERVICE_ACCOUNT);
