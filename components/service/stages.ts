// Pure: one service's config → what each stage means for traffic, image tags and replicas.
// Computed once per run (`planServices`) and used by the move check, the ServiceRelease component,
// `npm run plan` and the policies alike.
import type { ServiceConfig } from "./config";
import { RevisionName, RevisionRecord, RevisionRef, revisionRecords, revisionsOfConfig } from "./revision";

/** Weight steps of the default canary: 10%, 90%, then 100% of traffic on the canary. */
export const DEFAULT_STEPS = [10, 90, 100] as const;

/** `canary` for the default steps, `bluegreen` for [100], `custom` for an explicit step list. */
export type Strategy = "canary" | "bluegreen" | "custom";

/** The weight steps a service's `strategy`/`steps` give. */
export function stepsOf(svc: { strategy?: "canary" | "bluegreen"; steps?: number[] }): number[] {
    if (svc.steps) return svc.steps;
    return svc.strategy === "bluegreen" ? [100] : [...DEFAULT_STEPS];
}

/** The strategy a step list amounts to: [100] is blue/green, the default steps canary, any other custom. */
export function strategyOf(steps: readonly number[]): Strategy {
    if (steps.length === 1 && steps[0] === 100) return "bluegreen";
    if (steps.length === DEFAULT_STEPS.length && steps.every((w, i) => w === DEFAULT_STEPS[i])) return "canary";
    return "custom";
}

/** Whether a step list is one the stages can follow: not empty, strictly increasing, ending at 100. */
export function validSteps(s: readonly number[]): boolean {
    return s.length > 0 && s.every((w, i) => i === 0 || w > s[i - 1]) && s[s.length - 1] === 100;
}

/** What numbers a service's stages: its weight steps and whether it has a shadow stage. */
export interface StageShape {
    steps: readonly number[];
    shadow?: { percent: number };
}

/** The names of the stages of a shape, index 0 = stage 1: idle, (shadow,) one per weight step, promote, switch back. */
export function stageNames({ steps, shadow }: StageShape): string[] {
    return ["idle", ...(shadow ? [`shadow ${shadow.percent}%`] : []), ...steps.map((w) => `canary ${w}%`), "promote", "switch back"];
}

/** Stages of a step list: 1 idle, (shadow,) one per weight step, promote, switch back. */
export function stageCountOf(steps: readonly number[], shadow = false): number {
    return steps.length + 3 + (shadow ? 1 : 0);
}

