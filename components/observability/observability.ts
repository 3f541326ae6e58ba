// Observability: the addons of ./values.ts installed where the stack config turns them on
// (`stagehand:observability`: uat and prod; staging leaves them off to save cost), in namespaces of their own that
// this component creates (not labelled for injection: outside the mesh). Each waits for Istio. Storage
// is the platform's (components/platform/storage.ts): on EKS Prometheus's volume is of the cluster's encrypted gp3
// StorageClass; on an existing cluster, of that cluster's default class. On EKS with Prometheus on, a Role and
// RoleBinding in Prometheus's namespace let the cluster's viewers (CI's preview role) port-forward to Prometheus for the
// metrics verdict (PROMETHEUS_READERS_GROUP, the group of their access entries). With tracing on, Jaeger (Istio's own
// addon, ./tracing.ts) runs in `observability` and the mesh-wide Telemetry sends it the sidecars' spans once it is up.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { platformReleases } from "../shared/helm-release";
import { PLATFORM_NAMESPACE_LEVELS, podSecurityLabels } from "../shared/pod-security";
import { ObservabilityConfig } from "./config";
import { AddonKey, observabilityReleases, prometheusPersistent } from "./values";
import { observabilityAccess, prometheusPortForwardRbac } from "./access";
import { JAEGER_NAMESPACE, jaegerObjects, meshTelemetry } from "./tracing";
import { ALERTMANAGER_NAMESPACE, ALERTMANAGER_SECRET, alertmanagerConfigFile } from "./alertmanager";
import { alertOptionsOf, alertRules } from "./alerts";
import { PlannedService } from "../service/stages";
import { stringify } from "yaml";

export interface ObservabilityArgs {
    /** The stack's validated `stagehand:observability`. */
    config: ObservabilityConfig;
    provider?: k8s.Provider;
    /** The StorageClass of Prometheus's and Jaeger's volumes; absent: the cluster's default class. */
    storageClassName?: string;
    /**
     * Where it runs, as the stack's `cluster.kind`. On EKS with Prometheus on, the viewers' group gets its
     * port-forward to Prometheus; an existing cluster's access is not the program's.
     */
    platform: "eks" | "existing";
    /** What every addon waits for: Istio (istio-system, istiod and its CRDs), and the StorageClass when there is one. */
    waitFor?: pulumi.Input<pulumi.Resource>[];
    /**
     * The resource options of Prometheus's release when it has a volume (components/platform/protection.ts): with
     * `protect`, neither `pulumi destroy` nor a replacement uninstalls it. Its claim is kept by Helm anyway
     * (`helm.sh/resource-policy: keep`, ./values.ts).
     */
    protection?: { protect: boolean; retainOnDelete: boolean };
    /** The cluster's Kubernetes minor ("1.35"), which the namespaces' Pod Security labels pin; absent on `kind: existing`. */
    kubernetesVersion?: string;
    /** The stack and its planned services: the alert rules (./alerts.ts) are made from them when alerting is on. */
    alerting?: { stack: string; planned: readonly PlannedService[] };
}

