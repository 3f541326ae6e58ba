// Pure: what a service's Helm releases install — their chart, their names, and their values: the team's
// settings plus the platform-set values of the chart contract (charts/service/README.md) derived from the
// stage plan.
import { ChartSource, ReleaseSpec } from "../shared/helm";
import { Part, TRACKS } from "../shared/tracks";
import { createHash } from "crypto";
import { canonical, isSecretValue, SecretValue } from "../shared/field-diff";
import { authorizationValues } from "./authorization";
import { ServiceConfig } from "./config";
import { MeshConfig, SAFE_RETRY_ON, StickyConfig, TestRoute } from "./routing-config";
import { canaryRevision, Revision, revisionRecords, stableRevision } from "./revision";
import { StagePlan } from "./stages";

/** Which objects one Helm release of the chart renders. */
export type ChartParts = Record<Part, boolean>;

export const ALL_PARTS: ChartParts = { production: true, canary: true, routing: true };

/** Each release of a service renders one part: a track's workloads, or the routing. */
export const ONLY: Record<Part, ChartParts> = {
    production: { production: true, canary: false, routing: false },
    canary: { production: false, canary: true, routing: false },
    routing: { production: false, canary: false, routing: true },
};

/** Helm release names of a service: one per track and one for routing. */
export function releaseNames(service: string): Record<Part, string> {
    return { production: `${service}-production`, canary: `${service}-canary`, routing: `${service}-routing` };
}

/** Chart reference of a service → the Release's chart, version and repository inputs. */
export function chartSource(chart: ServiceConfig["chart"]): ChartSource {
    if (typeof chart === "string") return { chart };
    if (chart.repo.startsWith("oci://")) return { chart: `${chart.repo.replace(/\/$/, "")}/${chart.name}`, version: chart.version };
    return { chart: chart.name, version: chart.version, repositoryOpts: { repo: chart.repo } };
}

/** Deep merge where `over` wins; arrays are replaced, not concatenated (Helm's own rule). */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) {
        const prev = out[key];
        out[key] =
            isPlainObject(prev) && isPlainObject(value) ? merge(prev as Record<string, unknown>, value as Record<string, unknown>) : value;
    }
    return out;
}

