// The few GitHub REST API requests stagehand makes, with Node's fetch: for the owners check (README "Who may change
// what") the pull request, its reviews and its timeline (paginated by the `Link` header), and team membership; for
// the automatic rollback (scripts/auto-rollback.ts) the writes of `send` (a branch, a commit, a pull request, a merge).
// GITHUB_API_URL (set by GitHub Actions; https://api.github.com by default) is where the API is.
import { Review } from "../components/governance/owners";
import { TimelineEvent } from "../components/governance/labels";

export const DEFAULT_API_URL = "https://api.github.com";

/** A request GitHub did not answer as documented: which one, its status, GitHub's message and what to check. */
export class GitHubError extends Error {
    constructor(
        readonly request: string,
        readonly detail: string,
        readonly status?: number,
    ) {
        super(`GitHub could not be read: ${request} ${detail}`);
        this.name = "GitHubError";
    }
}

const HINTS: Record<number, string> = {
    401: "the token is missing, expired or wrong (GITHUB_TOKEN)",
    403: "the token lacks a permission (the owners check: pull requests: read, and for teams organization members: read; the automatic rollback: contents, pull requests and actions: write) or the rate limit is spent",
    404: "not found, or the token cannot see it (a private repository or team needs a token that can read it)",
};

/** The pull request's fields the checks use. */
export interface PullRequest {
    number: number;
    author: string;
    headSha: string;
    baseSha: string;
    baseRef: string;
    labels: string[];
    state: string;
}

export class GitHub {
    private readonly base: URL;
    private readonly memberships = new Map<string, boolean>();

