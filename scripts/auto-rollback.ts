// `npm run auto-rollback -- [--stack S] [--service NAME] [--dry-run] [--merge-only] [--json] [--prometheus URL]`:
// rollback through git, without waiting for a person (docs/releasing.md "Automatic rollback").
//
// 1. Judge: for each stack (every Pulumi.<stack>.yaml of the checkout, or --stack) whose Prometheus is on, each
//    canary that serves traffic (weighted or mirrored) is judged by `npm run verdict` (scripts/verdict.ts), with the
//    stack file's thresholds. A failing canary gets a pull request setting `stage: 1` in Pulumi.<stack>.yaml (nothing
//    else of the file changes), with the verdict's numbers and queries, unless its branch
//    `stagehand/rollback/<stack>/<service>` already has one open, or a person closed one for this canary and stage,
//    or one was merged that this checkout does not have yet. So there is at most one open per service.
// 2. Merge: each open rollback pull request of a service whose `autoRollback` is on (the service's own, else
//    `stagehand:autoRollback`, as the checkout says) and that still has the label stagehand/auto-rollback is merged
//    once every check of its head commit passed, never before; then the deploy workflow is dispatched.
//
// Git stays the only source of truth: nothing here touches the cluster; the deploy applies the merged stack file.
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../components/config";
import { verdictGateHasPrometheus } from "../components/observability/config";
import {
    AUTO_MERGE_LABEL,
    parseRollbackBranch,
    rollbackBody,
    rollbackBranch,
    rollbackMarker,
    rollbackMove,
    rollbackTitle,
    ServingCanary,
    servingCanaries,
    shouldRollBack,
} from "../components/service/rollback";
import { EXIT_CODES } from "../components/service/verdict";
import { checkStackArgument, parseCommandLine, UsageError } from "./args";
import { DEFAULT_API_URL, GitHub, GitHubError } from "./github";
import { headCommit, inCheckout, RollbackPulls } from "./rollback-pulls";
import { setServiceFields } from "./stack-edit";
import { knownStacks, parseStackFile, projectRoot, stackFilePath } from "./stack-file";
import { CanaryOutcome, evidenceOf, fromReport, Judged, judgeNow, readVerdicts } from "./rollback-verdicts";

export type { CanaryOutcome };

export const USAGE = `usage: npm run auto-rollback -- [--stack S] [--service NAME] [--dry-run] [--merge-only] [--json]
                                [--prometheus URL] [--timeout SECONDS] [--verdicts PATH] [--list]
                                [--repo OWNER/NAME] [--base BRANCH] [--deploy-workflow FILE] [--root DIR]
  judges every canary serving traffic; for a failing one opens a pull request setting stage: 1; merges the open
  rollback pull requests of services with autoRollback: true once their checks passed, then dispatches the deploy
  --stack            only this stack (default: every Pulumi.<stack>.yaml)
  --service          only this service (with --stack)
  --dry-run          judge and say what would be done; no GitHub request at all
  --merge-only       judge nothing: only merge the rollback pull requests whose checks passed
  --json             print one JSON object
  --prometheus       Prometheus base URL (default: $PROMETHEUS_URL, else http://127.0.0.1:9090)
  --timeout          seconds to wait for each Prometheus query (default: npm run verdict's)
  --verdicts         take the verdicts from earlier \`--dry-run --json\` reports (a file, or a directory of *.json)
                     instead of asking Prometheus: judge where the cluster is reachable, write where the token is
  --list             print, offline, the stacks to judge as JSON: those with Prometheus and a canary serving
                     traffic, with their EKS cluster and region
  --repo             the GitHub repository (default: $GITHUB_REPOSITORY)
  --base             the branch rollbacks go into and the deploy runs on (default: $GITHUB_REF_NAME, else main)
  --deploy-workflow  the workflow dispatched after a merge (default deploy.yml)
  --root             the checkout of --base whose stack files and HEAD are used (default: this project)
environment: GITHUB_TOKEN (contents, pull requests and actions: write; checks: read), GITHUB_API_URL
exit codes: 0 done (every failing canary has its rollback pull request), 1 a GitHub request failed,
  2 usage or config error, 3 a canary could not be judged (Prometheus, or the verdict's error)`;

export const AUTO_ROLLBACK_EXIT = { done: 0, github: 1, usage: 2, notJudged: 3 } as const;

