// The rules about service releases: what stagehand's Helm releases (and plain workloads) may ship — pinned
// images, releases that roll themselves back, containers with resources and a readiness probe, and traffic
// routed only to tracks with replicas.
import { PolicyResource } from "@pulumi/policy";
import { repositoryHasTagOrDigest, tagSchema } from "../../components/shared/image";
import { parseQuantity } from "../../components/shared/quantity";
import { TRACKS } from "../../components/shared/tracks";
import { groupServices, HELM_RELEASE, partsOf, serviceValues, ServiceReleaseView, trafficProblems } from "../services";
import { configOf, containersOf, describe, forTypes, known, releaseName, Rule, stackOfUrn, WORKLOADS } from "./common";

/** Why a tag is not a fixed image tag or digest (the config's own `tagSchema`), or undefined. */
export function tagProblem(tag: unknown): string | undefined {
    const parsed = tagSchema.safeParse(tag);
    if (parsed.success) return undefined;
    return `expected ${parsed.error.issues[0].message}, found ${describe(tag)}`;
}

/** Why a full image reference (`repo[:tag][@digest]`) does not pin a version, or undefined. */
export function imageRefProblem(image: unknown): string | undefined {
    if (typeof image !== "string" || image === "") return `expected an image reference with a tag or digest, found ${describe(image)}`;
    if (/@sha256:[a-f0-9]{64}$/.test(image)) return undefined;
    const name = image.slice(image.lastIndexOf("/") + 1);
    const colon = name.lastIndexOf(":");
    if (colon < 0) return `expected an image with a tag or digest, found ${describe(image)} (no tag: Kubernetes pulls "latest")`;
    const problem = tagProblem(name.slice(colon + 1));
    return problem && `${problem} in image ${describe(image)}`;
}

/** Problems with a container's `resources`: cpu and memory requests and limits, each request within its limit. */
export function resourceProblems(resources: any): string[] {
    const problems: string[] = [];
    const get = (kind: "requests" | "limits", what: "cpu" | "memory") => (resources && typeof resources === "object" ? resources[kind]?.[what] : undefined);
    for (const what of ["cpu", "memory"] as const) {
        const request = get("requests", what);
        const limit = get("limits", what);
        const r = parseQuantity(request);
        const l = parseQuantity(limit);
        if (r === undefined) problems.push(`resources.requests.${what}: expected a Kubernetes quantity such as ${what === "cpu" ? '"100m"' : '"128Mi"'}, found ${describe(request)}`);
        if (l === undefined) problems.push(`resources.limits.${what}: expected a Kubernetes quantity such as ${what === "cpu" ? '"500m"' : '"256Mi"'}, found ${describe(limit)}`);
        if (r !== undefined && l !== undefined && r > l) {
            problems.push(`resources.requests.${what} ${describe(request)} is above resources.limits.${what} ${describe(limit)}; Kubernetes refuses such a pod`);
        }
    }
    return problems;
}

export const imageTagPinned: Rule = {
    name: "service-image-tag-pinned",
    description:
        "Every released image carries an explicit tag or sha256 digest, never `latest` or empty: a moving tag cannot be reviewed in a preview or rolled back.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([HELM_RELEASE, ...WORKLOADS], (args, report) => {
        if (args.type === HELM_RELEASE) {
            const values = serviceValues(args.type, args.props);
            if (!values) return;
            const release = releaseName(args);
            const repo = values.image?.repository;
            if (typeof repo !== "string" || repo === "" || repositoryHasTagOrDigest(repo)) {
                report(`release ${release}: image.repository: expected an image repository without tag or digest (the tags go in tracks.<track>.tag), found ${describe(repo)}`);
            }
            const parts = partsOf(values);
            for (const track of TRACKS) {
                if (!parts[track]) continue;
                const problem = tagProblem(values.tracks?.[track]?.tag);
                if (problem) report(`release ${release}: tracks.${track}.tag: ${problem}`);
            }
            return;
        }
        for (const { label, container } of containersOf(args.props)) {
            const problem = imageRefProblem(container?.image);
            if (problem) report(`${args.type.split(":").pop()} ${args.name}, ${label}: ${problem}`);
        }
    }),
};

