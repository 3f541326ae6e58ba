// Pure: which moves between stages are legal. Used by the program (before any resource is registered), by
// `npm run plan -- --diff` and by the tests.
import { StackProblemsError } from "../shared/errors";
import type { DeployedService } from "./deployed";
import { changedRevisionFields, RevisionName, RevisionRecord } from "./revision";
import { migrationRefusal } from "./jobs";
import { StageShape, stageNames } from "./stages";
import type { MigrateConfig } from "./jobs-config";

/** The part of a service's config a move is judged on. */
export interface ServiceIntent extends StageShape {
    stage: number;
    stable: string;
    canary?: string;
    allowSkip: boolean;
    /** Both revisions (components/service/revision.ts); absent only where a caller judges tags alone. */
    revisions?: Record<RevisionName, RevisionRecord>;
}

export type MoveKind = "first" | "stay" | "forward" | "skip" | "rollback" | "finish" | "direct";

export type MoveCheck =
    | { ok: true; kind: MoveKind; words: string }
    | { ok: false; reason: string; allowed: string; field?: string };

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
        const overrides = prev.revisions ? prev.revisions.canary.label.split("+").slice(1) : [];
        options.push(`finish (stage 1 with stable: "${prev.canary}"${overrides.length ? ` and the block's ${overrides.join(", ")} set to the canary's` : ""})`);
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
    const refuse = (reason: string, field?: string): MoveCheck => ({ ok: false, reason, allowed: allowedNext(prev, next.allowSkip), ...(field ? { field } : {}) });
    // Revisions are compared where both runs recorded them; a state written before revisions judges tags alone.
    const revisions = prev.revisions && next.revisions ? { prev: prev.revisions, next: next.revisions } : undefined;
    const fieldsOf = (a: RevisionRecord, b: RevisionRecord) => changedRevisionFields(a, b).filter((f) => f !== "tag");
    const released = prev.canary !== undefined && (revisions ? revisions.prev.canary.id !== revisions.prev.stable.id : prev.canary !== prev.stable);

    // Finishing: after the last stage, production already runs the released revision; the block catches up.
    if (prev.stage === last && next.stage === 1 && released) {
        const finishes = revisions ? revisions.next.stable.id === revisions.prev.canary.id : next.stable === prev.canary;
        const triesToFinish = next.stable === prev.canary && (next.stable !== prev.stable || (revisions !== undefined && revisions.next.stable.id !== revisions.prev.stable.id));
        if (finishes) {
            if (!prev.completed) return refuse(`stage ${from} did not complete its rollout, so the release cannot be finished yet`);
            const words = revisions ? revisions.prev.canary.label : next.stable;
            return { ok: true, kind: "finish", words: `finish the release: stable ${revisions ? revisions.prev.stable.label : prev.stable} -> ${words}, canary scaled to 0` };
        }
        if (triesToFinish && revisions) {
            const differ = fieldsOf(revisions.prev.canary, revisions.next.stable);
            return refuse(
                `finishing needs the block's fields to equal the released revision ${revisions.prev.canary.label}, and ${differ.join(", ")} differ from it ` +
                    `(production runs the released revision since promote: copy the canary's ${differ.join(", ")} into the block, or roll back with the block unchanged)`,
                differ[0],
            );
        }
    }
    if (next.stable !== prev.stable) {
        if (inRelease || next.stage > 1) {
            return refuse(
                `\`stable\` changed from ${prev.stable} to ${next.stable} in the middle of a release ` +
                    `(stable changes only by finishing: stage 1 with stable set to the released canary tag after stage ${last})`,
                "stable",
            );
        }
        if (!next.allowSkip) {
            return refuse(`\`stable\` changed from ${prev.stable} to ${next.stable} at stage 1: that deploys without a canary (release it through the stages, or set allowSkip)`, "stable");
        }
        return { ok: true, kind: "direct", words: `direct update of production ${prev.stable} -> ${next.stable} without a canary (allowSkip)` };
    }
    // Production's revision: the block's pod-shaping fields. They reach production's pods only through a release.
    const productionFields = revisions ? fieldsOf(revisions.prev.stable, revisions.next.stable) : [];
    if (productionFields.length > 0) {
        const what = productionFields.join(", ");
        if (inRelease) {
            return refuse(
                `production's revision cannot change in the middle of a release, and ${what} changed in the block: ` +
                    `production takes a new revision only at promote (roll back first with the block unchanged, then release the change as canary: {tag, ${productionFields[0]}: …})`,
                productionFields[0],
            );
        }
        const shared = productionFields.filter((f) => !CANARY_RELEASABLE.has(f));
        if (next.stage > 1) {
            return refuse(
                `${what} changed in the block while the release starts: that would change production's pods too. ` +
                    (shared.length > 0
                        ? `${shared.join(" and ")} cannot go through a canary (${SHARED_WORDS}): start the release with the block unchanged, and change ${shared.join(" and ")} at stage 1 with allowSkip`
                        : `Keep the block as it is and put the change under canary (canary: {tag: ${next.canary ?? next.stable}, ${canaryField(productionFields[0])}: …}${productionFields[0] === "chart" ? CHART_WORDS : ""}): the canary runs it from its first stage and production takes it at promote`),
                productionFields[0],
            );
        }
        if (!next.allowSkip) {
            return refuse(
                `${what} changed at stage 1: that updates production's pods directly, without a canary. ` +
                    (shared.length > 0
                        ? `${shared.join(" and ")} cannot go through a canary (${SHARED_WORDS}): set allowSkip on the service for this update to change it directly, at a time you choose, or keep it as it is`
                        : `Release it through the stages instead: keep the block as it is and set canary: {tag: ${next.stable}, ${canaryField(productionFields[0])}: …} with stage: 2${productionFields[0] === "chart" ? CHART_WORDS : ""} (or set allowSkip for a direct update)`),
                productionFields[0],
            );
        }
        return { ok: true, kind: "direct", words: `direct update of production's ${what} without a canary (allowSkip)` };
    }
    if (next.stage === 1) {
        if (prev.stage === 1) return { ok: true, kind: "stay", words: "stay at stage 1 (idle)" };
        return { ok: true, kind: "rollback", words: `rollback from stage ${from} to stage 1: all traffic to ${revisions ? revisions.next.stable.label : next.stable}` };
    }
    // From here the service is (or goes) in a release: stage > 1.
    if (inRelease && next.canary !== prev.canary) {
        return refuse(
            `\`canary\` changed from ${prev.canary} to ${next.canary} in the middle of a release: a release keeps its revision from its first stage to its end ` +
                `(roll back first: stage: 1, then start the new revision at stage 2)`,
            "canary",
        );
    }
    if (inRelease && revisions && revisions.prev.canary.id !== revisions.next.canary.id) {
        const what = fieldsOf(revisions.prev.canary, revisions.next.canary);
        return refuse(
            `the canary revision of ${next.canary} changed in the middle of a release (its ${what.join(", ")}): a release keeps its revision from its first stage to its end ` +
                `(roll back first: stage: 1, with the new canary if you like; then start it at stage 2)`,
            `canary.${what[0]}`,
        );
    }
    if (inRelease && !sameSteps(next.steps, prev.steps)) {
        return refuse(`\`steps\` changed from [${prev.steps.join(", ")}] to [${next.steps.join(", ")}] in the middle of a release (roll back to stage 1 first)`, "steps");
    }
    if (inRelease && next.shadow?.percent !== prev.shadow?.percent) {
        return refuse(`\`shadow\` changed in the middle of a release: it renumbers the stages (roll back to stage 1 first)`, "shadow");
    }
    if (next.stage === prev.stage) return { ok: true, kind: "stay", words: `stay at stage ${to}` };
    if (next.stage < prev.stage) return refuse(`stage ${from} -> ${to} goes back without rolling back (the way back is stage 1)`);
    if (!prev.completed) return refuse(`stage ${from} did not complete its rollout (stay at ${prev.stage} to retry it, or roll back to 1)`);
    if (next.stage === prev.stage + 1) return { ok: true, kind: "forward", words: `forward from stage ${from} to ${to}` };
    if (next.allowSkip) return { ok: true, kind: "skip", words: `skip from stage ${from} to ${to} (allowSkip)` };
    return refuse(`stage ${from} -> ${to} skips stage${next.stage - prev.stage > 2 ? "s" : ""} ${range(prev.stage + 1, next.stage - 1)} (move one stage at a time, or set allowSkip)`);
}