/** What happened to one open rollback pull request in the merge pass. */
export interface MergeOutcome {
    number: number;
    url: string;
    stack: string;
    service: string;
    action: "merged" | "waiting" | "checks-failed" | "refused" | "skipped" | "error";
    detail: string;
}

export interface AutoRollbackReport {
    repo: string | null;
    base: string;
    /** Stacks not judged, and why (no Prometheus, no canary serving). */
    stacks: { stack: string; judged: boolean; why?: string }[];
    canaries: CanaryOutcome[];
    merges: MergeOutcome[];
    exitCode: number;
}

export interface AutoRollbackOptions {
    out?: (text: string) => void;
    err?: (text: string) => void;
    root?: string;
}

interface Args {
    stack?: string;
    service?: string;
    dryRun: boolean;
    mergeOnly: boolean;
    json: boolean;
    prometheus?: string;
    timeout?: string;
    verdicts?: string;
    list: boolean;
    repo?: string;
    base: string;
    deployWorkflow: string;
    root?: string;
    help: boolean;
}

export function parseAutoRollbackArgs(argv: string[], env: NodeJS.ProcessEnv): Args {
    const { values, help } = parseCommandLine(argv, {
        options: {
            stack: { type: "string" },
            service: { type: "string" },
            "dry-run": { type: "boolean" },
            "merge-only": { type: "boolean" },
            json: { type: "boolean" },
            prometheus: { type: "string" },
            timeout: { type: "string" },
            verdicts: { type: "string" },
            list: { type: "boolean" },
            repo: { type: "string" },
            base: { type: "string" },
            "deploy-workflow": { type: "string" },
            root: { type: "string" },
        },
        positionals: { min: 0, max: 0, names: "no positional arguments (the stack goes with --stack)" },
        usage: USAGE,
    }, env);
    if (values.stack !== undefined && !help) checkStackArgument(values.stack, argv, USAGE);
    if (values.service !== undefined && values.stack === undefined) throw new UsageError("--service needs --stack: a service is named within one stack", USAGE);
    if (values["merge-only"] && (values.prometheus !== undefined || values.timeout !== undefined)) throw new UsageError("--merge-only judges nothing: it does not go with --prometheus or --timeout", USAGE);
    if (values.verdicts !== undefined && (values.prometheus !== undefined || values.timeout !== undefined)) {
        throw new UsageError("--verdicts asks no Prometheus: it does not go with --prometheus or --timeout", USAGE);
    }
    if (values.list && (values["merge-only"] || values.verdicts !== undefined || values["dry-run"])) throw new UsageError("--list only lists: it does not go with --merge-only, --verdicts or --dry-run", USAGE);
    const repo = values.repo ?? (env.GITHUB_REPOSITORY || undefined);
    if (repo !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new UsageError(`--repo / GITHUB_REPOSITORY: expected owner/name, found ${JSON.stringify(repo)}`, USAGE);
    return {
        stack: values.stack,
        service: values.service,
        dryRun: values["dry-run"] === true,
        mergeOnly: values["merge-only"] === true,
        json: values.json === true,
        prometheus: values.prometheus,
        timeout: values.timeout,
        verdicts: values.verdicts === undefined ? undefined : path.resolve(values.verdicts),
        list: values.list === true,
        repo,
        base: values.base ?? (env.GITHUB_REF_NAME || "main"),
        deployWorkflow: values["deploy-workflow"] ?? "deploy.yml",
        root: values.root === undefined ? undefined : path.resolve(values.root),
        help,
    };
}

/** One stack as the checkout has it: its file's text, and its serving canaries. */
interface StackState {
    stack: string;
    text: string;
    prometheus: boolean;
    cluster: string | null;
    region: string | null;
    autoRollback: (service: string) => boolean | undefined;
    serving: ServingCanary[];
}

function readStack(stack: string, root: string): StackState {
    const file = stackFilePath(stack, root);
    if (!fs.existsSync(file)) throw new UsageError(`no stack ${JSON.stringify(stack)}: ${path.basename(file)} does not exist`, USAGE);
    const text = fs.readFileSync(file, "utf8");
    const { config: raw, region } = parseStackFile(text, path.basename(file));
    const config = parseStackConfig(stack, raw, { region });
    return {
        stack,
        text,
        prometheus: verdictGateHasPrometheus(config.observability),
        cluster: config.cluster.kind === "eks" ? config.cluster.name : null,
        region: region ?? null,
        autoRollback: (service) => (config.services[service] ? (config.services[service].autoRollback ?? config.autoRollback) : undefined),
        serving: servingCanaries(config.planned, config.autoRollback),
    };
}

const runUrl = (env: NodeJS.ProcessEnv) =>
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;

/** Runs the command; resolves to its exit code (AUTO_ROLLBACK_EXIT). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, options: AutoRollbackOptions = {}): Promise<number> {
    const out = options.out ?? ((s: string) => void process.stdout.write(s));
    const err = options.err ?? ((s: string) => void process.stderr.write(s));
    let args: Args;
    try {
        args = parseAutoRollbackArgs(argv, env);
    } catch (e: any) {
        err(`auto-rollback: ${e.message}\n`);
        return AUTO_ROLLBACK_EXIT.usage;
    }
    if (args.help) {
        out(`${USAGE}\n`);
        return 0;
    }
    const root = args.root ?? options.root ?? projectRoot;
    let stacks: StackState[];
    let pulls: RollbackPulls | undefined;
    try {
        stacks = (args.stack ? [args.stack] : knownStacks(root)).map((s) => readStack(s, root));
        if (args.service && stacks[0].autoRollback(args.service) === undefined) throw new UsageError(`stack ${args.stack} has no service ${JSON.stringify(args.service)}`, USAGE);
        if (!args.dryRun && !args.list) {
            if (!args.repo) throw new UsageError("no repository: pass --repo owner/name or set GITHUB_REPOSITORY", USAGE);
            if (!env.GITHUB_TOKEN) {
                throw new UsageError("GITHUB_TOKEN is not set: opening and merging rollback pull requests needs a token with contents, pull requests and actions: write (docs/releasing.md, Automatic rollback); --dry-run needs none", USAGE);
            }
            pulls = new RollbackPulls(new GitHub(env.GITHUB_API_URL || DEFAULT_API_URL, env.GITHUB_TOKEN), args.repo);
        }
    } catch (e: any) {
        err(`auto-rollback: ${e.message}\n`);
        return AUTO_ROLLBACK_EXIT.usage;
    }

    if (args.list) {
        const list = stacks.filter((st) => st.prometheus && st.serving.some((c) => !args.service || c.service === args.service));
        out(`${JSON.stringify(list.map((st) => ({ stack: st.stack, cluster: st.cluster, region: st.region, services: st.serving.map((c) => c.service) })))}\n`);
        return AUTO_ROLLBACK_EXIT.done;
    }
    let recorded: CanaryOutcome[] | undefined;
    try {
        recorded = args.verdicts === undefined ? undefined : readVerdicts(args.verdicts);
    } catch (e: any) {
        err(`auto-rollback: --verdicts: ${e.message}\n`);
        return AUTO_ROLLBACK_EXIT.usage;
    }
    const report: AutoRollbackReport = { repo: args.repo ?? null, base: args.base, stacks: [], canaries: [], merges: [], exitCode: 0 };
    let githubFailed = false;
    let notJudged = false;
    const fail = (e: unknown): string => {
        if (!(e instanceof GitHubError)) throw e;
        githubFailed = true;
        return e.message;
    };

    if (!args.mergeOnly) {
        for (const s of stacks) {
            const serving = s.serving.filter((c) => !args.service || c.service === args.service);
            if (serving.length === 0) {
                report.stacks.push({ stack: s.stack, judged: false, why: "no canary serves traffic" });
                continue;
            }
            if (!s.prometheus) {
                report.stacks.push({ stack: s.stack, judged: false, why: `no Prometheus (stagehand:observability.prometheus is off): ${serving.map((c) => c.service).join(", ")} not judged` });
                continue;
            }
            report.stacks.push({ stack: s.stack, judged: true });
            for (const c of serving) {
                const judged = recorded ? fromReport(recorded, s.stack, c) : await judgeNow(s.stack, c, args, root, env);
                const outcome = await judgeAndOpen(s, c, judged, args, root, env, pulls).catch(
                    (e): CanaryOutcome => ({ ...base(s.stack, c), verdict: "failing", action: "error", detail: fail(e), verdictExit: judged.code }),
                );
                if (outcome.action === "not-judged") notJudged = true;
                report.canaries.push(outcome);
            }
        }
    }
    if (pulls) {
        try {
            report.merges = await mergePass(pulls, stacks, args, (e) => fail(e));
        } catch (e) {
            report.merges.push({ number: 0, url: "", stack: "", service: "", action: "error", detail: fail(e) });
        }
    }
    report.exitCode = githubFailed ? AUTO_ROLLBACK_EXIT.github : notJudged ? AUTO_ROLLBACK_EXIT.notJudged : AUTO_ROLLBACK_EXIT.done;
    out(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report, args.dryRun)}\n`);
    return report.exitCode;
}

const base = (stack: string, c: ServingCanary) => ({ stack, service: c.service, stage: c.stage, canary: c.canary, autoRollback: c.autoRollback });

/** For a failing canary, finds or opens its rollback pull request. */
async function judgeAndOpen(s: StackState, c: ServingCanary, judged: Judged, args: Args, root: string, env: NodeJS.ProcessEnv, pulls?: RollbackPulls): Promise<CanaryOutcome> {
    const { code, evidence, errors } = judged;
    const verdict = { verdictExit: code, ...(evidence && !evidence.error ? { evidence: evidenceOf(evidence) } : {}) };
    if (code === EXIT_CODES.healthy) return { ...base(s.stack, c), verdict: "healthy", action: "healthy", ...verdict };
    if (code === EXIT_CODES["not enough traffic"]) return { ...base(s.stack, c), verdict: "not enough traffic", action: "not-enough-traffic", detail: evidence?.reasons?.join("; "), ...verdict };
    if (code !== EXIT_CODES.failing || !evidence || !shouldRollBack(evidence.verdict)) {
        return { ...base(s.stack, c), verdict: null, action: "not-judged", detail: (evidence?.error ?? errors.trim()) || `npm run verdict exited ${code}`, ...verdict };
    }
    const failing = { ...base(s.stack, c), verdict: "failing", ...verdict };
    const file = `Pulumi.${s.stack}.yaml`;
    const branch = rollbackBranch(s.stack, c.service);
    if (!pulls) return { ...failing, action: "would-open", detail: `a pull request from ${branch} setting stage: 1 in ${file}${c.autoRollback ? ", merged once its checks pass (autoRollback)" : ""}` };

    const existing = await pulls.forBranch(branch);
    const open = existing.find((p) => p.state === "open");
    if (open) return { ...failing, action: "already-open", pull: { number: open.number, url: open.url } };
    const marker = rollbackMarker(s.stack, c);
    const declined = existing.find((p) => p.state === "closed" && !p.mergedAt && p.body.includes(marker));
    if (declined) {
        return { ...failing, action: "declined", pull: { number: declined.number, url: declined.url }, detail: `closed without merging: not opened again for canary ${c.canary} at stage ${c.stage}` };
    }
    const pending = existing.find((p) => p.mergedAt && p.mergeCommitSha && p.body.includes(marker) && !inCheckout(root, p.mergeCommitSha));
    if (pending) return { ...failing, action: "merged-pending", pull: { number: pending.number, url: pending.url }, detail: "merged after the commit this run checked out" };

    const service = parseStackConfig(s.stack, parseStackFile(s.text, file).config).services[c.service];
    const move = rollbackMove(service);
    if (!move.ok) return { ...failing, action: "not-judged", detail: `the rollback was refused as a move (${move.reason}): a stagehand defect, please report it` };
    const after = setServiceFields(s.text, c.service, [{ key: "stage", value: 1 }], file);
    const title = rollbackTitle(s.stack, c);
    const body = rollbackBody({ stack: s.stack, canary: c, runUrl: runUrl(env) }, evidenceOf(evidence), move);
    const pr = await pulls.open({ branch, base: args.base, baseCommit: headCommit(root), file, before: s.text, after, title, body, autoMerge: c.autoRollback });
    return { ...failing, action: "opened", pull: { number: pr.number, url: pr.url } };
}

/** Merges each open rollback pull request of an autoRollback service whose checks passed; dispatches the deploy. */
async function mergePass(pulls: RollbackPulls, stacks: StackState[], args: Args, fail: (e: unknown) => string): Promise<MergeOutcome[]> {
    const outcomes: MergeOutcome[] = [];
    const byName = new Map(stacks.map((s) => [s.stack, s]));
    let dispatch = false;
    for (const pr of await pulls.openWithPrefix("stagehand/rollback/")) {
        const target = parseRollbackBranch(pr.headRef);
        const s = target && byName.get(target.stack);
        if (!target || !s || (args.service && target.service !== args.service)) continue;
        const o = { number: pr.number, url: pr.url, stack: target.stack, service: target.service };
        const auto = s.autoRollback(target.service);
        if (!auto) {
            outcomes.push({ ...o, action: "skipped", detail: auto === undefined ? `stack ${target.stack} has no service ${target.service}` : "autoRollback is off: a person merges it" });
            continue;
        }
        if (!pr.labels.includes(AUTO_MERGE_LABEL)) {
            outcomes.push({ ...o, action: "skipped", detail: `the label ${AUTO_MERGE_LABEL} was removed: a person merges it` });
            continue;
        }
        try {
            const checks = await pulls.checks(pr.headSha);
            if (checks.state === "none") outcomes.push({ ...o, action: "waiting", detail: "no checks on its head commit yet" });
            else if (checks.state === "pending") outcomes.push({ ...o, action: "waiting", detail: `checks still running: ${checks.names.join(", ")}` });
            else if (checks.state === "failed") outcomes.push({ ...o, action: "checks-failed", detail: `not merged: ${checks.names.join(", ")}` });
            else {
                const title = `Roll back ${target.service} in ${target.stack}`;
                const merged = await pulls.merge(pr.number, pr.headSha, title);
                if (merged.merged) {
                    dispatch = true;
                    outcomes.push({ ...o, action: "merged", detail: `merged as ${merged.sha.slice(0, 7)} after ${checks.names.length} passing checks` });
                } else {
                    // Most often the branch protection wants the branch up to date with the base: update it once
                    // (its checks run again, and a later run merges); otherwise (a conflict) a person takes over.
                    const updated = await pulls.updateBranch(pr.number, pr.headSha);
                    outcomes.push({ ...o, action: "refused", detail: `${merged.why}${updated ? `; updated the branch with ${args.base}: its checks run again, and a later run merges it` : ""}` });
                }
            }
        } catch (e) {
            outcomes.push({ ...o, action: "error", detail: fail(e) });
        }
    }
    if (dispatch) {
        try {
            await pulls.dispatch(args.deployWorkflow, args.base);
        } catch (e) {
            outcomes.push({ number: 0, url: "", stack: "", service: "", action: "error", detail: `the deploy workflow ${args.deployWorkflow} could not be dispatched: ${fail(e)}` });
        }
    }
    return outcomes;
}

const ACTION_WORDS: Record<CanaryOutcome["action"], string> = {
    healthy: "healthy: nothing to do",
    "not-enough-traffic": "not enough traffic to judge: nothing to do",
    "not-judged": "NOT JUDGED",
    "would-open": "FAILING: would open",
    opened: "FAILING: opened rollback pull request",
    "already-open": "FAILING: its rollback pull request is open",
    declined: "FAILING: its rollback pull request was closed by a person",
    "merged-pending": "FAILING: its rollback pull request is merged",
    error: "FAILING: could not open its rollback pull request",
};

export function formatReport(r: AutoRollbackReport, dryRun: boolean): string {
    const lines: string[] = [];
    for (const s of r.stacks) if (!s.judged) lines.push(`stack ${s.stack}: not judged: ${s.why}`);
    for (const c of r.canaries) {
        const pull = c.pull ? ` #${c.pull.number} ${c.pull.url}` : "";
        lines.push(`stack ${c.stack}, service ${c.service} (canary ${c.canary}, stage ${c.stage}, autoRollback ${c.autoRollback ? "on" : "off"}): ${ACTION_WORDS[c.action]}${pull}${c.detail ? `: ${c.detail}` : ""}`);
    }
    for (const m of r.merges) lines.push(m.number ? `rollback #${m.number} (stack ${m.stack}, service ${m.service}): ${m.action}: ${m.detail}` : `${m.action}: ${m.detail}`);
    if (lines.length === 0) lines.push("nothing to do: no canary serves traffic and no rollback pull request is open");
    if (dryRun) lines.push("(--dry-run: no GitHub request was made)");
    return lines.join("\n");
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(`auto-rollback: ${e?.stack ?? e}`);
            process.exit(AUTO_ROLLBACK_EXIT.usage);
        },
    );
}
