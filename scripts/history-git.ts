// Reads the release ledger's input from git: every commit of the first-parent history (the branch as it was merged
// to) that changed a stack file, and each changed stack file as it was after that commit, read as the offline
// commands read it (scripts/stack-file.ts) and its services validated as the program validates them. A file that
// cannot be read at a commit is recorded with the reason, never a crash.
import { execFileSync } from "child_process";
import { LedgerCommit, pullRequestOf, StackSnapshot } from "../components/ledger/moves";
import { parseServices } from "../components/service/config";
import { stackFileAt, unknownRevisionMessage } from "./diff";
import { parseStackFile, stackNameProblem, stackOfFileName } from "./stack-file";

function git(root: string, args: string[]): string {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
}

/** Throws what an unknown revision means, naming the flag it was given with. */
export function checkRevision(root: string, ref: string, given: string): string {
    try {
        return git(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).trim();
    } catch {
        throw new Error(unknownRevisionMessage(ref, given));
    }
}

/** The commits `git rev-list --first-parent <base>..<head>`: what a pull request adds to its base. */
export function commitsSince(root: string, base: string, head = "HEAD"): Set<string> {
    checkRevision(root, base, "--moved-since <git-ref>");
    return new Set(git(root, ["rev-list", "--first-parent", `${base}..${head}`]).split("\n").filter(Boolean));
}

interface RawCommit {
    commit: LedgerCommit;
    parents: string[];
    /** Stack file name -> git's status letter (A, M, D). */
    files: { file: string; status: string }[];
}

/** Each commit of `head`'s first-parent history that changed a top-level Pulumi.<stack>.yaml, oldest first. */
export function stackFileCommits(root: string, head = "HEAD"): RawCommit[] {
    checkRevision(root, head, "the history's head");
    // One record per commit (\x1e), fields split by \x1f, then the files it changed against its first parent.
    const out = git(root, ["log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--reverse", "--format=%x1e%H%x1f%P%x1f%ct%x1f%an%x1f%s", "--name-status", head, "--", "Pulumi.*.yaml"]);
    const commits: RawCommit[] = [];
    for (const record of out.split("\x1e").slice(1)) {
        const [header, ...rest] = record.split("\n");
        const [sha, parents, time, author, subject] = header.split("\x1f");
        const files = rest
            .filter(Boolean)
            .map((line) => line.split("\t"))
            .filter(([, file]) => file !== undefined && !file.includes("/") && stackOfFileName(file) !== undefined)
            .map(([status, file]) => ({ file, status: status[0] }));
        if (files.length === 0) continue;
        const pr = pullRequestOf(subject);
        commits.push({ commit: { sha, time: Number(time), author, subject, ...(pr !== undefined ? { pr } : {}) }, parents: parents.split(" ").filter(Boolean), files });
    }
    // A merge's change was made by the author of the head it merged, not by whoever pressed the button.
    const merged = commits.filter((c) => c.parents.length > 1).map((c) => c.parents[1]);
    if (merged.length > 0) {
        const authors = new Map(
            git(root, ["show", "-s", "--format=%H%x1f%an", ...merged])
                .split("\n")
                .filter(Boolean)
                .map((l) => l.split("\x1f") as [string, string]),
        );
        for (const c of commits) if (c.parents.length > 1) c.commit.author = authors.get(c.parents[1]) ?? c.commit.author;
    }
    return commits;
}

/** A stack file's text at a commit, read into its services; or the reason it cannot be. */
export function snapshotOf(stack: string, commit: LedgerCommit, text: string | undefined): StackSnapshot {
    if (text === undefined) return { commit, services: {}, deleted: true };
    const nameProblem = stackNameProblem(stack);
    if (nameProblem) return { commit, problem: nameProblem };
    try {
        const { config } = parseStackFile(text, `Pulumi.${stack}.yaml at ${commit.sha.slice(0, 7)}`);
        return { commit, services: parseServices(stack, config.services) };
    } catch (e: any) {
        return { commit, problem: String(e.message) };
    }
}

/** Every stack's snapshots, oldest first: one per commit that changed its file. */
export function stackHistories(root: string, head = "HEAD"): Record<string, StackSnapshot[]> {
    const histories: Record<string, StackSnapshot[]> = {};
    for (const { commit, files } of stackFileCommits(root, head)) {
        for (const { file, status } of files) {
            const stack = stackOfFileName(file)!;
            const text = status === "D" ? undefined : stackFileAt(stack, commit.sha, root, "a commit of the history");
            (histories[stack] ??= []).push(snapshotOf(stack, commit, text));
        }
    }
    return histories;
}
