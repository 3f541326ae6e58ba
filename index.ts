// Wiring only: stack config → Cluster → ClusterAddons → Istio → observability addons → one ServiceRelease per service.
// Logic lives in components/.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { configValue, parseStackConfig } from "./components/config";
import { estimateMonthlyCost } from "./components/cost/cost";
import { Observability } from "./components/observability/observability";
import { anyAddonOn, observabilityAccess } from "./components/observability/values";
import { Cluster, existingClusterProvider } from "./components/platform/cluster";
import { checkPlatformChange, PLATFORM_STATE_OUTPUT, platformState } from "./components/platform/changes";
import { ClusterAddons } from "./components/platform/cluster-addons";
import { Istio } from "./components/platform/istio";
import { previousPlatformState } from "./components/platform/previous";
import { installedRevisions, namespaceRevision } from "./components/platform/revisions";
import { namespaceOwners } from "./components/service/config";
import { SERVICE_STAGES_OUTPUT } from "./components/service/deployed";
import { judgeMoves } from "./components/service/moves";
import { previousDeployment } from "./components/service/previous";
import { ServiceRelease } from "./components/service/release";

// An async program: Pulumi awaits it and exports what it returns. Async because the move of each service is
// judged against the stack's previous outputs before anything is registered.
export = async () => {
    const stack = pulumi.getStack();
    const config = new pulumi.Config("stagehand");

    // Validation throws before any resource is registered: nothing is half-applied.
    const { services, planned, cluster: clusterConfig, allowSkip, observability: observabilityConfig, acknowledge } = parseStackConfig(stack, {
        services: configValue(config.get("services")),
        cluster: configValue(config.get("cluster")),
        allowSkip: configValue(config.get("allowSkip")),
        settleSeconds: configValue(config.get("settleSeconds")),
        observability: configValue(config.get("observability")),
        acknowledge: configValue(config.get("acknowledge")),
    });
    // The platform as this update leaves it, judged against what the stack last deployed: a risky change not
    // acknowledged in stagehand:acknowledge throws, before any resource is registered (the diff says the same).
    const platform = platformState(clusterConfig, observabilityConfig, new pulumi.Config("aws").get("region"));
    checkPlatformChange(stack, await previousPlatformState(), platform, acknowledge);
    // Every service's move from the stage it was last deployed at; an illegal one throws, still before any
    // resource is registered (reading the stack's own outputs changes nothing).
    const moves = judgeMoves(stack, planned, await previousDeployment(), allowSkip);

    // The cluster: created on AWS (`kind: eks`), or one already in the kubeconfig (`kind: existing`).
    let cluster: Cluster | undefined;
    let clusterAddons: ClusterAddons | undefined;
    let provider: k8s.Provider;
    if (clusterConfig.kind === "eks") {
        cluster = new Cluster("cluster", { config: clusterConfig, tags: { "stagehand:stack": stack } });
        provider = cluster.provider;
        // The platform's own pieces on the cluster, once every EKS add-on is up, before anything else is installed on it.
        clusterAddons = new ClusterAddons("cluster-addons", {
            config: clusterConfig,
            provider,
            clusterName: cluster.clusterName,
            region: cluster.region,
            vpcId: cluster.vpc.id,
            waitFor: Object.values(cluster.addons),
            tags: { "stagehand:stack": stack },
        });
    } else {
        provider = existingClusterProvider("existing-cluster", clusterConfig);
    }

    // On EKS, Istio waits for the platform on the cluster: DNS, storage, and the controllers its gateway needs.
    const istio = new Istio("istio", { config: clusterConfig.istio, platform: clusterConfig.kind, provider, waitFor: clusterAddons ? [clusterAddons] : [] });

    // Prometheus, Grafana and Kiali where the stack turns them on (uat, prod); none of the services waits for them.
    if (anyAddonOn(observabilityConfig)) {
        new Observability("observability", {
            config: observabilityConfig,
            platform: clusterConfig.kind,
            provider,
            // On EKS the platform's encrypted gp3 class; elsewhere the cluster's default class.
            storageClassName: clusterAddons?.storageClassName,
            waitFor: [istio, ...(clusterAddons ? [clusterAddons.storageClass] : [])],
        });
    }

    const owners = namespaceOwners(services);
    const releases: Record<string, ServiceRelease> = {};
    // Namespace owners first, so the services sharing a namespace can wait for its owner's namespace.
    const ownerNames = new Set(Object.values(owners));
    for (const p of [...planned.filter((p) => ownerNames.has(p.name)), ...planned.filter((p) => !ownerNames.has(p.name))]) {
        const owner = owners[p.service.namespace];
        releases[p.name] = new ServiceRelease(p.name, {
            planned: p,
            move: moves[p.name],
            ownsNamespace: owner === p.name,
            istioRevision: namespaceRevision(clusterConfig.istio, p.service.namespace),
            namespaceResource: owner === p.name ? undefined : releases[owner].namespaceResource,
            provider,
            // Every object of every service waits for Istio: CRDs, sidecar injector and mTLS in place.
            waitFor: [istio],
        });
    }

    return {
        /**
         * Per service, what the preview shows a reviewer — the stage in words, the move, what may come next —
         * and what the next update reads back to judge its move.
         */
        [SERVICE_STAGES_OUTPUT]: Object.fromEntries(Object.entries(releases).map(([name, r]) => [name, r.summary])),
        /** Estimated monthly cost of the stack's cluster and its addons in USD (components/cost/cost.ts), line by line. */
        monthlyCost: estimateMonthlyCost(clusterConfig, { observability: observabilityConfig }),
        /** Which observability addons are on, and how to open them (port-forward commands, URLs, login). */
        observability: observabilityAccess(observabilityConfig),
        /** The Istio release the stack pins, and the shared ingress Gateway services can bind to. */
        istioVersion: istio.version,
        /** The Istio control planes by revision, and the service namespaces each serves (README "Upgrading Istio"). */
        istioRevisions: installedRevisions(clusterConfig.istio).map((r) => ({
            ...r,
            namespaces: [...new Set(planned.map((p) => p.service.namespace))].sort().filter((ns) => namespaceRevision(clusterConfig.istio, ns) === r.revision),
        })),
        ingressGateway: istio.gatewayRef,
        /** What the next update judges its platform change against (components/platform/changes.ts): no secrets. */
        [PLATFORM_STATE_OUTPUT]: platform,
        /** EKS only: the cluster's name and its kubeconfig (secret; authenticates with `aws eks get-token`). */
        clusterName: cluster?.clusterName,
        kubeconfig: cluster?.kubeconfig,
    };
};