/** What one Deployment of a service runs at a stage, and the share of traffic routed to it. */
export interface TrackPlan {
    tag: string;
    /**
     * The revision the track runs (its tag and pod-shaping fields, components/service/revision.ts). Absent only in
     * deployed states written before revisions were recorded.
     */
    revision?: RevisionRef;
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
    Partial<Pick<ServiceConfig, "strategy" | "shadow" | "testRoutes" | "production" | "productionHeadroomPercent">> & {
        /** The revisions of `stable` and `canary`; computed from the service when it is a whole config, else its tags alone. */
        revisions?: Record<RevisionName, RevisionRef>;
    };

const refOf = (r: RevisionRecord): RevisionRef => ({ id: r.id, label: r.label });

/** The revisions a plan's tracks run: given, or computed from a whole service config; none for tags alone. */
function revisionRefs(service: PlanInput): Record<RevisionName, RevisionRef> | undefined {
    if (service.revisions) return service.revisions;
    const records = revisionsOfConfig(service);
    return records && { stable: refOf(records.stable), canary: refOf(records.canary) };
}

const STRATEGY_WORDS: Record<Strategy, string> = { canary: "canary", bluegreen: "blue/green", custom: "custom steps" };

/**
 * Pods a track serving users' requests keeps at the least (when the service has that many): node drains, spot
 * interruptions and cluster upgrades evict pods one at a time (the PodDisruptionBudget allows one), so a track of
 * two keeps serving through them, where a track of one would be down until its pod is rescheduled and ready.
 */
export const MIN_SERVING_REPLICAS = 2;

/** Canary pods follow the share of traffic they carry: at least `minimum` while live, full size at 100%. */
export function canaryReplicas(fullReplicas: number, canaryWeight: number, minimum = 1): number {
    if (canaryWeight <= 0) return 0;
    if (canaryWeight >= 100) return fullReplicas;
    return Math.min(fullReplicas, Math.max(minimum, Math.ceil((fullReplicas * canaryWeight) / 100)));
}

/**
 * How production is sized through a release. `full`: at full size from the first stage to the last, the instant
 * rollback (twice the pods from the canary's 100% step on). `follows-traffic` (lean): production shrinks as the
 * canary takes its share, keeping the pods its share needs plus a headroom, and grows back first — make before
 * break — when traffic returns to it (a rollback, the switch back): a release costs about the headroom in extra
 * pods instead of double, and a rollback waits for production's pods to start.
 */
export const PRODUCTION_MODES = ["full", "follows-traffic"] as const;
export type ProductionMode = (typeof PRODUCTION_MODES)[number];

/** Production's headroom in follows-traffic mode, in percent of its full size, unless the service says otherwise. */
export const DEFAULT_PRODUCTION_HEADROOM_PERCENT = 20;

/**
 * Production's pods in follows-traffic mode when it carries `share` percent of requests: the pods that share needs,
 * plus `headroomPercent` of the full size on top, never more than the full size.
 *
 * The headroom is added, not multiplied: it is a fixed number of spare pods (20% of 10 replicas: 2), which
 * - keeps a small share served with room for a burst and an eviction (10% of 10 replicas needs 1 pod; with 20%
 *   headroom production keeps 3, where 1 × 1.2 would round to 2);
 * - bounds what a release holds on top of the service's full size to about the headroom at every weight step
 *   (production's pods and the canary's each follow their share, so the extra is the headroom, plus rounding);
 * - leaves production a warm pool of that size at the canary's 100% step (its share is 0): a rollback from there
 *   starts only the rest of the pods, and production's Deployment, PodDisruptionBudget and autoscaler stay
 *   in place, its image pulled on the nodes. A headroom of 0 scales production to 0 there: the leanest release,
 *   the slowest rollback.
 * While production serves a share it keeps MIN_SERVING_REPLICAS (when it has that many), as the canary does.
 */
export function followingProductionReplicas(fullReplicas: number, share: number, headroomPercent: number): number {
    if (share >= 100) return fullReplicas;
    const wanted = Math.ceil((fullReplicas * (share + headroomPercent)) / 100 - 1e-9);
    const floor = share > 0 ? Math.min(fullReplicas, MIN_SERVING_REPLICAS) : 0;
    return Math.min(fullReplicas, Math.max(floor, wanted));
}

/** A track's revision in words: its label ("1.5.0", "1.5.0+env"), or its tag when the plan names none. */
export function revisionLabel(track: Pick<TrackPlan, "tag" | "revision">): string {
    return track.revision?.label ?? track.tag;
}

function describe(p: Omit<StagePlan, "description">, stable: Pick<TrackPlan, "tag" | "revision">, testRouteCount: number): string {
    const rolling = p.kind === "promote" && (p.production.revision && stable.revision ? p.production.revision.id !== stable.revision.id : p.production.tag !== stable.tag);
    const production = rolling ? `production x${p.production.replicas}, rolling from ${revisionLabel(stable)}` : `production x${p.production.replicas}`;
    const canary = p.kind === "switch-back" ? `canary x${p.canary.replicas}, draining` : `canary x${p.canary.replicas}`;
    const extras: string[] = [];
    if (p.mirrorPercent > 0) extras.push(`${p.mirrorPercent}% mirrored -> ${revisionLabel(p.canary)} (canary)`);
    if (p.testRoutes) extras.push(`test route${testRouteCount === 1 ? "" : "s"} -> canary`);
    return (
        `stage ${p.stage}/${p.stageCount} ${p.name}: ` +
        `${p.production.weight}% -> ${revisionLabel(p.production)} (${production}), ` +
        `${p.canary.weight}% -> ${revisionLabel(p.canary)} (${canary})` +
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
    const refs = revisionRefs(service);
    // A track's revision, when the plan knows it (a whole config); plans of tags alone name the tags only.
    const stableRev = refs ? { revision: { ...refs.stable } } : {};
    const canaryRev = refs ? { revision: { ...refs.canary } } : {};
    const shadow = service.shadow;
    const stageCount = stageCountOf(steps, shadow !== undefined);
    const strategy = service.strategy ?? strategyOf(steps);
    const testRouteCount = service.testRoutes?.length ?? 0;
    const lean = service.production === "follows-traffic";
    const headroom = service.productionHeadroomPercent ?? DEFAULT_PRODUCTION_HEADROOM_PERCENT;
    // Production's pods while it carries `share` percent of requests: all of them, or (lean) what the share needs.
    const productionAt = (share: number) => (lean ? followingProductionReplicas(replicas, share, headroom) : replicas);
    type Draft = Omit<StagePlan, "stage" | "stageCount" | "strategy" | "name" | "description" | "mirrorPercent" | "testRoutes"> & { mirrorPercent?: number };
    const drafts: Draft[] = [];

    drafts.push({
        kind: "idle",
        production: { tag: stable, ...stableRev, replicas, weight: 100 },
        canary: { tag: canaryTag, ...canaryRev, replicas: 0, weight: 0 },
    });
    if (shadow) {
        drafts.push({
            kind: "shadow",
            // Production serves every response; the canary gets copies, sized for the mirrored share.
            production: { tag: stable, ...stableRev, replicas, weight: 100 },
            canary: { tag: canaryTag, ...canaryRev, replicas: canaryReplicas(replicas, shadow.percent), weight: 0 },
            mirrorPercent: shadow.percent,
        });
    }
    for (const weight of steps) {
        drafts.push({
            kind: "canary",
            // Production stays at full size through every weight step: it is the instant rollback. Lean, it keeps
            // what its share needs plus the headroom, and a rollback grows it back before traffic returns.
            production: { tag: stable, ...stableRev, replicas: productionAt(100 - weight), weight: 100 - weight },
            // A canary serving a share of users keeps two pods through evictions (a mirror's copies need one).
            canary: { tag: canaryTag, ...canaryRev, replicas: canaryReplicas(replicas, weight, MIN_SERVING_REPLICAS), weight },
        });
    }
    drafts.push({
        kind: "promote",
        // Production rolls to the canary tag while it carries no traffic (lean: its warm pool, the pods it kept at
        // the canary's 100% step; the switch back grows it to full size before traffic returns).
        production: { tag: canaryTag, ...canaryRev, replicas: productionAt(0), weight: 0 },
        canary: { tag: canaryTag, ...canaryRev, replicas, weight: 100 },
    });
    drafts.push({
        kind: "switch-back",
        // Traffic returns to production (now on the released tag); the canary stays up while it drains. Lean, the
        // canary's pods go once the drain has run: production runs the released revision at full size, and no
        // move from here needs the canary's pods (a rollback rolls production back; finishing scales it to 0).
        production: { tag: canaryTag, ...canaryRev, replicas, weight: 100 },
        canary: { tag: canaryTag, ...canaryRev, replicas: lean ? 0 : replicas, weight: 0 },
    });
    const names = stageNames({ steps, shadow });
    return drafts.map((d, i) => {
        const plan = {
            ...d,
            name: names[i],
            stage: i + 1,
            stageCount,
            strategy,
            mirrorPercent: d.mirrorPercent ?? 0,
            // Test users reach the canary whenever it has pods: from the first canary stage to switch back.
            testRoutes: testRouteCount > 0 && d.canary.replicas > 0,
        };
        return { ...plan, description: describe(plan, { tag: stable, ...stableRev }, testRouteCount) };
    });
}

/** The plan of the service's configured stage. */
export function stagePlan(service: PlanInput & { stage: number }): StagePlan {
    const plans = stagePlans(service);
    const plan = plans[service.stage - 1];
    if (!plan) throw new RangeError(`stage ${service.stage} does not exist: the steps [${service.steps.join(", ")}] give stages 1 to ${plans.length}`);
    return plan;
}

/** A service with its stage plans, computed once per run: every stage, and the configured one. */
export interface PlannedService {
    name: string;
    service: ServiceConfig;
    /** Index 0 = stage 1. */
    plans: StagePlan[];
    /** The plan of the configured stage: `plans[service.stage - 1]`. */
    plan: StagePlan;
    /** The revisions of `stable` and `canary`, as the stack records them (components/service/revision.ts). */
    revisions: Record<RevisionName, RevisionRecord>;
}

/** The plans of every service of a validated stack config, sorted by service name. */
export function planServices(services: Record<string, ServiceConfig>): PlannedService[] {
    return Object.keys(services)
        .sort()
        .map((name) => {
            const service = services[name];
            const revisions = revisionRecords(service);
            const plans = stagePlans({ ...service, revisions: { stable: refOf(revisions.stable), canary: refOf(revisions.canary) } });
            const plan = plans[service.stage - 1];
            if (!plan) throw new RangeError(`service ${name}: stage ${service.stage} does not exist: the steps [${service.steps.join(", ")}] give stages 1 to ${plans.length}`);
            return { name, service, plans, plan, revisions };
        });
}

/**
 * What a plan would route that no pod could serve: weights not adding up to 100, weight on a track without
 * pods, a mirror or test-user routes onto a canary without pods. Empty for every plan `stagePlans` makes; the
 * program and `npm run plan` check it anyway before registering anything, because no single Helm release holds
 * the whole plan any more (each carries its own part), so the chart cannot.
 */
export function planProblems(plan: Pick<StagePlan, "production" | "canary" | "mirrorPercent" | "testRoutes">): string[] {
    const problems: string[] = [];
    const sum = plan.production.weight + plan.canary.weight;
    if (sum !== 100) problems.push(`the weights add up to ${sum} (production ${plan.production.weight} + canary ${plan.canary.weight}), not 100`);
    for (const track of ["production", "canary"] as const) {
        if (plan[track].weight > 0 && plan[track].replicas === 0) problems.push(`${plan[track].weight}% of traffic would go to the ${track} track, which has 0 replicas`);
    }
    if (plan.canary.replicas === 0 && plan.mirrorPercent > 0 && plan.canary.weight < 100) problems.push(`${plan.mirrorPercent}% of requests would be mirrored to the canary track, which has 0 replicas`);
    if (plan.canary.replicas === 0 && plan.testRoutes) problems.push("test-user routes would send requests to the canary track, which has 0 replicas");
    return problems;
}
