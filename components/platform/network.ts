// Pure: the network of a stack's EKS cluster — its subnets per availability zone (public for load balancers and
// NAT gateways, private for the nodes when they are private), which NAT gateway each private subnet routes through,
// the tags that let EKS place load balancers, and the API endpoint's part of the cluster's VPC config. The Cluster
// component (cluster.ts) builds these; the tests and the cost model read them without the engine.
import { ApiEndpointConfig } from "./api-endpoint-config";
import { EksClusterConfig } from "./config";

export interface SubnetPlan {
    /** Index of the availability zone (0-based) in the cluster's zone list. */
    az: number;
    cidr: string;
    public: boolean;
}

/**
 * The subnets of a cluster: one public subnet per AZ (load balancers, NAT gateways, and the nodes when
 * `nodeSubnets: public`), plus one private subnet per AZ for the nodes when `nodeSubnets: private`.
 * Private subnets are /19 (8k addresses: with the VPC CNI every pod takes one) from 10.0.0.0, public ones /21
 * (2k addresses) from 10.0.192.0, so six zones fit in the /16.
 */
export function subnetLayout(azs: number, nodeSubnets: "public" | "private"): SubnetPlan[] {
    if (azs < 1 || azs > 6) throw new RangeError(`subnetLayout: ${azs} availability zones, expected 1 to 6`);
    const plans: SubnetPlan[] = [];
    for (let i = 0; i < azs; i++) plans.push({ az: i, cidr: `10.0.${192 + i * 8}.0/21`, public: true });
    if (nodeSubnets === "private") for (let i = 0; i < azs; i++) plans.push({ az: i, cidr: `10.0.${i * 32}.0/19`, public: false });
    return plans;
}

/** For each private subnet's AZ, the index of the NAT gateway its default route uses. */
export function natRouting(azs: number, natGateways: EksClusterConfig["natGateways"]): number[] {
    if (natGateways === "none") return [];
    return Array.from({ length: azs }, (_, i) => (natGateways === "perAz" ? i : 0));
}

/** Tags that let EKS place internet-facing (public) or internal (private) load balancers in a subnet. */
export function subnetTags(clusterName: string, isPublic: boolean): Record<string, string> {
    return {
        [isPublic ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb"]: "1",
        [`kubernetes.io/cluster/${clusterName}`]: "shared",
    };
}

/**
 * The API endpoint part of the EKS cluster's `vpcConfig`. `publicAccessCidrs` is written out whenever the public
 * endpoint is on (["0.0.0.0/0"] is AWS's default, so the state matches what AWS reports); with the public
 * endpoint off it is left to AWS.
 */
export function apiEndpointVpcConfig(endpoint: ApiEndpointConfig): { endpointPublicAccess: boolean; endpointPrivateAccess: boolean; publicAccessCidrs?: string[] } {
    return {
        endpointPublicAccess: endpoint.public,
        endpointPrivateAccess: endpoint.private,
        ...(endpoint.public ? { publicAccessCidrs: [...endpoint.publicAccessCidrs] } : {}),
    };
}
