// Pure: the platform's own Helm charts on an EKS cluster, in kube-system — what makes the cluster scale:
// - metrics-server, the resource metrics API every HorizontalPodAutoscaler reads (services', istiod's, the gateway's);
// - cluster-autoscaler with auto-discovery: it adds and removes nodes of each managed node group within the pool's
//   minSize..maxSize (EKS tags each group's Auto Scaling group `k8s.io/cluster-autoscaler/enabled` and
//   `k8s.io/cluster-autoscaler/<cluster>`, which is what it discovers). Why not Karpenter: README "Node autoscaling".
// The versions are pinned to the archives in ../shared/charts that the tests render (test/platform/upstream-charts.test.ts).
import { PlatformReleaseSpec } from "../shared/helm";
import type { EksClusterConfig } from "./config";

export const METRICS_SERVER_CHART = { chart: "metrics-server", repo: "https://kubernetes-sigs.github.io/metrics-server/", version: "3.13.1" } as const;
export const CLUSTER_AUTOSCALER_CHART = { chart: "cluster-autoscaler", repo: "https://kubernetes.github.io/autoscaler", version: "9.59.0" } as const;

/** Where the platform's controllers run. */
export const PLATFORM_NAMESPACE = "kube-system";
/** The cluster-autoscaler's ServiceAccount (and Deployment name); its IAM role is associated with it through Pod Identity. */
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";
/** Tag EKS puts on a managed node group's Auto Scaling group, naming the cluster it belongs to. */
export const autoscalerOwnershipTag = (clusterName: string) => `k8s.io/cluster-autoscaler/${clusterName}`;

/** Requests of each controller's container (the cost estimate prices them as a share of a node). */
export const METRICS_SERVER_RESOURCES = { requests: { cpu: "100m", memory: "200Mi" }, limits: { memory: "400Mi" } } as const;
export const CLUSTER_AUTOSCALER_RESOURCES = { requests: { cpu: "100m", memory: "300Mi" }, limits: { memory: "600Mi" } } as const;

export type PlatformChartKey = "metrics-server" | "cluster-autoscaler";
export type PlatformChartSpec = PlatformReleaseSpec<PlatformChartKey>;

/**
 * What the charts need to know of the cluster. The values are whatever the caller has: strings in the tests and
 * `npm run plan`, Pulumi outputs in the program. Given, not read from the instance metadata service, which pods
 * cannot reach (its hop limit is 1, components/platform/nodes.ts).
 */
export interface ClusterFacts<T = string> {
    clusterName: T;
    region: T;
}

/**
 * The platform is highly available where the stack's ingress is (several gateway replicas: uat, prod): then each
 * controller that can runs two replicas with a PodDisruptionBudget; staging saves the capacity.
 */
export function platformReplicas(cluster: EksClusterConfig): number {
    return cluster.istio.gateway.replicas > 1 ? 2 : 1;
}

/** Two replicas spread over the zones, one kept through a node drain; nothing for one replica. */
function highAvailability(replicas: number, selector: Record<string, string>) {
    return replicas > 1
        ? {
              podDisruptionBudget: { enabled: true, minAvailable: 1 },
              topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }],
          }
        : { podDisruptionBudget: { enabled: false }, topologySpreadConstraints: [] };
}

/** metrics-server: the chart's defaults (kubelet on its node port, 15 s resolution), sized and replicated for the stack. */
export function metricsServerValues(cluster: EksClusterConfig): Record<string, unknown> {
    const replicas = platformReplicas(cluster);
    return {
        fullnameOverride: "metrics-server",
        replicas,
        resources: { requests: { ...METRICS_SERVER_RESOURCES.requests }, limits: { ...METRICS_SERVER_RESOURCES.limits } },
        ...highAvailability(replicas, { "app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "metrics-server" }),
    };
}

/**
 * cluster-autoscaler on AWS with auto-discovery of the cluster's node groups; the image of the cluster's Kubernetes
 * minor (`cluster.addons`). Scale-down is not blocked by pods with emptyDir volumes: every meshed pod has them
 * (the sidecar's), so with the default no node running a service would ever be removed; a pod that must keep its
 * emptyDir says so with `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` (uat's Prometheus does).
 * Similar node groups are balanced across zones.
 */
export function clusterAutoscalerValues<T>(cluster: EksClusterConfig, facts: ClusterFacts<T>): Record<string, unknown> {
    return {
        fullnameOverride: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        cloudProvider: "aws",
        awsRegion: facts.region,
        autoDiscovery: { clusterName: facts.clusterName },
        image: { tag: cluster.addons["cluster-autoscaler"] },
        replicaCount: 1,
        rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } },
        resources: { requests: { ...CLUSTER_AUTOSCALER_RESOURCES.requests }, limits: { ...CLUSTER_AUTOSCALER_RESOURCES.limits } },
        extraArgs: {
            logtostderr: true,
            stderrthreshold: "info",
            v: 2,
            "balance-similar-node-groups": true,
            "skip-nodes-with-local-storage": false,
            expander: "least-waste",
        },
    };
}

const describe = (c: { chart: string; version: string }) => `${c.chart} ${c.version} (stagehand platform)`;

/** The platform's Helm releases on an EKS cluster, in install order. */
export function platformChartReleases<T>(cluster: EksClusterConfig, facts: ClusterFacts<T>): PlatformChartSpec[] {
    return [
        { key: "metrics-server", name: "metrics-server", ...METRICS_SERVER_CHART, namespace: PLATFORM_NAMESPACE, values: metricsServerValues(cluster), after: [], description: describe(METRICS_SERVER_CHART) },
        {
            key: "cluster-autoscaler",
            name: "cluster-autoscaler",
            ...CLUSTER_AUTOSCALER_CHART,
            namespace: PLATFORM_NAMESPACE,
            values: clusterAutoscalerValues(cluster, facts),
            after: [],
            description: describe(CLUSTER_AUTOSCALER_CHART),
        },
    ];
}

/**
 * The IAM policy of the cluster-autoscaler's role (its AWS provider's documented minimum): read the Auto Scaling
 * groups, instance types and node groups; change the size of, and terminate instances in, only the groups EKS tagged
 * as this cluster's.
 */
export function clusterAutoscalerPolicy(clusterName: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Action: [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                Resource: "*",
            },
            {
                Effect: "Allow",
                Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: "*",
                Condition: { StringEquals: { [`aws:ResourceTag/${autoscalerOwnershipTag(clusterName)}`]: "owned" } },
            },
        ],
    });
}

/** What the platform's controllers request, replicas counted: what the cost estimate prices. */
export function platformChartRequests(cluster: EksClusterConfig): { addon: string; replicas: number; cpu: string; memory: string }[] {
    return [
        { addon: "metrics-server", replicas: platformReplicas(cluster), ...METRICS_SERVER_RESOURCES.requests },
        { addon: "cluster-autoscaler", replicas: 1, ...CLUSTER_AUTOSCALER_RESOURCES.requests },
    ];
}
