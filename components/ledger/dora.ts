// Pure: the four DORA figures of the releases in the ledger, per stack and across the chain, adapted to what a git
// history of stack files can tell (docs/fleet.md "Release ledger"): a deployment is a finished release (stable set to the
// released revision), a failure is a release rolled back, and time to restore is how long users were on the stage
// that was rolled back. Times are the commits' (merges'), not the deploys': CI's `pulumi up` adds its minutes.
import type { Release, ReleaseAttempt } from "./releases";

export interface DoraFigures {
    /** Releases that started in the window (in this stack; across the chain: in any of its stacks). */
    releases: number;
    /** Of those, the ones that finished (in this stack; across the chain: in its last stack). */
    finished: number;
    /** Finishes whose commit is in the window (in this stack; across the chain: in the last stack). */
    deployments: number;
    /** Deployments per week over the window; absent for an empty window. */
    deploymentsPerWeek?: number;
    /** Median of start -> finish (in this stack; across the chain: first start -> last stack's finish), seconds. */
    leadTimeSeconds?: number;
    /** Releases with at least one rollback. */
    failedReleases: number;
    /** failedReleases / releases; absent without releases. */
    changeFailureRate?: number;
    rollbacks: number;
    /** Median, over the rollbacks, of the time from the move into the stage rolled back from to the rollback. */
    timeToRestoreSeconds?: number;
}

export interface DoraWindow {
    since: number;
    until: number;
}

const WEEK = 7 * 24 * 3600;

export function median(values: number[]): number | undefined {
    if (values.length === 0) return undefined;
    const s = [...values].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const inWindow = (t: number, w: DoraWindow) => t >= w.since && t <= w.until;

/** Restore times of the rolled-back attempts: the rollback move's time in the stage it left. */
function restoreTimes(attempts: ReleaseAttempt[]): number[] {
    return attempts
        .filter((a) => a.outcome === "rolled back")
        .map((a) => a.moves[a.moves.length - 1].secondsInFrom)
        .filter((s): s is number => s !== undefined);
}

interface Judged {
    startedAt: number;
    finishedAt?: number;
    leadTime?: number;
    attempts: ReleaseAttempt[];
}

function figures(judged: Judged[], window: DoraWindow): DoraFigures {
    const started = judged.filter((j) => inWindow(j.startedAt, window));
    const weeks = (window.until - window.since) / WEEK;
    const deployments = judged.filter((j) => j.finishedAt !== undefined && inWindow(j.finishedAt, window)).length;
    const failed = started.filter((j) => j.attempts.some((a) => a.outcome === "rolled back")).length;
    const rolledBack = started.flatMap((j) => j.attempts.filter((a) => a.outcome === "rolled back"));
    const lead = median(started.map((j) => j.leadTime).filter((t): t is number => t !== undefined));
    const restore = median(restoreTimes(started.flatMap((j) => j.attempts)));
    return {
        releases: started.length,
        finished: started.filter((j) => j.finishedAt !== undefined).length,
        deployments,
        ...(weeks > 0 ? { deploymentsPerWeek: deployments / weeks } : {}),
        ...(lead !== undefined ? { leadTimeSeconds: lead } : {}),
        failedReleases: failed,
        ...(started.length > 0 ? { changeFailureRate: failed / started.length } : {}),
        rollbacks: rolledBack.length,
        ...(restore !== undefined ? { timeToRestoreSeconds: restore } : {}),
    };
}

/** The figures of `releases` in one stack: each release's attempts there, from its first start there to its first finish there. */
export function stackFigures(releases: Release[], stack: string, window: DoraWindow): DoraFigures {
    const judged: Judged[] = [];
    for (const r of releases) {
        const attempts = r.attempts.filter((a) => a.stack === stack);
        if (attempts.length === 0) continue;
        const startedAt = Math.min(...attempts.map((a) => a.startedAt));
        const finishedAt = attempts.find((a) => a.outcome === "finished")?.endedAt;
        judged.push({ startedAt, attempts, ...(finishedAt !== undefined ? { finishedAt, leadTime: finishedAt - startedAt } : {}) });
    }
    return figures(judged, window);
}

/** The figures across the chain: each release from its first start to its finish in the chain's last stack. */
export function chainFigures(releases: Release[], chain: readonly string[], window: DoraWindow): DoraFigures {
    const judged: Judged[] = releases
        .map((r) => ({ r, attempts: r.attempts.filter((a) => chain.includes(a.stack)) }))
        .filter(({ attempts }) => attempts.length > 0)
        .map(({ r, attempts }) => ({ startedAt: r.startedAt, attempts, ...(r.finishedAt !== undefined ? { finishedAt: r.finishedAt, leadTime: r.leadTimeSeconds } : {}) }));
    return figures(judged, window);
}

export interface DoraReport {
    window: DoraWindow & { weeks: number };
    /** Per service: across the chain, and per stack. */
    services: Record<string, { chain: DoraFigures; stacks: Record<string, DoraFigures> }>;
    /** Per stack, every service together. */
    stacks: Record<string, DoraFigures>;
    /** Every service together, across the chain. */
    chain: DoraFigures;
}

export function doraReport(releases: Release[], stacks: string[], chain: readonly string[], window: DoraWindow): DoraReport {
    const services: DoraReport["services"] = {};
    for (const name of [...new Set(releases.map((r) => r.service))].sort()) {
        const mine = releases.filter((r) => r.service === name);
        services[name] = {
            chain: chainFigures(mine, chain, window),
            stacks: Object.fromEntries(stacks.map((s) => [s, stackFigures(mine, s, window)])),
        };
    }
    return {
        window: { ...window, weeks: (window.until - window.since) / WEEK },
        services,
        stacks: Object.fromEntries(stacks.map((s) => [s, stackFigures(releases, s, window)])),
        chain: chainFigures(releases, chain, window),
    };
}
