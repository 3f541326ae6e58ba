// The rules of stagehand's policy pack: plain policy objects with their validation functions, so tests call
// them directly. The pack itself (which starts a gRPC server) is constructed only in policies/index.ts.
//
// Every rule defaults to `mandatory`: a preview run without a config file is as strict as prod. The
// per-stack files `config.<stack>.json` relax some rules for staging and UAT.
import {
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
    UnknownValueError,
} from "@pulumi/policy";
import { CAPACITY_TYPES, MIN_AVAILABILITY_ZONES, tagSchema } from "../components/config";
import { findSecrets } from "./secrets";
import { groupServices, HELM_RELEASE, partsOf, serviceValues, ServiceReleaseView, trafficProblems, TRACKS } from "./services";

export const EKS_CLUSTER = "aws:eks/cluster:Cluster";
export const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const SUBNET = "aws:ec2/subnet:Subnet";
export const HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart";
export const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
export const WORKLOADS = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet"];
/** PeerAuthentication of any served version, whether registered typed or as a CustomResource. */
const PEER_AUTHENTICATION = /^kubernetes:security\.istio\.io\/v[0-9a-z]+:PeerAuthentication$/;

export type Rule = (ResourceValidationPolicy | StackValidationPolicy) & { enforcementLevel: EnforcementLevel };

// ---------- helpers ----------

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string | undefined {
    return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

/** The value `read` returns, or undefined when it is not known yet (during preview). */
function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (e) {
        if (e instanceof UnknownValueError) return undefined;
        throw e;
    }
}

/** The policy's config with its defaults (the CLI fills defaults from the schema too; this makes it certain). */
function configOf<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
    return { ...defaults, ...args.getConfig<Partial<T>>() };
}

/** A resource validation that runs `validate` only for resources of the given types. */
function forTypes(types: readonly string[], validate: (args: ResourceValidationArgs, report: ReportViolation) => void) {
    return (args: ResourceValidationArgs, report: ReportViolation) => {
        if (types.includes(args.type)) validate(args, report);
    };
}

function describe(value: unknown): string {
    if (value === undefined) return "nothing";
    if (value === "") return "an empty string";
    return JSON.stringify(value);
}

/** Why a tag is not a fixed image tag or digest (components/config.ts's `tagSchema`), or undefined. */
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

function releaseName(args: { name: string; props: Record<string, any> }): string {
    const name = known(() => args.props.name);
    return typeof name === "string" && name !== "" ? name : args.name;
}

