// `npm run plan -- <stack> --diff [git-ref]`: compares Pulumi.<stack>.yaml with another revision (default
// HEAD) and says, per changed service, what the move does — and refuses an illegal move with the same
// message as the program.
import { execFileSync } from "child_process";
import * as path from "path";
import { parseStackConfig, serviceDefaultsOf, StackContext } from "../components/config";
import { ConfigError } from "../components/shared/errors";
import { parseServices, ServiceConfig } from "../components/service/config";
import { deployedState } from "../components/service/deployed";
import { checkMove, MoveKind, moveError } from "../components/service/moves";
import { revisionRecords } from "../components/service/revision";
import { planServices, revisionLabel, StagePlan, stagePlan } from "../components/service/stages";
import { alertRuleCounts } from "../components/observability/alerts";
import { serviceFieldChanges } from "../components/service/field-changes";
import { judgeRemoval, namespaceChangeProblem } from "../components/service/removal";
import { printPlatformDiff } from "./platform-diff";
import { projectRoot, stackConfigFromText, stackFilePath } from "./stack-file";

/**
 * What a base revision git does not know says: that it is the base revision (how it was given) that git cannot
 * find — not the working tree's file — and how to list the revisions there are.
 */
export function unknownRevisionMessage(ref: string, given = "--diff <ref>"): string {
    return `git cannot find the base revision ${JSON.stringify(ref)} (given as ${given}) in this repository; the working tree is not the problem. Give a branch, tag or commit that exists: list them with \`git branch -a\`, \`git tag\` or \`git log --oneline\` (after \`git fetch\` for a remote branch such as origin/main)`;
}

