// Cluster: one stack's EKS cluster — VPC and subnets (tagged for EKS load balancers), NAT gateways when the
// nodes are private, IAM roles, the control-plane log group with its retention, the EKS control plane (API
// authentication; an API endpoint that is public, public to listed CIDR blocks, and/or private to the VPC), access
// entries for `admins` (cluster admin) and `viewers` (view, and the group of the port-forward to Prometheus),
// managed node groups (each with a launch template: IMDSv2 with one hop, an encrypted gp3 root volume), the core EKS
// add-ons as managed add-ons at the versions of `cluster.addons` (no self-managed bootstrap; the CNI and the EBS CSI
// driver with roles of their own through EKS Pod Identity) and a `kubernetes.Provider` that authenticates with
// `aws eks get-token` (kubeconfig.ts). `kind: existing` clusters create none of this: `existingClusterProvider`
// (kubeconfig.ts) points a provider at a kubeconfig already on the machine.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { azCount, controlPlaneLogGroupName, EksClusterConfig, natGatewayCount, VPC_CIDR } from "./config";
import { kubeconfigFor } from "./kubeconfig";
import { ADDONS_BEFORE_NODES, EKS_ADDONS, EksAddonName, VPC_CNI_CONFIGURATION } from "./addons";
import { ebsCsiDriverPolicy, podIdentityTrustPolicy, secretsKeyPolicy } from "./iam";
import { apiEndpointVpcConfig, natRouting, subnetLayout, subnetTags } from "./network";
import { nodeLaunchTemplate } from "./nodes";
import { protectionOf, ProtectedKind } from "./protection";
import { EBS_CSI_POLICY_ARN, EBS_CSI_SERVICE_ACCOUNT } from "./storage";
import { PROMETHEUS_READERS_GROUP } from "../observability/access";

/** Managed policies the EKS control plane role needs. */
export const CLUSTER_ROLE_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"];
/**
 * Managed policies the node role needs: join the cluster, pull images from ECR. Not the VPC CNI's policy: the CNI has
 * its own role through EKS Pod Identity (CNI_POLICY_ARN), so nothing on a node can use those permissions. Pulling
 * is all the kubelet does with ECR: AmazonEC2ContainerRegistryPullOnly (an authorization token, image manifests and
 * layers), not ReadOnly, which also lists and describes every repository and image of the account.
 */
export const NODE_ROLE_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"];
/** The VPC CNI's policy (ENIs and IP addresses), on the CNI's own role. */
export const CNI_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy";
/** The VPC CNI's ServiceAccount (the `aws-node` DaemonSet in kube-system). */
export const CNI_SERVICE_ACCOUNT = "aws-node";
/** The namespace of the EKS add-ons' ServiceAccounts (the CNI's and the EBS CSI driver's controller's). */
export const ADDON_NAMESPACE = "kube-system";
/**
 * The EBS CSI add-on's configuration: tag every volume and snapshot `kubernetes.io/cluster/<name>: owned`, the tag
 * its scoped policy (iam.ts ebsCsiDriverPolicy) conditions on.
 */
export function ebsCsiAddonConfiguration(clusterName: string): string {
    return JSON.stringify({ controller: { k8sTagClusterId: clusterName } });
}
/** EKS access policy given to `admins`. */
export const CLUSTER_ADMIN_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
/** EKS access policy given to `viewers`: get, list and watch most objects, cluster-wide, but not Secrets. */
export const VIEW_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
/**
 * Kubernetes groups of the `viewers`' access entries: the group the Observability component binds, with Prometheus
 * on, to the port-forward to Prometheus the metrics verdict needs (which the view policy does not grant). Without
 * Prometheus nothing binds it, and it grants nothing.
 */
export const VIEWER_KUBERNETES_GROUPS: readonly string[] = [PROMETHEUS_READERS_GROUP];
/** AMI of the managed nodes (the instance types of components/cost/prices.ts are all x86_64). */
export const NODE_AMI_TYPE = "AL2023_x86_64_STANDARD";