/** A Kubernetes quantity in base units: "250m" → 0.25, "128Mi" → 134217728; undefined if not a quantity. */
export function parseQuantity(q: unknown): number | undefined {
    const text = typeof q === "number" ? String(q) : q;
    if (typeof text !== "string") return undefined;
    const m = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/.exec(text);
    if (!m) return undefined;
    const factors: Record<string, number> = {
        "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
        Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
    };
    return Number(m[1]) * factors[m[2] ?? ""];
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

/** Containers of a workload's pod template, with a label each for messages. */
function containersOf(props: Record<string, any>): { label: string; container: any }[] {
    const containers = known(() => props.spec?.template?.spec?.containers);
    if (!Array.isArray(containers)) return [];
    return containers.map((c: any, i: number) => ({ label: `container ${typeof c?.name === "string" ? c.name : `#${i}`}`, container: c }));
}

// ---------- service releases ----------

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
            if (typeof repo !== "string" || repo === "" || repo.includes("@") || /:[^/]*$/.test(repo.replace(/^[^/]+\//, "x/"))) {
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

// ---------- secrets ----------

export const noPlaintextSecrets: Rule = {
    name: "no-plaintext-secrets",
    description:
        "No secret-looking value (password, token, API or private key, credentials) is passed in plain text in Helm values, ConfigMaps or container env: Helm and ConfigMaps keep them readable in the cluster and the preview shows them.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            ignorePaths: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "Exact paths (as printed in the violation, e.g. `values.env.TOKEN_HINT`) that are known not to be secrets.",
            },
        },
    },
    validateResource: forTypes([HELM_RELEASE, HELM_CHART_V4, CONFIG_MAP, ...WORKLOADS], (args, report) => {
        const { ignorePaths } = configOf(args, { ignorePaths: [] as string[] });
        const where = args.type === HELM_RELEASE ? `release ${releaseName(args)}` : `${args.type.split(":").pop()} ${args.name}`;
        const fix =
            args.type === CONFIG_MAP
                ? "ConfigMap data is plain text; put it in a Kubernetes Secret and mount or reference that instead"
                : args.type.includes("helm.sh")
                  ? "Helm keeps values readable in the cluster (`helm get values`) and the preview shows them; put it in a Kubernetes Secret and reference it (the service chart's extraEnv with valueFrom.secretKeyRef)"
                  : "put it in a Kubernetes Secret and reference it with valueFrom.secretKeyRef";
        const findings = [];
        if (args.type === CONFIG_MAP) {
            findings.push(...findSecrets(known(() => args.props.data), ignorePaths, "data"));
        } else if (WORKLOADS.includes(args.type)) {
            containersOf(args.props).forEach(({ container }, i) => {
                findings.push(...findSecrets(known(() => container?.env), ignorePaths, `spec.template.spec.containers[${i}].env`));
            });
        } else {
            findings.push(...findSecrets(known(() => args.props.values), ignorePaths, "values"));
        }
        for (const f of findings) report(`${where}: ${f.path} is passed in plain text (${f.why}). ${fix}`);
    }),
};

// ---------- EKS and node groups ----------

export const DEFAULT_CAPACITY_BY_STACK: Record<string, string> = { staging: "SPOT", uat: "ON_DEMAND", prod: "ON_DEMAND" };

export const nodeGroupCapacityType: Rule = {
    name: "node-group-capacity-type",
    description:
        "Node groups use the capacity type of their stack: SPOT in staging (cheap, interruptions are fine), ON_DEMAND in UAT and prod (no interruptions). An unset capacityType is ON_DEMAND.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            capacityTypeByStack: {
                type: "object",
                additionalProperties: { type: "string", enum: [...CAPACITY_TYPES] },
                default: DEFAULT_CAPACITY_BY_STACK,
                description: "Stack name → the capacity type its node groups must use; stacks not listed are not checked.",
            },
        },
    },
    validateResource: forTypes([EKS_NODE_GROUP], (args, report) => {
        const { capacityTypeByStack } = configOf(args, { capacityTypeByStack: DEFAULT_CAPACITY_BY_STACK });
        const stack = stackOfUrn(args.urn);
        const required = stack === undefined ? undefined : capacityTypeByStack[stack];
        if (!required) args.notApplicable(`no capacity type is required for stack ${stack}`);
        const capacityType = args.props.capacityType ?? "ON_DEMAND";
        if (capacityType !== required) {
            const unset = args.props.capacityType === undefined ? " (unset, which AWS treats as ON_DEMAND)" : "";
            report(`node group ${args.name} in stack ${stack} has capacityType ${capacityType}${unset}; node groups of stack ${stack} must be ${required}`);
        }
    }),
};

export const DEFAULT_MIN_AZS_BY_STACK: Record<string, number> = { uat: MIN_AVAILABILITY_ZONES, prod: MIN_AVAILABILITY_ZONES };

/** The subnets of a node group found in the stack: by property dependency, else by (known) id. */
function nodeGroupSubnets(group: PolicyResource, subnets: PolicyResource[]): { ids: (string | undefined)[]; found: PolicyResource[] } {
    const ids = known(() => group.props.subnetIds);
    // Element by element: during preview some ids are unknown (reading one throws), others known.
    const knownIds: (string | undefined)[] = [];
    if (Array.isArray(ids)) for (let i = 0; i < ids.length; i++) knownIds.push(known(() => ids[i]));
    const found = new Set<PolicyResource>((group.propertyDependencies?.subnetIds ?? []).filter((d) => d.type === SUBNET));
    for (const s of subnets) {
        const id = known(() => s.props.id);
        if (typeof id === "string" && knownIds.includes(id)) found.add(s);
    }
    return { ids: knownIds, found: [...found] };
}

export const nodeGroupsMultiAz: Rule = {
    name: "node-groups-multi-az",
    description:
        "In UAT and prod every node group spans at least 2 availability zones (its subnets' zones) and keeps at least that many nodes, so losing one zone does not take the service down.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            minAvailabilityZonesByStack: {
                type: "object",
                additionalProperties: { type: "integer", minimum: 1 },
                default: DEFAULT_MIN_AZS_BY_STACK,
                description: "Stack name → the fewest availability zones each node group must span; stacks not listed are not checked.",
            },
            subnetAvailabilityZones: {
                type: "object",
                additionalProperties: { type: "string" },
                default: {},
                description: "Subnet id → availability zone, for subnets that are not resources of this stack.",
            },
        },
    },
    validateStack: (args, report) => {
        const { minAvailabilityZonesByStack, subnetAvailabilityZones } = configOf(args, {
            minAvailabilityZonesByStack: DEFAULT_MIN_AZS_BY_STACK,
            subnetAvailabilityZones: {} as Record<string, string>,
        });
        const groups = args.resources.filter((r) => r.type === EKS_NODE_GROUP);
        if (groups.length === 0) args.notApplicable("no EKS node groups in this stack");
        const stack = stackOfUrn(groups[0].urn);
        const min = stack === undefined ? undefined : minAvailabilityZonesByStack[stack];
        if (!min) args.notApplicable(`no availability-zone spread is required for stack ${stack}`);
        const subnets = args.resources.filter((r) => r.type === SUBNET);
        for (const group of groups) {
            const { ids, found } = nodeGroupSubnets(group, subnets);
            const zones = new Set<string>();
            const unresolved: string[] = [];
            for (const s of found) {
                const zone = known(() => s.props.availabilityZone) ?? known(() => s.props.availabilityZoneId);
                if (typeof zone === "string" && zone !== "") zones.add(zone);
                else unresolved.push(`subnet ${s.name} has no availabilityZone known at preview`);
            }
            const foundIds = new Set(found.map((s) => known(() => s.props.id)));
            for (const id of ids) {
                if (id === undefined || foundIds.has(id)) continue;
                if (subnetAvailabilityZones[id]) zones.add(subnetAvailabilityZones[id]);
                else unresolved.push(`subnet ${id} is not a resource of this stack and is not listed in subnetAvailabilityZones`);
            }
            if (found.length === 0 && ids.every((id) => id === undefined || !subnetAvailabilityZones[id])) {
                report(`node group ${group.name}: cannot tell which availability zones it spans: none of its subnets is a resource of this stack or listed in the rule's subnetAvailabilityZones`, group.urn);
                continue;
            }
            if (unresolved.length > 0) {
                report(`node group ${group.name}: cannot verify its availability-zone spread: ${unresolved.join("; ")} (set availabilityZone on the subnet, or list it in subnetAvailabilityZones)`, group.urn);
                continue;
            }
            if (zones.size < min!) {
                report(`node group ${group.name} spans ${zones.size} availability zone${zones.size === 1 ? "" : "s"} (${[...zones].sort().join(", ")}); node groups of stack ${stack} must span at least ${min}`, group.urn);
            }
            const minSize = known(() => group.props.scalingConfig?.minSize);
            if (typeof minSize === "number" && minSize < min!) {
                report(`node group ${group.name} may shrink to ${minSize} node${minSize === 1 ? "" : "s"} (scalingConfig.minSize), fewer than the ${min} availability zones it must span in stack ${stack}`, group.urn);
            }
        }
    },
};

