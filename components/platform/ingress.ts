// Pure: the ingress's contract on EKS — what the Istio gateway's Service asks of the AWS Load Balancer Controller
// (components/platform/charts.ts), the ports it opens, the endpoint the load balancer health-checks. The Istio
// component renders it; the policy pack checks it.

/** The shared Gateway's one server: HTTP on port 80. */
export const INGRESS_HTTP_PORT = 80;
/** The ports of the gateway's Service: those the shared Gateway serves, nothing else. */
export const GATEWAY_SERVICE_PORTS = [{ name: "http2", port: INGRESS_HTTP_PORT, protocol: "TCP", targetPort: INGRESS_HTTP_PORT }] as const;

/** The ingress gateway's readiness endpoint (the probe istiod injects into gateway pods): what the NLB health-checks. */
export const GATEWAY_READINESS = { port: 15021, path: "/healthz/ready" } as const;

/**
 * On EKS the gateway's `LoadBalancer` Service is the AWS Load Balancer Controller's (components/platform/charts.ts),
 * never the legacy in-tree controller's (which ignores `type: external`): an internet-facing NLB whose targets are
 * the gateway pods' own IPs, health-checked on their readiness endpoint, so a pod gets traffic only once it is ready.
 */
export const EKS_LOAD_BALANCER_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "http",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": String(GATEWAY_READINESS.port),
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": GATEWAY_READINESS.path,
} as const;

