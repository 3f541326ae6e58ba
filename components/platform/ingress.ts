// Pure: the ingress's contract on EKS — what the Istio gateway's Service asks of the AWS Load Balancer Controller
// (components/platform/charts.ts), the ports it opens, the endpoint the load balancer health-checks. The Istio
// component renders it; the policy pack checks it.
import type { IstioConfig } from "./istio-config";

/** The port the gateway pods serve HTTP on (the shared Gateway's listener): plain HTTP, whoever terminates TLS. */
export const INGRESS_HTTP_PORT = 80;
/** The port the internet reaches when the stack terminates TLS at the NLB. */
export const INGRESS_HTTPS_PORT = 443;
/** The ports of the gateway's Service without TLS: those the shared Gateway serves, nothing else. */
export const GATEWAY_SERVICE_PORTS = [{ name: "http2", port: INGRESS_HTTP_PORT, protocol: "TCP", targetPort: INGRESS_HTTP_PORT }] as const;
/**
 * The ports of the gateway's Service when the NLB terminates TLS: 443 only, to the pods' plain HTTP port. Port 80
 * closes: an NLB forwards bytes and cannot answer a plain-HTTP request with a redirect, so an open 80 would only
 * serve the site unencrypted. Clients that type http:// get a refused connection, not a redirect (README "What the
 * internet reaches"). The name keeps Istio's `http2` prefix: what reaches the pods is HTTP, the TLS is the NLB's.
 */
export const GATEWAY_TLS_SERVICE_PORTS = [{ name: "http2-tls", port: INGRESS_HTTPS_PORT, protocol: "TCP", targetPort: INGRESS_HTTP_PORT }] as const;

/** The gateway Service's ports: HTTPS only with TLS at the NLB, else HTTP only. */
export function gatewayServicePorts(tls: boolean): { name: string; port: number; protocol: string; targetPort: number }[] {
    return (tls ? GATEWAY_TLS_SERVICE_PORTS : GATEWAY_SERVICE_PORTS).map((p) => ({ ...p }));
}

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


/**
 * The NLB's TLS security policy: TLS 1.3 and 1.2 only, forward-secret ciphers (AWS's recommended policy for NLB TLS
 * listeners; the controller's default, ELBSecurityPolicy-2016-08, still accepts TLS 1.0 and 1.1).
 */
export const TLS_NEGOTIATION_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** The AWS Load Balancer Controller's Service annotations for TLS at the NLB. */
export const TLS_ANNOTATION = {
    certificate: "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    ports: "service.beta.kubernetes.io/aws-load-balancer-ssl-ports",
    policy: "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy",
    backendProtocol: "service.beta.kubernetes.io/aws-load-balancer-backend-protocol",
} as const;

/**
 * TLS terminated on the NLB (a TLS listener on 443 with the stack's ACM certificate), and plain TCP from the NLB to
 * the gateway pods, inside the VPC. Why the NLB rather than the Istio Gateway: the certificate stays in ACM (free,
 * renewed by AWS, its key never in the cluster), no Secret to rotate, and nothing in the mesh changes.
 */
export function tlsAnnotations(certificateArn: string): Record<string, string> {
    return {
        [TLS_ANNOTATION.certificate]: certificateArn,
        [TLS_ANNOTATION.ports]: String(INGRESS_HTTPS_PORT),
        [TLS_ANNOTATION.policy]: TLS_NEGOTIATION_POLICY,
        [TLS_ANNOTATION.backendProtocol]: "tcp",
    };
}

/** The ACM certificate ARN a stack's config names: `arn:aws:acm:<region>:<account>:certificate/<uuid>`. */
export const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whether a stack terminates TLS at its edge: an NLB on EKS with a certificate (docs/security.md "What the internet reaches").
 * Its services' sticky cookies are then `Secure` (components/service/values.ts).
 */
export function edgeTls(config: IstioConfig, platform: "eks" | "existing"): boolean {
    return platform === "eks" && config.gateway.serviceType === "LoadBalancer" && config.gateway.tls !== undefined;
}