export const DEFAULT_REQUIRED_LOG_TYPES = ["api", "audit", "authenticator"];

export const eksControlPlaneLogging: Rule = {
    name: "eks-control-plane-logging",
    description:
        "EKS clusters send their control-plane logs (by default api, audit and authenticator) to CloudWatch, so who changed what in the cluster can be traced.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            requiredLogTypes: {
                type: "array",
                items: { type: "string", enum: ["api", "audit", "authenticator", "controllerManager", "scheduler"] },
                default: DEFAULT_REQUIRED_LOG_TYPES,
                description: "Control-plane log types every cluster must enable.",
            },
        },
    },
    validateResource: forTypes([EKS_CLUSTER], (args, report) => {
        const { requiredLogTypes } = configOf(args, { requiredLogTypes: DEFAULT_REQUIRED_LOG_TYPES });
        const enabled: unknown = args.props.enabledClusterLogTypes;
        const have = Array.isArray(enabled) ? enabled : [];
        const missing = requiredLogTypes.filter((t) => !have.includes(t));
        if (missing.length > 0) {
            report(`EKS cluster ${args.name}: control-plane logging is missing ${missing.join(", ")} (enabledClusterLogTypes is ${describe(enabled)}; required: ${requiredLogTypes.join(", ")})`);
        }
    }),
};

