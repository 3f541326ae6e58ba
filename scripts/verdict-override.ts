// `npm run --silent verdict-override -- <owner/repo> <pull-number> [--root DIR] [--stack STACK [--services a,b]] [--json]`:
// whether the label stagehand/override-verdict counts (docs/reviewing.md "Who may change what"): on the pull request, added
// after its last push, by someone who is not its author and owns every overridden service (its block's owners at
// the base revision, or the stack's platform owners for a block with none).
//
// The overridden services are the canaries whose verdict the pull request's gate judges (`npm run verdict-gate
// -- <stack> <base> --list`'s "judge"), worked out here from the stack files at the base and head commits, in
// every stack file the pull request changes (or only --stack's); --services names them instead (with one
// --stack). A stack whose config cannot be read needs its platform owners: its gate cannot run, and the label
// would override that too.
import { short } from "../components/governance/owners";
import { judgeOverride, OverrideDecision, OverriddenService, serviceOwners } from "../components/governance/labels";
import { parseCommandLine, UsageError } from "./args";
import { DEFAULT_API_URL, GitHub } from "./github";
import { failure, gitHubFromEnv, OWNERS_EXIT, parsePullArgs, pullRequestFiles, stackFilesAt } from "./owners";
import { projectRoot, stackConfigFromText } from "./stack-file";
import { servicesToJudge } from "./verdict-gate";

/** The exit codes of a command that judges whether a label counts (this one, and `npm run break-glass`). */
export const LABEL_EXIT = {
    /** The label counts: the override lets a failing (or unjudged) verdict pass; the break-glass opens a closed window. */
    counts: 0,
    /** It does not (or the label is not there): the verdict, or the change window, decides. */
    doesNotCount: 1,
    usage: OWNERS_EXIT.usage,
    github: OWNERS_EXIT.github,
    git: OWNERS_EXIT.git,
} as const;
export const OVERRIDE_EXIT = LABEL_EXIT;

/** The canaries each stack's gate judges (what the label overrides), with their owners at the base revision. */
export function overriddenServices(
    stacks: string[],
    texts: { base: Record<string, string>; head: Record<string, string> },
    baseSha: string,
    explicit?: string[],
): { services: OverriddenService[]; notes: string[] } {
    const services: OverriddenService[] = [];
    const notes: string[] = [];
    for (const stack of stacks) {
        const baseText = texts.base[stack];
        let names = explicit;
        if (!names) {
            try {
                const where = (at: string) => `Pulumi.${stack}.yaml at ${at}`;
                const head = texts.head[stack];
                if (head === undefined) throw new Error(`${where("the head")} does not exist`);
                const before = baseText === undefined ? undefined : stackConfigFromText(baseText, where(`base ${short(baseSha)}`));
                names = servicesToJudge(stack, before, stackConfigFromText(head, where("the head"))).judge.map((t) => t.service);
            } catch (e: any) {
                // The gate cannot run on it either, and the label would let that pass: the platform owners decide.
                const platform = serviceOwners(stack, "", baseText, baseSha);
                notes.push(`stack ${stack}: its canaries cannot be worked out (${String(e.message).split("\n")[0]}); the stack's platform owners decide`);
                services.push({ stack, service: "(the whole stack)", owners: platform.owners, ownersFrom: `the platform owners of Pulumi.${stack}.yaml at base ${short(baseSha)}` });
                continue;
            }
        }
        for (const service of names) services.push(serviceOwners(stack, service, baseText, baseSha));
    }
    return { services, notes };
}

export interface OverrideReport extends OverrideDecision {
    repo: string;
    pull: number;
    author: string;
    head: string;
    notes: string[];
    /** The decision per stack: the label counts for a stack when it counts for each of its services. */
    stacks: { stack: string; counts: boolean; services: string[] }[];
}

