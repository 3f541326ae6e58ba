// Pure: the moves of the release ledger (`npm run history`). Given each stack file as it was after every commit that
// changed it (scripts/history-git.ts reads git), every move of every service in every stack: its stages, its
// revisions, the commit, the pull request, the author, when, and how long the service had spent in the stage it left.
import type { ServiceConfig } from "../service/config";
import { revisionRecords } from "../service/revision";
import { stageNames } from "../service/stages";

/** A commit that changed a stack file, as the ledger records it. */
export interface LedgerCommit {
    sha: string;
    /** Committer time, in seconds since the epoch: when the change reached the branch (a merge's own time). */
    time: number;
    /** Who made the change: a merge commit's merged head's author, else the commit's. */
    author: string;
    subject: string;
    /** The pull request, from "Merge pull request #N from …" or a squash merge's "… (#N)". */
    pr?: number;
}

/** The pull request a merge or squash commit's subject names, or undefined. */
export function pullRequestOf(subject: string): number | undefined {
    const m = /^Merge pull request #(\d+) /.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
    return m ? Number(m[1]) : undefined;
}

/** A stack file after one commit: its services, or why it could not be read (the commit is recorded, not a crash). */
export type StackSnapshot =
    | { commit: LedgerCommit; services: Record<string, ServiceConfig>; deleted?: boolean }
    | { commit: LedgerCommit; problem: string };

/** A stage as the ledger names it: "2/6 canary 10%". */
export interface StagePoint {
    stage: number;
    stageCount: number;
    name: string;
}

/**
 * What a move is, by what it does to the release:
 * - `added` / `removed`: the service appears in, or leaves, the stack file;
 * - `start`: from stage 1 to a later one, a release starts (usually 1 → 2);
 * - `forward`: on to a later weight (or shadow) stage; `promote`: on to the promote stage; `switch back`: on to the last;
 * - `finish`: from the last stage to 1 with `stable` set to the released revision;
 * - `rollback`: to stage 1 from a later one without finishing;
 * - `back`: to an earlier stage other than 1 (the program refuses it; the history may hold it);
 * - `direct`: production's revision changed at stage 1 (allowSkip);
 * - `revision`: the canary's revision changed at the same stage past 1 (refused by the program; recorded if merged).
 */
export type LedgerMoveKind = "added" | "removed" | "start" | "forward" | "promote" | "switch back" | "finish" | "rollback" | "back" | "direct" | "revision";

export interface LedgerMove {
    stack: string;
    service: string;
    kind: LedgerMoveKind;
    /** The stage before (absent when the service is added) and after (absent when removed). */
    from?: StagePoint;
    to?: StagePoint;
    /** Production's revision label before and after ("1.4.2", "1.5.0+env"). */
    production: { before?: string; after?: string };
    /** The canary's revision label before and after, while a `canary` is set. */
    canary: { before?: string; after?: string };
    /** The canary revision label this move belongs to the release of (absent for added at 1, removed at 1, direct). */
    release?: string;
    commit: LedgerCommit;
    /** Seconds the service spent in the stage it leaves: since its previous move in this stack (absent for the first). */
    secondsInFrom?: number;
}

/** A commit whose stack file could not be read: recorded, and skipped (the next readable one is compared with the last). */
export interface UnreadableCommit {
    stack: string;
    commit: LedgerCommit;
    problem: string;
}

function stageOf(service: ServiceConfig): StagePoint {
    const names = stageNames(service);
    return { stage: service.stage, stageCount: names.length, name: names[service.stage - 1] ?? `stage ${service.stage}` };
}

interface Labels {
    production: string;
    productionId: string;
    canary?: string;
    canaryId?: string;
}

function labelsOf(service: ServiceConfig): Labels {
    const r = revisionRecords(service);
    return {
        production: r.stable.label,
        productionId: r.stable.id,
        ...(service.canary !== undefined ? { canary: r.canary.label, canaryId: r.canary.id } : {}),
    };
}

/** The move of one service between two readings of its stack file, or undefined when nothing a release sees changed. */
export function classifyMove(a: ServiceConfig | undefined, b: ServiceConfig | undefined): Pick<LedgerMove, "kind" | "from" | "to" | "production" | "canary" | "release"> | undefined {
    if (!a && !b) return undefined;
    const la = a && labelsOf(a);
    const lb = b && labelsOf(b);
    const from = a && stageOf(a);
    const to = b && stageOf(b);
    const base = {
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        production: { ...(la ? { before: la.production } : {}), ...(lb ? { after: lb.production } : {}) },
        canary: { ...(la?.canary !== undefined ? { before: la.canary } : {}), ...(lb?.canary !== undefined ? { after: lb.canary } : {}) },
    };
    const release = (l: Labels | undefined) => (l?.canary !== undefined ? { release: l.canary } : {});
    if (!a) return { kind: "added", ...base, ...(to!.stage > 1 ? release(lb) : {}) };
    if (!b) return { kind: "removed", ...base, ...(from!.stage > 1 ? release(la) : {}) };
    const [x, y] = [from!, to!];
    if (x.stage === 1 && y.stage === 1) {
        return la!.productionId !== lb!.productionId ? { kind: "direct", ...base } : undefined;
    }
    if (x.stage === 1) return { kind: "start", ...base, ...release(lb) };
    if (y.stage === 1) {
        // Finishing: after the last stage, production's new revision is the one the canary released.
        const finished = x.stage === x.stageCount && la!.canary !== undefined && (lb!.productionId === la!.canaryId || (b.stable === a.canary && b.stable !== a.stable));
        return { kind: finished ? "finish" : "rollback", ...base, ...release(la) };
    }
    if (y.stage === x.stage) return la!.canaryId !== lb!.canaryId ? { kind: "revision", ...base, ...release(lb) } : undefined;
    if (y.stage < x.stage) return { kind: "back", ...base, ...release(lb) };
    const kind: LedgerMoveKind = y.stage === y.stageCount ? "switch back" : y.stage === y.stageCount - 1 ? "promote" : "forward";
    return { kind, ...base, ...release(lb) };
}

/**
 * Every move of every service of one stack, in the order of its snapshots (oldest first). A snapshot that could not
 * be read is listed apart, and the next readable one is compared with the last readable one: an unreadable file is
 * one the program refuses, so what ran meanwhile was the last readable one.
 */
export function stackMoves(stack: string, snapshots: StackSnapshot[]): { moves: LedgerMove[]; unreadable: UnreadableCommit[] } {
    const moves: LedgerMove[] = [];
    const unreadable: UnreadableCommit[] = [];
    let previous: Record<string, ServiceConfig> = {};
    const lastMove: Record<string, number> = {};
    for (const snapshot of snapshots) {
        if ("problem" in snapshot) {
            unreadable.push({ stack, commit: snapshot.commit, problem: snapshot.problem });
            continue;
        }
        const next = snapshot.services;
        for (const service of [...new Set([...Object.keys(previous), ...Object.keys(next)])].sort()) {
            const move = classifyMove(previous[service], next[service]);
            if (!move) continue;
            const since = move.kind === "added" ? undefined : lastMove[service];
            moves.push({ stack, service, ...move, commit: snapshot.commit, ...(since !== undefined ? { secondsInFrom: snapshot.commit.time - since } : {}) });
            // A removed service that comes back starts afresh: no time "in" a stage it was not in.
            if (move.kind === "removed") delete lastMove[service];
            else lastMove[service] = snapshot.commit.time;
        }
        previous = next;
    }
    return { moves, unreadable };
}
