// `npm run auto-rollback` end to end (docs/releasing.md "Automatic rollback"): a git checkout with a stack file whose canaries
// serve traffic, Prometheus' instant-query API answering recorded vectors on 127.0.0.1 (the real verdict runs over
// them), and GitHub's REST API served from recorded answers, each checked against GitHub's OpenAPI description
// (test/helpers/github.ts), so the real fetch, the branch, the commit, the pull request, the checks and the merge run.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { AUTO_ROLLBACK_EXIT, AutoRollbackReport, main } from "../../scripts/auto-rollback";
import { Answer, fakeGitHub, FakeGitHub, recording } from "../helpers/github";

const REPO = "acme/stagehand";
const TOKEN = "ghs_test0000000000000000000000000000";
const API = `/repos/${REPO}`;

const STACK_FILE = `# prod: the services and their canaries
config:
  aws:region: us-east-1
  stagehand:observability:
    prometheus: { enabled: true }
  stagehand:services:
    checkout:
      image: ghcr.io/acme/checkout
      stable: "1.4.2"
      canary: "1.5.0"
      stage: 3 # canary 90%, judged
      replicas: 2
      autoRollback: true
    payments:
      image: ghcr.io/acme/payments
      stable: '0.9.7'
      canary: '0.10.0'
      namespace: shop
      stage: 2
      steps: [10, 25, 50, 75, 100]
      replicas: 4
    search:
      image: ghcr.io/acme/search
      stable: "2.0.0"
      canary: "2.1.0"
      stage: 2
      replicas: 2
      autoRollback: true
    catalog:
      image: ghcr.io/acme/catalog
      stable: "3.0.0"
      stage: 1
      replicas: 2
`;

/** The queries of one track, written out independently of components/service/verdict.ts. */
function queries(namespace: string, workload: string) {
    const sel = `reporter="destination",destination_workload_namespace="${namespace}",destination_workload="${workload}"`;
    return {
        requests: `sum(increase(istio_requests_total{${sel}}[10m]))`,
        errors: `sum(increase(istio_requests_total{${sel},response_code=~"5.."}[10m]))`,
        p95: `histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${sel}}[10m])))`,
    };
}

/** Prometheus' answers: checkout and payments failing (5xx), search healthy. */
function prometheusAnswers(healthy: string[] = []): Map<string, string> {
    const out = new Map<string, string>();
    const set = (service: string, namespace: string, canary: { requests: string; errors: string; p95: string }) => {
        const prod = queries(namespace, `${service}-production`);
        out.set(prod.requests, "5000");
        out.set(prod.errors, "2");
        out.set(prod.p95, "80");
        const c = queries(namespace, `${service}-canary`);
        out.set(c.requests, canary.requests);
        out.set(c.errors, canary.errors);
        out.set(c.p95, canary.p95);
    };
    const failing = { requests: "400", errors: "40", p95: "95" };
    const fine = { requests: "400", errors: "0", p95: "90" };
    set("checkout", "checkout", healthy.includes("checkout") ? fine : failing);
    set("payments", "shop", healthy.includes("payments") ? fine : failing);
    set("search", "search", fine);
    return out;
}