/**
 * An hour. Deliberately not derived from RELEASE_TIMEOUT_SECONDS (components/shared/helm.ts), the timeout every
 * release the program registers gets: this bound judges that value, so raising it must not widen the bound too.
 * The stack tests run the program's releases through this rule, so the two cannot drift apart unnoticed.
 */
export const DEFAULT_MAX_TIMEOUT_SECONDS = 3600;

export const releaseAtomic: Rule = {
    name: "service-release-atomic",
    description:
        "Service Helm releases are `atomic` with an explicit timeout, so an upgrade that does not become ready rolls itself back to the previous stage instead of staying half-applied.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            maxTimeoutSeconds: { type: "integer", minimum: 1, default: DEFAULT_MAX_TIMEOUT_SECONDS, description: "Longest timeout a release may wait before rolling back." },
        },
    },
    validateResource: forTypes([HELM_RELEASE], (args, report) => {
        if (!serviceValues(args.type, args.props)) return;
        const { maxTimeoutSeconds } = configOf(args, { maxTimeoutSeconds: DEFAULT_MAX_TIMEOUT_SECONDS });
        const release = releaseName(args);
        const atomic = args.props.atomic;
        if (atomic !== true) {
            report(`release ${release}: atomic must be true (a failed upgrade then rolls back by itself), found ${describe(atomic)}`);
        }
        const timeout = args.props.timeout;
        if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout <= 0 || timeout > maxTimeoutSeconds) {
            report(`release ${release}: timeout must be a whole number of seconds from 1 to ${maxTimeoutSeconds} (how long Helm waits before rolling back), found ${describe(timeout)}`);
        }
    }),
};

export const containersResourcesReadiness: Rule = {
    name: "containers-resources-and-readiness",
    description:
        "Containers declare CPU and memory requests and limits (each request within its limit) and a readiness probe: without one, traffic reaches pods that are not ready.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([HELM_RELEASE, ...WORKLOADS], (args, report) => {
        if (args.type === HELM_RELEASE) {
            const values = serviceValues(args.type, args.props);
            if (!values) return;
            const parts = partsOf(values);
            // A routing-only release renders no containers.
            if (!parts.production && !parts.canary) return;
            const release = releaseName(args);
            for (const problem of resourceProblems(values.resources)) report(`release ${release}: ${problem}`);
            const path = values.probes?.readiness?.path;
            if (typeof path !== "string" || !path.startsWith("/")) {
                report(`release ${release}: probes.readiness.path: expected an HTTP path starting with '/', found ${describe(path)} (without a readiness probe traffic reaches pods that are not ready)`);
            }
            return;
        }
        const kind = args.type.split(":").pop();
        for (const { label, container } of containersOf(args.props)) {
            for (const problem of resourceProblems(container?.resources)) report(`${kind} ${args.name}, ${label}: ${problem}`);
            if (!container?.readinessProbe) report(`${kind} ${args.name}, ${label}: no readinessProbe (traffic would reach pods that are not ready)`);
        }
    }),
};

/** Service Releases of a stack, as views the traffic check combines per service. */
function serviceReleasesOf(resources: PolicyResource[]): ServiceReleaseView[] {
    const views: ServiceReleaseView[] = [];
    for (const r of resources) {
        const values = serviceValues(r.type, r.props);
        if (!values) continue;
        const namespace = known(() => r.props.namespace);
        views.push({
            urn: r.urn,
            release: releaseName(r),
            namespace: typeof namespace === "string" && namespace !== "" ? namespace : "default",
            service: values.fullnameOverride,
            values,
        });
    }
    return views;
}

