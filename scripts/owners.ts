// `npm run --silent owners -- <owner/repo> <pull-number> [--root DIR] [--json]`: the pull request's owners check
// (docs/reviewing.md "Who may change what"), meant as a required status check.
//
// From GitHub: the pull request (its author, base and head commits), its reviews. From git, in the checkout at
// --root (default: this project), which may be another directory than the code that runs, so the base revision's
// code can judge the pull request's files: the files the pull request changes (`git diff --name-only
// <merge-base> <head>`), the stack files at the merge base and at the head (what changed), and at the base (whose
// owners approve). Every changed service block needs one of its owners; everything else the platform owners;
// an approval counts when it is a reviewer's latest standing, APPROVED, of the head commit, by an owner who is
// not the author.
import { execFileSync } from "child_process";
import { formatJudged, judgeApprovals, Judged, PullRequestFiles, requirements, short, stackOfPath } from "../components/governance/owners";
import { parseCommandLine, UsageError } from "./args";
import { DEFAULT_API_URL, GitHub, GitHubError, PullRequest } from "./github";
import { projectRoot } from "./stack-file";

export const OWNERS_EXIT = {
    /** Every change is approved by its owners. */
    approved: 0,
    /** Some change still needs an owner's approval (each named, with who may give it). */
    missing: 1,
    /** Bad arguments or environment (no GITHUB_TOKEN). */
    usage: 2,
    /** A GitHub API request failed (named). */
    github: 3,
    /** The git checkout at --root lacks a revision of the pull request, or git failed. */
    git: 4,
} as const;

/** git could not give what the check needs from the checkout. */
export class GitError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "GitError";
    }
}

export function git(root: string, args: string[]): string {
    try {
        return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
    } catch (e: any) {
        throw new GitError(`git ${args.join(" ")} failed in ${root}: ${String(e.stderr ?? "").trim() || e.message}`);
    }
}

function requireCommit(root: string, sha: string, which: string): void {
    try {
        execFileSync("git", ["cat-file", "-e", `${sha}^{commit}`], { cwd: root, stdio: "ignore" });
    } catch {
        throw new GitError(
            `the checkout at ${root} does not have the pull request's ${which} commit ${sha}: check out with the whole history (actions/checkout with fetch-depth: 0), or \`git fetch origin ${sha}\``,
        );
    }
}

/** Each stack file (Pulumi.<stack>.yaml at the top) at a revision, by stack. */
export function stackFilesAt(root: string, rev: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const file of git(root, ["ls-tree", "--name-only", rev]).split("\n")) {
        const stack = stackOfPath(file);
        if (stack) out[stack] = git(root, ["show", `${rev}:${file}`]);
    }
    return out;
}

/** What the pull request changes, read with git from the checkout at `root`. */
export function pullRequestFiles(root: string, baseSha: string, headSha: string): PullRequestFiles & { mergeBase: string } {
    requireCommit(root, baseSha, "base");
    requireCommit(root, headSha, "head");
    const mergeBase = git(root, ["merge-base", baseSha, headSha]).trim();
    // --no-renames: a renamed file is two paths, both changed (a stack file renamed away is a stack deleted).
    const files = git(root, ["diff", "--no-renames", "--name-only", mergeBase, headSha]).split("\n").filter(Boolean);
    const [before, after] = [stackFilesAt(root, mergeBase), stackFilesAt(root, headSha)];
    const changedStacks: PullRequestFiles["changedStacks"] = {};
    for (const f of files) {
        const stack = stackOfPath(f);
        if (stack) changedStacks[stack] = { before: before[stack], after: after[stack] };
    }
    return { files, baseSha, baseStacks: stackFilesAt(root, baseSha), changedStacks, mergeBase };
}

/** Where the commands get their GitHub inputs: the API's URL and the token, from the environment. */
export function gitHubFromEnv(env: NodeJS.ProcessEnv, usage: string): GitHub {
    const token = env.GITHUB_TOKEN;
    if (!token) {
        throw new UsageError(
            "GITHUB_TOKEN is not set: the check reads the pull request, its reviews and team membership with it (pull requests: read; organization members: read for team owners)",
            usage,
        );
    }
    return new GitHub(env.GITHUB_API_URL || DEFAULT_API_URL, token);
}

