// ClusterAddons: what the platform installs on an EKS cluster once its nodes and EKS add-ons are up, before Istio and
// anything else: the encrypted gp3 StorageClass (the cluster's default). Everything here is the platform's, not a
// service's or an observability addon's.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EBS_STORAGE_CLASS, ebsStorageClass } from "./storage";

export interface ClusterAddonsArgs {
    provider: k8s.Provider;
    /** What the addons wait for: the EBS CSI driver (the StorageClass's provisioner). */
    waitFor: pulumi.Input<pulumi.Resource>[];
}

export class ClusterAddons extends pulumi.ComponentResource {
    public readonly storageClass: k8s.storage.v1.StorageClass;
    /** The name of the cluster's default StorageClass. */
    public readonly storageClassName = EBS_STORAGE_CLASS;

    constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:ClusterAddons", name, {}, opts);
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        // Formerly `observability-gp3`, a child of the Observability component (prod): adopted, not replaced.
        this.storageClass = new k8s.storage.v1.StorageClass(`${name}-gp3`, ebsStorageClass(), {
            ...k8sOpts,
            dependsOn: args.waitFor,
            aliases: [{ name: "observability-gp3", parent: pulumi.createUrn("observability", "stagehand:index:Observability") }],
        });
        this.registerOutputs({ storageClassName: this.storageClassName });
    }
}
