// Pure: which moves between stages are legal. Used by the program (before any resource is registered), by
// `npm run plan -- --diff` and by the tests.
import { StackProblemsError } from "../shared/errors";
import type { DeployedService } from "./deployed";
import { StageShape, stageNames } from "./stages";

/** The part of a service's config a move is judged on. */
export interface ServiceIntent extends StageShape {
    stage: number;
    stable: string;
    canary?: string;
    allowSkip: boolean;
}

export type MoveKind = "first" | "stay" | "forward" | "skip" | "rollback" | "finish" | "direct";

export type MoveCheck =
    | { ok: true; kind: MoveKind; words: string }
    | { ok: false; reason: string; allowed: string };

function stageName(names: string[], stage: number): string {
    const name = names[stage - 1];
    return name ? `${stage} (${name})` : `${stage}`;
}

/** "stay at 2, 3 (canary 90%), or 1 (rollback)" — the moves open from a deployed state. */
export function allowedNext(prev: DeployedService, allowSkip = false): string {
    const plans = stageNames(prev);
    const last = plans.length;
    const options: string[] = [`stay at ${prev.stage}`];
    if (prev.stage < last && prev.completed) {
        options.push(allowSkip && prev.stage + 1 < last ? `${stageName(plans, prev.stage + 1)} up to ${last}` : stageName(plans, prev.stage + 1));
    }
    if (prev.stage === 1) {
        if (!prev.completed) options.push("(forward only once stage 1 has completed)");
        return options.join(", ");
    }
    if (prev.stage === last && prev.canary !== undefined && prev.completed) {
        options.push(`finish (stage 1 with stable: "${prev.canary}")`);
    }
    options.push("or 1 (rollback)");
    if (!prev.completed && prev.stage < last) options.push(`(forward only once stage ${prev.stage} has completed)`);
    return options.join(", ");
}

function sameSteps(a: readonly number[], b: readonly number[]): boolean {
    return a.length === b.length && a.every((w, i) => w === b[i]);
}

/**
 * Judges a service's config against what is deployed. Allowed: the first deployment; stay; forward by
 * exactly one stage (from a completed stage); back to stage 1 from any stage (rollback, `stable`
 * unchanged); after the last stage, finishing (`stable` set to the released tag, stage 1). With
 * `allowSkip`, forward by several stages and changing `stable` directly at stage 1 are allowed too.
 */