    constructor(
        apiUrl: string,
        private readonly token: string,
        private readonly timeoutMs = 30_000,
    ) {
        this.base = new URL(apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`);
    }

    private async request(url: URL, what: string, method = "GET", body?: unknown): Promise<Response> {
        let res: Response;
        try {
            res = await fetch(url, {
                method,
                headers: {
                    Accept: "application/vnd.github+json",
                    Authorization: `Bearer ${this.token}`,
                    "X-GitHub-Api-Version": "2022-11-28",
                    "User-Agent": "stagehand",
                    ...(body === undefined ? {} : { "Content-Type": "application/json" }),
                },
                ...(body === undefined ? {} : { body: JSON.stringify(body) }),
                signal: AbortSignal.timeout(this.timeoutMs),
            });
        } catch (e: any) {
            throw new GitHubError(what, `failed: ${e?.cause?.message ?? e?.message ?? e} (is ${this.base.origin} reachable? GITHUB_API_URL sets it)`);
        }
        return res;
    }

    private async fail(res: Response, what: string): Promise<never> {
        let message = "";
        try {
            message = ((await res.json()) as any)?.message ?? "";
        } catch {
            message = "";
        }
        const hint = HINTS[res.status] ?? "";
        throw new GitHubError(what, `answered ${res.status}${message ? ` "${message}"` : ""}${hint ? `: ${hint}` : ""}`, res.status);
    }

    private url(path: string): URL {
        return new URL(path.replace(/^\//, ""), this.base);
    }

    private async json(res: Response, what: string): Promise<any> {
        try {
            return await res.json();
        } catch (e: any) {
            throw new GitHubError(what, `answered ${res.status} with a body that is not JSON (${e.message})`, res.status);
        }
    }

    /** GET one resource; GitHubError unless 2xx. */
    async get(path: string): Promise<any> {
        const what = `GET ${path}`;
        const res = await this.request(this.url(path), what);
        if (!res.ok) await this.fail(res, what);
        return this.json(res, what);
    }

    /**
     * A write (POST, PUT, PATCH) with a JSON body: its answer's status and body (null for 204). GitHubError unless
     * 2xx, or one of `expected` (statuses the caller handles, e.g. 422 for a branch that is already there).
     */
    async send(method: "POST" | "PUT" | "PATCH", path: string, body: unknown, expected: number[] = []): Promise<{ status: number; body: any }> {
        const what = `${method} ${path}`;
        const res = await this.request(this.url(path), what, method, body);
        if (!res.ok && !expected.includes(res.status)) await this.fail(res, what);
        if (res.status === 204) return { status: res.status, body: null };
        return { status: res.status, body: await this.json(res, what) };
    }

    /** GET every page of a list, following `Link: <…>; rel="next"` (only on the API's own origin: the token goes nowhere else). */
    async list(path: string): Promise<any[]> {
        const items: any[] = [];
        let url: URL | undefined = this.url(`${path}${path.includes("?") ? "&" : "?"}per_page=100`);
        for (let page = 1; url; page++) {
            const what = `GET ${url.pathname}${url.search}`;
            const res = await this.request(url, what);
            if (!res.ok) await this.fail(res, what);
            const body = await this.json(res, what);
            if (!Array.isArray(body)) throw new GitHubError(what, `answered ${res.status} with ${typeof body}, not a list`, res.status);
            items.push(...body);
            const next = nextLink(res.headers.get("link"));
            url = next ? new URL(next, url) : undefined;
            if (url && url.origin !== this.base.origin) throw new GitHubError(what, `sent a next page on another origin (${url.origin}); not followed with the token`);
            if (page > 100) throw new GitHubError(what, "sent more than 100 pages; stopped");
        }
        return items;
    }

    async pullRequest(repo: string, number: number): Promise<PullRequest> {
        const pr = await this.get(`/repos/${repo}/pulls/${number}`);
        return {
            number: pr.number,
            author: pr.user?.login ?? "",
            headSha: pr.head?.sha,
            baseSha: pr.base?.sha,
            baseRef: pr.base?.ref,
            labels: (pr.labels ?? []).map((l: any) => l.name),
            state: pr.state,
        };
    }

    /** The merged pull request whose merge brought `sha` to the base branch (the deploy job's commit), or undefined. */
    async mergedPullOfCommit(repo: string, sha: string): Promise<number | undefined> {
        const pulls = await this.list(`/repos/${repo}/commits/${sha}/pulls`);
        const merged = pulls.find((p) => p.merged_at && p.merge_commit_sha === sha) ?? pulls.find((p) => p.merged_at);
        return merged?.number;
    }

    /** The pull request's reviews, in GitHub's (chronological) order. */
    async reviews(repo: string, number: number): Promise<Review[]> {
        const reviews = await this.list(`/repos/${repo}/pulls/${number}/reviews`);
        return reviews.map((r) => ({ login: r.user?.login ?? undefined, state: r.state, commitId: r.commit_id ?? null }));
    }

    async timeline(repo: string, number: number): Promise<TimelineEvent[]> {
        return this.list(`/repos/${repo}/issues/${number}/timeline`);
    }

    /**
     * Whether `login` is an active member of `org/team` (GET /orgs/{org}/teams/{team_slug}/memberships/{username}).
     * GitHub answers 404 both for "not a member" and for a team the token cannot see: a 404 asks for the team itself,
     * and only a team that is there makes it "not a member"; otherwise the check cannot be judged (GitHubError).
     */
    async isTeamMember(team: string, login: string): Promise<boolean> {
        const key = `${team.toLowerCase()} ${login.toLowerCase()}`;
        const known = this.memberships.get(key);
        if (known !== undefined) return known;
        const [org, slug] = team.split("/");
        const path = `/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(slug)}/memberships/${encodeURIComponent(login)}`;
        const what = `GET ${path}`;
        const res = await this.request(this.url(path), what);
        let member: boolean;
        if (res.ok) member = (await this.json(res, what))?.state === "active";
        else if (res.status === 404) {
            await this.get(`/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(slug)}`).catch((e: GitHubError) => {
                throw new GitHubError(
                    e.request,
                    `${e.detail}; team ${team} is an owner, and reading its members needs a token with organization members: read (see docs/reviewing.md "Who may change what")`,
                    e.status,
                );
            });
            member = false;
        } else return this.fail(res, what);
        this.memberships.set(key, member);
        return member;
    }
}

/** The `rel="next"` URL of a `Link` header, or undefined. */
export function nextLink(header: string | null): string | undefined {
    if (!header) return undefined;
    for (const part of header.split(",")) {
        const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
        if (m && m[2].split(/\s+/).includes("next")) return m[1];
    }
    return undefined;
}