function assumeRolePolicy(service: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
    });
}

export interface ClusterArgs {
    /** The stack's validated `stagehand:cluster` (kind eks). */
    config: EksClusterConfig;
    /** Tags for every AWS resource, besides `Name`. */
    tags?: Record<string, string>;
}

export class Cluster extends pulumi.ComponentResource {
    public readonly vpc: aws.ec2.Vpc;
    public readonly publicSubnets: aws.ec2.Subnet[];
    public readonly privateSubnets: aws.ec2.Subnet[];
    public readonly natGateways: aws.ec2.NatGateway[];
    public readonly eksCluster: aws.eks.Cluster;
    /** HTTPS from the VPC to the private API endpoint (when private access is on). */
    public readonly apiFromVpc?: aws.vpc.SecurityGroupIngressRule;
    public readonly nodeGroups: aws.eks.NodeGroup[];
    /** The control-plane log group, created before the cluster so EKS writes into it (and keeps its retention). */
    public readonly logGroup: aws.cloudwatch.LogGroup;
    /** The launch template of each pool's nodes, by pool name. */
    public readonly launchTemplates: Record<string, aws.ec2.LaunchTemplate>;
    /** The managed EKS add-ons, by add-on name. */
    public readonly addons: Record<EksAddonName, aws.eks.Addon>;
    public readonly clusterName: pulumi.Output<string>;
    /** The region the cluster is in (for controllers, which must not read it from the instance metadata). */
    public readonly region: pulumi.Output<string>;
    /** kubeconfig of the cluster (a secret): authenticates with `aws eks get-token`. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** Kubernetes provider for everything installed on the cluster; ready once the node groups exist. */
    public readonly provider: k8s.Provider;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:Cluster", name, {}, opts);
        const config = args.config;
        const parent = { parent: this };
        // `cluster.protect`: what a destroy or a replacement must not delete (components/platform/protection.ts).
        const guarded = (kind: ProtectedKind) => ({ ...parent, ...protectionOf(config, kind) });
        const tagged = (resourceName: string, extra: Record<string, string> = {}) => ({ ...args.tags, Name: resourceName, ...extra });
        const count = azCount(config);

        // Zones: the listed ones, or the first `count` the region reports available.
        const zoneNames: pulumi.Output<string[]> = Array.isArray(config.availabilityZones)
            ? pulumi.output(config.availabilityZones)
            : aws.getAvailabilityZonesOutput({ state: "available" }, parent).names.apply((names) => {
                  if (names.length < count) throw new Error(`cluster.availabilityZones: ${count} requested, the region has ${names.length} available`);
                  return names.slice(0, count);
              });
        const zone = (i: number) => zoneNames.apply((z) => z[i]);

