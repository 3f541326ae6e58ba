// The rules about the EKS cluster and its node groups: capacity type per stack, node groups spread over
// availability zones, control-plane logs, and an API endpoint not open to the internet. The vocabulary
// (capacity types, log types, the fewest zones) is the cluster config's, components/platform/config.ts.
import { PolicyResource } from "@pulumi/policy";
import { CAPACITY_TYPES, CONTROL_PLANE_LOG_TYPES, MIN_AVAILABILITY_ZONES } from "../../components/platform/config";
import { configOf, describe, forTypes, known, Rule, stackOfUrn } from "./common";

export const EKS_CLUSTER = "aws:eks/cluster:Cluster";
export const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const SUBNET = "aws:ec2/subnet:Subnet";

type CapacityType = (typeof CAPACITY_TYPES)[number];
type ControlPlaneLogType = (typeof CONTROL_PLANE_LOG_TYPES)[number];

/** What AWS runs a node group on when its capacityType is unset. */
const UNSET_CAPACITY_TYPE: CapacityType = "ON_DEMAND";

export const DEFAULT_CAPACITY_BY_STACK: Record<string, CapacityType> = { staging: "SPOT", uat: "ON_DEMAND", prod: "ON_DEMAND" };

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
        const capacityType = args.props.capacityType ?? UNSET_CAPACITY_TYPE;
        if (capacityType !== required) {
            const unset = args.props.capacityType === undefined ? ` (unset, which AWS treats as ${UNSET_CAPACITY_TYPE})` : "";
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

export const DEFAULT_REQUIRED_LOG_TYPES: ControlPlaneLogType[] = ["api", "audit", "authenticator"];

export const eksControlPlaneLogging: Rule = {
    name: "eks-control-plane-logging",
    description:
        "EKS clusters send their control-plane logs (by default api, audit and authenticator) to CloudWatch, so who changed what in the cluster can be traced.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            requiredLogTypes: {
                type: "array",
                items: { type: "string", enum: [...CONTROL_PLANE_LOG_TYPES] },
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
