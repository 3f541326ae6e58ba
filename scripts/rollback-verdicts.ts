// Where `npm run auto-rollback` gets each canary's verdict (docs/releasing.md "Automatic rollback"): from `npm run verdict --
// --json` against the stack's Prometheus now, or from an earlier run's `--dry-run --json` report (`--verdicts`), so
// the job that reaches the cluster and the job that holds the write token can be two. And the outcome of each
// canary, as that report records it.
import * as fs from "fs";
import * as path from "path";
import { ServingCanary, VerdictEvidence } from "../components/service/rollback";
import { EXIT_CODES } from "../components/service/verdict";
import { main as verdictMain } from "./verdict";

/** What happened to one canary serving traffic. */
export interface CanaryOutcome {
    stack: string;
    service: string;
    stage: number;
    canary: string;
    autoRollback: boolean;
    /** The verdict, or null when it could not be judged. */
    verdict: string | null;
    /**
     * healthy / not-enough-traffic: nothing to do; not-judged: see `detail`; would-open: --dry-run; opened: a new pull
     * request; already-open: one is open; declined: a person closed the one for this canary and stage; merged-pending:
     * one is merged that this checkout does not have; error: a GitHub request failed.
     */
    action: "healthy" | "not-enough-traffic" | "not-judged" | "would-open" | "opened" | "already-open" | "declined" | "merged-pending" | "error";
    pull?: { number: number; url: string };
    detail?: string;
    /** `npm run verdict`'s exit code and its report (absent when it printed none): what `--verdicts` reads back. */
    verdictExit: number;
    evidence?: VerdictEvidence;
}

/** The parts of `npm run verdict`'s report the pull request cites. */
export function evidenceOf(r: VerdictEvidence): VerdictEvidence {
    return { stack: r.stack, service: r.service, namespace: r.namespace, window: r.window, prometheus: r.prometheus, tracks: r.tracks, thresholds: r.thresholds, verdict: r.verdict, reasons: r.reasons };
}

/** One canary's verdict: `npm run verdict`'s exit code, its JSON report, and what it said on stderr. */
export interface Judged {
    code: number;
    evidence?: VerdictEvidence & { error?: string };
    errors: string;
}

/** Judges the canary now, with `npm run verdict -- --json` against the stack's Prometheus. */
export async function judgeNow(stack: string, c: ServingCanary, args: { prometheus?: string; timeout?: string }, root: string, env: NodeJS.ProcessEnv): Promise<Judged> {
    let output = "";
    let errors = "";
    const flags = [...(args.prometheus ? ["--prometheus", args.prometheus] : []), ...(args.timeout ? ["--timeout", args.timeout] : [])];
    const code = await verdictMain([stack, c.service, "--json", ...flags], env, { root, out: (t) => (output += t), err: (t) => (errors += t) });
    try {
        return { code, evidence: JSON.parse(output), errors };
    } catch {
        return { code, errors };
    }
}

/** Every canary outcome of the earlier `--dry-run --json` reports at `file` (a file, or a directory of *.json). */
export function readVerdicts(file: string): CanaryOutcome[] {
    const files = fs.statSync(file).isDirectory() ? fs.readdirSync(file).filter((f) => f.endsWith(".json")).sort().map((f) => path.join(file, f)) : [file];
    return files.flatMap((f) => {
        let report: any;
        try {
            report = JSON.parse(fs.readFileSync(f, "utf8"));
        } catch (e: any) {
            throw new Error(`${f} is not the JSON of \`npm run auto-rollback -- --dry-run --json\` (${e.message})`);
        }
        if (!Array.isArray(report?.canaries)) throw new Error(`${f} is not the JSON of \`npm run auto-rollback -- --dry-run --json\`: it has no canaries`);
        return report.canaries as CanaryOutcome[];
    });
}

/**
 * The verdict an earlier report gave this canary, at this stage and with this canary tag: a report of another
 * release (the stack file moved on between the two jobs) is not this canary's, and leaves it not judged.
 */
export function fromReport(outcomes: CanaryOutcome[], stack: string, c: ServingCanary): Judged {
    const o = outcomes.find((x) => x.stack === stack && x.service === c.service && x.canary === c.canary && x.stage === c.stage);
    if (!o || typeof o.verdictExit !== "number") return { code: EXIT_CODES.usage, errors: `--verdicts has no verdict of ${c.service} in stack ${stack} with canary ${c.canary} at stage ${c.stage}` };
    return { code: o.verdictExit, evidence: o.evidence, errors: o.detail ?? "" };
}

