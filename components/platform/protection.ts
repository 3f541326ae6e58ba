// Pure: which of a stack's resources Pulumi protects, so that neither `pulumi destroy` nor a change that would
// replace them (a cluster rename, a new VPC range, a node group on other subnets) deletes them without someone first
// lifting the protection on purpose (docs/platform.md "What each stack creates", "Removing a protected stack").
//
// `cluster.protect` (EKS only) turns it on: the VPC, the NAT gateways' Elastic IPs (the addresses partners may allow),
// the EKS cluster, its node groups, the control-plane log group (the audit log) and Prometheus's release with its
// volume. Where deleting would lose data, the resource is also kept on delete: the log group stays in CloudWatch
// (`retainOnDelete`), and Prometheus's claim stays in the cluster whatever happens to its release (the chart's
// `helm.sh/resource-policy: keep`, always on: components/observability/values.ts).
import { ObservabilityConfig } from "../observability/config";
import { ClusterConfig } from "./config";

/** The resources `cluster.protect` protects, by what they are. */
export const PROTECTED_KINDS = ["vpc", "natAddresses", "cluster", "nodeGroups", "controlPlaneLogs", "prometheusVolume"] as const;
export type ProtectedKind = (typeof PROTECTED_KINDS)[number];

/** The resource options of one kind of resource: `protect`, and `retainOnDelete` where deleting would lose data. */
export interface Protection {
    protect: boolean;
    retainOnDelete: boolean;
}

/** Kinds whose deletion loses data: kept in the cloud (or the cluster) even when Pulumi deletes them. */
const RETAINED: readonly ProtectedKind[] = ["controlPlaneLogs"];

/** Whether the stack protects its resources (EKS stacks with `cluster.protect`; an existing cluster has nothing of its own). */
export function protects(cluster: ClusterConfig): boolean {
    return cluster.kind === "eks" && cluster.protect;
}

/** The resource options the components give a resource of `kind`. */
export function protectionOf(cluster: ClusterConfig, kind: ProtectedKind): Protection {
    const on = protects(cluster);
    return { protect: on, retainOnDelete: on && RETAINED.includes(kind) };
}

/** What the stack protects, in words (`npm run plan`): empty when nothing is. */
export function protectedWords(cluster: ClusterConfig, observability: ObservabilityConfig): string[] {
    if (cluster.kind !== "eks" || !cluster.protect) return [];
    const words = [
        "VPC",
        ...(cluster.natGateways === "none" ? [] : ["NAT gateways' Elastic IPs"]),
        `EKS cluster ${cluster.name}`,
        `node groups (${cluster.nodePools.map((p) => p.name).join(", ")})`,
        `control-plane log group (kept on delete)`,
    ];
    if (observability.prometheus.enabled && observability.prometheus.storageGi > 0) words.push(`Prometheus and its ${observability.prometheus.storageGi}Gi volume`);
    return words;
}
