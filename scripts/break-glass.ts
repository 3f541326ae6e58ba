// `npm run --silent break-glass -- <owner/repo> (<pull-number> | --commit SHA) [--root DIR] [--stack STACK] [--json]`:
// whether the label stagehand/break-glass counts (docs/fleet.md "Change windows", "Who may change what"): on the pull
// request, added after its last push, by someone who is not its author and is a platform owner (stagehand:owners at
// the base revision) of every stack it lets through a closed window: --stack's, or every stack file the pull request
// changes. The same judgement as the verdict override (components/governance/owners.ts `judgeOverride`), with the
// platform owners in place of the services' owners. `--commit SHA` judges the merged pull request that brought SHA
// to the base branch: the deploy job's check, after the merge.
import { short, stackOwners } from "../components/governance/owners";
import { BREAK_GLASS_LABEL, judgeOverride, OverriddenService } from "../components/governance/labels";
import { parseCommandLine, UsageError } from "./args";
import { DEFAULT_API_URL, GitHub } from "./github";
import { failure, gitHubFromEnv, parsePullArgs, pullRequestFiles } from "./owners";
import { projectRoot } from "./stack-file";
import { LABEL_EXIT } from "./verdict-override";

/** As the verdict override's; "does not count" also when no merged pull request brought the commit. */
export const BREAK_GLASS_EXIT = LABEL_EXIT;

/** The platform owners of each stack at the base revision: who may break the glass for it. */
export function breakGlassOwners(stacks: string[], baseStacks: Record<string, string>, baseSha: string): OverriddenService[] {
    return stacks.map((stack) => ({
        stack,
        service: "(change window)",
        owners: stackOwners(baseStacks[stack]).platform,
        ownersFrom: `the platform owners (stagehand:owners) of Pulumi.${stack}.yaml at base ${short(baseSha)}`,
    }));
}

export interface BreakGlassReport {
    repo: string;
    pull: number;
    counts: boolean;
    stacks: string[];
    reasons: string[];
    label?: { by: string; at: string };
}

export async function breakGlassReport(repo: string, number: number, gh: GitHub, root: string, stack?: string): Promise<BreakGlassReport> {
    const pr = await gh.pullRequest(repo, number);
    const files = pullRequestFiles(root, pr.baseSha, pr.headSha);
    const stacks = stack ? [stack] : Object.keys(files.changedStacks).sort();
    const events = await gh.timeline(repo, number);
    const decision = await judgeOverride({ author: pr.author, labels: pr.labels, events }, breakGlassOwners(stacks, files.baseStacks, pr.baseSha), (team, login) => gh.isTeamMember(team, login), BREAK_GLASS_LABEL);
    const reasons = decision.counts && stacks.length === 0 ? ["the pull request changes no stack file: nothing to let through"] : decision.reasons;
    return { repo, pull: number, counts: decision.counts, stacks, reasons, ...(decision.label ? { label: decision.label } : {}) };
}

const USAGE = `usage: npm run --silent break-glass -- <owner/repo> (<pull-number> | --commit SHA) [--root DIR] [--stack STACK] [--json]
  --commit  judge the merged pull request that brought this commit to the base branch (the deploy job)
  --root    the git checkout holding the pull request's base and head commits (default: this project)
  --stack   judge this stack only (default: every stack file the pull request changes)
  --json    print the decision as JSON
environment: GITHUB_TOKEN (required), GITHUB_API_URL (default ${DEFAULT_API_URL})
exit codes: 0 the break-glass counts, 1 it does not (or the label is absent), 2 usage, 3 GitHub could not be read, 4 the checkout lacks a revision`;

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, options: { out?: (s: string) => void; err?: (s: string) => void } = {}): Promise<number> {
    const out = options.out ?? ((s: string) => void process.stdout.write(s));
    const err = options.err ?? ((s: string) => void process.stderr.write(s));
    let args: { repo: string; number?: number; commit?: string; root: string; json: boolean; stack?: string };
    let gh: GitHub;
    try {
        const commit = argv.includes("--commit");
        const { values, positionals, help } = parseCommandLine(
            argv,
            {
                options: { root: { type: "string" }, json: { type: "boolean" }, stack: { type: "string" }, commit: { type: "string" } },
                positionals: commit ? { min: 1, max: 1, names: "the repository (owner/name) with --commit" } : { min: 2, max: 2, names: "the repository (owner/name) and the pull request's number" },
                usage: USAGE,
            },
            env,
        );
        if (help) {
            out(`${USAGE}\n`);
            return 0;
        }
        if (commit && !/^[0-9a-f]{40}$/.test(values.commit ?? "")) throw new UsageError(`--commit takes a full commit id (40 hex digits), found ${JSON.stringify(values.commit)}`, USAGE);
        const pull = commit ? { repo: parsePullArgs([positionals[0], "1"], USAGE).repo } : parsePullArgs(positionals, USAGE);
        args = { ...pull, commit: values.commit, root: values.root ?? projectRoot, json: values.json === true, stack: values.stack };
        gh = gitHubFromEnv(env, USAGE);
    } catch (e) {
        return failure("break-glass", e, err);
    }
    try {
        const number = args.number ?? (await gh.mergedPullOfCommit(args.repo, args.commit!));
        if (number === undefined) {
            out(`${args.json ? JSON.stringify({ repo: args.repo, commit: args.commit, counts: false, reasons: ["no merged pull request brought this commit"] }) : `break-glass for ${args.commit}: does NOT count: no merged pull request brought this commit to the branch`}\n`);
            return BREAK_GLASS_EXIT.doesNotCount;
        }
        const report = await breakGlassReport(args.repo, number, gh, args.root, args.stack);
        out(`${args.json ? JSON.stringify(report) : [`break-glass (${BREAK_GLASS_LABEL}) of ${report.repo}#${report.pull}: ${report.counts ? "counts" : "does NOT count"}`, ...report.reasons].join("\n")}\n`);
        return report.counts ? BREAK_GLASS_EXIT.counts : BREAK_GLASS_EXIT.doesNotCount;
    } catch (e) {
        return failure("break-glass", e, err);
    }
}

if (require.main === module) main(process.argv.slice(2)).then((code) => (process.exitCode = code));