const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

export const eksApiEndpointRestricted: Rule = {
    name: "eks-api-endpoint-restricted",
    description:
        "The EKS API endpoint is private, or public only to listed CIDR blocks — not to 0.0.0.0/0 — unless the stack's policy config opts in with `allowPublicApiEndpoint: true`.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowPublicApiEndpoint: {
                type: "boolean",
                default: false,
                description: "Explicit opt-in: allow a public API endpoint open to the whole internet (0.0.0.0/0).",
            },
        },
    },
    validateResource: forTypes([EKS_CLUSTER], (args, report) => {
        const { allowPublicApiEndpoint } = configOf(args, { allowPublicApiEndpoint: false });
        const vpc = args.props.vpcConfig ?? {};
        // AWS defaults: the public endpoint is on, and open to 0.0.0.0/0 when no CIDRs are given.
        const publicAccess = vpc.endpointPublicAccess ?? true;
        if (publicAccess !== true) return;
        const cidrs: unknown = vpc.publicAccessCidrs;
        const list = Array.isArray(cidrs) ? (cidrs as string[]) : [];
        const open = list.length === 0 ? "0.0.0.0/0 (no publicAccessCidrs, the AWS default)" : list.find((c) => OPEN_CIDRS.includes(c));
        if (open && !allowPublicApiEndpoint) {
            report(
                `EKS cluster ${args.name}: the public API endpoint is open to ${open}. Set vpcConfig.endpointPublicAccess to false (with endpointPrivateAccess), ` +
                    `or list the allowed CIDR blocks in vpcConfig.publicAccessCidrs, or opt in explicitly with allowPublicApiEndpoint: true in this stack's policy config`,
            );
        }
    }),
};

// ---------- mesh ----------

export const DEFAULT_MESH_ROOT_NAMESPACE = "istio-system";

