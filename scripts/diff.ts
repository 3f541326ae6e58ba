// `npm run plan -- <stack> --diff [git-ref]`: compares Pulumi.<stack>.yaml with another revision (default
// HEAD) and says, per changed service, what the move does — and refuses an illegal move with the same
// message as the program.
import { execFileSync } from "child_process";
import * as path from "path";
import { parseStackConfig } from "../components/config";
import { parseServices, ServiceConfig } from "../components/service/config";
import { deployedState } from "../components/service/deployed";
import { checkMove, MoveKind, moveError } from "../components/service/moves";
import { StagePlan, stagePlan } from "../components/service/stages";
import { printPlatformDiff } from "./platform-diff";
import { projectRoot, stackConfigFromText, stackFilePath } from "./stack-file";

/** Pulumi.<stack>.yaml as it is at `ref`, or undefined when the file does not exist there. */
export function stackFileAt(stack: string, ref: string, root = projectRoot): string | undefined {
    const file = path.relative(root, stackFilePath(stack, root));
    try {
        return execFileSync("git", ["show", `${ref}:${file}`], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e: any) {
        const stderr = String(e.stderr ?? "");
        if (/does not exist|exists on disk, but not in/.test(stderr)) return undefined;
        throw new Error(`git show ${ref}:${file} failed: ${stderr.trim() || e.message}`);
    }
}

export interface ServiceDiff {
    service: string;
    ok: boolean;
    line: string;
    /**
     * The legal move of a service in both revisions (absent for a removed service and a refused move): its kind
     * and the stages it goes between (`from` absent for a new service). Read by scripts/verdict-gate.ts.
     */
    move?: { kind: MoveKind; from?: number; to: number };
}

function changes(before: StagePlan, after: StagePlan): string[] {
    const out: string[] = [];
    if (before.canary.weight !== after.canary.weight) out.push(`canary ${before.canary.weight}% -> ${after.canary.weight}%`);
    if (before.mirrorPercent !== after.mirrorPercent) out.push(`mirrored to canary ${before.mirrorPercent}% -> ${after.mirrorPercent}%`);
    if (before.testRoutes !== after.testRoutes) out.push(`test routes to canary ${before.testRoutes ? "on" : "off"} -> ${after.testRoutes ? "on" : "off"}`);
    for (const track of ["production", "canary"] as const) {
        if (before[track].tag !== after[track].tag && (before[track].replicas > 0 || after[track].replicas > 0)) {
            out.push(`${track} tag ${before[track].tag} -> ${after[track].tag}`);
        }
        if (before[track].replicas !== after[track].replicas) out.push(`${track} replicas ${before[track].replicas} -> ${after[track].replicas}`);
    }
    return out;
}

const KIND_WORDS: Record<string, string> = { rollback: " (rollback)", finish: " (finish the release)", skip: " (skip, allowSkip)", direct: " (direct update, allowSkip)" };

/** The move of every service that differs between two revisions of a stack's config. */
export function diffStack(stack: string, before: Record<string, unknown> | undefined, after: Record<string, unknown>): ServiceDiff[] {
    // The revision under review is validated exactly as the program validates it.
    const { services: next, allowSkip: stackAllowSkip } = parseStackConfig(stack, after);
    let prev: Record<string, ServiceConfig> = {};
    if (before?.services !== undefined) prev = parseServices(stack, before.services);
    const out: ServiceDiff[] = [];
    for (const name of [...new Set([...Object.keys(prev), ...Object.keys(next)])].sort()) {
        const a = prev[name];
        const b = next[name];
        if (!b) {
            out.push({ service: name, ok: true, line: `${name}: removed (its Helm releases are deleted; the namespace too if it owns it)` });
            continue;
        }
        const after = stagePlan(b);
        if (!a) {
            out.push({ service: name, ok: true, line: `${name}: new service, ${after.description}`, move: { kind: "first", to: b.stage } });
            continue;
        }
        if (JSON.stringify(a) === JSON.stringify(b)) continue;
        const before = stagePlan(a);
        // The base revision as deployed, its rollout completed: what the program would read back.
        const check = checkMove(deployedState(a, before, true), { ...b, allowSkip: b.allowSkip ?? stackAllowSkip });
        if (!check.ok) {
            out.push({ service: name, ok: false, line: moveError(stack, name, a.stage, b.stage, check) });
            continue;
        }
        const stage = a.stage === b.stage ? `stage ${b.stage} (unchanged)` : `stage ${a.stage} -> ${b.stage}${KIND_WORDS[check.kind] ?? ""}`;
        const moved = changes(before, after);
        out.push({
            service: name,
            ok: true,
            line: `${name}: ${[stage, ...(moved.length ? moved : ["no change to traffic, tags or replicas"])].join(", ")}`,
            move: { kind: check.kind, from: a.stage, to: b.stage },
        });
    }
    return out;
}

/**
 * Prints the moves between `ref` and the working tree, then the platform section (scripts/platform-diff.ts); returns
 * the exit code (1 when a move or a platform change is refused).
 */
export function printDiff(stack: string, ref: string, current: Record<string, unknown>, log = console.log, root = projectRoot): number {
    const text = stackFileAt(stack, ref, root);
    const diffs = diffStack(stack, text === undefined ? undefined : stackConfigFromText(text, `Pulumi.${stack}.yaml at ${ref}`), current);
    log(`stack ${stack}: changes against ${ref}${text === undefined ? ` (Pulumi.${stack}.yaml does not exist there: every service is new)` : ""}`);
    if (diffs.length === 0) log("no service changes");
    for (const d of diffs) log(d.ok ? d.line : `REFUSED ${d.line}`);
    const platform = printPlatformDiff(stack, ref, text, current, log, root);
    return diffs.every((d) => d.ok) && platform === 0 ? 0 : 1;
}
