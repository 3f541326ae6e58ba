// Pure: the deployed state of every service, the one record that crosses runs. One `pulumi up` exports it
// under the stack output `serviceStages` (what a reviewer reads in the preview diff), and the next run reads
// it back to judge its moves. The exported shape carries a `version`, so a later stagehand still reads what an
// older one wrote.
import { Track } from "../shared/tracks";
import { allowedNext, JudgedMove } from "./moves";
import { StackProblemsError } from "../shared/errors";
import type { MigrationRecord } from "./jobs";
import { Run, Wait } from "./order";
import { readRevisionRecord, RevisionName, RevisionRecord, revisionsOfConfig } from "./revision";
import { StagePlan, TrackPlan, Traffic } from "./stages";

/** The name of the stack output every service's state is exported under. */
export const SERVICE_STAGES_OUTPUT = "serviceStages";

/**
 * The version of the exported shape. 3: this shape (2 plus `smoke` and `migrations`: which Jobs ran, so each runs
 * once). A stagehand that knows no Jobs must not read it: it would drop the record and run a migration again. 2 (1
 * plus `revisions`, and a revision on each track) is read as 3 with no Job run yet. 1, and outputs written before
 * versions existed (no `version`, the same fields plus `weights`), read the same way without revisions: the next
 * move is then judged by tags alone, once, and records the revisions.
 */
export const DEPLOYED_STATE_VERSION = 3;

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
    /** The waits the service's Sleeps held (absent in outputs written before waits were counted). */
    drain?: Wait;
    settle?: Wait;
    /** Production's and the canary's revisions (absent in outputs written before version 2). */
    revisions?: Record<RevisionName, RevisionRecord>;
    /** The namespace it runs in (absent in outputs written before namespaces were recorded). */
    namespace?: string;
    /** The smoke test's last run (absent before version 3, or when it never ran). */
    smoke?: Run;
    /** The revisions whose migrations ran (absent before version 3). */
    migrations?: MigrationRecord;
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
    /** The waits the service's Sleeps hold after this update: settle before the routing, drain after it. */
    settle: Wait;
    drain: Wait;
    /**
     * The revisions of `stable` and `canary`: tag, label ("1.5.0+env"), an id and a fingerprint per pod-shaping
     * field (never a value: secrets stay in the config). The next update compares them to refuse changes that
     * would reach pods outside the stages.
     */
    revisions: Record<RevisionName, RevisionRecord>;
    /** The namespace the service runs in: the next update refuses to move a running service out of it. */
    namespace?: string;
    /** The smoke test's last run: the next one counts from it (components/service/order.ts `Run`). */
    smoke: Run;
    /** The revisions whose expand and contract migrations ran: each runs once per revision. */
    migrations: MigrationRecord;
}

