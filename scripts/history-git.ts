// Reads the release ledger's input from git: every commit of the first-parent history (the branch as it was merged
// to) that changed a stack file, and each changed stack file as it was after that commit, read as the offline
// commands read it (scripts/stack-file.ts) and its services validated as the program validates them. A file that
// cannot be read at a commit is recorded with the reason, never a crash.
import { execFileSync } from "child_process";
import { LedgerCommit, pullRequestOf, StackSnapshot } from "../components/ledger/moves";
import { parseServices } from "../components/service/config";
import { unknownRevisionMessage } from "./diff";
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
    try {
        git(root, ["rev-parse", "--git-dir"]);
    } catch {
        throw new Error(`${root} is not in a git repository: the ledger reads the stack files' git history (give --root a checkout)`);
    }
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

/**
 * The texts of `<commit>:<file>` objects, in one `git cat-file --batch` (one process for the whole history, where
 * `git show` per file would start hundreds); undefined for one git does not have.
 */
export function filesAt(root: string, objects: string[]): (string | undefined)[] {
    if (objects.length === 0) return [];
    const out = execFileSync("git", ["cat-file", "--batch"], { cwd: root, input: objects.map((o) => `${o}\n`).join(""), stdio: ["pipe", "pipe", "pipe"], maxBuffer: 1024 * 1024 * 1024 });
    const texts: (string | undefined)[] = [];
    let at = 0;
    for (const _ of objects) {
        const eol = out.indexOf(0x0a, at);
        const header = out.subarray(at, eol).toString("utf8");
        at = eol + 1;
        // "<oid> blob <size>", then the content and a newline; or "<object> missing".
        const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
        if (!m) {
            texts.push(undefined);
            continue;
        }
        const size = Number(m[2]);
        texts.push(m[1] === "blob" ? out.subarray(at, at + size).toString("utf8") : undefined);
        at += size + 1;
    }
    return texts;
}

/** Every stack's snapshots, oldest first: one per commit that changed its file. */
export function stackHistories(root: string, head = "HEAD"): Record<string, StackSnapshot[]> {
    const changes = stackFileCommits(root, head).flatMap(({ commit, files }) => files.map(({ file, status }) => ({ commit, file, deleted: status === "D" })));
    const texts = filesAt(root, changes.filter((c) => !c.deleted).map((c) => `${c.commit.sha}:${c.file}`));
    const histories: Record<string, StackSnapshot[]> = {};
    let i = 0;
    for (const { commit, file, deleted } of changes) {
        const stack = stackOfFileName(file)!;
        const text = deleted ? undefined : texts[i++];
        (histories[stack] ??= []).push(snapshotOf(stack, commit, text));
    }
    return histories;
}
