// Wiring only: stack config → Cluster → ClusterAddons → Istio → observability addons → one ServiceRelease per service.
// Logic lives in components/.
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { configValue, parseStackConfig } from "./components/config";
import { estimateMonthlyCost } from "./components/cost/cost";
import { Observability } from "./components/observability/observability";
import { anyAddonOn } from "./components/observability/values";
import { observabilityAccess } from "./components/observability/access";
import { meshExtensionProviders } from "./components/observability/tracing";
import { undecryptedReceiverSecrets } from "./components/observability/alerting-config";
import { Cluster } from "./components/platform/cluster";
import { existingClusterProvider } from "./components/platform/kubeconfig";
import { checkPlatformChange, PLATFORM_STATE_OUTPUT, platformState } from "./components/platform/changes";
import { ClusterAddons } from "./components/platform/cluster-addons";
import { edgeTls } from "./components/platform/ingress";
import { Istio } from "./components/platform/istio";
import { previousPlatformState } from "./components/platform/previous";
import { protectionOf } from "./components/platform/protection";
import { installedRevisions, namespaceRevision } from "./components/platform/revisions";
import { SERVICE_STAGES_OUTPUT } from "./components/service/deployed";
import { planNamespaces } from "./components/service/namespaces";
import { previousDeployment } from "./components/service/previous";
import { ServiceRelease } from "./components/service/release";
import { ConfigError } from "./components/shared/errors";
import { markSecrets, secureLeaves, undecryptedSecrets } from "./components/shared/secrets";

import { judgeUpdate } from "./components/service/removal";
import { namespaceAllowNothing, serviceNamespace } from "./components/service/service-namespace";
import { deployedCommit } from "./components/shared/deployed-commit";
import { ownOutputs } from "./components/shared/own-outputs";

// Whether Pulumi holds a config key as a secret (the SDK's own check; not re-exported by its runtime index).
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret: (key: string) => boolean };

