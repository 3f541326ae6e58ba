// ServiceRelease: one microservice at one stage — its namespace (labelled for Istio sidecar injection)
// and the Helm release of its chart with the values of the stage plan.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ServiceConfig } from "./config";
import { StagePlan } from "./stages";
import { ALL_PARTS, chartValues } from "./values";

/** How long Helm waits for a release to become ready before `atomic` rolls it back. */
export const RELEASE_TIMEOUT_SECONDS = 600;
/** Helm revisions kept per release: enough to inspect recent stages, bounded so secrets don't pile up. */
export const RELEASE_MAX_HISTORY = 10;

export interface ServiceReleaseArgs {
    /** Service name: the key under `stagehand:services`. */
    name: string;
    service: ServiceConfig;
    /** The plan of the service's configured stage (components/stages.ts). */
    plan: StagePlan;
    /**
     * Whether this release creates its namespace. Several services may share a namespace; exactly one of
     * them owns it (see `namespaceOwners`) and the others depend on that one.
     */
    ownsNamespace: boolean;
    provider?: k8s.Provider;
}

/** Chart reference of a service → the Release's chart, version and repository inputs. */
export function chartSource(chart: ServiceConfig["chart"]): { chart: string; version?: string; repositoryOpts?: { repo: string } } {
    if (typeof chart === "string") return { chart };
    if (chart.repo.startsWith("oci://")) return { chart: `${chart.repo.replace(/\/$/, "")}/${chart.name}`, version: chart.version };
    return { chart: chart.name, version: chart.version, repositoryOpts: { repo: chart.repo } };
}

/** For each namespace, the service that creates it: the first by name, so the choice is stable. */
export function namespaceOwners(services: Record<string, Pick<ServiceConfig, "namespace">>): Record<string, string> {
    const owners: Record<string, string> = {};
    for (const name of Object.keys(services).sort()) {
        const ns = services[name].namespace;
        if (!(ns in owners)) owners[ns] = name;
    }
    return owners;
}

export class ServiceRelease extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly stage: pulumi.Output<number>;
    public readonly stageCount: pulumi.Output<number>;
    public readonly description: pulumi.Output<string>;
    public readonly weights: pulumi.Output<{ production: number; canary: number }>;
    public readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: ServiceReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:ServiceRelease", name, {}, opts);
        const { service, plan } = args;
        const childOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };

        const namespace = args.ownsNamespace
            ? new k8s.core.v1.Namespace(
                  `${name}-namespace`,
                  {
                      metadata: {
                          name: service.namespace,
                          labels: {
                              // Sidecars are what let VirtualService weights split traffic at all.
                              "istio-injection": "enabled",
                              "app.kubernetes.io/managed-by": "stagehand",
                          },
                      },
                  },
                  childOpts,
              )
            : undefined;

        this.release = new k8s.helm.v3.Release(
            name,
            {
                name: args.name,
                namespace: service.namespace,
                ...chartSource(service.chart),
                values: chartValues(args.name, service, plan, ALL_PARTS),
                // A failed upgrade rolls itself back: the stage before stays in place, nothing half-applied.
                atomic: true,
                cleanupOnFail: true,
                timeout: RELEASE_TIMEOUT_SECONDS,
                maxHistory: RELEASE_MAX_HISTORY,
                description: plan.description,
            },
            { ...childOpts, dependsOn: namespace ? [namespace] : [] },
        );

        this.namespace = pulumi.output(service.namespace);
        this.stage = pulumi.output(plan.stage);
        this.stageCount = pulumi.output(plan.stageCount);
        this.description = pulumi.output(plan.description);
        this.weights = pulumi.output({ production: plan.production.weight, canary: plan.canary.weight });
        this.registerOutputs({
            namespace: this.namespace,
            stage: this.stage,
            stageCount: this.stageCount,
            description: this.description,
            weights: this.weights,
        });
    }
}
