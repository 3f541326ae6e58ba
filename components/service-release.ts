// ServiceRelease: one microservice at one stage. Its namespace (labelled for Istio sidecar injection) and
// three Helm releases of the same chart — the production workloads, the canary workloads and the routing
// (Service, DestinationRule, VirtualService) — ordered make-before-break for the move being made.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";
import { ServiceConfig } from "./config";
import { StagePlan, TrackPlan, Traffic } from "./stages";
import { allowedNext, deployedState, operationOrder, OperationOrder, Track, TRACKS } from "./transitions";
import { chartValues, ChartParts } from "./values";

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
    /** The traffic as the last successful update left it; absent on the first deployment. */
    previous?: Traffic;
    /** The judged move (components/transitions.ts `judgeMoves`), shown in the stack outputs. */
    move?: { words: string; previousStage?: number; allowSkip: boolean };
    /**
     * Whether this release creates its namespace. Several services may share a namespace; exactly one of
     * them owns it (see `namespaceOwners`) and the others pass the owner's `namespaceResource`.
     */
    ownsNamespace: boolean;
    namespaceResource?: pulumi.Resource;
    provider?: k8s.Provider;
    /** Resources every child waits for (e.g. Istio being ready). */
    waitFor?: pulumi.Input<pulumi.Resource>[];
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

/** Helm release names of a service: one per track and one for routing. */
export function releaseNames(service: string): Record<Track | "routing", string> {
    return { production: `${service}-production`, canary: `${service}-canary`, routing: `${service}-routing` };
}

const ONLY: Record<Track | "routing", ChartParts> = {
    production: { production: true, canary: false, routing: false },
    canary: { production: false, canary: true, routing: false },
    routing: { production: false, canary: false, routing: true },
};

/** The stack output of one service (`serviceStages.<service>`). */
export interface ServiceStageSummary {
    stage: number;
    stageCount: number;
    stageName: string;
    strategy: string;
    description: string;
    weights: { production: number; canary: number };
    tracks: Record<Track, TrackPlan>;
    mirrorPercent: number;
    testRoutes: boolean;
    stable: string;
    canary?: string;
    steps: number[];
    shadow?: { percent: number };
    previousStage?: number;
    move: string;
    next: string;
    allowSkip: boolean;
    completed: boolean;
}

/** Pure: the summary a service exports once its releases are applied. */
export function stageSummary(service: ServiceConfig, plan: StagePlan, completed: boolean, move?: ServiceReleaseArgs["move"]): ServiceStageSummary {
    const allowSkip = move?.allowSkip ?? false;
    const deployed = deployedState(service, plan, completed);
    const summary: ServiceStageSummary = {
        stage: plan.stage,
        stageCount: plan.stageCount,
        stageName: plan.name,
        strategy: plan.strategy,
        description: plan.description,
        weights: { production: plan.production.weight, canary: plan.canary.weight },
        tracks: { production: { ...plan.production }, canary: { ...plan.canary } },
        mirrorPercent: plan.mirrorPercent,
        testRoutes: plan.testRoutes,
        stable: service.stable,
        steps: [...service.steps],
        move: move?.words ?? `deployed at stage ${plan.stage} (${plan.name})`,
        next: allowedNext(deployed, allowSkip),
        allowSkip,
        completed,
    };
    // Pulumi drops undefined outputs; leaving the keys out keeps the preview diff clean.
    if (service.canary !== undefined) summary.canary = service.canary;
    if (service.shadow !== undefined) summary.shadow = { percent: service.shadow.percent };
    if (move?.previousStage !== undefined) summary.previousStage = move.previousStage;
    return summary;
}

function trafficWords(t: Traffic): string {
    return `${t.production.weight}/${t.canary.weight}${t.mirrorPercent ? ` mirror ${t.mirrorPercent}` : ""}${t.testRoutes ? " test routes" : ""}`;
}

export class ServiceRelease extends pulumi.ComponentResource {
    /** True once every Helm release of the service reports `deployed`. */
    public readonly completed: pulumi.Output<boolean>;
    /**
     * What the stack exports for this service: read by reviewers in the preview diff, and read back by the
     * next update to judge its move (components/transitions.ts `deployedServices`).
     */
    public readonly summary: pulumi.Output<ServiceStageSummary>;
    /** The order this update follows (make, routing, drain, break). */
    public readonly order: OperationOrder;
    public readonly namespaceResource?: k8s.core.v1.Namespace;
    public readonly workloads: Record<Track, k8s.helm.v3.Release>;
    public readonly routing: k8s.helm.v3.Release;
    public readonly drain: time.Sleep;

    constructor(name: string, args: ServiceReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:ServiceRelease", name, {}, opts);
        const { service, plan } = args;
        const names = releaseNames(args.name);
        const childOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };

        this.namespaceResource = args.ownsNamespace
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
                  { ...childOpts, dependsOn: args.waitFor ?? [] },
              )
            : undefined;
        const ready: pulumi.Input<pulumi.Resource>[] = [...(args.waitFor ?? []), this.namespaceResource ?? args.namespaceResource].filter(
            (r): r is pulumi.Input<pulumi.Resource> => r !== undefined,
        );

        const release = (part: Track | "routing", dependsOn: pulumi.Input<pulumi.Resource>[]) =>
            new k8s.helm.v3.Release(
                `${name}-${part}`,
                {
                    name: names[part],
                    namespace: service.namespace,
                    ...chartSource(service.chart),
                    values: chartValues(args.name, service, plan, ONLY[part]),
                    // A failed upgrade rolls itself back: the stage before stays in place, nothing half-applied.
                    atomic: true,
                    cleanupOnFail: true,
                    timeout: RELEASE_TIMEOUT_SECONDS,
                    maxHistory: RELEASE_MAX_HISTORY,
                    description: plan.description,
                },
                { ...childOpts, dependsOn },
            );

        // Make before break: workloads that gain pods or change tag are applied (Helm waits for readiness)
        // before the routing; the routing before the drain delay; the drain before any scale-down.
        this.order = operationOrder(args.previous, plan, service.drainSeconds);
        const made = Object.fromEntries(this.order.make.map((t) => [t, release(t, ready)])) as Partial<Record<Track, k8s.helm.v3.Release>>;
        this.routing = release("routing", [...ready, ...Object.values(made)]);
        this.drain = new time.Sleep(
            `${name}-drain`,
            {
                createDuration: `${this.order.drainSeconds}s`,
                // A new trigger per move replaces the Sleep, so it waits again on every move (0 s unless
                // pods that carried traffic are about to be removed).
                triggers: {
                    move: `${args.previous ? trafficWords(args.previous) : "new"} -> ${trafficWords(plan)} @ stage ${plan.stage}`,
                    scaleDown: this.order.break.join(",") || "none",
                },
            },
            { parent: this, dependsOn: [this.routing] },
        );
        const broken = Object.fromEntries(this.order.break.map((t) => [t, release(t, [...ready, this.drain])]));
        this.workloads = { ...made, ...broken } as Record<Track, k8s.helm.v3.Release>;

        const all = [...TRACKS.map((t) => this.workloads[t]), this.routing];
        this.completed = pulumi.all(all.map((r) => r.status)).apply((statuses) => statuses.every((s) => s?.status === "deployed"));
        this.summary = this.completed.apply((completed) => stageSummary(service, plan, completed, args.move));
        this.registerOutputs({ completed: this.completed, summary: this.summary });
    }
}
