// Pure: who may call a service, and which service owns a host on the shared Gateway.
// - `callers` becomes the chart's `authorization` values: the routing release renders an Istio AuthorizationPolicy
//   ALLOW from those principals and namespaces, selecting both tracks' pods. Istio denies a workload any request no
//   ALLOW policy of it matches, once it has one.
// - A stack with `cluster.istio.authorization: deny-by-default` also gets, in every service namespace, Istio's
//   "allow nothing" policy (an ALLOW policy with no rules, no selector: every workload of the namespace), so a workload
//   no policy names takes no call at all; and every service there must name its callers.
// - A host on the shared ingress Gateway belongs to one service: two VirtualServices bound to one Gateway with the
//   same host would have Istio merge (or drop) their routes unpredictably.
import { INGRESS_PRINCIPAL, principalOf, SHARED_GATEWAY_REF } from "../shared/mesh";
import { CallersConfig } from "./callers-config";
import { ServiceConfig } from "./config";

/** The name of the namespace-wide allow-nothing policy of a deny-by-default stack. */
export const ALLOW_NOTHING_POLICY = "allow-nothing";

/** The chart's `authorization` values of a service: off without `callers`. */
export function authorizationValues(callers: CallersConfig | undefined): { enabled: boolean; principals: string[]; namespaces: string[] } {
    if (!callers) return { enabled: false, principals: [], namespaces: [] };
    const principals = callers.serviceAccounts.map((ref) => {
        const [namespace, serviceAccount] = ref.split("/");
        return principalOf(namespace, serviceAccount);
    });
    if (callers.ingress) principals.push(INGRESS_PRINCIPAL);
    return { enabled: true, principals, namespaces: [...callers.namespaces] };
}

/** Istio's allow-nothing policy for one namespace: selects every workload of it and allows no request. */
export function allowNothingPolicy(namespace: string): Record<string, any> {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: ALLOW_NOTHING_POLICY, namespace, labels: { "app.kubernetes.io/managed-by": "stagehand" } },
        // No selector: the whole namespace. ALLOW with no rules: nothing matches, so every request is denied unless
        // another ALLOW policy of the workload (a service's `callers`) matches it.
        spec: { action: "ALLOW" },
    };
}

/** Whether a service block binds the shared Gateway (in the values production runs, or the canary's). */
function sharedGatewayHosts(service: ServiceConfig): string[] {
    const hosts = new Set<string>();
    for (const values of [service.values, service.canaryOverrides.values ?? {}]) {
        const istio = (values as Record<string, any>).istio;
        const gateways: unknown = istio?.gateways;
        if (!Array.isArray(gateways) || !gateways.includes(SHARED_GATEWAY_REF)) continue;
        for (const h of Array.isArray(istio.hosts) ? istio.hosts : []) if (typeof h === "string") hosts.add(h.toLowerCase());
    }
    return [...hosts];
}

/**
 * A host on the shared Gateway claimed by more than one service, named with every service that claims it. Services
 * are named in the order of the config.
 */
export function hostOwnershipProblems(stack: string, services: Record<string, ServiceConfig>): string[] {
    const owners = new Map<string, string[]>();
    for (const [name, service] of Object.entries(services)) {
        for (const host of sharedGatewayHosts(service)) owners.set(host, [...(owners.get(host) ?? []), name]);
    }
    const problems: string[] = [];
    for (const [host, names] of owners) {
        if (names.length < 2) continue;
        const [first, ...others] = names;
        for (const other of others) {
            problems.push(
                `stack ${stack}, service ${other}, field values.istio.hosts: expected hosts on the shared Gateway ${SHARED_GATEWAY_REF} that no other service claims (a host belongs to one service; two VirtualServices for it on one Gateway merge unpredictably), found ${JSON.stringify(host)}, already claimed by service ${first}: remove it from one of ${first} and ${other}, or route it to both from one service's VirtualService`,
            );
        }
    }
    return problems;
}

/**
 * What a deny-by-default stack asks of its services: each names its callers, and one bound to the shared Gateway lets
 * the ingress gateway call it (or no request from the internet would reach it).
 */
export function callersProblems(stack: string, services: Record<string, ServiceConfig>, mode: "deny-by-default" | "open"): string[] {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
        const bound = boundToSharedGateway(service);
        if (mode === "deny-by-default" && service.callers === undefined) {
            problems.push(
                `stack ${stack}, service ${name}, field callers: expected who may call the service (cluster.istio.authorization is deny-by-default: a service without callers takes no call at all), found nothing; write e.g. callers: {namespaces: [${service.namespace}]${bound ? ", ingress: true" : ""}}`,
            );
        } else if (service.callers !== undefined && bound && !service.callers.ingress) {
            problems.push(
                `stack ${stack}, service ${name}, field callers.ingress: expected true for a service bound to the shared Gateway ${SHARED_GATEWAY_REF} (values.istio.gateways), or the ingress gateway may not call it and no request from outside reaches it, found false; add ingress: true to callers, or unbind the Gateway`,
            );
        }
    }
    return problems;
}

function boundToSharedGateway(service: ServiceConfig): boolean {
    return [service.values, service.canaryOverrides.values ?? {}].some((v) => {
        const gateways: unknown = (v as Record<string, any>).istio?.gateways;
        return Array.isArray(gateways) && gateways.includes(SHARED_GATEWAY_REF);
    });
}
