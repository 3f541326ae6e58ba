// Pure: the platform's own Helm charts on an EKS cluster, in kube-system — what makes the cluster scale:
// - metrics-server, the resource metrics API every HorizontalPodAutoscaler reads (services', istiod's, the gateway's);
// - cluster-autoscaler with auto-discovery: it adds and removes nodes of each managed node group within the pool's
//   minSize..maxSize (EKS tags each group's Auto Scaling group `k8s.io/cluster-autoscaler/enabled` and
//   `k8s.io/cluster-autoscaler/<cluster>`, which is what it discovers). Why not Karpenter: docs/platform.md "Autoscaling";
// - the AWS Load Balancer Controller, which turns the ingress gateway's LoadBalancer Service into an NLB with IP
//   targets (the gateway's pods themselves), in place of Kubernetes' legacy in-tree controller.
// The versions are pinned to the archives in ../shared/charts that the tests render (test/platform/upstream-charts.test.ts).
import { PlatformReleaseSpec } from "../shared/helm";
import type { EksClusterConfig } from "./config";

export const METRICS_SERVER_CHART = { chart: "metrics-server", repo: "https://kubernetes-sigs.github.io/metrics-server/", version: "3.13.1" } as const;
export const CLUSTER_AUTOSCALER_CHART = { chart: "cluster-autoscaler", repo: "https://kubernetes.github.io/autoscaler", version: "9.59.0" } as const;
export const LOAD_BALANCER_CONTROLLER_CHART = { chart: "aws-load-balancer-controller", repo: "https://aws.github.io/eks-charts", version: "3.5.0" } as const;

/** Where the platform's controllers run. */
export const PLATFORM_NAMESPACE = "kube-system";
/** The cluster-autoscaler's ServiceAccount (and Deployment name); its IAM role is associated with it through Pod Identity. */
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";
/** The AWS Load Balancer Controller's ServiceAccount (and Deployment name); its IAM role comes through Pod Identity. */
export const LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller";
/** Tag EKS puts on a managed node group's Auto Scaling group, naming the cluster it belongs to. */
export const autoscalerOwnershipTag = (clusterName: string) => `k8s.io/cluster-autoscaler/${clusterName}`;

/** Requests of each controller's container (the cost estimate prices them as a share of a node). */
export const METRICS_SERVER_RESOURCES = { requests: { cpu: "100m", memory: "200Mi" }, limits: { memory: "400Mi" } } as const;
export const CLUSTER_AUTOSCALER_RESOURCES = { requests: { cpu: "100m", memory: "300Mi" }, limits: { memory: "600Mi" } } as const;
export const LOAD_BALANCER_CONTROLLER_RESOURCES = { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } } as const;

export type PlatformChartKey = "metrics-server" | "cluster-autoscaler" | "aws-load-balancer-controller";
export type PlatformChartSpec = PlatformReleaseSpec<PlatformChartKey>;

/**
 * What the charts need to know of the cluster. The values are whatever the caller has: strings in the tests and
 * `npm run plan`, Pulumi outputs in the program. Given, not read from the instance metadata service, which pods
 * cannot reach (its hop limit is 1, components/platform/nodes.ts).
 */
export interface ClusterFacts<T = string> {
    clusterName: T;
    region: T;
    vpcId: T;
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

/**
 * The AWS Load Balancer Controller: the cluster, region and VPC given (pods cannot ask the metadata service); IP
 * targets by default; no ALB IngressClass (the platform's ingress is the Istio gateway behind an NLB); its webhook
 * certificate kept across upgrades; replicated like the rest of the platform.
 */
export function loadBalancerControllerValues<T>(cluster: EksClusterConfig, facts: ClusterFacts<T>): Record<string, unknown> {
    const replicas = platformReplicas(cluster);
    return {
        fullnameOverride: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
        clusterName: facts.clusterName,
        region: facts.region,
        vpcId: facts.vpcId,
        replicaCount: replicas,
        serviceAccount: { create: true, name: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT },
        defaultTargetType: "ip",
        createIngressClassResource: false,
        keepTLSSecret: true,
        resources: { requests: { ...LOAD_BALANCER_CONTROLLER_RESOURCES.requests }, limits: { ...LOAD_BALANCER_CONTROLLER_RESOURCES.limits } },
        ...(replicas > 1
            ? {
                  podDisruptionBudget: { minAvailable: 1 },
                  topologySpreadConstraints: [
                      {
                          maxSkew: 1,
                          topologyKey: "topology.kubernetes.io/zone",
                          whenUnsatisfiable: "ScheduleAnyway",
                          labelSelector: { matchLabels: { "app.kubernetes.io/name": LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, "app.kubernetes.io/instance": LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT } },
                      },
                  ],
              }
            : {}),
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
        {
            key: "aws-load-balancer-controller",
            name: "aws-load-balancer-controller",
            ...LOAD_BALANCER_CONTROLLER_CHART,
            namespace: PLATFORM_NAMESPACE,
            values: loadBalancerControllerValues(cluster, facts),
            after: [],
            description: describe(LOAD_BALANCER_CONTROLLER_CHART),
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
        { addon: "aws-load-balancer-controller", replicas: platformReplicas(cluster), ...LOAD_BALANCER_CONTROLLER_RESOURCES.requests },
    ];
}
