// Pure: the cluster's block storage. EKS clusters have no CSI driver for EBS out of the box; the platform installs
// the `aws-ebs-csi-driver` EKS add-on (its controller's IAM role through EKS Pod Identity) and one StorageClass,
// `stagehand-gp3`, the cluster's default: gp3 volumes, always encrypted, created in the zone of the pod that first
// mounts them. Prometheus's volume (prod) is one of them; so is any workload's claim that names no class.

/** The StorageClass every volume on the cluster gets unless its claim names another one. */
export const EBS_STORAGE_CLASS = "stagehand-gp3";
/** The EBS CSI driver's controller ServiceAccount (the add-on creates it in kube-system). */
export const EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa";
/**
 * AWS's managed policy for the EBS CSI driver's controller: account-wide (any volume tagged `ebs.csi.aws.com/cluster`),
 * so no longer attached. The controller's role has iam.ts `ebsCsiDriverPolicy` instead, this cluster's volumes only.
 */
export const EBS_CSI_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";
/** The EBS CSI driver's provisioner name. */
export const EBS_CSI_PROVISIONER = "ebs.csi.aws.com";

/**
 * The gp3 StorageClass (the body of a `storage.k8s.io/v1` StorageClass): encrypted with the account's default EBS
 * key whatever the account's "encryption by default" setting, `WaitForFirstConsumer` so a volume is created in its
 * pod's zone, expandable, deleted with its claim. The cluster's default class.
 */
export function ebsStorageClass(): { metadata: { name: string; annotations: Record<string, string> }; provisioner: string; parameters: Record<string, string>; volumeBindingMode: string; reclaimPolicy: string; allowVolumeExpansion: boolean } {
    return {
        metadata: { name: EBS_STORAGE_CLASS, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
        provisioner: EBS_CSI_PROVISIONER,
        parameters: { type: "gp3", encrypted: "true" },
        volumeBindingMode: "WaitForFirstConsumer",
        reclaimPolicy: "Delete",
        allowVolumeExpansion: true,
    };
}