export const meshMtlsStrict: Rule = {
    name: "mesh-mtls-strict",
    description:
        "The stack has mesh-wide STRICT mTLS: a PeerAuthentication `default` without selector in Istio's root namespace with mode STRICT, and no other PeerAuthentication that weakens it.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            rootNamespace: { type: "string", default: DEFAULT_MESH_ROOT_NAMESPACE, description: "Istio's root namespace (meshConfig.rootNamespace)." },
            permissiveExceptions: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "PeerAuthentications (\"namespace/name\") allowed to be PERMISSIVE or DISABLE.",
            },
        },
    },
    validateStack: (args, report) => {
        const { rootNamespace, permissiveExceptions } = configOf(args, {
            rootNamespace: DEFAULT_MESH_ROOT_NAMESPACE,
            permissiveExceptions: [] as string[],
        });
        const peers = args.resources.filter((r) => PEER_AUTHENTICATION.test(r.type));
        const meshInStack = args.resources.some(
            (r) => serviceValues(r.type, r.props) !== undefined || (r.type === HELM_RELEASE && /^istiod?$|^istio-base$|^base$/.test(String(known(() => r.props.chart)))),
        );
        if (peers.length === 0 && !meshInStack) args.notApplicable("no Istio mesh or service releases in this stack");

        const nameOf = (r: PolicyResource) => `${known(() => r.props.metadata?.namespace) ?? "default"}/${known(() => r.props.metadata?.name) ?? r.name}`;
        const hasSelector = (r: PolicyResource) => {
            const labels = known(() => r.props.spec?.selector?.matchLabels);
            return labels !== undefined && labels !== null && Object.keys(labels).length > 0;
        };
        const meshWide = peers.filter((r) => known(() => r.props.metadata?.namespace) === rootNamespace && !hasSelector(r));
        const strictDefault = meshWide.find((r) => known(() => r.props.metadata?.name) === "default" && known(() => r.props.spec?.mtls?.mode) === "STRICT");
        if (!strictDefault) {
            const found = meshWide.map((r) => `${nameOf(r)} mode ${describe(known(() => r.props.spec?.mtls?.mode))}`).join(", ");
            report(
                `no mesh-wide STRICT mTLS: expected a PeerAuthentication "default" in namespace ${rootNamespace} without selector and spec.mtls.mode STRICT` +
                    (found ? `, found ${found}` : ", found none in this stack"),
            );
        }
        for (const r of peers) {
            if (r === strictDefault || permissiveExceptions.includes(nameOf(r))) continue;
            const mode = known(() => r.props.spec?.mtls?.mode);
            if (mode !== undefined && mode !== "STRICT" && mode !== "UNSET") {
                report(`PeerAuthentication ${nameOf(r)} sets mTLS mode ${mode}, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)`, r.urn);
            }
            const ports = known(() => r.props.spec?.portLevelMtls);
            if (ports && typeof ports === "object") {
                for (const port of Object.keys(ports)) {
                    const portMode = known(() => ports[port]?.mode);
                    if (portMode !== undefined && portMode !== "STRICT" && portMode !== "UNSET") {
                        report(`PeerAuthentication ${nameOf(r)} sets mTLS mode ${portMode} on port ${port}, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)`, r.urn);
                    }
                }
            }
        }
    },
};

// ---------- the config file itself ----------

export const policyConfigMatchesStack: Rule = {
    name: "policy-config-matches-stack",
    description:
        "The policy config file passed with --policy-pack-config is the one written for this stack (its `stacks` list names the stack), so staging's relaxed levels never judge prod.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            stacks: { type: "array", items: { type: "string" }, description: "The stacks this config file is written for." },
        },
    },
    validateStack: (args, report) => {
        const { stacks } = configOf(args, { stacks: undefined as string[] | undefined });
        if (!stacks) args.notApplicable("no policy config file names its stacks (every rule keeps its default, mandatory, level)");
        const stack = args.resources.map((r) => stackOfUrn(r.urn)).find((s) => s !== undefined);
        if (stack === undefined) args.notApplicable("no resources in this stack");
        if (!stacks!.includes(stack!)) {
            report(`stack ${stack} is being checked with the policy config written for ${stacks!.join(", ")}; use --policy-pack-config policies/config.${stack}.json`);
        }
    },
};

/** Every rule of the pack, in the order of the README's table. */
export const rules: Rule[] = [
    imageTagPinned,
    trafficRoutesReadyTracks,
    releaseAtomic,
    containersResourcesReadiness,
    nodeGroupCapacityType,
    nodeGroupsMultiAz,
    meshMtlsStrict,
    noPlaintextSecrets,
    eksControlPlaneLogging,
    eksApiEndpointRestricted,
    policyConfigMatchesStack,
];