export function checkMove(prev: DeployedService | undefined, next: ServiceIntent): MoveCheck {
    const to = stageName(stageNames(next), next.stage);
    if (!prev) return { ok: true, kind: "first", words: `first deployment at stage ${to}` };

    const prevPlans = stageNames(prev);
    const from = stageName(prevPlans, prev.stage);
    const last = prevPlans.length;
    const inRelease = prev.stage > 1;
    const refuse = (reason: string): MoveCheck => ({ ok: false, reason, allowed: allowedNext(prev, next.allowSkip) });

    // Finishing: after the last stage, production already runs the released tag; stable catches up.
    if (prev.stage === last && next.stage === 1 && prev.canary !== undefined && next.stable === prev.canary && next.stable !== prev.stable) {
        if (!prev.completed) return refuse(`stage ${from} did not complete its rollout, so the release cannot be finished yet`);
        return { ok: true, kind: "finish", words: `finish the release: stable ${prev.stable} -> ${next.stable}, canary scaled to 0` };
    }
    if (next.stable !== prev.stable) {
        if (inRelease || next.stage > 1) {
            return refuse(
                `\`stable\` changed from ${prev.stable} to ${next.stable} in the middle of a release ` +
                    `(stable changes only by finishing: stage 1 with stable set to the released canary tag after stage ${last})`,
            );
        }
        if (!next.allowSkip) {
            return refuse(`\`stable\` changed from ${prev.stable} to ${next.stable} at stage 1: that deploys without a canary (release it through the stages, or set allowSkip)`);
        }
        return { ok: true, kind: "direct", words: `direct update of production ${prev.stable} -> ${next.stable} without a canary (allowSkip)` };
    }
    if (next.stage === 1) {
        if (prev.stage === 1) return { ok: true, kind: "stay", words: "stay at stage 1 (idle)" };
        return { ok: true, kind: "rollback", words: `rollback from stage ${from} to stage 1: all traffic to ${next.stable}` };
    }
    // From here the service is (or goes) in a release: stage > 1.
    if (inRelease && next.canary !== prev.canary) {
        return refuse(`\`canary\` changed from ${prev.canary} to ${next.canary} in the middle of a release (roll back to stage 1 first)`);
    }
    if (inRelease && !sameSteps(next.steps, prev.steps)) {
        return refuse(`\`steps\` changed from [${prev.steps.join(", ")}] to [${next.steps.join(", ")}] in the middle of a release (roll back to stage 1 first)`);
    }
    if (inRelease && next.shadow?.percent !== prev.shadow?.percent) {
        return refuse(`\`shadow\` changed in the middle of a release: it renumbers the stages (roll back to stage 1 first)`);
    }
    if (next.stage === prev.stage) return { ok: true, kind: "stay", words: `stay at stage ${to}` };
    if (next.stage < prev.stage) return refuse(`stage ${from} -> ${to} goes back without rolling back (the way back is stage 1)`);
    if (!prev.completed) return refuse(`stage ${from} did not complete its rollout (stay at ${prev.stage} to retry it, or roll back to 1)`);
    if (next.stage === prev.stage + 1) return { ok: true, kind: "forward", words: `forward from stage ${from} to ${to}` };
    if (next.allowSkip) return { ok: true, kind: "skip", words: `skip from stage ${from} to ${to} (allowSkip)` };
    return refuse(`stage ${from} -> ${to} skips stage${next.stage - prev.stage > 2 ? "s" : ""} ${range(prev.stage + 1, next.stage - 1)} (move one stage at a time, or set allowSkip)`);
}

function range(from: number, to: number): string {
    return from === to ? `${from}` : `${from} to ${to}`;
}

/** The full message of a refused move, as the program and `npm run plan -- --diff` print it. */
export function moveError(stack: string, service: string, prevStage: number, nextStage: number, check: Extract<MoveCheck, { ok: false }>): string {
    return `stack ${stack}, service ${service}, field stage: cannot move from stage ${prevStage} to ${nextStage}: ${check.reason}. Allowed next: ${check.allowed}.`;
}

// ---------- judging every service at once ----------

/** A legal move of one service: what it was deployed at (absent: never), the verdict, and its allowSkip. */
export interface JudgedMove {
    previous?: DeployedService;
    check: Extract<MoveCheck, { ok: true }>;
    allowSkip: boolean;
}

/**
 * Judges every service's move; throws one error listing every refused move, before anything is registered.
 * `stackAllowSkip` is the stack-wide default that a service's own `allowSkip` overrides.
 */
export function judgeMoves(
    stack: string,
    services: { name: string; service: Omit<ServiceIntent, "allowSkip"> & { allowSkip?: boolean } }[],
    previous: Record<string, DeployedService>,
    stackAllowSkip = false,
): Record<string, JudgedMove> {
    const problems: string[] = [];
    const judged: Record<string, JudgedMove> = {};
    for (const { name, service: svc } of [...services].sort((a, b) => a.name.localeCompare(b.name))) {
        const allowSkip = svc.allowSkip ?? stackAllowSkip;
        const prev = previous[name];
        const check = checkMove(prev, { ...svc, allowSkip });
        if (check.ok) judged[name] = { previous: prev, check, allowSkip };
        else problems.push(moveError(stack, name, prev!.stage, svc.stage, check));
    }
    if (problems.length > 0) throw new MoveError(stack, problems);
    return judged;
}

/** Thrown when a stage change is not a legal move; `problems` holds one line per service. */
export class MoveError extends StackProblemsError {
    constructor(stack: string, problems: string[]) {
        super(`illegal stage move in stack ${stack}`, stack, problems);
        this.name = "MoveError";
    }
}