function isPlainObject(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function escapeRegex(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Test-user routes as Istio HTTPMatchRequests. Istio matches regexes (RE2) against the whole header value. */
export function istioMatches(routes: TestRoute[]): Record<string, unknown>[] {
    return routes.map((r) => {
        if ("header" in r) return { headers: { [r.header]: r.exact !== undefined ? { exact: r.exact } : { regex: r.regex } } };
        // One cookie among others in the Cookie header: "a=1; canary=always; b=2".
        return { headers: { cookie: { regex: `^(.*?;\\s*)?${escapeRegex(r.cookie)}=${escapeRegex(r.value)}(;.*)?$` } } };
    });
}

/**
 * Sticky sessions as the chart's `routing.sticky`: during the weight steps, each track with weight marks its users
 * (a cookie or a response header carrying `<track>-<tag>`) and a route before the weighted one sends a marked user
 * back to that track while it keeps weight. A mark names the tag, so a later release never reuses it.
 */
export function stickyValues(sticky: StickyConfig | undefined, plan: StagePlan, secure = false): { routes: Record<string, unknown>[]; responseHeaders: Record<string, Record<string, string>> } {
    const none = { routes: [], responseHeaders: {} };
    if (!sticky || plan.kind !== "canary") return none;
    const routes: Record<string, unknown>[] = [];
    const responseHeaders: Record<string, Record<string, string>> = {};
    for (const track of ["canary", "production"] as const) {
        if (plan[track].weight === 0) continue;
        const mark = `${track}-${plan[track].tag}`;
        if ("cookie" in sticky) {
            routes.push({ track, match: [{ headers: { cookie: { regex: `^(.*?;\\s*)?${escapeRegex(sticky.cookie)}=${escapeRegex(mark)}(;.*)?$` } } }] });
            // `Secure` where the stack's edge is HTTPS: the browser then never sends the mark over plain HTTP. Not
            // without TLS, where a browser would refuse to keep a Secure cookie and stickiness would be lost.
            responseHeaders[track] = { "set-cookie": `${sticky.cookie}=${mark}; Max-Age=${sticky.maxAgeSeconds}; Path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}` };
        } else {
            routes.push({ track, match: [{ headers: { [sticky.header]: { exact: mark } } }] });
            responseHeaders[track] = { [sticky.header]: mark };
        }
    }
    return { routes, responseHeaders };
}

/** The service's `mesh` as the chart's `istio.*`: the routes' timeout and retries, the DestinationRule's outlier detection. */
export function meshValues(mesh: MeshConfig): Record<string, unknown> {
    const retries = mesh.idempotent && mesh.retries.attempts > 0
        ? { attempts: mesh.retries.attempts, retryOn: SAFE_RETRY_ON, ...(mesh.retries.perTryTimeout ? { perTryTimeout: mesh.retries.perTryTimeout } : {}) }
        : // Explicitly none: without it Istio retries 503s twice, which sends a request that reached the app again.
          { attempts: 0 };
    return {
        timeout: mesh.timeout,
        retries,
        trafficPolicy: mesh.outlierDetection === false ? {} : { outlierDetection: { ...mesh.outlierDetection } },
    };
}

/**
 * The values of one Helm release of a service. Each release carries only what its parts render, so that a
 * move changes a release's inputs only when the objects it renders change in what runs or routes:
 * - a track's release: that track's tag and replicas (its Deployment, PDB and HPA);
 * - the routing release: both weights, the mirror, the test-user matches, and the stage in words
 *   (`stagehand.*`, shown as annotations on the routing objects and in NOTES).
 * With every part (one release for the whole service, `npm run plan -- --manifests`), all of it.
 */
/** What the platform around a service decides for it: the Istio revision its namespace injects from. */
export interface PlatformContext {
    istioRevision?: string;
    /** Whether the stack terminates TLS at its edge (components/platform/ingress.ts `edgeTls`): sticky cookies are `Secure`. */
    secureCookies?: boolean;
}

/**
 * The revision a release of a service installs: a track's release its track's, the routing (and a release of
 * every part) production's — the routing addresses the port and service values production runs.
 */
export function releaseRevision(service: ServiceConfig, plan: StagePlan, parts: ChartParts): Revision {
    const track = parts.canary && !parts.production ? "canary" : "production";
    const id = plan[track].revision?.id;
    const records = revisionRecords(service);
    return id !== undefined && id === records.canary.id && id !== records.stable.id ? canaryRevision(service) : stableRevision(service);
}

/** A revision's env split: plain values go in the chart values, secrets only by reference to a Kubernetes Secret. */
export function splitEnv(env: Revision["env"]): { plain: Record<string, string>; secret: Record<string, SecretValue> } {
    const plain: Record<string, string> = {};
    const secret: Record<string, SecretValue> = {};
    for (const [k, v] of Object.entries(env)) {
        if (isSecretValue(v)) secret[k] = v;
        else plain[k] = v;
    }
    return { plain, secret };
}

/**
 * The Kubernetes Secret holding a revision's secret env, named by its service and a fingerprint of the secrets'
 * ciphertexts: a changed secret is a new Secret (and a new pod template, so the pods roll), created before the
 * release that uses it; the old one is deleted at the end of the update, after no pod template names it.
 * Undefined when the revision has no secret.
 */
export function secretEnvName(service: string, env: Revision["env"]): string | undefined {
    const { secret } = splitEnv(env);
    if (Object.keys(secret).length === 0) return undefined;
    return `${service}-env-${createHash("sha256").update(canonical(secret)).digest("hex").slice(0, 10)}`;
}

export function chartValues(name: string, service: ServiceConfig, plan: StagePlan, parts: ChartParts = ALL_PARTS, platformContext: PlatformContext = {}): Record<string, unknown> {
    const revision = releaseRevision(service, plan, parts);
    const { plain, secret } = splitEnv(revision.env);
    const secretName = secretEnvName(name, revision.env);
    const team: Record<string, unknown> = {
        port: revision.port,
        resources: revision.resources,
        probes: {
            readiness: { path: revision.probes.readiness },
            liveness: { path: revision.probes.liveness },
        },
        env: plain,
        ...(secretName ? { secretEnv: Object.fromEntries(Object.keys(secret).sort().map((k) => [k, { secretName, key: k }])) } : {}),
        istio: meshValues(service.mesh),
    };
    const tracks: Record<string, Record<string, unknown>> = {};
    for (const track of TRACKS) {
        tracks[track] = {
            ...(parts[track] ? { tag: plan[track].tag, replicas: plan[track].replicas } : {}),
            ...(parts.routing ? { weight: plan[track].weight } : {}),
        };
    }
    const platform: Record<string, unknown> = {
        fullnameOverride: name,
        image: { repository: revision.image },
        // On the tracks' pods only: moving the namespace to another revision restarts them, not the routing.
        ...(platformContext.istioRevision !== undefined && (parts.production || parts.canary) ? { istioRevision: platformContext.istioRevision } : {}),
        tracks,
        ...(parts.routing
            ? {
                  stagehand: {
                      stage: plan.stage,
                      stageCount: plan.stageCount,
                      stageName: plan.name,
                      strategy: plan.strategy,
                      description: plan.description,
                  },
                  // Who may call the service: both tracks' pods, whatever the stage.
                  authorization: authorizationValues(service.callers),
                  routing: {
                      mirrorPercent: plan.mirrorPercent,
                      canaryMatches: plan.testRoutes ? istioMatches(service.testRoutes) : [],
                      sticky: stickyValues(service.sticky, plan, platformContext.secureCookies === true),
                  },
              }
            : {}),
        parts: { ...parts },
    };
    // Team extras first, then the typed team fields, then the platform: config validation already
    // refuses `values` that name a platform key, and the order makes that a guarantee.
    return merge(merge(revision.values, team), platform);
}

/** What Helm records as a release's description: the stage on the routing, a track's tag and pods on its own. */
export function releaseDescription(part: Part, plan: StagePlan): string {
    return part === "routing" ? plan.description : `${part} ${plan[part].tag} x${plan[part].replicas}`;
}

/** The three Helm releases of a service at its planned stage: one per track and one for the routing. */
export function serviceReleaseSpecs({ name, service, plan }: { name: string; service: ServiceConfig; plan: StagePlan }, platformContext: PlatformContext = {}): Record<Part, ReleaseSpec> {
    const names = releaseNames(name);
    const spec = (part: Part): ReleaseSpec => ({
        name: names[part],
        namespace: service.namespace,
        // The canary's release installs the canary revision's chart (a new version of a team's chart, if it brings one).
        ...chartSource(releaseRevision(service, plan, ONLY[part]).chart),
        values: chartValues(name, service, plan, ONLY[part], platformContext),
        description: releaseDescription(part, plan),
    });
    return { production: spec("production"), canary: spec("canary"), routing: spec("routing") };
}