/** The positional arguments every command here takes: `owner/repo` and the pull request's number. */
export function parsePullArgs(positionals: string[], usage: string): { repo: string; number: number } {
    const [repo, num] = positionals;
    if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new UsageError(`expected the repository as owner/name (e.g. acme/stagehand, $GITHUB_REPOSITORY), found ${JSON.stringify(repo)}`, usage);
    if (!/^[1-9]\d*$/.test(num)) throw new UsageError(`expected the pull request's number (e.g. 17), found ${JSON.stringify(num)}`, usage);
    return { repo, number: Number(num) };
}

/** The judgement of the whole pull request, as `--json` prints it. */
export interface OwnersReport {
    repo: string;
    pull: number;
    author: string;
    base: string;
    head: string;
    mergeBase: string;
    approved: boolean;
    requirements: (Judged & { approved: boolean })[];
}

export async function ownersReport(repo: string, number: number, gh: GitHub, root: string): Promise<OwnersReport> {
    const pr: PullRequest = await gh.pullRequest(repo, number);
    const files = pullRequestFiles(root, pr.baseSha, pr.headSha);
    const reviews = await gh.reviews(repo, number);
    const judged = await judgeApprovals(requirements(files), { author: pr.author, headSha: pr.headSha, reviews }, (team, login) => gh.isTeamMember(team, login));
    const reqs = judged.map((j) => ({ ...j, approved: j.approvedBy.length > 0 || j.preApproved !== undefined }));
    return { repo, pull: number, author: pr.author, base: pr.baseSha, head: pr.headSha, mergeBase: files.mergeBase, approved: reqs.every((r) => r.approved), requirements: reqs };
}

export function formatReport(r: OwnersReport): string {
    const lines = [
        `owners of ${r.repo}#${r.pull} (head ${short(r.head)}, base ${short(r.base)}, author ${r.author}): ${r.approved ? "every change is approved by its owners" : "approvals missing"}`,
        ...(r.requirements.length ? formatJudged(r.requirements, r.head) : ["nothing changed: no approval needed"]),
    ];
    return lines.join("\n");
}

const USAGE = `usage: npm run --silent owners -- <owner/repo> <pull-number> [--root DIR] [--json]
  --root   the git checkout holding the pull request's base and head commits (default: this project)
  --json   print the report as JSON
environment: GITHUB_TOKEN (required), GITHUB_API_URL (default ${DEFAULT_API_URL})
exit codes: 0 every change approved, 1 approvals missing, 2 usage, 3 GitHub could not be read, 4 the checkout lacks a revision`;

export interface CommandOptions {
    out?: (text: string) => void;
    err?: (text: string) => void;
}

/** Maps a failure to the exit code and prints it. */
export function failure(command: string, e: any, err: (s: string) => void): number {
    err(`${command}: ${e?.message ?? e}\n`);
    if (e instanceof UsageError) return OWNERS_EXIT.usage;
    if (e instanceof GitHubError) return OWNERS_EXIT.github;
    if (e instanceof GitError) return OWNERS_EXIT.git;
    return OWNERS_EXIT.git;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, options: CommandOptions = {}): Promise<number> {
    const out = options.out ?? ((s: string) => void process.stdout.write(s));
    const err = options.err ?? ((s: string) => void process.stderr.write(s));
    let args: { repo: string; number: number; root: string; json: boolean };
    let gh: GitHub;
    try {
        const { values, positionals, help } = parseCommandLine(
            argv,
            { options: { root: { type: "string" }, json: { type: "boolean" } }, positionals: { min: 2, max: 2, names: "the repository (owner/name) and the pull request's number" }, usage: USAGE },
            env,
        );
        if (help) {
            out(`${USAGE}\n`);
            return 0;
        }
        args = { ...parsePullArgs(positionals, USAGE), root: values.root ?? projectRoot, json: values.json === true };
        gh = gitHubFromEnv(env, USAGE);
    } catch (e) {
        return failure("owners", e, err);
    }
    try {
        const report = await ownersReport(args.repo, args.number, gh, args.root);
        out(`${args.json ? JSON.stringify(report) : formatReport(report)}\n`);
        return report.approved ? OWNERS_EXIT.approved : OWNERS_EXIT.missing;
    } catch (e) {
        return failure("owners", e, err);
    }
}

// exitCode, not exit(): a large --json report piped to another command is written out whole first.
if (require.main === module) main(process.argv.slice(2)).then((code) => (process.exitCode = code));