        // ---- network
        this.vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: VPC_CIDR, enableDnsHostnames: true, enableDnsSupport: true, tags: tagged(`${config.name}-vpc`) }, guarded("vpc"));
        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: this.vpc.id, tags: tagged(`${config.name}-igw`) }, parent);
        const publicRoutes = new aws.ec2.RouteTable(
            `${name}-public`,
            { vpcId: this.vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tagged(`${config.name}-public`) },
            parent,
        );

        const layout = subnetLayout(count, config.nodeSubnets);
        const publicAssociations: aws.ec2.RouteTableAssociation[] = [];
        this.publicSubnets = layout
            .filter((s) => s.public)
            .map((s) => {
                const subnet = new aws.ec2.Subnet(
                    `${name}-public-${s.az}`,
                    {
                        vpcId: this.vpc.id,
                        cidrBlock: s.cidr,
                        availabilityZone: zone(s.az),
                        // Nodes in public subnets need a public address to reach the EKS API, ECR and the internet.
                        mapPublicIpOnLaunch: config.nodeSubnets === "public",
                        tags: tagged(`${config.name}-public-${s.az}`, subnetTags(config.name, true)),
                    },
                    parent,
                );
                publicAssociations.push(new aws.ec2.RouteTableAssociation(`${name}-public-${s.az}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, parent));
                return subnet;
            });

        this.natGateways = Array.from({ length: natGatewayCount(config) }, (_, i) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: tagged(`${config.name}-nat-${i}`) }, guarded("natAddresses"));
            return new aws.ec2.NatGateway(
                `${name}-nat-${i}`,
                { allocationId: eip.id, subnetId: this.publicSubnets[i].id, connectivityType: "public", tags: tagged(`${config.name}-nat-${i}`) },
                { ...parent, dependsOn: [igw] },
            );
        });

        const nat = natRouting(count, config.natGateways);
        const privateAssociations: aws.ec2.RouteTableAssociation[] = [];
        this.privateSubnets = layout
            .filter((s) => !s.public)
            .map((s) => {
                const subnet = new aws.ec2.Subnet(
                    `${name}-private-${s.az}`,
                    {
                        vpcId: this.vpc.id,
                        cidrBlock: s.cidr,
                        availabilityZone: zone(s.az),
                        mapPublicIpOnLaunch: false,
                        tags: tagged(`${config.name}-private-${s.az}`, subnetTags(config.name, false)),
                    },
                    parent,
                );
                const routes = new aws.ec2.RouteTable(
                    `${name}-private-${s.az}`,
                    { vpcId: this.vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: this.natGateways[nat[s.az]].id }], tags: tagged(`${config.name}-private-${s.az}`) },
                    parent,
                );
                privateAssociations.push(new aws.ec2.RouteTableAssociation(`${name}-private-${s.az}`, { subnetId: subnet.id, routeTableId: routes.id }, parent));
                return subnet;
            });
        const nodeSubnets = config.nodeSubnets === "private" ? this.privateSubnets : this.publicSubnets;
        // Nodes join only once their subnets route to the internet (directly or through NAT).
        const nodeNetworkReady = config.nodeSubnets === "private" ? privateAssociations : publicAssociations;

        // ---- IAM
        const clusterRole = new aws.iam.Role(`${name}-cluster`, { assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com"), tags: tagged(`${config.name}-cluster`) }, parent);
        const clusterPolicies = CLUSTER_ROLE_POLICIES.map(
            (arn) => new aws.iam.RolePolicyAttachment(`${name}-cluster-${arn.split("/").pop()}`, { role: clusterRole.name, policyArn: arn }, parent),
        );
        const nodeRole = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), tags: tagged(`${config.name}-node`) }, parent);
        const nodePolicies = NODE_ROLE_POLICIES.map(
            (arn) => new aws.iam.RolePolicyAttachment(`${name}-node-${arn.split("/").pop()}`, { role: nodeRole.name, policyArn: arn }, parent),
        );

        // ---- Kubernetes Secrets: envelope-encrypted with a customer-managed key of their own ($1 a month), rotated yearly.
        const secretsKey = config.secretsEncryption
            ? new aws.kms.Key(
                  `${name}-secrets`,
                  {
                      description: `Kubernetes Secrets of EKS cluster ${config.name}`,
                      enableKeyRotation: true,
                      deletionWindowInDays: 30,
                      policy: pulumi
                          .all([aws.getCallerIdentityOutput({}, parent).accountId, clusterRole.arn])
                          .apply(([accountId, roleArn]) => secretsKeyPolicy(accountId, roleArn)),
                      tags: tagged(`${config.name}-secrets`),
                  },
                  parent,
              )
            : undefined;
        if (secretsKey) new aws.kms.Alias(`${name}-secrets`, { name: `alias/${config.name}-secrets`, targetKeyId: secretsKey.keyId }, parent);

        // ---- control plane
        // EKS creates /aws/eks/<name>/cluster without a retention (kept forever) the first time a log type is on;
        // created here first, it has one, and enabling logs later changes nothing.
        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-control-plane-logs`,
            { name: controlPlaneLogGroupName(config.name), retentionInDays: config.logRetentionDays, tags: tagged(controlPlaneLogGroupName(config.name)) },
            guarded("controlPlaneLogs"),
        );
        this.eksCluster = new aws.eks.Cluster(
            `${name}-eks`,
            {
                name: config.name,
                version: config.kubernetesVersion,
                roleArn: clusterRole.arn,
                vpcConfig: {
                    subnetIds: [...this.publicSubnets, ...this.privateSubnets].map((s) => s.id),
                    ...apiEndpointVpcConfig(config.apiEndpoint),
                },
                // Access entries only (no aws-auth ConfigMap), and only the listed ones: whoever runs `pulumi up` gets no
                // hidden cluster admin; `admins` (at least one, such as the deploy role) does.
                accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
                ...(secretsKey ? { encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] } } : {}),
                // No self-managed vpc-cni, kube-proxy and CoreDNS, which would never upgrade: the managed add-ons below.
                bootstrapSelfManagedAddons: false,
                enabledClusterLogTypes: config.logging,
                tags: tagged(config.name),
            },
            // Changing bootstrapSelfManagedAddons replaces a cluster: one created before keeps its value, and the managed
            // add-ons take over its self-managed copies (resolveConflictsOnCreate: OVERWRITE). So does changing
            // bootstrapClusterCreatorAdminPermissions: a cluster created with it keeps its creator's access entry until
            // it is deleted by hand (docs/platform.md "What each stack creates").
            { ...guarded("cluster"), dependsOn: [...clusterPolicies, this.logGroup], ignoreChanges: ["bootstrapSelfManagedAddons", "accessConfig.bootstrapClusterCreatorAdminPermissions"] },
        );
        this.clusterName = this.eksCluster.name;

        // The private endpoint's network interfaces carry the cluster security group, which EKS creates letting in
        // only itself (the nodes). Clients elsewhere in the VPC, such as a CI runner that runs `pulumi up` for a
        // private-only cluster, need HTTPS from the VPC let in too.
        this.apiFromVpc = config.apiEndpoint.private
            ? new aws.vpc.SecurityGroupIngressRule(
                  `${name}-api-from-vpc`,
                  {
                      securityGroupId: this.eksCluster.vpcConfig.clusterSecurityGroupId,
                      description: "Kubernetes API (private endpoint) from the VPC",
                      cidrIpv4: VPC_CIDR,
                      ipProtocol: "tcp",
                      fromPort: 443,
                      toPort: 443,
                      tags: tagged(`${config.name}-api-from-vpc`),
                  },
                  parent,
              )
            : undefined;

        // An access entry per principal, with one access policy on the whole cluster: cluster admin for `admins`,
        // view for `viewers` (such as CI's preview role), whose entries also put them in VIEWER_KUBERNETES_GROUPS
        // (the port-forward to Prometheus, bound where Prometheus is installed).
        const grantAccess = (kind: "admin" | "viewer", principals: string[], policyArn: string, kubernetesGroups?: readonly string[]) =>
            principals.map((principalArn, i) => {
                const entry = new aws.eks.AccessEntry(
                    `${name}-${kind}-${i}`,
                    { clusterName: this.eksCluster.name, principalArn, type: "STANDARD", ...(kubernetesGroups ? { kubernetesGroups: [...kubernetesGroups] } : {}) },
                    parent,
                );
                return new aws.eks.AccessPolicyAssociation(
                    `${name}-${kind}-${i}`,
                    { clusterName: this.eksCluster.name, principalArn, policyArn, accessScope: { type: "cluster" } },
                    { ...parent, dependsOn: [entry] },
                );
            });
        const adminAccess = grantAccess("admin", config.admins, CLUSTER_ADMIN_ACCESS_POLICY);
        // The provider does not wait for these: whoever runs `pulumi up` is an admin, not a viewer.
        grantAccess("viewer", config.viewers, VIEW_ACCESS_POLICY, VIEWER_KUBERNETES_GROUPS);

        // ---- managed EKS add-ons, at the versions of `cluster.addons`. Roles of their own through EKS Pod Identity:
        // the VPC CNI's (ENIs and addresses) and the EBS CSI driver's controller's (volumes).
        // Before they moved here, prod's EBS CSI driver, Pod Identity agent and the driver's role were children of the
        // Observability component: the aliases adopt them, so they are not replaced.
        const formerly = (resourceName: string | undefined): pulumi.CustomResourceOptions =>
            resourceName ? { aliases: [{ name: resourceName, parent: pulumi.createUrn("observability", "stagehand:index:Observability") }] } : {};
        const FORMER_NAMES: Partial<Record<EksAddonName, string>> = { "eks-pod-identity-agent": "observability-pod-identity-agent", "aws-ebs-csi-driver": "observability-ebs-csi-driver" };
        // Each role is assumable only by its ServiceAccount on this cluster (iam.ts podIdentityTrustPolicy).
        const podIdentityRole = (key: string, serviceAccount: string, former?: string) =>
            new aws.iam.Role(
                `${name}-${key}`,
                {
                    assumeRolePolicy: this.eksCluster.arn.apply((clusterArn) => podIdentityTrustPolicy({ clusterArn, namespace: ADDON_NAMESPACE, serviceAccount })),
                    tags: tagged(`${config.name}-${key}`),
                },
                { ...parent, ...formerly(former) },
            );
        const cniRole = podIdentityRole("vpc-cni", CNI_SERVICE_ACCOUNT);
        const cni = { role: cniRole, attachment: new aws.iam.RolePolicyAttachment(`${name}-vpc-cni`, { role: cniRole.name, policyArn: CNI_POLICY_ARN }, parent) };
        // The EBS CSI driver: this cluster's volumes only (iam.ts ebsCsiDriverPolicy), not AWS's account-wide managed
        // policy, whose attachment (formerly `${name}-ebs-csi`) this replaces.
        const ebsCsiRole = podIdentityRole("ebs-csi", EBS_CSI_SERVICE_ACCOUNT, "observability-ebs-csi");
        const ebsCsi = { role: ebsCsiRole, attachment: new aws.iam.RolePolicy(`${name}-ebs-csi-scoped`, { role: ebsCsiRole.id, policy: ebsCsiDriverPolicy(config.name) }, parent) };
        const addonArgs: Record<EksAddonName, { extra: Partial<aws.eks.AddonArgs>; dependsOn: pulumi.Resource[] }> = {
            "eks-pod-identity-agent": { extra: {}, dependsOn: [] },
            "vpc-cni": { extra: { podIdentityAssociations: [{ roleArn: cni.role.arn, serviceAccount: CNI_SERVICE_ACCOUNT }], configurationValues: JSON.stringify(VPC_CNI_CONFIGURATION) }, dependsOn: [cni.attachment] },
            "kube-proxy": { extra: {}, dependsOn: [] },
            coredns: { extra: {}, dependsOn: [] },
            "aws-ebs-csi-driver": {
                extra: { podIdentityAssociations: [{ roleArn: ebsCsi.role.arn, serviceAccount: EBS_CSI_SERVICE_ACCOUNT }], configurationValues: ebsCsiAddonConfiguration(config.name) },
                dependsOn: [ebsCsi.attachment],
            },
        };
        const addons: Partial<Record<EksAddonName, aws.eks.Addon>> = {};
        const installAddon = (addonName: EksAddonName, after: pulumi.Resource[]) => {
            const { extra, dependsOn } = addonArgs[addonName];
            addons[addonName] = new aws.eks.Addon(
                `${name}-${addonName}`,
                {
                    clusterName: this.eksCluster.name,
                    addonName,
                    addonVersion: config.addons[addonName],
                    // Take over what a cluster bootstrapped before runs, and keep the add-on as the stack says.
                    resolveConflictsOnCreate: "OVERWRITE",
                    resolveConflictsOnUpdate: "OVERWRITE",
                    ...extra,
                    tags: args.tags,
                },
                { ...parent, dependsOn: [...dependsOn, ...after], ...formerly(FORMER_NAMES[addonName]) },
            );
        };
        // What a node needs to become Ready comes first: the Pod Identity agent (the CNI's credentials), the CNI, kube-proxy.
        installAddon("eks-pod-identity-agent", []);
        for (const a of ADDONS_BEFORE_NODES.filter((x) => x !== "eks-pod-identity-agent")) installAddon(a, [addons["eks-pod-identity-agent"]!]);
        const beforeNodes = ADDONS_BEFORE_NODES.map((a) => addons[a]!);

        // ---- nodes (EKS gives managed node groups' role its access entry by itself), each pool with its launch template
        this.launchTemplates = {};
        this.nodeGroups = config.nodePools.map((pool) => {
            const template = new aws.ec2.LaunchTemplate(
                `${name}-${pool.name}`,
                {
                    description: `nodes of pool ${pool.name} of ${config.name}: IMDSv2 with one hop, an encrypted gp3 root volume`,
                    ...nodeLaunchTemplate(pool, tagged(`${config.name}-${pool.name}`)),
                    updateDefaultVersion: true,
                    tags: tagged(`${config.name}-${pool.name}`),
                },
                parent,
            );
            this.launchTemplates[pool.name] = template;
            return new aws.eks.NodeGroup(
                `${name}-${pool.name}`,
                {
                    clusterName: this.eksCluster.name,
                    nodeRoleArn: nodeRole.arn,
                    subnetIds: nodeSubnets.map((s) => s.id),
                    capacityType: pool.capacityType,
                    instanceTypes: pool.instanceTypes,
                    amiType: NODE_AMI_TYPE,
                    // The root volume's size is the launch template's (EKS refuses diskSize with a launch template).
                    launchTemplate: { id: template.id, version: template.latestVersion.apply((v) => String(v)) },
                    scalingConfig: { minSize: pool.minSize, desiredSize: pool.desiredSize, maxSize: pool.maxSize },
                    updateConfig: { maxUnavailable: 1 },
                    labels: { "stagehand.io/pool": pool.name, "stagehand.io/capacity-type": pool.capacityType },
                    tags: tagged(`${config.name}-${pool.name}`),
                },
                // The autoscaler changes desiredSize within minSize..maxSize: the stack does not set it back.
                { ...guarded("nodeGroups"), dependsOn: [...nodePolicies, ...nodeNetworkReady, ...beforeNodes], ignoreChanges: ["scalingConfig.desiredSize"] },
            );
        });

        // What runs as a Deployment needs nodes: CoreDNS and the EBS CSI driver's controller.
        for (const a of EKS_ADDONS.filter((x) => !ADDONS_BEFORE_NODES.includes(x))) installAddon(a, [...this.nodeGroups, addons["eks-pod-identity-agent"]!]);
        this.addons = addons as Record<EksAddonName, aws.eks.Addon>;

        const region = aws.getRegionOutput({}, parent).region;
        this.region = region;
        this.kubeconfig = pulumi.secret(
            pulumi
                .all([this.eksCluster.name, this.eksCluster.endpoint, this.eksCluster.certificateAuthority.data, region])
                .apply(([clusterName, endpoint, certificateAuthorityData, r]) => kubeconfigFor({ clusterName, endpoint, certificateAuthorityData, region: r })),
        );
        // The kubeconfig's endpoint URL is the same whichever access is on; inside the VPC, with private access on,
        // it resolves to the private endpoint.
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig },
            { ...parent, dependsOn: [...this.nodeGroups, ...adminAccess, ...(this.apiFromVpc ? [this.apiFromVpc] : [])] },
        );

        this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig, vpcId: this.vpc.id });
    }
}