/** Pulumi.<stack>.yaml as it is at `ref`, or undefined when the file does not exist there. */
export function stackFileAt(stack: string, ref: string, root = projectRoot, given = "--diff <ref>"): string | undefined {
    const file = path.relative(root, stackFilePath(stack, root));
    try {
        return execFileSync("git", ["show", `${ref}:${file}`], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e: any) {
        const stderr = String(e.stderr ?? "");
        if (/does not exist|exists on disk, but not in/.test(stderr)) return undefined;
        if (/invalid object name|unknown revision|bad revision|ambiguous argument/.test(stderr)) throw new Error(unknownRevisionMessage(ref, given));
        throw new Error(`git show ${ref}:${file} failed: ${stderr.trim() || e.message}`);
    }
}

export interface ServiceDiff {
    service: string;
    ok: boolean;
    line: string;
    /** Every field of the block that changed, "path: before -> after (reaches …)"; secrets as [secret]. */
    fields: string[];
    /**
     * The legal move of a service in both revisions (absent for a removed service and a refused move): its kind
     * and the stages it goes between (`from` absent for a new service). Read by scripts/verdict-gate.ts.
     */
    move?: { kind: MoveKind; from?: number; to: number };
}

function changes(before: StagePlan, after: StagePlan): string[] {
    const out: string[] = [];
    // Both weights: 5 -> 6 reads as production taking 100% again, not only as the canary losing it.
    if (before.production.weight !== after.production.weight) out.push(`production ${before.production.weight}% -> ${after.production.weight}%`);
    if (before.canary.weight !== after.canary.weight) out.push(`canary ${before.canary.weight}% -> ${after.canary.weight}%`);
    if (before.mirrorPercent !== after.mirrorPercent) out.push(`mirrored to canary ${before.mirrorPercent}% -> ${after.mirrorPercent}%`);
    if (before.testRoutes !== after.testRoutes) out.push(`test routes to canary ${before.testRoutes ? "on" : "off"} -> ${after.testRoutes ? "on" : "off"}`);
    for (const track of ["production", "canary"] as const) {
        const [a, b] = [before[track], after[track]];
        const newRevision = a.revision && b.revision ? a.revision.id !== b.revision.id : a.tag !== b.tag;
        if (newRevision && (a.replicas > 0 || b.replicas > 0)) {
            const [from, to] = [revisionLabel(a), revisionLabel(b)];
            out.push(from === to ? `${track} revision ${to} changed (new pods)` : `${track} ${a.tag !== b.tag ? "tag" : "revision"} ${from} -> ${to}`);
        }
        if (a.replicas !== b.replicas) out.push(`${track} replicas ${a.replicas} -> ${b.replicas}`);
    }
    return out;
}

const KIND_WORDS: Record<string, string> = { rollback: " (rollback)", finish: " (finish the release)", skip: " (skip, allowSkip)", direct: " (direct update, allowSkip)" };

/** The move of every service that differs between two revisions of a stack's config. */
export function diffStack(stack: string, before: Record<string, unknown> | undefined, after: Record<string, unknown>, context: StackContext = {}): ServiceDiff[] {
    // The revision under review is validated exactly as the program validates it.
    const { services: next, allowSkip: stackAllowSkip, remove, observability } = parseStackConfig(stack, after, context);
    // With alerting on, the alert rules a service has follow its stage (components/observability/alerts.ts).
    const ruleCount = (name: string, service: ServiceConfig) => alertRuleCounts(stack, planServices({ [name]: service }))[name];
    let prev: Record<string, ServiceConfig> = {};
    if (before?.services !== undefined) {
        try {
            prev = parseServices(stack, before.services, serviceDefaultsOf(before));
        } catch (e) {
            // The base is what is deployed: a rule added since may refuse it. Say it is the base, not the change.
            if (!(e instanceof ConfigError)) throw e;
            throw new ConfigError(stack, e.problems.map((p) => `${p} (in the base revision this diff compares with, not in the change: compare with a later revision, or fix the base first)`));
        }
    }
    const out: ServiceDiff[] = [];
    for (const name of [...new Set([...Object.keys(prev), ...Object.keys(next)])].sort()) {
        const a = prev[name];
        const b = next[name];
        if (!b) {
            // Deleted only when the stack lists it under stagehand:remove (components/service/removal.ts).
            const base = stagePlan(a);
            out.push({ service: name, fields: [], ...judgeRemoval(stack, name, { stage: a.stage, tracks: { production: base.production, canary: base.canary }, namespace: a.namespace }, next, remove) });
            continue;
        }
        const after = stagePlan(b);
        if (!a) {
            out.push({ service: name, ok: true, line: `${name}: new service, ${after.description}`, fields: [], move: { kind: "first", to: b.stage } });
            continue;
        }
        const before = stagePlan(a);
        const fields = serviceFieldChanges(a, before, b, after);
        // A running service never changes namespace (components/service/removal.ts).
        if (a.namespace !== b.namespace) {
            out.push({ service: name, ok: false, line: namespaceChangeProblem(stack, name, a.namespace, b.namespace), fields });
            continue;
        }
        if (fields.length === 0 && a.stage === b.stage) continue;
        // The base revision as deployed, its rollout completed: what the program would read back.
        const check = checkMove(deployedState(a, before, true), { ...b, allowSkip: b.allowSkip ?? stackAllowSkip, revisions: revisionRecords(b) });
        if (!check.ok) {
            out.push({ service: name, ok: false, line: moveError(stack, name, a.stage, b.stage, check), fields });
            continue;
        }
        const stage = a.stage === b.stage ? `stage ${b.stage} (unchanged)` : `stage ${a.stage} -> ${b.stage}${KIND_WORDS[check.kind] ?? ""}`;
        const moved = changes(before, after);
        if (observability.alertmanager.enabled) {
            const [from, to] = [ruleCount(name, a), ruleCount(name, b)];
            if (from !== to) moved.push(`alert rules ${from} -> ${to}`);
        }
        // Never "no change" over a change: a field that reaches no traffic, tag or replica count is still listed.
        const summary = moved.length ? moved : [`traffic, tags and replicas unchanged; ${fields.length} field${fields.length === 1 ? "" : "s"} changed`];
        out.push({
            service: name,
            ok: true,
            line: `${name}: ${[stage, ...summary].join(", ")}`,
            fields,
            move: { kind: check.kind, from: a.stage, to: b.stage },
        });
    }
    return out;
}

/**
 * Prints the moves between `ref` and the working tree, then the platform section (scripts/platform-diff.ts); returns
 * the exit code (1 when a move or a platform change is refused).
 */
export function printDiff(stack: string, ref: string, current: Record<string, unknown>, log = console.log, root = projectRoot, context: StackContext = {}): number {
    const text = stackFileAt(stack, ref, root);
    const diffs = diffStack(stack, text === undefined ? undefined : stackConfigFromText(text, `Pulumi.${stack}.yaml at ${ref}`), current, context);
    log(`stack ${stack}: changes against ${ref}${text === undefined ? ` (Pulumi.${stack}.yaml does not exist there: every service is new)` : ""}`);
    if (diffs.length === 0) log("no service changes");
    for (const d of diffs) {
        log(d.ok ? d.line : `REFUSED ${d.line}`);
        for (const f of d.fields) log(`  ${f}`);
    }
    const platform = printPlatformDiff(stack, ref, text, current, log, root);
    return diffs.every((d) => d.ok) && platform === 0 ? 0 : 1;
}