export class Observability extends pulumi.ComponentResource {
    public readonly releases: Partial<Record<AddonKey, k8s.helm.v3.Release>>;
    /** On EKS with Prometheus on: the Role and RoleBinding that let the viewers' group port-forward to Prometheus. */
    public readonly prometheusPortForward?: { role: k8s.rbac.v1.Role; roleBinding: k8s.rbac.v1.RoleBinding };
    /** Which addons are on and how to reach them (the `observability` stack output). */
    public readonly access: Record<string, unknown>;
    /** With tracing on: Jaeger's objects by `<kind>/<name>` (Deployment, Services, ConfigMap, and its claim with storageGi > 0). */
    public readonly jaeger: Record<string, pulumi.CustomResource> = {};
    /** With tracing on: the mesh-wide Telemetry that sends the sidecars' spans to Jaeger. */
    public readonly meshTelemetry?: k8s.apiextensions.CustomResource;
    /** With alerting on: the Secret holding Alertmanager's configuration, credentials included. */
    public readonly alertmanagerConfig?: k8s.core.v1.Secret;

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:Observability", name, {}, opts);
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        const alerting = args.config.alertmanager.enabled;
        if (alerting && !args.alerting) throw new Error("Observability: alertmanager.enabled needs `alerting` (the stack and its planned services)");
        const rules = alerting && args.alerting ? alertRules(args.alerting.stack, args.alerting.planned, alertOptionsOf(args.config.alertmanager)) : undefined;
        const specs = observabilityReleases(args.config, args.storageClassName, rules);
        // The addons' namespaces, each once, before anything in them; Alertmanager's too (part of Prometheus's release).
        const namespaces: Record<string, k8s.core.v1.Namespace> = {};
        const jaegerSpecs = jaegerObjects(args.config, args.storageClassName);
        const extraNamespaces = [...(alerting ? [ALERTMANAGER_NAMESPACE] : []), ...(jaegerSpecs.length > 0 ? [JAEGER_NAMESPACE] : [])];
        for (const ns of [...new Set([...specs.map((s) => s.namespace), ...extraNamespaces])]) {
            namespaces[ns] = new k8s.core.v1.Namespace(
                `${name}-namespace-${ns}`,
                // Labelled with the Pod Security level its addons' pods pass (components/shared/pod-security.ts).
                { metadata: { name: ns, labels: { "app.kubernetes.io/managed-by": "stagehand", ...podSecurityLabels(PLATFORM_NAMESPACE_LEVELS[ns] ?? "baseline", args.kubernetesVersion) } } },
                { ...k8sOpts, dependsOn: args.waitFor ?? [] },
            );
        }
        const waitFor = args.waitFor ?? [];
        // Prometheus's release, when it keeps data on a volume, gets the stack's protection (the others never hold data).
        const prometheusRelease = `${name}-prometheus`;
        const guard: pulumi.ResourceTransformation = (r) =>
            r.name === prometheusRelease && prometheusPersistent(args.config) && args.protection ? { props: r.props, opts: { ...r.opts, ...args.protection } } : undefined;
        // Delete before replace: a release moved to another namespace (istio-system → prometheus/observability) is a
        // replacement, and the new one could not take over the old one's cluster-scoped objects (ClusterRoles named
        // after the addon) while the old release owns them.
        if (alerting) {
            // Alertmanager's configuration with its receivers' credentials: a Secret (its data is secret in Pulumi's
            // state too), before the release whose pod mounts it.
            this.alertmanagerConfig = new k8s.core.v1.Secret(
                `${name}-alertmanager-config`,
                {
                    metadata: { name: ALERTMANAGER_SECRET.name, namespace: ALERTMANAGER_NAMESPACE, labels: { "app.kubernetes.io/managed-by": "stagehand" } },
                    type: "Opaque",
                    stringData: { [ALERTMANAGER_SECRET.key]: pulumi.secret(stringify(alertmanagerConfigFile(args.config.alertmanager))) },
                },
                { ...k8sOpts, dependsOn: [...waitFor, namespaces[ALERTMANAGER_NAMESPACE]] },
            );
        }
        const alertmanagerSecret = this.alertmanagerConfig;
        this.releases = platformReleases(name, specs, { ...k8sOpts, deleteBeforeReplace: true, transformations: [guard] }, (spec) => [
            ...waitFor,
            namespaces[spec.namespace],
            // Alertmanager is in Prometheus's release: its namespace and its Secret first.
            ...(spec.key === "prometheus" && alertmanagerSecret ? [namespaces[ALERTMANAGER_NAMESPACE], alertmanagerSecret] : []),
        ]);
        if (args.platform === "eks" && args.config.prometheus.enabled) {
            // In Prometheus's namespace: after it, like the release.
            const { role, roleBinding } = prometheusPortForwardRbac();
            const nsOf = namespaces[role.metadata.namespace];
            const roleResource = new k8s.rbac.v1.Role(`${name}-prometheus-port-forward`, { metadata: role.metadata, rules: role.rules }, { ...k8sOpts, dependsOn: [...waitFor, nsOf] });
            this.prometheusPortForward = {
                role: roleResource,
                roleBinding: new k8s.rbac.v1.RoleBinding(
                    `${name}-prometheus-port-forward`,
                    { metadata: roleBinding.metadata, roleRef: roleBinding.roleRef, subjects: roleBinding.subjects },
                    { ...k8sOpts, dependsOn: [...waitFor, nsOf, roleResource] },
                ),
            };
        }
        if (jaegerSpecs.length > 0) {
            const nsOf = namespaces[JAEGER_NAMESPACE];
            // The claim and the ConfigMap before the Deployment that mounts them; the Services select its pods.
            const before: pulumi.Resource[] = [];
            for (const o of [...jaegerSpecs].sort((a, b) => Number(a.kind === "Deployment") - Number(b.kind === "Deployment"))) {
                const { apiVersion: _a, kind, ...body } = o;
                const resourceName = `${name}-jaeger-${kind.toLowerCase()}-${o.metadata.name}`;
                const opts = { ...k8sOpts, dependsOn: [...waitFor, nsOf, ...(kind === "Deployment" ? before : [])] };
                const resource =
                    kind === "Deployment"
                        ? new k8s.apps.v1.Deployment(resourceName, body as k8s.apps.v1.DeploymentArgs, opts)
                        : kind === "Service"
                          ? new k8s.core.v1.Service(resourceName, body as k8s.core.v1.ServiceArgs, opts)
                          : kind === "ConfigMap"
                            ? new k8s.core.v1.ConfigMap(resourceName, body as k8s.core.v1.ConfigMapArgs, opts)
                            : kind === "PersistentVolumeClaim"
                              ? new k8s.core.v1.PersistentVolumeClaim(resourceName, body as k8s.core.v1.PersistentVolumeClaimArgs, opts)
                              : undefined;
                if (!resource) throw new Error(`Jaeger's manifest has a ${kind} ${o.metadata.name}, which the Observability component does not install`);
                if (kind !== "Deployment" && kind !== "Service") before.push(resource);
                this.jaeger[`${kind}/${o.metadata.name}`] = resource;
            }
            // Spans go to Jaeger once it is ready (the Deployment is awaited), not to a collector that is not there yet.
            const telemetry = meshTelemetry(args.config)!;
            this.meshTelemetry = new k8s.apiextensions.CustomResource(
                `${name}-mesh-telemetry`,
                { apiVersion: telemetry.apiVersion, kind: telemetry.kind, metadata: telemetry.metadata, spec: telemetry.spec },
                { ...k8sOpts, dependsOn: [...waitFor, ...Object.values(this.jaeger)] },
            );
        }
        this.access = observabilityAccess(args.config);
        this.registerOutputs({ access: this.access });
    }
}
