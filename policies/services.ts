// Pure: reads stagehand's chart values contract (charts/service/values.yaml) out of Helm Release inputs, and
// judges what the rendered VirtualService would do with the replicas the tracks plan. A service may be one
// Release with every part, or several Releases of the same chart selected by `values.parts`; the checks
// combine a service's Releases first, so both shapes are judged the same way.
import { Part, PARTS, Track, TRACKS } from "../components/shared/tracks";

export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

function isObject(v: unknown): v is Record<string, any> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The values of a *service* Release: the contract's `tracks` map plus `fullnameOverride`. Istio's own
 * Releases (base, istiod, gateway) and any other chart do not have them and are not service Releases.
 */
export function serviceValues(type: string, props: Record<string, any>): Record<string, any> | undefined {
    if (type !== HELM_RELEASE) return undefined;
    const values = props.values;
    if (!isObject(values)) return undefined;
    if (!isObject(values.tracks) || typeof values.fullnameOverride !== "string") return undefined;
    return values;
}

/** Which parts a Release renders: `values.parts`, every part when absent (the chart's default). */
export function partsOf(values: Record<string, any>): Record<Part, boolean> {
    const parts = isObject(values.parts) ? values.parts : {};
    return Object.fromEntries(PARTS.map((p) => [p, parts[p] !== false])) as Record<Part, boolean>;
}

/** One Release of a service, as the stack policy sees it. */
export interface ServiceReleaseView {
    urn: string;
    /** The Helm release name (`name` input), else the Pulumi resource name. */
    release: string;
    namespace: string;
    service: string;
    values: Record<string, any>;
}

/** A service: every Release that renders part of it, grouped by namespace and `fullnameOverride`. */
export interface ServiceGroup {
    service: string;
    namespace: string;
    releases: ServiceReleaseView[];
}

export function groupServices(releases: ServiceReleaseView[]): ServiceGroup[] {
    const groups = new Map<string, ServiceGroup>();
    for (const r of releases) {
        const key = `${r.namespace}/${r.service}`;
        const group = groups.get(key) ?? { service: r.service, namespace: r.namespace, releases: [] };
        group.releases.push(r);
        groups.set(key, group);
    }
    return [...groups.values()];
}

/** A problem of one service, reported against the Release it is about. */
export interface TrafficProblem {
    urn: string;
    message: string;
}

function num(v: unknown): number | undefined {
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function trackTag(values: Record<string, any>, track: Track): string {
    const tag = values.tracks?.[track]?.tag;
    return typeof tag === "string" && tag !== "" ? ` (tag ${tag})` : "";
}

/**
 * What the service's VirtualService would route, checked against the replicas its tracks plan:
 * weights are whole percentages summing to 100, and no weighted, mirrored or header-matched route points at
 * a track without replicas. Returns one problem per finding, in words a reviewer can act on.
 */
export function trafficProblems(group: ServiceGroup): TrafficProblem[] {
    const problems: TrafficProblem[] = [];
    const who = `service ${group.service} (namespace ${group.namespace})`;
    const by = (part: Part) => group.releases.filter((r) => partsOf(r.values)[part]);
    const names = (rs: ServiceReleaseView[]) => rs.map((r) => r.release).join(", ");

    const routers = by("routing");
    const trackReleases = Object.fromEntries(TRACKS.map((t) => [t, by(t)])) as Record<Track, ServiceReleaseView[]>;

    for (const track of TRACKS) {
        const rs = trackReleases[track];
        if (rs.length > 1) {
            problems.push({ urn: rs[1].urn, message: `${who}: ${rs.length} Helm releases render the ${track} track (${names(rs)}); exactly one may own its Deployment` });
        }
    }
    if (routers.length === 0) {
        problems.push({
            urn: group.releases[0].urn,
            message: `${who}: no Helm release renders the routing part (Service, DestinationRule, VirtualService) of ${names(group.releases)}, so nothing routes traffic to its tracks`,
        });
        return problems;
    }
    if (routers.length > 1) {
        problems.push({ urn: routers[1].urn, message: `${who}: ${routers.length} Helm releases render the routing part (${names(routers)}); exactly one may own the VirtualService` });
    }
    const router = routers[0];
    const routed = router.values;

    // Replicas each track really gets: from the Release that renders the track (none rendered: no pods).
    const planned = {} as Record<Track, number>;
    for (const track of TRACKS) {
        const owner = trackReleases[track][0];
        const replicas = owner ? owner.values.tracks?.[track]?.replicas : 0;
        if (num(replicas) === undefined || !Number.isInteger(replicas) || replicas < 0) {
            problems.push({ urn: owner?.urn ?? router.urn, message: `${who}: tracks.${track}.replicas must be a whole number of at least 0, found ${JSON.stringify(replicas)}` });
            return problems;
        }
        planned[track] = replicas;
    }

    const weights = {} as Record<Track, number>;
    for (const track of TRACKS) {
        const w = routed.tracks?.[track]?.weight;
        if (num(w) === undefined || !Number.isInteger(w) || w < 0 || w > 100) {
            problems.push({ urn: router.urn, message: `${who}: tracks.${track}.weight must be a whole percentage from 0 to 100, found ${JSON.stringify(w)}` });
            return problems;
        }
        weights[track] = w;
    }
    const sum = weights.production + weights.canary;
    if (sum !== 100) {
        problems.push({
            urn: router.urn,
            message: `${who}: the VirtualService weights add up to ${sum} (production ${weights.production} + canary ${weights.canary}), they must add up to 100`,
        });
    }

    const empty = (track: Track) => planned[track] === 0;
    // A track's tag is in the release that renders the track (a routing release carries weights only).
    const tagOf = (track: Track) => trackTag(trackReleases[track][0]?.values ?? routed, track);
    const owner = (track: Track) => (trackReleases[track][0] ? `release ${trackReleases[track][0].release}` : "no release renders it");
    for (const track of TRACKS) {
        if (weights[track] > 0 && empty(track)) {
            problems.push({
                urn: router.urn,
                message:
                    `${who}: ${weights[track]}% of traffic is routed to the ${track} track${tagOf(track)}, which has 0 replicas planned (${owner(track)}); ` +
                    `those requests would fail. Give the track replicas before it gets weight (make before break)`,
            });
        }
    }

    // The chart renders the mirror and the match route as the routing values give them (and refuses them,
    // in one release with every part, onto a canary without pods): the canary's own release says if it has pods.
    const mirror = num(routed.routing?.mirrorPercent) ?? 0;
    if (mirror > 0 && weights.canary < 100 && empty("canary")) {
        problems.push({
            urn: router.urn,
            message: `${who}: ${mirror}% of requests are mirrored to the canary track${tagOf("canary")}, which has 0 replicas planned (${owner("canary")})`,
        });
    }
    const matches = routed.routing?.canaryMatches;
    if (Array.isArray(matches) && matches.length > 0 && empty("canary")) {
        problems.push({
            urn: router.urn,
            message: `${who}: requests matching routing.canaryMatches are routed to the canary track${tagOf("canary")}, which has 0 replicas planned (${owner("canary")})`,
        });
    }
    return problems;
}