// An async program: Pulumi awaits it and exports what it returns. Async because the move of each service is
// judged against the stack's previous outputs before anything is registered.
export = async () => {
    const stack = pulumi.getStack();
    // Every `stagehand:*` key of the stack, without its prefix: a key stagehand does not know is refused, not ignored.
    const raw = Object.fromEntries(
        Object.entries(pulumi.runtime.allConfig())
            .filter(([key]) => key.startsWith("stagehand:"))
            .map(([key, value]) => [key.slice("stagehand:".length), configValue(value)]),
    );

    // Validation throws before any resource is registered: nothing is half-applied.
    // Pulumi hands over secrets decrypted; the stack file says which values they are (components/shared/secrets.ts).
    // The stack file is next to the program, unless STAGEHAND_ROOT names the checkout it comes from (the offline
    // `plan --root` of CI's gates, which run the base branch's code over a pull request's stack files).
    const stackFile = path.join(process.env.STAGEHAND_ROOT || __dirname, `Pulumi.${stack}.yaml`);
    const secretKeys = Object.keys(raw).filter((k) => isConfigSecret(`stagehand:${k}`));
    const marked = markSecrets(stack, raw, fs.existsSync(stackFile) ? secureLeaves(fs.readFileSync(stackFile, "utf8")) : [], secretKeys);
    // Zones named in the cluster config must be in the stack's region (aws:region), when it has one.
    const region = new pulumi.Config("aws").get("region");
    const { services, planned, cluster: clusterConfig, allowSkip, observability: observabilityConfig, remove, acknowledge } = parseStackConfig(stack, marked, {
        region,
    });
    const undecrypted = [...undecryptedSecrets(stack, services), ...undecryptedReceiverSecrets(stack, observabilityConfig.alertmanager)];
    if (undecrypted.length > 0) throw new ConfigError(stack, undecrypted);
    // The platform as this update leaves it, judged against what the stack last deployed: a risky change not
    // acknowledged in stagehand:acknowledge throws, before any resource is registered (the diff says the same).
    const platform = platformState(clusterConfig, observabilityConfig, region);
    // The stack's previous outputs, read once: the platform state and the services' deployed state both come from them.
    const own = ownOutputs();
    checkPlatformChange(stack, await previousPlatformState(own), platform, acknowledge);
    // Every service's move from the stage it was last deployed at, its namespace, and every running service gone from
    // the config (deleted only when `stagehand:remove` lists it); a refusal throws, still before any resource is
    // registered (reading the stack's own outputs changes nothing).
    const previous = await previousDeployment(own, acknowledge.serviceStages === "unknown");
    const moves = judgeUpdate(stack, planned, previous, allowSkip, remove);

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
            clusterArn: cluster.eksCluster.arn,
            region: cluster.region,
            vpcId: cluster.vpc.id,
            waitFor: Object.values(cluster.addons),
            tags: { "stagehand:stack": stack },
        });
    } else {
        provider = existingClusterProvider("existing-cluster", clusterConfig);
    }

    // On EKS, Istio waits for the platform on the cluster: DNS, storage, and the controllers its gateway needs.
    // The Pod Security labels of every namespace are pinned to the cluster's Kubernetes minor (unknown on `existing`).
    const kubernetesVersion = clusterConfig.kind === "eks" ? clusterConfig.kubernetesVersion : undefined;
    // With tracing on, every istiod knows Jaeger as a telemetry provider (the Observability component's Telemetry names it).
    const istio = new Istio("istio", {
        config: clusterConfig.istio,
        platform: clusterConfig.kind,
        kubernetesVersion,
        provider,
        waitFor: clusterAddons ? [clusterAddons] : [],
        extensionProviders: meshExtensionProviders(observabilityConfig),
    });

    // Prometheus, Grafana, Kiali and Jaeger where the stack turns them on (uat, prod); none of the services waits for them.
    if (anyAddonOn(observabilityConfig)) {
        new Observability("observability", {
            config: observabilityConfig,
            platform: clusterConfig.kind,
            provider,
            // On EKS the platform's encrypted gp3 class; elsewhere the cluster's default class.
            storageClassName: clusterAddons?.storageClassName,
            waitFor: [istio, ...(clusterAddons ? [clusterAddons.storageClass] : [])],
            protection: protectionOf(clusterConfig, "prometheusVolume"),
            kubernetesVersion,
            // The alert rules of the canaries serving traffic and the gateway, when alerting is on.
            alerting: { stack, planned },
        });
    }

    // One Namespace per namespace, registered here and kept while any service is in it: deleted only with the last
    // service, removed explicitly. It adopts the `<service>-namespace` earlier stagehands created under a ServiceRelease.
    const namespaces = Object.fromEntries(
        planNamespaces(services, previous).map((plan) => [
            plan.namespace,
            serviceNamespace({ plan, istioRevision: namespaceRevision(clusterConfig.istio, plan.namespace), kubernetesVersion, provider, waitFor: [istio] }),
        ]),
    );
    const releases: Record<string, ServiceRelease> = {};
    for (const p of planned) {
        const namespace = namespaces[p.service.namespace];
        releases[p.name] = new ServiceRelease(
            p.name,
            {
                planned: p,
                move: moves[p.name],
                istioRevision: namespaceRevision(clusterConfig.istio, p.service.namespace),
                secureCookies: edgeTls(clusterConfig.istio, clusterConfig.kind),
                // The smoke test's identity needs an ALLOW policy of its own where calls are denied by default.
                denyByDefault: clusterConfig.istio.authorization === "deny-by-default",
                namespaceResource: namespace,
                provider,
                // Every object of every service waits for Istio: CRDs, sidecar injector and mTLS in place.
                waitFor: [istio],
            },
            { dependsOn: [namespace] },
        );
    }

    // uat and prod (cluster.istio.authorization: deny-by-default): each service namespace takes only the calls its
    // services' `callers` allow, once their routing releases (which carry those policies) are up.
    if (clusterConfig.istio.authorization === "deny-by-default") {
        for (const [ns, namespaceResource] of Object.entries(namespaces)) {
            const routings = planned.filter((p) => p.service.namespace === ns).map((p) => releases[p.name].routing);
            namespaceAllowNothing(ns, { provider, namespaceResource, waitFor: routings });
        }
    }

    // The commit this update deploys, as the deploy job sets it (STAGEHAND_COMMIT=$GITHUB_SHA); absent offline and
    // from a workstation. Resolved once every release and the mesh are, so a failed update does not record it: the
    // next deploy judges each stack's changes against it (`npm run changed-stacks -- --since-deployed`).
    const commit = deployedCommit(process.env.STAGEHAND_COMMIT);
    const settled: pulumi.Output<unknown>[] = [istio.version, ...Object.values(releases).map((r) => r.summary)];

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
        /** The Istio control planes by revision, and the service namespaces each serves (docs/upgrades.md "Upgrading Istio"). */
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
        /** The commit last deployed by CI (docs/reviewing.md "Pull-request workflow", deploys): missing when not deployed by CI. */
        deployedCommit: commit === undefined ? undefined : pulumi.all(settled).apply(() => commit),
    };
};
