// Pure: the versions that follow the cluster's Kubernetes version. The core EKS add-ons are managed EKS add-ons, never
// the self-managed copies EKS bootstraps, so `pulumi up` upgrades them with the cluster: change `kubernetesVersion`
// and every default below moves with it (or `cluster.addons` pins one). The cluster-autoscaler image is here too:
// its minor version must be the cluster's.
//
// Where the defaults come from (they could not be checked against AWS from here — check them before relying on them):
// - kube-proxy and CoreDNS: the EKS user guide's version tables for 1.35 (managing-kube-proxy, managing-coredns,
//   2026 snapshots list kube-proxy v1.35.3-eksbuild.2 to .13 and CoreDNS v1.13.2-eksbuild.4 / v1.14.2-eksbuild.4);
// - all five: one public Terraform configuration of an EKS 1.35 cluster pinning vpc-cni v1.22.1-eksbuild.2,
//   coredns v1.14.3-eksbuild.2, kube-proxy v1.35.3-eksbuild.11, aws-ebs-csi-driver v1.61.1-eksbuild.1 and
//   eks-pod-identity-agent v1.3.10-eksbuild.3, consistent with those tables;
// - cluster-autoscaler v1.35.0: the appVersion of the cluster-autoscaler chart 9.59.0 in ../shared/charts.
// Check with: aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name <name> \
//   --query 'addons[].addonVersions[].addonVersion' --output text
import type { ClusterConfig } from "./config";

/** The managed EKS add-ons of every stack's cluster. */
export const EKS_ADDONS = ["eks-pod-identity-agent", "vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"] as const;
export type EksAddonName = (typeof EKS_ADDONS)[number];

/**
 * DaemonSets a node needs to become Ready (pod networking, the Service proxy, and the Pod Identity agent the CNI gets
 * its credentials from): installed before the node groups. The others run as Deployments, which need nodes.
 */
/**
 * The VPC CNI's add-on configuration: its network policy agent on, so Kubernetes NetworkPolicies are enforced (the
 * CNI ignores them otherwise). A string, as the add-on's configuration schema takes it.
 */
export const VPC_CNI_CONFIGURATION = { enableNetworkPolicy: "true" } as const;

export const ADDONS_BEFORE_NODES: readonly EksAddonName[] = ["eks-pod-identity-agent", "vpc-cni", "kube-proxy"];

/** Everything whose version follows the Kubernetes version: the EKS add-ons and the cluster-autoscaler image. */
export const VERSIONED_ADDONS = [...EKS_ADDONS, "cluster-autoscaler"] as const;
export type VersionedAddon = (typeof VERSIONED_ADDONS)[number];
export type AddonVersions = Record<VersionedAddon, string>;

/** The default versions per Kubernetes minor version (see the header for where each comes from). */
export const DEFAULT_ADDON_VERSIONS: Readonly<Record<string, AddonVersions>> = {
    "1.35": {
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
        "vpc-cni": "v1.22.1-eksbuild.2",
        "kube-proxy": "v1.35.3-eksbuild.11",
        coredns: "v1.14.3-eksbuild.2",
        "aws-ebs-csi-driver": "v1.61.1-eksbuild.1",
        "cluster-autoscaler": "v1.35.0",
    },
};

/** An EKS add-on version as EKS names them: `v<major>.<minor>.<patch>-eksbuild.<n>`. */
export const EKS_ADDON_VERSION = /^v\d+\.\d+\.\d+-eksbuild\.\d+$/;
/** A cluster-autoscaler image tag: `v<major>.<minor>.<patch>`. */
export const AUTOSCALER_TAG = /^v\d+\.\d+\.\d+$/;

/** Add-ons whose minor version must be the cluster's Kubernetes minor. */
export const FOLLOWS_KUBERNETES_MINOR: readonly VersionedAddon[] = ["kube-proxy", "cluster-autoscaler"];

/** Where to find the versions of an add-on for a Kubernetes version, in words. */
export function whereToFindVersions(addon: VersionedAddon, kubernetesVersion: string): string {
    return addon === "cluster-autoscaler"
        ? `use a cluster-autoscaler v${kubernetesVersion}.x release, https://github.com/kubernetes/autoscaler/releases`
        : `list them with aws eks describe-addon-versions --kubernetes-version ${kubernetesVersion} --addon-name ${addon} --query 'addons[].addonVersions[].addonVersion' --output text`;
}

/**
 * The versions a cluster runs, one line each, as `npm run plan` shows them: each with where it comes from (the
 * default for its Kubernetes version, or the stack's own `cluster.addons`). An existing cluster's add-ons are its own.
 */
export function formatAddonVersions(cluster: ClusterConfig): string[] {
    if (cluster.kind !== "eks") return ["cluster add-ons: none managed (kind: existing, the cluster's own)"];
    const defaults = DEFAULT_ADDON_VERSIONS[cluster.kubernetesVersion];
    const width = Math.max(...VERSIONED_ADDONS.map((a) => a.length));
    const versionWidth = Math.max(...VERSIONED_ADDONS.map((a) => cluster.addons[a].length));
    const source = (a: VersionedAddon) => (defaults?.[a] === cluster.addons[a] ? `default for Kubernetes ${cluster.kubernetesVersion}` : "cluster.addons");
    return [
        `cluster add-ons of Kubernetes ${cluster.kubernetesVersion} (EKS add-ons; the cluster-autoscaler image):`,
        ...VERSIONED_ADDONS.map((a) => `  ${a.padEnd(width)}  ${cluster.addons[a].padEnd(versionWidth)}  ${source(a)}`),
    ];
}