const git = (root: string, ...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();

const encoded = (branch: string) => encodeURIComponent(`acme:${branch}`);
const byBranch = (service: string) => `${API}/pulls?state=all&head=${encoded(`stagehand/rollback/prod/${service}`)}&sort=created&direction=desc&per_page=100`;
const OPEN = `${API}/pulls?state=open&per_page=100`;

let number = 100;
/** A pull request as the pulls list gives it. */
function listed(service: string, o: { state?: "open" | "closed"; merged?: string; body?: string; labels?: string[]; head?: string } = {}) {
    const p = recording("pull-simple");
    p.number = ++number;
    p.html_url = `https://github.com/acme/stagehand/pull/${p.number}`;
    p.state = o.state ?? "open";
    p.merged_at = o.merged ?? null;
    p.merge_commit_sha = o.merged ? "e5bd3914e2e596debea16f433f57875b5b90bcd6" : null;
    p.head.ref = `stagehand/rollback/prod/${service}`;
    p.head.sha = o.head ?? "6dcb09b5b57875f334f61aebed695e2e4193db5e";
    p.head.repo.full_name = REPO;
    p.body = o.body ?? "";
    p.labels = (o.labels ?? []).map((name) => ({ ...recording("label"), name }));
    return p;
}

function created(n: number, service: string) {
    const p = recording("pull");
    p.number = n;
    p.html_url = `https://github.com/acme/stagehand/pull/${n}`;
    p.head.ref = `stagehand/rollback/prod/${service}`;
    return p;
}

const checkRun = (name: string, status: string, conclusion: string | null) => ({ ...recording("check-run"), name, status, conclusion });
const checks = (runs: any[]): Answer => ({ body: { total_count: runs.length, check_runs: runs } });
const NO_STATUSES: Answer = { body: recording("combined-status") };

/** Routes of the writes that open a rollback of `service` as pull request `n`. */
function openRoutes(): Record<string, Answer> {
    return {
        [`POST ${API}/git/refs`]: { status: 201, body: recording("git-ref") },
        [`PUT ${API}/contents/Pulumi.prod.yaml`]: { status: 201, body: recording("file-commit") },
        [`POST ${API}/pulls`]: { status: 201, body: created(501, "checkout") },
        [`POST ${API}/issues/501/labels`]: { body: [recording("label")] },
    };
}

describe("npm run auto-rollback (scripts/auto-rollback.ts), against recorded Prometheus and GitHub answers", function () {
    this.timeout(30_000);
    let root: string;
    let head: string;
    let prometheus: http.Server;
    let prometheusUrl: string;
    let answers = new Map<string, string>();
    let github: FakeGitHub | undefined;

    before(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-auto-rollback-"));
        fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), STACK_FILE);
        git(root, "init", "-q", "-b", "main");
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".");
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "prod");
        head = git(root, "rev-parse", "HEAD");
        prometheus = http.createServer((req, res) => {
            const query = new URL(req.url ?? "/", "http://127.0.0.1").searchParams.get("query") ?? "";
            const value = answers.get(query);
            res.writeHead(value === undefined ? 400 : 200, { "content-type": "application/json" });
            res.end(
                JSON.stringify(
                    value === undefined
                        ? { status: "error", errorType: "bad_data", error: `no recording for ${query}` }
                        : { status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1718000000.123, value] }] } },
                ),
            );
        });
        await new Promise<void>((resolve) => prometheus.listen(0, "127.0.0.1", resolve));
        prometheusUrl = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
    });

    beforeEach(() => {
        answers = prometheusAnswers();
    });

    afterEach(async () => {
        await github?.close();
        github = undefined;
    });

    after(async () => {
        prometheus.closeAllConnections();
        await new Promise<void>((resolve) => prometheus.close(() => resolve()));
        fs.rmSync(root, { recursive: true, force: true });
    });

    async function run(routes: Record<string, Answer> | undefined, extra: string[] = []): Promise<{ code: number; report: AutoRollbackReport; err: string }> {
        let out = "";
        let err = "";
        let env: NodeJS.ProcessEnv = { GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: REPO, GITHUB_RUN_ID: "42" };
        if (routes) {
            github = await fakeGitHub(routes);
            env = { ...env, GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url };
        }
        const judge = extra.includes("--merge-only") ? [] : ["--prometheus", prometheusUrl];
        const code = await main(["--stack", "prod", "--json", ...judge, "--root", root, ...(routes ? [] : ["--dry-run"]), ...extra], env, {
            out: (s) => (out += s),
            err: (s) => (err += s),
        });
        return { code, report: JSON.parse(out), err };
    }

    const writes = () => (github?.requests ?? []).filter((r) => r.method !== "GET");
    const actions = (r: AutoRollbackReport) => Object.fromEntries(r.canaries.map((c) => [c.service, c.action]));

    it("--dry-run judges every canary serving traffic and says which would be rolled back, asking GitHub nothing", async () => {
        const { code, report } = await run(undefined);
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(actions(report), { checkout: "would-open", payments: "would-open", search: "healthy" });
        assert.match(report.canaries[0].detail!, /stagehand\/rollback\/prod\/checkout setting stage: 1 in Pulumi\.prod\.yaml, merged once its checks pass \(autoRollback\)/);
    });

    it("opens one pull request per failing canary: a branch at HEAD, stage: 1 and nothing else of the file, the evidence, the labels", async () => {
        const routes = { [byBranch("checkout")]: { body: [] }, [byBranch("payments")]: { body: [] }, [OPEN]: { body: [] }, ...openRoutes() };
        const { code, report } = await run(routes);
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(actions(report), { checkout: "opened", payments: "opened", search: "healthy" });
        const w = writes();
        assert.ok(w.every((r) => r.authorization === `Bearer ${TOKEN}`));
        assert.deepStrictEqual(w.map((r) => `${r.method} ${r.url}`), [
            `POST ${API}/git/refs`,
            `PUT ${API}/contents/Pulumi.prod.yaml`,
            `POST ${API}/pulls`,
            `POST ${API}/issues/501/labels`,
            `POST ${API}/git/refs`,
            `PUT ${API}/contents/Pulumi.prod.yaml`,
            `POST ${API}/pulls`,
            `POST ${API}/issues/501/labels`,
        ]);
        assert.deepStrictEqual(w[0].body, { ref: "refs/heads/stagehand/rollback/prod/checkout", sha: head });
        // The commit: the file's blob at HEAD replaced by the same text with checkout's stage set to 1, byte for byte.
        const put = w[1].body;
        assert.strictEqual(put.branch, "stagehand/rollback/prod/checkout");
        assert.strictEqual(put.sha, git(root, "rev-parse", "HEAD:Pulumi.prod.yaml"));
        assert.strictEqual(Buffer.from(put.content, "base64").toString("utf8"), STACK_FILE.replace("stage: 3 # canary 90%", "stage: 1 # canary 90%"));
        assert.strictEqual(Buffer.from(w[5].body.content, "base64").toString("utf8"), STACK_FILE.replace("stage: 2\n      steps", "stage: 1\n      steps"));
        const pr = w[2].body;
        assert.strictEqual(pr.head, "stagehand/rollback/prod/checkout");
        assert.strictEqual(pr.base, "main");
        assert.strictEqual(pr.title, "Roll back checkout in prod: canary 1.5.0 is failing at stage 3 (canary 90%)");
        for (const line of ["| requests | 5000 | 400 |", "| 5xx | 2 | 40 |", "| error rate | 0.04% | 10.00% |", "Verdict: **failing**"]) assert.ok(pr.body.split("\n").includes(line), line);
        assert.ok(pr.body.includes('sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="checkout",destination_workload="checkout-canary"}[10m]))'));
        assert.ok(pr.body.includes("[this run](https://github.com/acme/stagehand/actions/runs/42)"));
        assert.deepStrictEqual(w[3].body, { labels: ["stagehand/rollback", "stagehand/auto-rollback"] });
        // payments: autoRollback off (neither its block nor the stack sets it): a person merges it.
        assert.deepStrictEqual(w[7].body, { labels: ["stagehand/rollback"] });
        assert.match(w[6].body.body, /`autoRollback` is off for payments: an owner of the service reviews and merges/);
        // Just opened: no checks yet, nothing merged (the open list is read before GitHub lists the new ones).
        assert.ok(!w.some((r) => r.url.endsWith("/merge")));
    });

    it("opens nothing new while a service's rollback pull request is open, and merges nothing before its checks finished", async () => {
        const checkout = listed("checkout", { labels: ["stagehand/rollback", "stagehand/auto-rollback"], head: "1111111111111111111111111111111111111111" });
        const payments = listed("payments", { labels: ["stagehand/rollback"] });
        const routes = {
            [byBranch("checkout")]: { body: [checkout] },
            [byBranch("payments")]: { body: [payments] },
            [OPEN]: { body: [checkout, payments] },
            [`${API}/commits/1111111111111111111111111111111111111111/check-runs`]: checks([checkRun("plan-gate", "completed", "success"), checkRun("owners", "in_progress", null)]),
            [`${API}/commits/1111111111111111111111111111111111111111/status`]: NO_STATUSES,
        };
        const { code, report } = await run(routes);
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(actions(report), { checkout: "already-open", payments: "already-open", search: "healthy" });
        assert.deepStrictEqual(writes(), []);
        assert.deepStrictEqual(
            report.merges.map((m) => [m.number, m.action, m.detail]),
            [
                [checkout.number, "waiting", "checks still running: owners (in_progress)"],
                [payments.number, "skipped", "autoRollback is off: a person merges it"],
            ],
        );
    });

    it("merges an autoRollback service's pull request at the commit whose checks passed, then dispatches the deploy", async () => {
        const sha = "2222222222222222222222222222222222222222";
        const checkout = listed("checkout", { labels: ["stagehand/rollback", "stagehand/auto-rollback"], head: sha });
        // payments' autoRollback is off: its pull request is left for a person even with every check passed.
        const payments = listed("payments", { labels: ["stagehand/rollback", "stagehand/auto-rollback"], head: sha });
        const routes = {
            [OPEN]: { body: [checkout, payments] },
            [`${API}/commits/${sha}/check-runs`]: checks([checkRun("plan-gate", "completed", "success"), checkRun("owners", "completed", "success"), checkRun("comment", "completed", "skipped")]),
            [`${API}/commits/${sha}/status`]: { body: { ...recording("combined-status"), state: "success", statuses: [{ ...recording("commit-status"), state: "success" }] } },
            [`PUT ${API}/pulls/${checkout.number}/merge`]: { body: recording("merge") },
            [`POST ${API}/actions/workflows/deploy.yml/dispatches`]: { status: 204, body: null },
        };
        const { code, report } = await run(routes, ["--merge-only"]);
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(report.canaries, []);
        assert.deepStrictEqual(report.merges.map((m) => [m.service, m.action, m.detail]), [
            ["checkout", "merged", "merged as 6dcb09b after 4 passing checks"],
            ["payments", "skipped", "autoRollback is off: a person merges it"],
        ]);
        assert.deepStrictEqual(writes().map((r) => [`${r.method} ${r.url}`, r.body]), [
            [`PUT ${API}/pulls/${checkout.number}/merge`, { sha, merge_method: "squash", commit_title: `Roll back checkout in prod (#${checkout.number})` }],
            [`POST ${API}/actions/workflows/deploy.yml/dispatches`, { ref: "main" }],
        ]);
    });

    it("does not merge when a check failed, nor when the label was removed, nor what GitHub's branch protection refuses", async () => {
        const [a, b, c] = ["3333333333333333333333333333333333333333", "4444444444444444444444444444444444444444", "5555555555555555555555555555555555555555"];
        const failed = listed("checkout", { labels: ["stagehand/rollback", "stagehand/auto-rollback"], head: a });
        const unlabelled = listed("search", { labels: ["stagehand/rollback"], head: b });
        const routes = {
            [OPEN]: { body: [failed, unlabelled] },
            [`${API}/commits/${a}/check-runs`]: checks([checkRun("plan-gate", "completed", "failure"), checkRun("owners", "completed", "success")]),
            [`${API}/commits/${a}/status`]: NO_STATUSES,
        };
        const first = await run(routes, ["--merge-only"]);
        assert.strictEqual(first.code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(first.report.merges.map((m) => [m.action, m.detail]), [
            ["checks-failed", "not merged: plan-gate (failure)"],
            ["skipped", "the label stagehand/auto-rollback was removed: a person merges it"],
        ]);
        assert.deepStrictEqual(writes(), []);
        await github!.close();

        const refused = listed("checkout", { labels: ["stagehand/rollback", "stagehand/auto-rollback"], head: c });
        const second = await run(
            {
                [OPEN]: { body: [refused] },
                [`${API}/commits/${c}/check-runs`]: checks([checkRun("plan-gate", "completed", "success")]),
                [`${API}/commits/${c}/status`]: NO_STATUSES,
                [`PUT ${API}/pulls/${refused.number}/merge`]: { status: 405, body: { message: "At least 1 approving review is required by reviewers with write access.", documentation_url: "https://docs.github.com/rest" } },
                [`PUT ${API}/pulls/${refused.number}/update-branch`]: { status: 422, body: { message: "There are no new commits on the base branch.", documentation_url: "https://docs.github.com/rest" } },
            },
            ["--merge-only"],
        );
        assert.strictEqual(second.code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(second.report.merges.map((m) => [m.action, m.detail]), [["refused", "GitHub answered 405: At least 1 approving review is required by reviewers with write access."]]);
        assert.ok(!writes().some((r) => r.url.includes("dispatches")));
        await github!.close();

        // Behind the base, where the branch protection wants it up to date: the branch is updated, its checks run again.
        const behind = listed("checkout", { labels: ["stagehand/rollback", "stagehand/auto-rollback"], head: c });
        const third = await run(
            {
                [OPEN]: { body: [behind] },
                [`${API}/commits/${c}/check-runs`]: checks([checkRun("plan-gate", "completed", "success")]),
                [`${API}/commits/${c}/status`]: NO_STATUSES,
                [`PUT ${API}/pulls/${behind.number}/merge`]: { status: 405, body: { message: "Head branch is out of date. Review and try the merge again.", documentation_url: "https://docs.github.com/rest" } },
                [`PUT ${API}/pulls/${behind.number}/update-branch`]: { status: 202, body: { message: "Updating pull request branch.", url: `https://github.com/repos/acme/stagehand/pulls/${behind.number}` } },
            },
            ["--merge-only"],
        );
        assert.deepStrictEqual(third.report.merges.map((m) => [m.action, m.detail]), [
            ["refused", "GitHub answered 405: Head branch is out of date. Review and try the merge again.; updated the branch with main: its checks run again, and a later run merges it"],
        ]);
        assert.deepStrictEqual(writes().map((r) => [`${r.method} ${r.url}`, r.body]), [
            [`PUT ${API}/pulls/${behind.number}/merge`, { sha: c, merge_method: "squash", commit_title: `Roll back checkout in prod (#${behind.number})` }],
            [`PUT ${API}/pulls/${behind.number}/update-branch`, { expected_head_sha: c }],
        ]);
    });

    it("does not open again what a person closed for this canary and stage, nor what was merged after this checkout", async () => {
        const marker = (service: string, canary: string, stage: number) => `<!-- stagehand-rollback stack=prod service=${service} canary=${canary} stage=${stage} -->\nRolled back.`;
        const declined = listed("checkout", { state: "closed", body: marker("checkout", "1.5.0", 3) });
        const merged = listed("payments", { state: "closed", merged: "2026-12-03T17:00:00Z", body: marker("payments", "0.10.0", 2) });
        const routes = { [byBranch("checkout")]: { body: [declined] }, [byBranch("payments")]: { body: [merged] }, [OPEN]: { body: [] } };
        const { code, report } = await run(routes);
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(actions(report), { checkout: "declined", payments: "merged-pending", search: "healthy" });
        assert.deepStrictEqual(writes(), []);
    });

    it("opens again for an earlier release's closed pull request, moving the branch left from it", async () => {
        const earlier = listed("checkout", { state: "closed", merged: "2026-11-01T10:00:00Z", body: "<!-- stagehand-rollback stack=prod service=checkout canary=1.4.9 stage=2 -->" });
        answers = prometheusAnswers(["payments"]);
        const routes = {
            [byBranch("checkout")]: { body: [earlier] },
            [OPEN]: { body: [] },
            ...openRoutes(),
            [`POST ${API}/git/refs`]: { status: 422, body: { message: "Reference already exists", documentation_url: "https://docs.github.com/rest/git/refs#create-a-reference" } },
            [`PATCH ${API}/git/refs/heads/stagehand/rollback/prod/checkout`]: { body: recording("git-ref") },
        };
        const { code, report } = await run(routes);
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(actions(report), { checkout: "opened", payments: "healthy", search: "healthy" });
        assert.deepStrictEqual(writes().slice(0, 2).map((r) => [`${r.method} ${r.url}`, r.body]), [
            [`POST ${API}/git/refs`, { ref: "refs/heads/stagehand/rollback/prod/checkout", sha: head }],
            [`PATCH ${API}/git/refs/heads/stagehand/rollback/prod/checkout`, { sha: head, force: true }],
        ]);
    });

    it("does nothing for healthy canaries", async () => {
        answers = prometheusAnswers(["checkout", "payments"]);
        const { code, report } = await run({ [OPEN]: { body: [] } });
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(actions(report), { checkout: "healthy", payments: "healthy", search: "healthy" });
        assert.deepStrictEqual(github!.requests.map((r) => `${r.method} ${r.url}`), [`GET ${OPEN}`]);
    });

    it("exits 3 when a canary cannot be judged, and opens nothing for it", async () => {
        answers = new Map();
        const { code, report } = await run({ [OPEN]: { body: [] } });
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.notJudged);
        assert.deepStrictEqual(actions(report), { checkout: "not-judged", payments: "not-judged", search: "not-judged" });
        assert.match(report.canaries[0].detail!, /Prometheus at http:\/\/127\.0\.0\.1:\d+ answered HTTP 400 .*bad_data/);
        assert.deepStrictEqual(writes(), []);
    });

    it("exits 1 and names the request when GitHub refuses a write", async () => {
        answers = prometheusAnswers(["payments"]);
        const routes = {
            [byBranch("checkout")]: { body: [] },
            [OPEN]: { body: [] },
            ...openRoutes(),
            [`POST ${API}/pulls`]: { status: 403, body: { message: "Resource not accessible by integration", documentation_url: "https://docs.github.com/rest" } },
        };
        const { code, report } = await run(routes);
        assert.strictEqual(code, AUTO_ROLLBACK_EXIT.github);
        assert.strictEqual(report.canaries[0].action, "error");
        assert.match(report.canaries[0].detail!, /POST \/repos\/acme\/stagehand\/pulls answered 403 "Resource not accessible by integration"/);
    });

    it("--list names, offline, the stacks with Prometheus and a canary serving traffic", async () => {
        let out = "";
        assert.strictEqual(await main(["--list", "--root", root], {}, { out: (t) => (out += t) }), AUTO_ROLLBACK_EXIT.done);
        assert.deepStrictEqual(JSON.parse(out), [{ stack: "prod", cluster: "stagehand-prod", region: "us-east-1", services: ["checkout", "payments", "search"] }]);
    });

    it("judges in one job and writes in another: --verdicts reads the --dry-run --json report, asking no Prometheus", async () => {
        const dry = await run(undefined);
        const file = path.join(root, "..", `verdicts-${path.basename(root)}.json`);
        fs.writeFileSync(file, JSON.stringify(dry.report));
        try {
            answers = new Map(); // Prometheus would answer nothing now: the verdicts come from the file
            const routes = { [byBranch("checkout")]: { body: [] }, [byBranch("payments")]: { body: [] }, [OPEN]: { body: [] }, ...openRoutes() };
            github = await fakeGitHub(routes);
            let out = "";
            const env = { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, GITHUB_REPOSITORY: REPO };
            const code = await main(["--stack", "prod", "--json", "--verdicts", file, "--root", root], env, { out: (t) => (out += t) });
            assert.strictEqual(code, AUTO_ROLLBACK_EXIT.done);
            assert.deepStrictEqual(actions(JSON.parse(out)), { checkout: "opened", payments: "opened", search: "healthy" });
            const pr = writes().find((r) => r.url === `${API}/pulls`)!.body;
            assert.ok(pr.body.split("\n").includes("| 5xx | 2 | 40 |"), pr.body);
            // A report of another release of the canary (the stack file moved on between the jobs) is no verdict of this one.
            const other = { ...dry.report, canaries: dry.report.canaries.map((c) => ({ ...c, stage: c.stage + 1 })) };
            fs.writeFileSync(file, JSON.stringify(other));
            out = "";
            assert.strictEqual(await main(["--stack", "prod", "--json", "--verdicts", file, "--root", root, "--dry-run"], {}, { out: (t) => (out += t) }), AUTO_ROLLBACK_EXIT.notJudged);
            assert.match(JSON.parse(out).canaries[0].detail, /--verdicts has no verdict of checkout in stack prod with canary 1\.5\.0 at stage 3/);
        } finally {
            fs.rmSync(file, { force: true });
        }
    });

    it("refuses bad arguments and a missing token with exit 2", async () => {
        let err = "";
        const e = (s: string) => (err += s);
        assert.strictEqual(await main(["--service", "checkout"], {}, { err: e, root }), AUTO_ROLLBACK_EXIT.usage);
        assert.match(err, /--service needs --stack/);
        err = "";
        assert.strictEqual(await main(["--stack", "prod", "--root", root], { GITHUB_REPOSITORY: REPO }, { err: e }), AUTO_ROLLBACK_EXIT.usage);
        assert.match(err, /GITHUB_TOKEN is not set/);
        err = "";
        assert.strictEqual(await main(["--stack", "prod", "--service", "nope", "--dry-run", "--root", root], {}, { err: e }), AUTO_ROLLBACK_EXIT.usage);
        assert.match(err, /stack prod has no service "nope"/);
        assert.ok(parse(STACK_FILE)); // the fixture is valid YAML
    });
});
