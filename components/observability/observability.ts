// Observability: the addons of ./values.ts installed where the stack config turns them on
// (`stagehand:observability`: uat and prod; staging leaves them off to save cost). Each waits for Istio. With
// persistent storage on EKS, the EBS CSI driver (an EKS add-on with its own IAM role through EKS Pod Identity)
// and a gp3 StorageClass come with it.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { platformReleases } from "../shared/helm-release";
import { ObservabilityConfig } from "./config";
import {
    AddonKey,
    EBS_CSI_POLICY_ARN,
    EBS_CSI_SERVICE_ACCOUNT,
    EBS_STORAGE_CLASS,
    ebsStorageClass,
    observabilityAccess,
    observabilityReleases,
    podIdentityTrustPolicy,
    prometheusPersistent,
} from "./values";

export interface ObservabilityArgs {
    /** The stack's validated `stagehand:observability`. */
    config: ObservabilityConfig;
    /** Where it runs. On EKS a persistent volume needs the EBS CSI driver, which this component adds. */
    platform: "eks" | "existing";
    provider?: k8s.Provider;
    /** EKS only: the cluster, for the EBS CSI driver add-on (installed once its nodes are up). */
    cluster?: { clusterName: pulumi.Input<string>; nodeGroups: pulumi.Resource[] };
    /** What every addon waits for: Istio (istio-system, istiod and its CRDs). */
    waitFor?: pulumi.Input<pulumi.Resource>[];
    tags?: Record<string, string>;
}

export class Observability extends pulumi.ComponentResource {
    public readonly releases: Partial<Record<AddonKey, k8s.helm.v3.Release>>;
    /** EKS with a persistent Prometheus volume: the EBS CSI driver add-on and the gp3 StorageClass. */
    public readonly ebsCsiDriver?: aws.eks.Addon;
    public readonly storageClass?: k8s.storage.v1.StorageClass;
    /** Which addons are on and how to reach them (the `observability` stack output). */
    public readonly access: Record<string, unknown>;

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:Observability", name, {}, opts);
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        const waitFor = args.waitFor ?? [];

        let storageClassName: string | undefined;
        if (args.platform === "eks" && prometheusPersistent(args.config)) {
            if (!args.cluster) throw new Error("Observability: a persistent Prometheus volume on EKS needs the cluster (args.cluster) for the EBS CSI driver");
            const awsOpts: pulumi.CustomResourceOptions = { parent: this };
            const nodes = args.cluster.nodeGroups;
            // EKS Pod Identity: the agent add-on, and a role only the driver's ServiceAccount assumes.
            const agent = new aws.eks.Addon(`${name}-pod-identity-agent`, { clusterName: args.cluster.clusterName, addonName: "eks-pod-identity-agent", tags: args.tags }, { ...awsOpts, dependsOn: nodes });
            const role = new aws.iam.Role(`${name}-ebs-csi`, { assumeRolePolicy: podIdentityTrustPolicy(), tags: args.tags }, awsOpts);
            const policy = new aws.iam.RolePolicyAttachment(`${name}-ebs-csi`, { role: role.name, policyArn: EBS_CSI_POLICY_ARN }, awsOpts);
            this.ebsCsiDriver = new aws.eks.Addon(
                `${name}-ebs-csi-driver`,
                {
                    clusterName: args.cluster.clusterName,
                    addonName: "aws-ebs-csi-driver",
                    podIdentityAssociations: [{ roleArn: role.arn, serviceAccount: EBS_CSI_SERVICE_ACCOUNT }],
                    tags: args.tags,
                },
                { ...awsOpts, dependsOn: [...nodes, agent, policy] },
            );
            const sc = ebsStorageClass();
            this.storageClass = new k8s.storage.v1.StorageClass(`${name}-gp3`, sc as k8s.storage.v1.StorageClassArgs, { ...k8sOpts, dependsOn: [this.ebsCsiDriver] });
            storageClassName = EBS_STORAGE_CLASS;
        }

        const storageClass = this.storageClass;
        this.releases = platformReleases(name, observabilityReleases(args.config, storageClassName), k8sOpts, (spec) =>
            spec.key === "prometheus" && storageClass ? [...waitFor, storageClass] : waitFor,
        );

        this.access = observabilityAccess(args.config);
        this.registerOutputs({ access: this.access });
    }
}