/** What a service looks like once `plan` (its configured stage) is applied: the state the next move starts from. */
export function deployedState(
    service: Pick<DeployedService, "stable" | "canary" | "steps" | "shadow" | "revisions">,
    plan: Pick<StagePlan, "stage" | "production" | "canary" | "mirrorPercent" | "testRoutes">,
    completed: boolean,
): DeployedService {
    // A whole service config records its revisions; a deployed state read back carries them already.
    const revisions = service.revisions ?? revisionsOfConfig(service);
    return {
        ...(revisions ? { revisions } : {}),
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
    service: Pick<DeployedService, "stable" | "canary" | "steps" | "shadow" | "namespace"> & Partial<Pick<DeployedService, "revisions">>,
    plan: StagePlan,
    completed: boolean,
    move?: JudgedMove,
    extras: { waits?: { settle: Wait; drain: Wait }; notes?: string[]; smoke?: Run; migrations?: MigrationRecord } = {},
): ServiceStageSummary {
    const none = { count: 0, seconds: 0 };
    const words = move?.check.words ?? `deployed at stage ${plan.stage} (${plan.name})`;
    const allowSkip = move?.allowSkip ?? false;
    const summary: Omit<ServiceStageSummary, "revisions"> & Partial<Pick<ServiceStageSummary, "revisions">> = {
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
        move: extras.notes?.length ? `${words} (${extras.notes.join("; ")})` : words,
        next: allowedNext(deployedState(service, plan, completed), allowSkip),
        allowSkip,
        completed,
        settle: { ...(extras.waits?.settle ?? none) },
        drain: { ...(extras.waits?.drain ?? none) },
        smoke: { ...(extras.smoke ?? { count: 0 }) },
        migrations: { ...(extras.migrations ?? {}) },
    };
    const revisions = service.revisions ?? revisionsOfConfig(service);
    if (!revisions) throw new TypeError("stageSummary needs a whole service config (or its revisions) to record what the tracks run");
    summary.revisions = { stable: { ...revisions.stable }, canary: { ...revisions.canary } };
    // Pulumi drops undefined outputs; leaving the keys out keeps the preview diff clean.
    if (service.canary !== undefined) summary.canary = service.canary;
    if (service.shadow !== undefined) summary.shadow = { percent: service.shadow.percent };
    if (move?.previous !== undefined) summary.previousStage = move.previous.stage;
    if (service.namespace !== undefined) summary.namespace = service.namespace;
    return summary as ServiceStageSummary;
}

function isTrack(v: any): v is TrackPlan {
    return v && typeof v.tag === "string" && Number.isInteger(v.replicas) && Number.isInteger(v.weight);
}

/** A track read back: its tag, replicas and weight, and its revision when one was recorded. */
function trackOf(v: any): TrackPlan {
    const revision = typeof v.revision?.id === "string" && typeof v.revision?.label === "string" ? { revision: { id: v.revision.id, label: v.revision.label } } : {};
    return { tag: v.tag, replicas: v.replicas, weight: v.weight, ...revision };
}

/** Versions this release reads: 3, 2, 1 and the unversioned shape written before it (the same fields without revisions). */
const READABLE_VERSIONS = new Set<unknown>([undefined, 1, 2, DEPLOYED_STATE_VERSION]);

/** The stack's previous outputs hold an entry this stagehand cannot read: one problem per service. */
export class DeployedStateError extends StackProblemsError {
    constructor(stack: string, problems: string[]) {
        super(`unreadable deployed state in stack ${stack}`, stack, problems);
        this.name = "DeployedStateError";
    }
}

/** The migration record read back: only revision ids (strings). */
const migrationsOf = (m: any): MigrationRecord => ({
    ...(typeof m.expand === "string" ? { expand: m.expand } : {}),
    ...(typeof m.contract === "string" ? { contract: m.contract } : {}),
});
const isWait = (w: any): w is Wait => Number.isInteger(w?.count) && Number.isInteger(w?.seconds);
/** A wait as exported, with the cautious update's identity when it has one. */
const waitOf = (w: Wait): Wait => ({ count: w.count, seconds: w.seconds, ...(typeof w.update === "string" ? { update: w.update } : {}) });

/** Why an entry of `serviceStages` is not a deployed state this version reads, or undefined when it is. */
function unreadable(v: any): string | undefined {
    if (!v || typeof v !== "object" || Array.isArray(v)) return `expected a deployed-state object, found ${JSON.stringify(v)}`;
    if (!READABLE_VERSIONS.has(v.version)) {
        return `expected a deployed state of version ${DEPLOYED_STATE_VERSION}, 2 or 1 (or one written before versions), found version ${JSON.stringify(v.version)}: it was written by another stagehand; deploy with that one, or a newer one that reads it`;
    }
    const missing = [
        !Number.isInteger(v.stage) && "stage",
        typeof v.stable !== "string" && "stable",
        !Array.isArray(v.steps) && "steps",
        !isTrack(v.tracks?.production) && "tracks.production",
        !isTrack(v.tracks?.canary) && "tracks.canary",
    ].filter(Boolean);
    return missing.length > 0 ? `expected a deployed state with ${missing.join(", ")}, found ${JSON.stringify(v)}` : undefined;
}

/**
 * Reads the services back from all of the stack's previous outputs (their names, and `serviceStages`), failing
 * closed. No outputs at all: a first deployment, every service new. Outputs without `serviceStages`: the stack was
 * deployed, but what its services run is lost (outputs edited, an import, a failed update's checkpoint); taking them
 * as new would judge no move and remove nothing, so it is refused — unless `stagehand:acknowledge` has
 * `serviceStages: unknown` (`acknowledgedUnknown`), and then every service takes the cautious order.
 */
export function readPreviousServices(stack: string, outputNames: string[], serviceStages: unknown, acknowledgedUnknown: boolean): Record<string, DeployedService> {
    const others = outputNames.filter((n) => n !== SERVICE_STAGES_OUTPUT).sort();
    if ((serviceStages === undefined || serviceStages === null) && others.length > 0 && !acknowledgedUnknown) {
        throw new DeployedStateError(stack, [
            `stack ${stack}, output ${SERVICE_STAGES_OUTPUT}: missing, but the stack has outputs of an earlier update (${others.join(", ")}): what each service runs is unknown. ` +
                `Taking every service as new would judge no move (a skipped stage would pass) and remove no service gone from the config. ` +
                `Restore the outputs of the last good update (pulumi stack history; pulumi stack export --version <version> --file state.json; pulumi stack import --file state.json), ` +
                `or, to deploy every service from an unknown previous stage (the cautious order), add to Pulumi.${stack}.yaml: stagehand:acknowledge: { serviceStages: unknown } and remove it after that update`,
        ]);
    }
    return readDeployedServices(stack, serviceStages);
}

/**
 * Reads the services back from the stack's previous outputs (`serviceStages`). A service with no entry has no
 * trustworthy previous state (a first deployment, or outputs lost): the program then takes the cautious order.
 * An entry this version cannot read is never dropped silently: it throws, naming the service, before anything
 * is registered — treating a live service as new could route traffic to pods that are not there.
 */
export function readDeployedServices(stack: string, serviceStages: unknown): Record<string, DeployedService> {
    const out: Record<string, DeployedService> = {};
    if (serviceStages === undefined || serviceStages === null) return out;
    if (typeof serviceStages !== "object" || Array.isArray(serviceStages)) {
        throw new DeployedStateError(stack, [`stack ${stack}, output serviceStages: expected a map of service name to deployed state, found ${JSON.stringify(serviceStages)}`]);
    }
    const problems: string[] = [];
    for (const [name, v] of Object.entries(serviceStages as Record<string, any>)) {
        const problem = unreadable(v);
        if (problem) {
            problems.push(`stack ${stack}, service ${name}, output serviceStages.${name}: ${problem}`);
            continue;
        }
        out[name] = {
            stage: v.stage,
            stable: v.stable,
            canary: typeof v.canary === "string" ? v.canary : undefined,
            steps: v.steps,
            shadow: Number.isFinite(v.shadow?.percent) ? { percent: v.shadow.percent } : undefined,
            completed: v.completed === true,
            tracks: { production: trackOf(v.tracks.production), canary: trackOf(v.tracks.canary) },
            mirrorPercent: Number.isFinite(v.mirrorPercent) ? v.mirrorPercent : 0,
            testRoutes: v.testRoutes === true,
            drain: isWait(v.drain) ? waitOf(v.drain) : undefined,
            settle: isWait(v.settle) ? waitOf(v.settle) : undefined,
            // Absent in outputs written before namespaces were recorded: then the key is left out.
            ...(typeof v.namespace === "string" ? { namespace: v.namespace } : {}),
            ...(Number.isInteger(v.smoke?.count) ? { smoke: { count: v.smoke.count, ...(typeof v.smoke.update === "string" ? { update: v.smoke.update } : {}) } } : {}),
            ...(v.migrations && typeof v.migrations === "object" ? { migrations: migrationsOf(v.migrations) } : {}),
        };
        const stable = readRevisionRecord(v.revisions?.stable);
        const canary = readRevisionRecord(v.revisions?.canary);
        if ((v.version === 2 || v.version === DEPLOYED_STATE_VERSION) && !(stable && canary)) {
            problems.push(`stack ${stack}, service ${name}, output serviceStages.${name}: expected revisions.stable and revisions.canary (version ${v.version}), found ${JSON.stringify(v.revisions)}`);
            continue;
        }
        if (stable && canary) out[name].revisions = { stable, canary };
    }
    if (problems.length > 0) throw new DeployedStateError(stack, problems);
    return out;
}
