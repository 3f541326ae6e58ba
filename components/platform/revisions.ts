// Pure: Istio control planes by revision. Every istiod is installed with a revision named after its release
// ("1.30.3" → "1-30-3"), and every service namespace is labelled `istio.io/rev: <revision>` — never
// `istio-injection: enabled`, which would override the revision label and tie the namespace to whichever istiod
// is the default. An upgrade installs the new revision beside the old one, moves namespaces one pull request at a
// time (`cluster.istio.canaryNamespaces`), then makes the new one the default; the old one is removed last.
import { IstioConfig } from "./istio-config";

/** The revision of an Istio release: "1.30.3" → "1-30-3" (a DNS label, as revisions must be). */
export function revisionOf(version: string): string {
    return version.replace(/\./g, "-");
}

/** The default revision: every namespace not moved to the canary, the gateway, and config validation. */
export function defaultRevision(istio: Pick<IstioConfig, "version">): string {
    return revisionOf(istio.version);
}

/** The revision a namespace injects from: the canary's when the namespace has been moved to it, else the default. */
export function namespaceRevision(istio: Pick<IstioConfig, "version" | "canaryVersion" | "canaryNamespaces">, namespace: string): string {
    return istio.canaryVersion !== undefined && istio.canaryNamespaces.includes(namespace) ? revisionOf(istio.canaryVersion) : defaultRevision(istio);
}

/** The revisions installed, default first: one, or two during an upgrade. */
export function installedRevisions(istio: Pick<IstioConfig, "version" | "canaryVersion">): { revision: string; version: string; role: "default" | "canary" }[] {
    const out: { revision: string; version: string; role: "default" | "canary" }[] = [{ revision: revisionOf(istio.version), version: istio.version, role: "default" }];
    if (istio.canaryVersion !== undefined) out.push({ revision: revisionOf(istio.canaryVersion), version: istio.canaryVersion, role: "canary" });
    return out;
}

/** Where each namespace's sidecars come from, in words for `npm run plan`. */
export function formatRevisions(istio: Pick<IstioConfig, "version" | "canaryVersion" | "canaryNamespaces">, namespaces: string[]): string {
    const lines = installedRevisions(istio).map(({ revision, version, role }) => {
        const served = [...new Set(namespaces)].sort().filter((ns) => namespaceRevision(istio, ns) === revision);
        return `istio ${version} (revision ${revision}, ${role}): ${served.length > 0 ? served.join(", ") : "no service namespace"}${role === "default" ? ", the ingress gateway" : ""}`;
    });
    return lines.join("\n");
}