export const trafficRoutesReadyTracks: Rule = {
    name: "service-traffic-routes-ready-tracks",
    description:
        "Per service (all its Helm releases combined): the VirtualService weights add up to 100 and every weighted, mirrored or header-matched route goes to a track with replicas planned — never to an empty track.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const groups = groupServices(serviceReleasesOf(args.resources));
        if (groups.length === 0) args.notApplicable("no service Helm releases in this stack");
        for (const group of groups) {
            for (const problem of trafficProblems(group)) report(problem.message, problem.urn);
        }
    },
};

/** The component each service is (components/service/release.ts): its inputs say whether it may skip stages. */
export const SERVICE_RELEASE = "stagehand:index:ServiceRelease";

export const allowSkipAllowed: Rule = {
    name: "service-allow-skip-allowed",
    description:
        "A service may skip canary stages, or change `stable` without a canary (`allowSkip: true`, its own or the stack-wide `stagehand:allowSkip`), only where the stack's policy config allows it: for the services it lists, or stack-wide.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            services: { type: "array", items: { type: "string" }, default: [], description: "Services that may set allowSkip in this stack." },
            stackWide: { type: "boolean", default: false, description: "Every service of this stack may skip (such as staging)." },
        },
    },
    validateResource: forTypes([SERVICE_RELEASE], (args, report) => {
        if (known(() => args.props.allowSkip) !== true) return;
        const { services, stackWide } = configOf(args, { services: [] as string[], stackWide: false });
        if (stackWide || services.includes(args.name)) return;
        const stack = stackOfUrn(args.urn) ?? "<stack>";
        const fromStack = known(() => args.props.allowSkipFrom) === "stack";
        const where = fromStack ? `from stagehand:allowSkip, the stack-wide default` : `its own allowSkip in stagehand:services.${args.name}`;
        const remove = fromStack ? `Remove stagehand:allowSkip from Pulumi.${stack}.yaml (or set allowSkip: false on the service)` : `Remove allowSkip from stagehand:services.${args.name} in Pulumi.${stack}.yaml`;
        report(
            `service ${args.name}: allowSkip is true (${where}): a pull request could skip canary stages or change stable without a canary, and stack ${stack}'s policy config allows that ` +
                `${services.length > 0 ? `only for ${services.join(", ")}` : "for no service"}. ${remove}, or list "${args.name}" in "services" of ${allowSkipAllowed.name} in policies/config.${stack}.json`,
        );
    }),
};

export const productionFull: Rule = {
    name: "service-production-full",
    description:
        "Production keeps its full size through a release (`production: full`), so a rollback from any weight step only moves routes, unless the stack's policy config allows lean releases (`production: follows-traffic`, its own or the stack-wide `stagehand:production`): for the services it lists, or stack-wide.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            services: { type: "array", items: { type: "string" }, default: [], description: "Services whose production may follow traffic in this stack." },
            stackWide: { type: "boolean", default: false, description: "Every service of this stack may follow traffic (such as staging)." },
        },
    },
    validateResource: forTypes([SERVICE_RELEASE], (args, report) => {
        if (known(() => args.props.production) !== "follows-traffic") return;
        const { services, stackWide } = configOf(args, { services: [] as string[], stackWide: false });
        if (stackWide || services.includes(args.name)) return;
        const stack = stackOfUrn(args.urn) ?? "<stack>";
        report(
            `service ${args.name}: production follows traffic (its own production, or stagehand:production): a rollback from the canary's last weight steps waits for production's pods to start, ` +
                `and stack ${stack}'s policy config expects production at full size${services.length > 0 ? ` for all but ${services.join(", ")}` : ""}. ` +
                `Set production: full on stagehand:services.${args.name} in Pulumi.${stack}.yaml, or list "${args.name}" in "services" of ${productionFull.name} in policies/config.${stack}.json`,
        );
    }),
};
