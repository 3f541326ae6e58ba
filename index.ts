// Wiring only: stack config → Cluster → Istio → one ServiceRelease per service. Logic lives in components/.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Cluster, existingClusterProvider } from "./components/cluster";
import { parseStackConfig } from "./components/config";
import { estimateMonthlyCost } from "./components/cost";
import { Istio } from "./components/istio";
import { namespaceOwners, ServiceRelease } from "./components/service-release";
import { stagePlan } from "./components/stages";

const stack = pulumi.getStack();
const config = new pulumi.Config("stagehand");

// Validation throws before any resource is registered: nothing is half-applied.
const { services, cluster: clusterConfig } = parseStackConfig(stack, {
    services: config.getObject("services"),
    cluster: config.getObject("cluster"),
});

// The cluster: created on AWS (`kind: eks`), or one already in the kubeconfig (`kind: existing`).
let cluster: Cluster | undefined;
let provider: k8s.Provider;
if (clusterConfig.kind === "eks") {
    cluster = new Cluster("cluster", { config: clusterConfig, tags: { "stagehand:stack": stack } });
    provider = cluster.provider;
} else {
    provider = existingClusterProvider("existing-cluster", clusterConfig);
}

const istio = new Istio("istio", { config: clusterConfig.istio, platform: clusterConfig.kind, provider });

const owners = namespaceOwners(services);
const releases: Record<string, ServiceRelease> = {};
// Namespace owners first, so the services sharing a namespace can wait for its owner's namespace.
const ownerNames = new Set(Object.values(owners));
for (const name of [...ownerNames, ...Object.keys(services).filter((n) => !ownerNames.has(n))]) {
    const service = services[name];
    const owner = owners[service.namespace];
    releases[name] = new ServiceRelease(name, {
        name,
        service,
        plan: stagePlan(service),
        ownsNamespace: owner === name,
        namespaceResource: owner === name ? undefined : releases[owner].namespaceResource,
        provider,
        // Every object of every service waits for Istio: CRDs, sidecar injector and mTLS in place.
        waitFor: [istio],
    });
}

/** Per service, what the preview shows a reviewer: the stage in words and the traffic split. */
export const serviceStages = Object.fromEntries(
    Object.entries(releases).map(([name, r]) => [
        name,
        { stage: r.stage, stageCount: r.stageCount, description: r.description, weights: r.weights },
    ]),
);

/** Estimated monthly cost of the stack's cluster in USD (components/cost.ts), line by line. */
export const monthlyCost = estimateMonthlyCost(clusterConfig);
/** The Istio release the stack pins, and the shared ingress Gateway services can bind to. */
export const istioVersion = istio.version;
export const ingressGateway = istio.gatewayRef;
/** EKS only: the cluster's name and its kubeconfig (secret; authenticates with `aws eks get-token`). */
export const clusterName = cluster?.clusterName;
export const kubeconfig = cluster?.kubeconfig;