export async function overrideReport(
    repo: string,
    number: number,
    gh: GitHub,
    root: string,
    only: { stack?: string; services?: string[] } = {},
): Promise<OverrideReport> {
    const pr = await gh.pullRequest(repo, number);
    const files = pullRequestFiles(root, pr.baseSha, pr.headSha);
    const head = stackFilesAt(root, pr.headSha);
    const stacks = only.stack ? [only.stack] : Object.keys(files.changedStacks).filter((s) => head[s] !== undefined).sort();
    if (only.stack && head[only.stack] === undefined && files.baseStacks[only.stack] === undefined) {
        throw new UsageError(`no stack ${JSON.stringify(only.stack)} at the pull request's head or base (stacks there: ${Object.keys(head).sort().join(", ") || "none"})`, USAGE);
    }
    const { services, notes } = overriddenServices(stacks, { base: files.baseStacks, head }, pr.baseSha, only.services);
    const events = await gh.timeline(repo, number);
    const decision = await judgeOverride({ author: pr.author, labels: pr.labels, events }, services, (team, login) => gh.isTeamMember(team, login));
    const perStack = stacks.map((stack) => {
        const mine = decision.services.filter((s) => s.stack === stack);
        // The label's own conditions (present, after the last push, not the author) hold for every stack alike.
        return { stack, counts: decision.labelHolds && mine.every((s) => s.owned), services: mine.map((s) => s.service) };
    });
    return { repo, pull: number, author: pr.author, head: pr.headSha, notes, stacks: perStack, ...decision };
}

export function formatOverride(r: OverrideReport): string {
    return [
        `verdict override of ${r.repo}#${r.pull} (head ${short(r.head)}): ${r.counts ? "counts" : "does NOT count"}`,
        ...r.reasons,
        ...r.notes,
        ...(r.services.length ? [`overridden: ${r.services.map((s) => `${s.stack}/${s.service}`).join(", ")}`] : []),
    ].join("\n");
}

const USAGE = `usage: npm run --silent verdict-override -- <owner/repo> <pull-number> [--root DIR] [--stack STACK [--services a,b]] [--json]
  --root      the git checkout holding the pull request's base and head commits (default: this project)
  --stack     judge this stack only (default: every stack file the pull request changes)
  --services  the overridden services of --stack, comma-separated (default: the canaries its verdict gate judges)
  --json      print the decision as JSON
environment: GITHUB_TOKEN (required), GITHUB_API_URL (default ${DEFAULT_API_URL})
exit codes: 0 the override counts, 1 it does not (or the label is absent), 2 usage, 3 GitHub could not be read, 4 the checkout lacks a revision`;

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, options: { out?: (s: string) => void; err?: (s: string) => void } = {}): Promise<number> {
    const out = options.out ?? ((s: string) => void process.stdout.write(s));
    const err = options.err ?? ((s: string) => void process.stderr.write(s));
    let args: { repo: string; number: number; root?: string; json: boolean; stack?: string; services?: string[] };
    let gh: GitHub;
    try {
        const { values, positionals, help } = parseCommandLine(
            argv,
            {
                options: { root: { type: "string" }, json: { type: "boolean" }, stack: { type: "string" }, services: { type: "string" } },
                positionals: { min: 2, max: 2, names: "the repository (owner/name) and the pull request's number" },
                usage: USAGE,
            },
            env,
        );
        if (help) {
            out(`${USAGE}\n`);
            return 0;
        }
        if (values.services !== undefined && values.stack === undefined) throw new UsageError("--services names the services of one stack: give --stack too", USAGE);
        const services = values.services?.split(",").map((s) => s.trim()).filter(Boolean);
        if (services && services.length === 0) throw new UsageError("--services is empty: name at least one service, or leave it out", USAGE);
        args = { ...parsePullArgs(positionals, USAGE), root: values.root, json: values.json === true, stack: values.stack, services };
        gh = gitHubFromEnv(env, USAGE);
    } catch (e) {
        return failure("verdict-override", e, err);
    }
    try {
        const report = await overrideReport(args.repo, args.number, gh, args.root ?? projectRoot, { stack: args.stack, services: args.services });
        out(`${args.json ? JSON.stringify(report) : formatOverride(report)}\n`);
        return report.counts ? OVERRIDE_EXIT.counts : OVERRIDE_EXIT.doesNotCount;
    } catch (e) {
        return failure("verdict-override", e, err);
    }
}

// exitCode, not exit(): a large --json report piped to another command is written out whole first.
if (require.main === module) main(process.argv.slice(2)).then((code) => (process.exitCode = code));
