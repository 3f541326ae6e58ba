// Pure: what every Helm release the program installs has in common (services, Istio, addons). A failed
// install or upgrade rolls itself back (`atomic`, and `cleanupOnFail` removes what it created), so the release
// before stays in place and nothing is half-applied. The policy `service-release-atomic` checks the same.

/** How long Helm waits for a release to become ready before `atomic` rolls it back. */
export const RELEASE_TIMEOUT_SECONDS = 600;
/** Helm revisions kept per release: enough to inspect recent stages, bounded so secrets don't pile up. */
export const RELEASE_MAX_HISTORY = 10;

/** Where a release's chart comes from: a local path, a Helm repository, or an OCI reference. */
export interface ChartSource {
    chart: string;
    version?: string;
    repositoryOpts?: { repo: string };
}

/** One Helm release: its chart, its name and namespace, its values and the description Helm records. */
export interface ReleaseSpec extends ChartSource {
    /** Helm release name. */
    name: string;
    namespace: string;
    values: Record<string, unknown>;
    description: string;
    /** Wait for the release's Jobs to complete (a service's Job releases: components/service/jobs.ts). */
    waitForJobs?: boolean;
}

/** A platform release (Istio, an addon) from a Helm repository, installed after the releases named in `after`. */
export interface PlatformReleaseSpec<K extends string> {
    key: K;
    /** Helm release name. */
    name: string;
    chart: string;
    repo: string;
    version: string;
    namespace: string;
    values: Record<string, unknown>;
    after: K[];
    description: string;
}

/** The inputs of a `kubernetes:helm.sh/v3:Release`: the spec plus the guarantees every release carries. */
export function releaseArgs(spec: ReleaseSpec) {
    return {
        ...spec,
        atomic: true,
        cleanupOnFail: true,
        timeout: RELEASE_TIMEOUT_SECONDS,
        maxHistory: RELEASE_MAX_HISTORY,
    };
}

/** A platform release's spec as a ReleaseSpec: its chart from its repository, at its pinned version. */
export function platformRelease<K extends string>(spec: PlatformReleaseSpec<K>): ReleaseSpec {
    const { chart, version, repo, name, namespace, values, description } = spec;
    return { chart, version, repositoryOpts: { repo }, name, namespace, values, description };
}
