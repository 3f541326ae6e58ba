// Pure: what every node of every pool runs with, through one EC2 launch template per pool (EKS managed node groups
// take the rest — AMI, instance types, user data — from the node group). Two things a node must never do:
// - hand its own IAM credentials to pods: the instance metadata service answers only IMDSv2 (session tokens) with a
//   response hop limit of 1, so a token request from a pod (one hop further, through its own network namespace)
//   never gets an answer; host-network pods (the VPC CNI, kube-proxy, the Pod Identity agent) are not one hop
//   further and still reach it. Controllers get their own roles through EKS Pod Identity instead;
// - keep unencrypted data: the root volume is gp3 and encrypted (the account's default EBS key) whatever the
//   account's "EBS encryption by default" setting is.
import type { NodePoolConfig } from "./config";

/** IMDS response hop limit: 1 keeps the node's credentials from its (non-host-network) pods. */
export const IMDS_HOP_LIMIT = 1;
/** The root device of the EKS-optimized Amazon Linux 2023 AMIs the node groups run (NODE_AMI_TYPE). */
export const NODE_ROOT_DEVICE = "/dev/xvda";

export interface NodeLaunchTemplate {
    metadataOptions: { httpEndpoint: "enabled"; httpTokens: "required"; httpPutResponseHopLimit: number; instanceMetadataTags: "disabled" };
    blockDeviceMappings: { deviceName: string; ebs: { volumeSize: number; volumeType: "gp3"; encrypted: "true"; deleteOnTermination: "true" } }[];
    tagSpecifications: { resourceType: "instance" | "volume"; tags: Record<string, string> }[];
}

/** The launch template data of a pool's nodes: IMDSv2 with one hop, an encrypted gp3 root volume of `diskSize` GiB. */
export function nodeLaunchTemplate(pool: Pick<NodePoolConfig, "diskSize">, tags: Record<string, string>): NodeLaunchTemplate {
    return {
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: IMDS_HOP_LIMIT, instanceMetadataTags: "disabled" },
        blockDeviceMappings: [{ deviceName: NODE_ROOT_DEVICE, ebs: { volumeSize: pool.diskSize, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
        tagSpecifications: [
            { resourceType: "instance", tags: { ...tags } },
            { resourceType: "volume", tags: { ...tags } },
        ],
    };
}
