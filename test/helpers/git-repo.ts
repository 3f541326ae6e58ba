// A git repository in a temporary directory, holding stack files committed as GitHub merges pull requests (merge
// commits "Merge pull request #N from …", squash commits "… (#N)"), with their authors and times: what the release
// ledger (`npm run history`) reads. Used by test/scripts/history.test.ts and the PR comment's test.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The repository's times: T0 is 2026-03-02 09:00 UTC, in seconds. */
export const TIME = { T0: Date.parse("2026-03-02T09:00:00Z") / 1000, HOUR: 3600, DAY: 24 * 3600 };
const { T0 } = TIME;

export type Block = { stable: string; canary?: string; stage: number };
export type Stacks = Record<string, Record<string, Block>>;

export function stackText(services: Record<string, Block>): string {
    const blocks = Object.entries(services).map(
        ([name, s]) =>
            `    ${name}:\n      image: ghcr.io/acme/${name}\n      stable: "${s.stable}"\n${s.canary ? `      canary: "${s.canary}"\n` : ""}      stage: ${s.stage}\n      replicas: 2\n      steps: [100]\n`,
    );
    return `config:\n  aws:region: us-east-1\n  stagehand:services:\n${blocks.join("")}`;
}

/** A git repository in a temporary directory, committed to as GitHub merges pull requests. */
export class Repo {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-history-"));
    readonly stacks: Stacks = {};

    constructor() {
        this.git([], "init", "-q", "-b", "main");
    }

    git(env: [string, string, number][] | [], ...args: string[]): string {
        const [author, committer] = (env.length ? env : [["t", "t@example.com", T0]]) as [string, string, number][];
        const who = committer ?? author;
        return execFileSync("git", ["-c", "commit.gpgsign=false", ...args], {
            cwd: this.dir,
            encoding: "utf8",
            env: {
                ...process.env,
                GIT_CONFIG_NOSYSTEM: "1",
                HOME: this.dir,
                GIT_AUTHOR_NAME: author[0],
                GIT_AUTHOR_EMAIL: author[1],
                GIT_AUTHOR_DATE: `@${author[2]} +0000`,
                GIT_COMMITTER_NAME: who[0],
                GIT_COMMITTER_EMAIL: who[1],
                GIT_COMMITTER_DATE: `@${who[2]} +0000`,
            },
        });
    }

    private write(edit: (s: Stacks) => void, raw?: Record<string, string>) {
        edit(this.stacks);
        for (const [stack, services] of Object.entries(this.stacks)) fs.writeFileSync(path.join(this.dir, `Pulumi.${stack}.yaml`), stackText(services));
        for (const [stack, text] of Object.entries(raw ?? {})) fs.writeFileSync(path.join(this.dir, `Pulumi.${stack}.yaml`), text);
        this.git([], "add", "-A");
    }

    /** A commit straight on main. */
    commit(author: string, time: number, subject: string, edit: (s: Stacks) => void, raw?: Record<string, string>) {
        this.write(edit, raw);
        this.git([[author, `${author.toLowerCase()}@example.com`, time]], "commit", "-qm", subject);
    }

    /** A pull request merged with a merge commit: the branch's commit by `author`, merged by GitHub at `time`. */
    merge(pr: number, author: string, time: number, edit: (s: Stacks) => void) {
        this.git([], "checkout", "-qb", `pr-${pr}`);
        this.write(edit);
        this.git([[author, `${author.toLowerCase()}@example.com`, time - 600]], "commit", "-qm", `change for #${pr}`);
        this.git([], "checkout", "-q", "main");
        this.git([["GitHub", "noreply@github.com", time]], "merge", "-q", "--no-ff", "-m", `Merge pull request #${pr} from acme/pr-${pr}`, `pr-${pr}`);
    }

    /** A pull request squash-merged: one commit on main, "… (#N)". */
    squash(pr: number, author: string, time: number, edit: (s: Stacks) => void) {
        this.commit(author, time, `checkout: next stage (#${pr})`, edit);
    }
}

