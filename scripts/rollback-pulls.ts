// The rollback pull requests on GitHub (docs/releasing.md "Automatic rollback"), through the REST API only: find the one of a
// service (by its head branch, `stagehand/rollback/<stack>/<service>`), open one (a branch from the checked-out
// commit, a commit of the edited stack file on it, the pull request, its labels), and merge one whose checks passed,
// then dispatch the deploy workflow (a merge made with a workflow's GITHUB_TOKEN starts no push-triggered workflow).
import { createHash } from "crypto";
import { execFileSync } from "child_process";
import { AUTO_MERGE_LABEL, CheckOutcome, checksState, ChecksState, ROLLBACK_LABEL } from "../components/service/rollback";
import { GitHub } from "./github";

/** A pull request as the pulls list gives it (the fields used here). */
export interface RollbackPull {
    number: number;
    url: string;
    state: string;
    mergedAt: string | null;
    mergeCommitSha: string | null;
    headRef: string;
    headSha: string;
    /** The head's repository (owner/name); null when it is gone. */
    headRepo: string | null;
    body: string;
    labels: string[];
}

function pullOf(p: any): RollbackPull {
    return {
        number: p.number,
        url: p.html_url,
        state: p.state,
        mergedAt: p.merged_at ?? null,
        mergeCommitSha: p.merge_commit_sha ?? null,
        headRef: p.head?.ref ?? "",
        headSha: p.head?.sha ?? "",
        headRepo: p.head?.repo?.full_name ?? null,
        body: p.body ?? "",
        labels: (p.labels ?? []).map((l: any) => l.name),
    };
}

/** Git's id of a file's content (a blob): what the contents API asks for as the `sha` of the file it replaces. */
export function blobSha(text: string): string {
    const bytes = Buffer.from(text, "utf8");
    return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** Whether commit `sha` is in the history of the checkout's HEAD (false for a commit the checkout does not have). */
export function inCheckout(root: string, sha: string): boolean {
    try {
        execFileSync("git", ["merge-base", "--is-ancestor", sha, "HEAD"], { cwd: root, stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

/** The commit the checkout at `root` is at. */
export function headCommit(root: string): string {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
}

export class RollbackPulls {
    constructor(
        private readonly gh: GitHub,
        /** owner/name */
        readonly repo: string,
    ) {}

    /** Every pull request, open or closed, whose head is `branch` of this repository, newest first. */
    async forBranch(branch: string): Promise<RollbackPull[]> {
        const owner = this.repo.split("/")[0];
        const pulls = await this.gh.list(`/repos/${this.repo}/pulls?state=all&head=${encodeURIComponent(`${owner}:${branch}`)}&sort=created&direction=desc`);
        return pulls.map(pullOf).filter((p) => p.headRef === branch);
    }

    /** The open pull requests whose head is a branch of this repository starting with `prefix`. */
    async openWithPrefix(prefix: string): Promise<RollbackPull[]> {
        const pulls = await this.gh.list(`/repos/${this.repo}/pulls?state=open`);
        return pulls.map(pullOf).filter((p) => p.headRef.startsWith(prefix) && p.headRepo === this.repo);
    }

    /**
     * Opens the pull request: the branch at `baseCommit` (moved there when a branch of that name is left from an
     * earlier rollback), one commit replacing `file` (whose text at `baseCommit` is `before`) by `after`, the pull
     * request into `base`, and its labels.
     */
    async open(o: { branch: string; base: string; baseCommit: string; file: string; before: string; after: string; title: string; body: string; autoMerge: boolean }): Promise<RollbackPull> {
        const created = await this.gh.send("POST", `/repos/${this.repo}/git/refs`, { ref: `refs/heads/${o.branch}`, sha: o.baseCommit }, [422]);
        if (created.status === 422) {
            // "Reference already exists": the branch of an earlier, closed rollback. No pull request is open on it.
            await this.gh.send("PATCH", `/repos/${this.repo}/git/refs/heads/${o.branch}`, { sha: o.baseCommit, force: true });
        }
        await this.gh.send("PUT", `/repos/${this.repo}/contents/${o.file}`, {
            message: o.title,
            content: Buffer.from(o.after, "utf8").toString("base64"),
            sha: blobSha(o.before),
            branch: o.branch,
        });
        const pr = await this.gh.send("POST", `/repos/${this.repo}/pulls`, { title: o.title, head: o.branch, base: o.base, body: o.body, maintainer_can_modify: false });
        const labels = o.autoMerge ? [ROLLBACK_LABEL, AUTO_MERGE_LABEL] : [ROLLBACK_LABEL];
        await this.gh.send("POST", `/repos/${this.repo}/issues/${pr.body.number}/labels`, { labels });
        return { ...pullOf(pr.body), labels };
    }

    /** Every check run and commit status of `sha`, judged as the merge needs them. */
    async checks(sha: string): Promise<ChecksState> {
        const runs = await this.gh.get(`/repos/${this.repo}/commits/${sha}/check-runs?per_page=100`);
        const combined = await this.gh.get(`/repos/${this.repo}/commits/${sha}/status?per_page=100`);
        const outcomes: CheckOutcome[] = [
            ...(runs.check_runs ?? []).map((r: any) => ({ name: r.name, status: r.status, conclusion: r.conclusion ?? null })),
            ...(combined.statuses ?? []).map((s: any) => ({ name: s.context, status: s.state, conclusion: null })),
        ];
        return checksState(outcomes);
    }

    /**
     * Merges the pull request at exactly `headSha` (the commit whose checks passed: a push after them is not
     * merged), squashed. GitHub refuses (405, 409) when the branch's protection is not met or the head moved: then
     * the reason, and nothing merged.
     */
    async merge(number: number, headSha: string, title: string): Promise<{ merged: true; sha: string } | { merged: false; why: string }> {
        const res = await this.gh.send("PUT", `/repos/${this.repo}/pulls/${number}/merge`, { sha: headSha, merge_method: "squash", commit_title: `${title} (#${number})` }, [405, 409, 422]);
        if (res.status === 200 && res.body?.merged) return { merged: true, sha: res.body.sha };
        return { merged: false, why: `GitHub answered ${res.status}: ${res.body?.message ?? "not merged"}` };
    }

    /**
     * Merges the base branch into the pull request's branch (PUT …/update-branch), when it is behind and the branch
     * protection requires it up to date: a new head commit, whose checks run again before the next merge attempt.
     * False when GitHub refuses (a conflict, or the head moved since `headSha`).
     */
    async updateBranch(number: number, headSha: string): Promise<boolean> {
        const res = await this.gh.send("PUT", `/repos/${this.repo}/pulls/${number}/update-branch`, { expected_head_sha: headSha }, [422]);
        return res.status === 202;
    }

    /** Starts the deploy workflow on `ref` (workflow_dispatch): a merge with GITHUB_TOKEN starts no push-triggered run. */
    async dispatch(workflow: string, ref: string): Promise<void> {
        await this.gh.send("POST", `/repos/${this.repo}/actions/workflows/${encodeURIComponent(workflow)}/dispatches`, { ref });
    }
}