/**
 * The block's pod-shaping fields a canary can carry (as `canary: {tag, <field>}`); a chart's version goes as
 * `chartVersion`. `port` and a local chart's path are the service's own: the routing and both tracks share them.
 */
const CANARY_RELEASABLE = new Set(["image", "env", "resources", "probes", "values", "chart"]);
const SHARED_WORDS = "the Service and both tracks share it";
const CHART_WORDS = " (a new version of the same chart; another repository or chart name cannot go through a canary)";
/** The `canary:` key a changed block field goes under. */
const canaryField = (field: string) => (field === "chart" ? "chartVersion" : field);

function range(from: number, to: number): string {
    return from === to ? `${from}` : `${from} to ${to}`;
}

/** The full message of a refused move, as the program and `npm run plan -- --diff` print it. */
export function moveError(stack: string, service: string, prevStage: number, nextStage: number, check: Extract<MoveCheck, { ok: false }>): string {
    // A change refused at the same stage is not a move between stages: say what may not change where it is.
    const what = prevStage === nextStage ? `cannot apply this change at stage ${nextStage}` : `cannot move from stage ${prevStage} to ${nextStage}`;
    return `stack ${stack}, service ${service}, field ${check.field ?? "stage"}: ${what}: ${check.reason}. Allowed next: ${check.allowed}.`;
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
    services: { name: string; service: Omit<ServiceIntent, "allowSkip" | "revisions"> & { allowSkip?: boolean; migrate?: MigrateConfig }; revisions?: Record<RevisionName, RevisionRecord> }[],
    previous: Record<string, DeployedService>,
    stackAllowSkip = false,
): Record<string, JudgedMove> {
    const problems: string[] = [];
    const judged: Record<string, JudgedMove> = {};
    for (const { name, service: svc, revisions } of [...services].sort((a, b) => a.name.localeCompare(b.name))) {
        const allowSkip = svc.allowSkip ?? stackAllowSkip;
        const prev = previous[name];
        const check = checkMove(prev, { ...svc, allowSkip, revisions });
        // A legal move may still ask for a migration it cannot run (a contract while an older revision serves).
        const migration = check.ok ? migrationRefusal(prev, { stage: svc.stage, migrate: svc.migrate, revisions }) : undefined;
        if (migration) problems.push(`stack ${stack}, service ${name}, field ${migration.field}: cannot run it in this update: ${migration.reason}.`);
        else if (check.ok) judged[name] = { previous: prev, check, allowSkip };
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
