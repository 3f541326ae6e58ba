// Pure: the deployed state of every service, the one record that crosses runs. One `pulumi up` exports it
// under the stack output `serviceStages` (what a reviewer reads in the preview diff), and the next run reads
// it back to judge its moves. The exported shape carries a `version`, so a later stagehand still reads what an
// older one wrote.
import { Track } from "../shared/tracks";
import { allowedNext, JudgedMove } from "./moves";
import { Drain } from "./order";
import { StagePlan, TrackPlan, Traffic } from "./stages";

/** The name of the stack output every service's state is exported under. */
export const SERVICE_STAGES_OUTPUT = "serviceStages";

/**
 * The version of the exported shape. 1: this shape. Outputs written before versions existed (no `version`)
 * have the same fields plus `weights`, and read the same way.
 */
export const DEPLOYED_STATE_VERSION = 1;

/**
 * What the last successful `pulumi up` left for one service, read back from the stack's own outputs
 * (`serviceStages.<service>`). `completed` is false when that update did not finish its rollout.
 */
export interface DeployedService {
    stage: number;
    stable: string;
    canary?: string;
    steps: number[];
    /** The shadow stage's mirror share, when the service has one (it shifts the stage numbers). */
    shadow?: { percent: number };
    completed: boolean;
    tracks: Record<Track, TrackPlan>;
    /** Percent of requests mirrored to the canary at that stage. */
    mirrorPercent: number;
    /** Whether test-user routes sent matching requests to the canary at that stage. */
    testRoutes?: boolean;
    /** The drain the service's Sleep held (absent in outputs written before drains were counted). */
    drain?: Drain;
}

/** The stack output of one service (`serviceStages.<service>`): the deployed state, and the words around it. */
export interface ServiceStageSummary {
    version: typeof DEPLOYED_STATE_VERSION;
    stage: number;
    stageCount: number;
    stageName: string;
    strategy: string;
    description: string;
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
    /** The drain the service's Sleep holds after this update. */
    drain: Drain;
}

/** What a service looks like once `plan` (its configured stage) is applied: the state the next move starts from. */
export function deployedState(
    service: Pick<DeployedService, "stable" | "canary" | "steps" | "shadow">,
    plan: Pick<StagePlan, "stage" | "production" | "canary" | "mirrorPercent" | "testRoutes">,
    completed: boolean,
): DeployedService {
    return {
        stage: plan.stage,
        stable: service.stable,
        canary: service.canary,
        steps: service.steps,
        shadow: service.shadow,
        completed,
        tracks: { production: plan.production, canary: plan.canary },
        mirrorPercent: plan.mirrorPercent,
        testRoutes: plan.testRoutes,
    };
}

/** The traffic a deployed state routes: both tracks, the mirror and the test routes. */
export function trafficOf(deployed: DeployedService): Traffic {
    return { ...deployed.tracks, mirrorPercent: deployed.mirrorPercent, testRoutes: deployed.testRoutes };
}

/** Writes the summary a service exports once its releases are applied. */
export function stageSummary(
    service: Pick<DeployedService, "stable" | "canary" | "steps" | "shadow">,
    plan: StagePlan,
    completed: boolean,
    move?: JudgedMove,
    drain: Drain = { count: 0, seconds: 0 },
): ServiceStageSummary {
    const allowSkip = move?.allowSkip ?? false;
    const summary: ServiceStageSummary = {
        version: DEPLOYED_STATE_VERSION,
        stage: plan.stage,
        stageCount: plan.stageCount,
        stageName: plan.name,
        strategy: plan.strategy,
        description: plan.description,
        tracks: { production: { ...plan.production }, canary: { ...plan.canary } },
        mirrorPercent: plan.mirrorPercent,
        testRoutes: plan.testRoutes,
        stable: service.stable,
        steps: [...service.steps],
        move: move?.check.words ?? `deployed at stage ${plan.stage} (${plan.name})`,
        next: allowedNext(deployedState(service, plan, completed), allowSkip),
        allowSkip,
        completed,
        drain: { ...drain },
    };
    // Pulumi drops undefined outputs; leaving the keys out keeps the preview diff clean.
    if (service.canary !== undefined) summary.canary = service.canary;
    if (service.shadow !== undefined) summary.shadow = { percent: service.shadow.percent };
    if (move?.previous !== undefined) summary.previousStage = move.previous.stage;
    return summary;
}

function isTrack(v: any): v is TrackPlan {
    return v && typeof v.tag === "string" && Number.isInteger(v.replicas) && Number.isInteger(v.weight);
}

/** Versions this release reads: 1, and the unversioned shape written before it (same fields). */
const READABLE_VERSIONS = new Set<unknown>([undefined, DEPLOYED_STATE_VERSION]);

/**
 * Reads the services back from the stack's previous outputs (`serviceStages`). Entries that do not have a
 * shape this version reads (a newer stagehand, a hand-edited state) are left out: they count as first
 * deployments rather than as a stage they may not be at.
 */
export function readDeployedServices(serviceStages: unknown): Record<string, DeployedService> {
    const out: Record<string, DeployedService> = {};
    if (!serviceStages || typeof serviceStages !== "object") return out;
    for (const [name, v] of Object.entries(serviceStages as Record<string, any>)) {
        if (!v || !READABLE_VERSIONS.has(v.version)) continue;
        if (!Number.isInteger(v.stage) || typeof v.stable !== "string" || !Array.isArray(v.steps) || !isTrack(v.tracks?.production) || !isTrack(v.tracks?.canary)) continue;
        out[name] = {
            stage: v.stage,
            stable: v.stable,
            canary: typeof v.canary === "string" ? v.canary : undefined,
            steps: v.steps,
            shadow: Number.isFinite(v.shadow?.percent) ? { percent: v.shadow.percent } : undefined,
            completed: v.completed === true,
            tracks: { production: v.tracks.production, canary: v.tracks.canary },
            mirrorPercent: Number.isFinite(v.mirrorPercent) ? v.mirrorPercent : 0,
            testRoutes: v.testRoutes === true,
            drain: Number.isInteger(v.drain?.count) && Number.isInteger(v.drain?.seconds) ? { count: v.drain.count, seconds: v.drain.seconds } : undefined,
        };
    }
    return out;
}
