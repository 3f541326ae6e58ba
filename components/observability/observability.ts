// Observability: the addons of ./values.ts installed where the stack config turns them on
// (`stagehand:observability`: uat and prod; staging leaves them off to save cost). Each waits for Istio. Storage
// is the platform's (components/platform/storage.ts): on EKS Prometheus's volume is of the cluster's encrypted gp3
// StorageClass; on an existing cluster, of that cluster's default class.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { platformReleases } from "../shared/helm-release";
import { ObservabilityConfig } from "./config";
import { AddonKey, observabilityAccess, observabilityReleases } from "./values";

export interface ObservabilityArgs {
    /** The stack's validated `stagehand:observability`. */
    config: ObservabilityConfig;
    provider?: k8s.Provider;
    /** The StorageClass of Prometheus's volume; absent: the cluster's default class. */
    storageClassName?: string;
    /** What every addon waits for: Istio (istio-system, istiod and its CRDs), and the StorageClass when there is one. */
    waitFor?: pulumi.Input<pulumi.Resource>[];
}

export class Observability extends pulumi.ComponentResource {
    public readonly releases: Partial<Record<AddonKey, k8s.helm.v3.Release>>;
    /** Which addons are on and how to reach them (the `observability` stack output). */
    public readonly access: Record<string, unknown>;

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:Observability", name, {}, opts);
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        const waitFor = args.waitFor ?? [];
        this.releases = platformReleases(name, observabilityReleases(args.config, args.storageClassName), k8sOpts, () => waitFor);
        this.access = observabilityAccess(args.config);
        this.registerOutputs({ access: this.access });
    }
}
