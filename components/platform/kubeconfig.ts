// How the program reaches a cluster's Kubernetes API: a kubeconfig for an EKS cluster it creates (the user runs
// `aws eks get-token`), or a provider for a cluster that already exists (`kind: existing`), from a kubeconfig on
// the machine. Apart from the Cluster component (cluster.ts), which builds what these point at.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as os from "os";
import * as path from "path";
import { ExistingClusterConfig } from "./config";

export interface KubeconfigParts {
    clusterName: string;
    endpoint: string;
    certificateAuthorityData: string;
    region: string;
}

/** A kubeconfig whose user authenticates with `aws eks get-token` (the AWS CLI and its credentials). */
export function kubeconfigFor({ clusterName, endpoint, certificateAuthorityData, region }: KubeconfigParts): string {
    const name = clusterName;
    return JSON.stringify(
        {
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name, cluster: { server: endpoint, "certificate-authority-data": certificateAuthorityData } }],
            contexts: [{ name, context: { cluster: name, user: name } }],
            "current-context": name,
            users: [
                {
                    name,
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: "aws",
                            args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
                            interactiveMode: "Never",
                        },
                    },
                },
            ],
        },
        null,
        2,
    );
}

/** `~/x` → `<home>/x`; other paths unchanged. */
export function expandHome(p: string, home = os.homedir()): string {
    return p === "~" ? home : p.startsWith("~/") ? path.join(home, p.slice(2)) : p;
}

/**
 * A provider for a cluster that already exists (kind, k3d, minikube…): the configured kubeconfig path and
 * context, else what kubectl would use ($KUBECONFIG or ~/.kube/config, its current context).
 */
export function existingClusterProvider(name: string, config: ExistingClusterConfig, opts?: pulumi.CustomResourceOptions): k8s.Provider {
    return new k8s.Provider(name, { kubeconfig: config.kubeconfig ? expandHome(config.kubeconfig) : undefined, context: config.context }, opts);
}
