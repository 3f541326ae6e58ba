// Pure: one service's config → what each stage means for traffic, image tags and replicas.
// Computed once and used by the ServiceRelease component, `npm run plan` and the policies alike.
import { ServiceConfig, stageCountOf, Strategy, strategyOf } from "./config";

export { strategyOf };
export type { Strategy };

/** What one Deployment of a service runs at a stage, and the share of traffic routed to it. */
export interface TrackPlan {
    tag: string;
    replicas: number;
    /** Percent of requests the VirtualService routes to this track (0–100). */
    weight: number;
}

export type StageKind = "idle" | "shadow" | "canary" | "promote" | "switch-back";


export interface StagePlan {
    stage: number;
    stageCount: number;
    kind: StageKind;
    strategy: Strategy;
    /** Short name of the stage: "idle", "canary 10%", "promote", "switch back". */
    name: string;
    production: TrackPlan;
    canary: TrackPlan;
    /** Percent of requests also mirrored to the canary (shadow stage), their responses dropped; else 0. */
    mirrorPercent: number;
    /** Whether the service's test-user routes send matching requests to the canary (while it is live). */
    testRoutes: boolean;
    /** One line a reviewer reads in the preview. */
    description: string;
}

/** The traffic-relevant state of a service: both tracks and the mirror. */
export type Traffic = Pick<StagePlan, "production" | "canary"> & { mirrorPercent?: number; testRoutes?: boolean };

/** What a stage plan is made from: a service's config, or its parts. */
export type PlanInput = Pick<ServiceConfig, "stable" | "canary" | "replicas" | "steps"> &
    Partial<Pick<ServiceConfig, "strategy" | "shadow" | "testRoutes">>;

const STRATEGY_WORDS: Record<Strategy, string> = { canary: "canary", bluegreen: "blue/green", custom: "custom steps" };

/** Canary pods follow the share of traffic they carry: at least 1 while live, full size at 100%. */
export function canaryReplicas(fullReplicas: number, canaryWeight: number): number {
    if (canaryWeight <= 0) return 0;
    if (canaryWeight >= 100) return fullReplicas;
    return Math.max(1, Math.ceil((fullReplicas * canaryWeight) / 100));
}

function describe(p: Omit<StagePlan, "description">, stableTag: string, testRouteCount: number): string {
    const production =
        p.kind === "promote" && p.production.tag !== stableTag
            ? `production x${p.production.replicas}, rolling from ${stableTag}`
            : `production x${p.production.replicas}`;
    const canary = p.kind === "switch-back" ? `canary x${p.canary.replicas}, draining` : `canary x${p.canary.replicas}`;
    const extras: string[] = [];
    if (p.mirrorPercent > 0) extras.push(`${p.mirrorPercent}% mirrored -> ${p.canary.tag} (canary)`);
    if (p.testRoutes) extras.push(`test route${testRouteCount === 1 ? "" : "s"} -> canary`);
    return (
        `stage ${p.stage}/${p.stageCount} ${p.name}: ` +
        `${p.production.weight}% -> ${p.production.tag} (${production}), ` +
        `${p.canary.weight}% -> ${p.canary.tag} (${canary})` +
        extras.map((e) => `, ${e}`).join("") +
        `; strategy ${STRATEGY_WORDS[p.strategy]}`
    );
}

/** The plan of every stage of a service, index 0 = stage 1. */
export function stagePlans(service: PlanInput): StagePlan[] {
    const { stable, replicas, steps } = service;
    // At stage 1 without a canary the canary Deployment exists scaled to 0 on the stable tag,
    // so its DestinationRule subset always has a workload to select.
    const canaryTag = service.canary ?? stable;
    const shadow = service.shadow;
    const stageCount = stageCountOf(steps, shadow !== undefined);
    const strategy = service.strategy ?? strategyOf(steps);
    const testRouteCount = service.testRoutes?.length ?? 0;
    type Draft = Omit<StagePlan, "stage" | "stageCount" | "strategy" | "description" | "mirrorPercent" | "testRoutes"> & { mirrorPercent?: number };
    const drafts: Draft[] = [];

    drafts.push({
        kind: "idle",
        name: "idle",
        production: { tag: stable, replicas, weight: 100 },
        canary: { tag: canaryTag, replicas: 0, weight: 0 },
    });
    if (shadow) {
        drafts.push({
            kind: "shadow",
            name: `shadow ${shadow.percent}%`,
            // Production serves every response; the canary gets copies, sized for the mirrored share.
            production: { tag: stable, replicas, weight: 100 },
            canary: { tag: canaryTag, replicas: canaryReplicas(replicas, shadow.percent), weight: 0 },
            mirrorPercent: shadow.percent,
        });
    }
    for (const weight of steps) {
        drafts.push({
            kind: "canary",
            name: `canary ${weight}%`,
            // Production stays at full size through every weight step: it is the instant rollback.
            production: { tag: stable, replicas, weight: 100 - weight },
            canary: { tag: canaryTag, replicas: canaryReplicas(replicas, weight), weight },
        });
    }
    drafts.push({
        kind: "promote",
        name: "promote",
        // Production rolls to the canary tag while it carries no traffic.
        production: { tag: canaryTag, replicas, weight: 0 },
        canary: { tag: canaryTag, replicas, weight: 100 },
    });
    drafts.push({
        kind: "switch-back",
        name: "switch back",
        // Traffic returns to production (now on the released tag); the canary stays up while it drains.
        production: { tag: canaryTag, replicas, weight: 100 },
        canary: { tag: canaryTag, replicas, weight: 0 },
    });
    return drafts.map((d, i) => {
        const plan = {
            ...d,
            stage: i + 1,
            stageCount,
            strategy,
            mirrorPercent: d.mirrorPercent ?? 0,
            // Test users reach the canary whenever it has pods: from the first canary stage to switch back.
            testRoutes: testRouteCount > 0 && d.canary.replicas > 0,
        };
        return { ...plan, description: describe(plan, stable, testRouteCount) };
    });
}

/** The plan of the service's configured stage. */
export function stagePlan(service: PlanInput & { stage: number }): StagePlan {
    const plans = stagePlans(service);
    const plan = plans[service.stage - 1];
    if (!plan) throw new RangeError(`stage ${service.stage} does not exist: the steps [${service.steps.join(", ")}] give stages 1 to ${plans.length}`);
    return plan;
}
