// Pure: the releases of the ledger. A release is one canary revision of a service (its label: "1.5.0",
// "0.10.0+env") on its way through the stacks of the chain (staging -> uat -> prod): in each stack, one attempt per
// start, ended by a finish, a rollback, or still open. A rollback and a later start of the same revision is a second
// attempt of the same release; a new revision is a new release.
import type { LedgerMove } from "./moves";

export type AttemptOutcome = "finished" | "rolled back" | "removed" | "open";

/** One try of a release in one stack: from its start to its finish, rollback or removal, with every move between. */
export interface ReleaseAttempt {
    stack: string;
    outcome: AttemptOutcome;
    /** Start, the moves between, and the move that ended it (if any), oldest first. */
    moves: LedgerMove[];
    startedAt: number;
    endedAt?: number;
}

export interface Release {
    service: string;
    /** The canary revision's label. */
    revision: string;
    /** Every attempt, stack by stack in the chain's order, then by time. */
    attempts: ReleaseAttempt[];
    /** Its first start in a stack of the chain (any stack, when it started in none of the chain's). */
    startedAt: number;
    /** Its finish in the chain's last stack, when it got there. */
    finishedAt?: number;
    /** First start to the last stack's finish, in seconds: the release's lead time. */
    leadTimeSeconds?: number;
    rollbacks: number;
}

/** The moves that end an attempt, and how. */
const ENDS: Partial<Record<LedgerMove["kind"], AttemptOutcome>> = { finish: "finished", rollback: "rolled back", removed: "removed" };

/**
 * The releases in `moves` (every stack's, in any order). `chain` is the stacks a release goes through, in order
 * (the fleet's chain, components/fleet/waves.ts, the one place it is decided); `order` sorts stacks for display.
 */
export function releasesOf(moves: LedgerMove[], chain: readonly string[], order: (a: string, b: string) => number): Release[] {
    const sorted = [...moves].sort((a, b) => a.commit.time - b.commit.time);
    const open = new Map<string, ReleaseAttempt & { service: string; revision: string }>();
    const attempts: (ReleaseAttempt & { service: string; revision: string })[] = [];
    for (const move of sorted) {
        const key = `${move.stack}\u0000${move.service}`;
        const current = open.get(key);
        const starts = move.kind === "start" || (move.kind === "added" && move.to !== undefined && move.to.stage > 1);
        if (starts && move.release !== undefined) {
            // A start while another attempt is open (history the program would refuse): the open one ends there.
            if (current) open.delete(key);
            const attempt = { service: move.service, revision: move.release, stack: move.stack, outcome: "open" as AttemptOutcome, moves: [move], startedAt: move.commit.time };
            attempts.push(attempt);
            open.set(key, attempt);
            continue;
        }
        if (!current) continue;
        current.moves.push(move);
        const end = ENDS[move.kind];
        if (end) {
            current.outcome = end;
            current.endedAt = move.commit.time;
            open.delete(key);
        }
    }
    const releases = new Map<string, Release>();
    const inChain = (stack: string) => chain.includes(stack);
    for (const { service, revision, ...attempt } of attempts) {
        const key = `${service}\u0000${revision}`;
        const release = releases.get(key) ?? { service, revision, attempts: [], startedAt: attempt.startedAt, rollbacks: 0 };
        release.attempts.push(attempt);
        releases.set(key, release);
    }
    const last = chain[chain.length - 1];
    for (const release of releases.values()) {
        release.attempts.sort((a, b) => order(a.stack, b.stack) || a.startedAt - b.startedAt);
        const chained = release.attempts.filter((a) => inChain(a.stack));
        release.startedAt = Math.min(...(chained.length > 0 ? chained : release.attempts).map((a) => a.startedAt));
        release.rollbacks = release.attempts.filter((a) => a.outcome === "rolled back").length;
        const finish = release.attempts.find((a) => a.stack === last && a.outcome === "finished");
        if (finish?.endedAt !== undefined) {
            release.finishedAt = finish.endedAt;
            release.leadTimeSeconds = finish.endedAt - release.startedAt;
        }
    }
    return [...releases.values()].sort((a, b) => a.startedAt - b.startedAt || a.service.localeCompare(b.service) || a.revision.localeCompare(b.revision));
}
