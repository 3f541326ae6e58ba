// Pure: the service namespaces of a stack. One Namespace resource per namespace, keyed by the namespace's name
// (`namespace-<ns>`) and registered by the program, never by one of its services: which services share it changes
// nothing about it. Earlier stagehands created it as `<owner>-namespace`, a child of the ServiceRelease of the
// first service by name in it; the aliases below adopt that resource as it is, whichever service owned it.
import type { DeployedService } from "./deployed";

/** The type token of the ServiceRelease component (the parent of the namespaces earlier stagehands created). */
export const SERVICE_RELEASE_TYPE = "stagehand:index:ServiceRelease";

/** The Pulumi name of a namespace's Namespace resource. */
export function namespaceResourceName(namespace: string): string {
    return `namespace-${namespace}`;
}

/** The name earlier stagehands gave the Namespace a service owned: a child of that service's ServiceRelease. */
export function legacyNamespaceName(service: string): string {
    return `${service}-namespace`;
}

/** One namespace of the stack: the services of the config in it, and every service that may have created it before. */
export interface NamespacePlan {
    namespace: string;
    /** The services of the config in it, by name: each waits for the namespace. */
    services: string[];
    /**
     * Every service whose `<service>-namespace` this namespace adopts: the services of the config in it, and the
     * deployed ones the previous outputs place in it (a service removed in this update may have been its owner).
     */
    adopts: string[];
}

/**
 * The namespaces of the config, by name. A deployed service is adopted by the namespace its previous outputs name;
 * a deployed service whose outputs do not name one (written before namespaces were recorded) by its config's
 * namespace, when it is still configured. A service is adopted by one namespace at most (Pulumi refuses two resources
 * aliased to the same one): a live service's namespace change is refused before this (see removal.ts).
 */
export function planNamespaces(services: Record<string, { namespace: string }>, previous: Record<string, Pick<DeployedService, "namespace">> = {}): NamespacePlan[] {
    const byNamespace = new Map<string, NamespacePlan>();
    for (const name of Object.keys(services).sort()) {
        const ns = services[name].namespace;
        if (!byNamespace.has(ns)) byNamespace.set(ns, { namespace: ns, services: [], adopts: [] });
        byNamespace.get(ns)!.services.push(name);
    }
    for (const plan of byNamespace.values()) {
        const deployedHere = Object.keys(previous).filter((s) => !(s in services) && previous[s].namespace === plan.namespace);
        plan.adopts = [...new Set([...plan.services, ...deployedHere])].sort();
    }
    return [...byNamespace.values()].sort((a, b) => a.namespace.localeCompare(b.namespace));
}
