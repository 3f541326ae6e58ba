// ClusterAddons: what the platform installs on an EKS cluster once its nodes and EKS add-ons are up, before Istio and
// anything else: the encrypted gp3 StorageClass (the cluster's default), metrics-server, the cluster-autoscaler and
// the AWS Load Balancer Controller (./charts.ts), the two controllers with their own IAM roles through EKS Pod
// Identity. Everything here is the platform's, not a service's or an observability addon's.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { platformReleases } from "../shared/helm-release";
import {
    CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
    clusterAutoscalerPolicy,
    LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
    PLATFORM_NAMESPACE,
    PlatformChartKey,
    platformChartReleases,
} from "./charts";
import { EksClusterConfig } from "./config";
import { loadBalancerControllerPolicy, podIdentityTrustPolicy } from "./iam";
import { EBS_STORAGE_CLASS, ebsStorageClass } from "./storage";

export interface ClusterAddonsArgs {
    /** The stack's validated `stagehand:cluster` (kind eks). */
    config: EksClusterConfig;
    provider: k8s.Provider;
    /** The EKS cluster's name, region and VPC, for the controllers (given, never read from the instance metadata). */
    clusterName: pulumi.Input<string>;
    /** The EKS cluster's ARN: each controller's role is assumable only through this cluster's Pod Identity. */
    clusterArn: pulumi.Input<string>;
    region: pulumi.Input<string>;
    vpcId: pulumi.Input<string>;
    /** What the addons wait for: the EKS add-ons (the StorageClass's provisioner, DNS, the Pod Identity agent). */
    waitFor: pulumi.Input<pulumi.Resource>[];
    tags?: Record<string, string>;
}

export class ClusterAddons extends pulumi.ComponentResource {
    public readonly storageClass: k8s.storage.v1.StorageClass;
    /** The name of the cluster's default StorageClass. */
    public readonly storageClassName = EBS_STORAGE_CLASS;
    public readonly releases: Partial<Record<PlatformChartKey, k8s.helm.v3.Release>>;

    constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:ClusterAddons", name, {}, opts);
        const parent = { parent: this };
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        // Formerly `observability-gp3`, a child of the Observability component (prod): adopted, not replaced.
        this.storageClass = new k8s.storage.v1.StorageClass(`${name}-gp3`, ebsStorageClass(), {
            ...k8sOpts,
            dependsOn: args.waitFor,
            aliases: [{ name: "observability-gp3", parent: pulumi.createUrn("observability", "stagehand:index:Observability") }],
        });

        // Each controller that calls AWS gets its own role, for its ServiceAccount on this cluster only: the
        // cluster-autoscaler may resize only this cluster's node groups; the load balancer controller manages only
        // what it tagged as this cluster's, in this cluster's VPC.
        const controllerIdentity = (key: PlatformChartKey, serviceAccount: string, policy: pulumi.Input<string>) => {
            const assumeRolePolicy = pulumi.output(args.clusterArn).apply((clusterArn) => podIdentityTrustPolicy({ clusterArn, namespace: PLATFORM_NAMESPACE, serviceAccount }));
            const role = new aws.iam.Role(`${name}-${key}`, { assumeRolePolicy, tags: args.tags }, parent);
            const rolePolicy = new aws.iam.RolePolicy(`${name}-${key}`, { role: role.id, policy }, parent);
            return new aws.eks.PodIdentityAssociation(
                `${name}-${key}`,
                { clusterName: args.clusterName, namespace: PLATFORM_NAMESPACE, serviceAccount, roleArn: role.arn, tags: args.tags },
                { ...parent, dependsOn: [rolePolicy] },
            );
        };
        const identities: Partial<Record<PlatformChartKey, aws.eks.PodIdentityAssociation>> = {
            "cluster-autoscaler": controllerIdentity("cluster-autoscaler", CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, pulumi.output(args.clusterName).apply(clusterAutoscalerPolicy)),
            "aws-load-balancer-controller": controllerIdentity(
                "aws-load-balancer-controller",
                LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
                pulumi.all([args.clusterName, args.vpcId]).apply(([clusterName, vpcId]) => loadBalancerControllerPolicy({ clusterName, vpcId })),
            ),
        };

        const facts = { clusterName: args.clusterName, region: args.region, vpcId: args.vpcId };
        this.releases = platformReleases(name, platformChartReleases(args.config, facts), k8sOpts, (spec) => {
            const identity = identities[spec.key];
            return identity ? [...args.waitFor, identity] : args.waitFor;
        });
        this.registerOutputs({ storageClassName: this.storageClassName });
    }
}
