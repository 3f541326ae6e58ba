// Pure: one service's config → what each stage means for traffic, image tags and replicas.
// Computed once and used by the ServiceRelease component, `npm run plan` and the policies alike.
import { DEFAULT_STEPS, ServiceConfig, stageCountOf } from "./config";

/** What one Deployment of a service runs at a stage, and the share of traffic routed to it. */
export interface TrackPlan {
    tag: string;
    replicas: number;
    /** Percent of requests the VirtualService routes to this track (0–100). */
    weight: number;
}

export type StageKind = "idle" | "canary" | "promote" | "switch-back";

/** `canary` for the default steps, `bluegreen` for the single step [100], `custom` for any other list. */
export type Strategy = "canary" | "bluegreen" | "custom";

export function strategyOf(steps: readonly number[]): Strategy {
    if (steps.length === 1 && steps[0] === 100) return "bluegreen";
    if (steps.join(",") === DEFAULT_STEPS.join(",")) return "canary";
    return "custom";
}

export interface StagePlan {
    stage: number;
    stageCount: number;
    kind: StageKind;
    strategy: Strategy;
    /** Short name of the stage: "idle", "canary 10%", "promote", "switch back". */
    name: string;
    production: TrackPlan;
    canary: TrackPlan;
    /** One line a reviewer reads in the preview. */
    description: string;
}

/** Canary pods follow the share of traffic they carry: at least 1 while live, full size at 100%. */
export function canaryReplicas(fullReplicas: number, canaryWeight: number): number {
    if (canaryWeight <= 0) return 0;
    if (canaryWeight >= 100) return fullReplicas;
    return Math.max(1, Math.ceil((fullReplicas * canaryWeight) / 100));
}

function describe(p: Omit<StagePlan, "description">, stableTag: string): string {
    const production =
        p.kind === "promote" && p.production.tag !== stableTag
            ? `production x${p.production.replicas}, rolling from ${stableTag}`
            : `production x${p.production.replicas}`;
    const canary = p.kind === "switch-back" ? `canary x${p.canary.replicas}, draining` : `canary x${p.canary.replicas}`;
    return (
        `stage ${p.stage}/${p.stageCount} ${p.name}: ` +
        `${p.production.weight}% -> ${p.production.tag} (${production}), ` +
        `${p.canary.weight}% -> ${p.canary.tag} (${canary})`
    );
}

/** The plan of every stage of a service, index 0 = stage 1. */
export function stagePlans(service: Pick<ServiceConfig, "stable" | "canary" | "replicas" | "steps">): StagePlan[] {
    const { stable, replicas, steps } = service;
    // At stage 1 without a canary the canary Deployment exists scaled to 0 on the stable tag,
    // so its DestinationRule subset always has a workload to select.
    const canaryTag = service.canary ?? stable;
    const stageCount = stageCountOf(steps);
    const strategy = strategyOf(steps);
    const plans: Omit<StagePlan, "description">[] = [];

    plans.push({
        stage: 1,
        stageCount,
        strategy,
        kind: "idle",
        name: "idle",
        production: { tag: stable, replicas, weight: 100 },
        canary: { tag: canaryTag, replicas: 0, weight: 0 },
    });
    steps.forEach((weight, i) => {
        plans.push({
            stage: i + 2,
            stageCount,
            strategy,
            kind: "canary",
            name: `canary ${weight}%`,
            // Production stays at full size through every weight step: it is the instant rollback.
            production: { tag: stable, replicas, weight: 100 - weight },
            canary: { tag: canaryTag, replicas: canaryReplicas(replicas, weight), weight },
        });
    });
    plans.push({
        stage: steps.length + 2,
        stageCount,
        strategy,
        kind: "promote",
        name: "promote",
        // Production rolls to the canary tag while it carries no traffic.
        production: { tag: canaryTag, replicas, weight: 0 },
        canary: { tag: canaryTag, replicas, weight: 100 },
    });
    plans.push({
        stage: steps.length + 3,
        stageCount,
        strategy,
        kind: "switch-back",
        name: "switch back",
        // Traffic returns to production (now on the released tag); the canary stays up while it drains.
        production: { tag: canaryTag, replicas, weight: 100 },
        canary: { tag: canaryTag, replicas, weight: 0 },
    });
    return plans.map((p) => ({ ...p, description: describe(p, stable) }));
}

/** The plan of the service's configured stage. */
export function stagePlan(service: Pick<ServiceConfig, "stable" | "canary" | "replicas" | "steps" | "stage">): StagePlan {
    const plans = stagePlans(service);
    const plan = plans[service.stage - 1];
    if (!plan) throw new RangeError(`stage ${service.stage} does not exist: the steps [${service.steps.join(", ")}] give stages 1 to ${plans.length}`);
    return plan;
}
