// The owners check and the verdict override (docs/reviewing.md "Who may change what"), end to end: a git repository with a
// pull request's base and head commits, and GitHub's API served on 127.0.0.1 from recorded answers (each checked
// against GitHub's OpenAPI description by test/helpers/github.ts), so the real fetch, pagination, auth header and
// error handling run.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as owners } from "../../scripts/owners";
import { main as breakGlass } from "../../scripts/break-glass";
import { main as verdictOverride } from "../../scripts/verdict-override";
import { Answer, checkRecorded, fakeGitHub, FakeGitHub, recording } from "../helpers/github";

const ROOT = path.resolve(__dirname, "..", "..");
const REPO = "acme/stagehand";
const PR = "/repos/acme/stagehand/pulls/17";
const TOKEN = "ghs_test0000000000000000000000000000";

/** Team members in the recorded org: login → teams. */
const MEMBERS: Record<string, string[]> = {
    erin: ["checkout"],
    dana: ["checkout"],
    paul: ["platform"],
    olga: ["payments"],
    mallory: [],
};
const TEAMS = ["checkout", "catalog", "payments", "platform"];

function label(name: string) {
    return { id: 5001, node_id: "LA_kwDOAAAB", url: `https://api.github.com/repos/acme/stagehand/labels/${encodeURIComponent(name)}`, name, description: "the verdict was judged another way", color: "d93f0b", default: false };
}

function pull(head: string, base: string, o: { author?: string; labels?: string[] } = {}) {
    const p = recording("pull");
    p.head.sha = head;
    p.base.sha = base;
    p.user.login = o.author ?? "dana";
    p.labels = (o.labels ?? []).map(label);
    return p;
}

let reviewId = 900;
function review(login: string, state: string, commit: string) {
    const r = recording("review");
    r.id = ++reviewId;
    r.user.login = login;
    r.user.id = 7000 + reviewId;
    r.state = state;
    r.commit_id = commit;
    return r;
}

function labeled(by: string, at: string, name = "stagehand/override-verdict") {
    const e = recording("timeline-labeled");
    e.actor.login = by;
    e.created_at = at;
    e.label.name = name;
    return e;
}

function committed(sha: string, date: string) {
    const e = recording("timeline-committed");
    e.sha = sha;
    e.committer.date = date;
    e.author.date = date;
    return e;
}

function forcePushed(by: string, at: string) {
    const e = recording("timeline-force-pushed");
    e.actor.login = by;
    e.created_at = at;
    return e;
}

/** Team routes: each member's active membership, each team (a non-member's 404 is followed by the team's 200). */
function teamRoutes(): Record<string, Answer> {
    const routes: Record<string, Answer> = {};
    for (const team of TEAMS) routes[`/orgs/acme/teams/${team}`] = { body: { ...recording("team"), slug: team, name: team } };
    for (const [login, teams] of Object.entries(MEMBERS)) {
        for (const team of teams) routes[`/orgs/acme/teams/${team}/memberships/${login}`] = { body: { ...recording("team-membership"), url: `https://api.github.com/teams/1/memberships/${login}` } };
    }
    return routes;
}

/** The reviews as GitHub pages them: the first page, then the rest behind `Link: rel="next"`. */
function reviewRoutes(reviews: unknown[], perPage = 2): Record<string, Answer> {
    const routes: Record<string, Answer> = {};
    const pages = Math.max(1, Math.ceil(reviews.length / perPage));
    for (let i = 0; i < pages; i++) {
        const url = `${PR}/reviews?per_page=100${i === 0 ? "" : `&page=${i + 1}`}`;
        const headers: Record<string, string> = {};
        if (i + 1 < pages) headers.link = `<{{base}}${PR}/reviews?per_page=100&page=${i + 2}>; rel="next", <{{base}}${PR}/reviews?per_page=100&page=${pages}>; rel="last"`;
        routes[url] = { body: reviews.slice(i * perPage, (i + 1) * perPage), headers };
    }
    return routes;
}

describe("owners check and verdict override against recorded GitHub answers (scripts/owners.ts, scripts/verdict-override.ts)", function () {
    this.timeout(60_000);
    let repo: string;
    let base: string;
    let server: FakeGitHub | undefined;
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    const staging = fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8");
    const prod = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");

    /** A commit on top of `from` writing `files` (null deletes); its sha. */
    function commit(from: string, files: Record<string, string | null>, message = "change"): string {
        git("checkout", "-q", "--detach", from);
        for (const [f, text] of Object.entries(files)) {
            if (text === null) fs.rmSync(path.join(repo, f));
            else fs.writeFileSync(path.join(repo, f), text);
        }
        git("add", "-A");
        git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message);
        return git("rev-parse", "HEAD");
    }

    before(() => {
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-owners-"));
        git("init", "-q");
        fs.writeFileSync(path.join(repo, "README.md"), "stagehand\n");
        fs.writeFileSync(path.join(repo, "Pulumi.staging.yaml"), staging);
        fs.writeFileSync(path.join(repo, "Pulumi.prod.yaml"), prod);
        fs.writeFileSync(path.join(repo, "index.ts"), "export {};\n");
        git("add", "-A");
        git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base");
        base = git("rev-parse", "HEAD");
    });
    after(() => fs.rmSync(repo, { recursive: true, force: true }));
    afterEach(async () => {
        await server?.close();
        server = undefined;
    });

    async function run(command: typeof owners, routes: Record<string, Answer>, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
        server = await fakeGitHub({ ...teamRoutes(), ...routes });
        let stdout = "";
        let stderr = "";
        const code = await command([REPO, "17", "--root", repo, ...extra], { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: server.url, ...env }, { out: (s) => (stdout += s), err: (s) => (stderr += s) });
        return { code, stdout, stderr, requests: server.requests };
    }

    const stage3 = () => staging.replace(/(checkout:[\s\S]*?stage: )2/, "$13");

    describe("npm run owners", () => {
        it("passes when an owner's team member approves the head commit; reads every page of reviews with the token", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            const r = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("olga", "COMMENTED", head), review("mallory", "COMMENTED", head), review("erin", "APPROVED", head)]) });
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /^approved  Pulumi\.staging\.yaml: service checkout \(changed: stage\): by erin \(acme\/checkout\)$/m);
            assert.ok(r.requests.some((q) => q.url === `${PR}/reviews?per_page=100&page=2`), "followed the Link header to page 2");
            assert.ok(r.requests.every((q) => q.authorization === `Bearer ${TOKEN}` && q.accept === "application/vnd.github+json"));
            assert.ok(r.requests.some((q) => q.url === "/orgs/acme/teams/checkout/memberships/erin"));
        });

        it("fails on an approval of an older commit, and says whose and who still has to approve", async () => {
            const first = commit(base, { "Pulumi.staging.yaml": stage3() });
            const head = commit(first, { "Pulumi.staging.yaml": stage3().replace('canary: "1.5.0"', 'canary: "1.5.1"') });
            const r = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("erin", "APPROVED", first)]) });
            assert.strictEqual(r.code, 1);
            assert.match(r.stdout, new RegExp(`^MISSING   Pulumi\\.staging\\.yaml: service checkout \\(changed: canary, stage\\): needs an approval of the head commit ${head.slice(0, 7)} from one of acme/checkout \\(the owners of service checkout in Pulumi\\.staging\\.yaml at base ${base.slice(0, 7)}\\), not the author; not counted: erin approved an older commit \\(${first.slice(0, 7)}\\), not the head ${head.slice(0, 7)}: approve again$`, "m"));
        });

        it("does not count the author's own approval, even as an owner", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            const r = await run(owners, { [PR]: { body: pull(head, base, { author: "dana" }) }, ...reviewRoutes([review("dana", "APPROVED", head)]) });
            assert.strictEqual(r.code, 1);
            assert.match(r.stdout, /not counted: dana approved, but is the pull request's author/);
        });

        it("does not count a non-owner's approval", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            const r = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("olga", "APPROVED", head)]) });
            assert.strictEqual(r.code, 1);
            assert.match(r.stdout, /^MISSING   Pulumi\.staging\.yaml: service checkout .*from one of acme\/checkout .*not counted: olga approved, but is not one of these owners$/m);
        });

        it("a later CHANGES_REQUESTED voids an approval; a later comment does not", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            const voided = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("erin", "APPROVED", head), review("erin", "CHANGES_REQUESTED", head)]) });
            assert.strictEqual(voided.code, 1);
            assert.match(voided.stdout, /not counted: erin's latest review requests changes/);
            await server!.close();
            server = undefined;
            const commented = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("erin", "APPROVED", head), review("erin", "COMMENTED", head)]) });
            assert.strictEqual(commented.code, 0, commented.stdout);
        });

        it("a change to a block's owners needs the old owners, not the new ones", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": staging.replace("owners: [acme/checkout]", "owners: [mallory]") });
            const r = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("mallory", "APPROVED", head)]) });
            assert.strictEqual(r.code, 1);
            assert.match(r.stdout, /^MISSING   Pulumi\.staging\.yaml: service checkout \(changed: owners\): needs .* from one of acme\/checkout .*not counted: mallory approved, but is not one of these owners$/m);
            await server!.close();
            server = undefined;
            const ok = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("mallory", "APPROVED", head), review("erin", "APPROVED", head)]) });
            assert.strictEqual(ok.code, 0, ok.stdout);
        });

        it("the platform's part of a stack file and the code need the platform owners; a new block too", async () => {
            const head = commit(base, {
                "Pulumi.staging.yaml": staging.replace("maxSize: 4", "maxSize: 6").replace("  stagehand:services:\n", "  stagehand:services:\n    search:\n      image: ghcr.io/acme/search\n      owners: [mallory]\n      stable: \"1.0.0\"\n      stage: 1\n      replicas: 2\n"),
                "index.ts": "export const x = 1;\n",
            });
            const r = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("erin", "APPROVED", head), review("mallory", "APPROVED", head)]) }, ["--json"]);
            assert.strictEqual(r.code, 1);
            const report = JSON.parse(r.stdout);
            assert.deepStrictEqual(
                report.requirements.map((q: any) => [q.what, q.owners, q.approved]),
                [
                    ["Pulumi.staging.yaml: service search (added), a service the base revision does not have", ["acme/platform"], false],
                    ["Pulumi.staging.yaml: config stagehand:cluster", ["acme/platform"], false],
                    ["code and files outside the stack files: index.ts", ["acme/platform"], false],
                ],
            );
            assert.match(report.requirements[2].ownersFrom, /^the platform owners \(stagehand:owners\) of Pulumi\.prod\.yaml, Pulumi\.staging\.yaml at base /);
            await server!.close();
            server = undefined;
            const ok = await run(owners, { [PR]: { body: pull(head, base) }, ...reviewRoutes([review("paul", "APPROVED", head)]) });
            assert.strictEqual(ok.code, 0, ok.stdout);
            assert.strictEqual(ok.stdout.split("\n").filter((l) => l.startsWith("approved  ")).length, 3);
        });

        it("a rollback of a service with autoRollback: true at the base needs no review (docs/releasing.md, Automatic rollback); with anything else changed, it does", async () => {
            const auto = staging.replace("      owners: [acme/checkout]\n", "      owners: [acme/checkout]\n      autoRollback: true\n");
            const autoBase = commit(base, { "Pulumi.staging.yaml": auto });
            const rollback = commit(autoBase, { "Pulumi.staging.yaml": auto.replace(/(checkout:[\s\S]*?stage: )2/, "$11") });
            const r = await run(owners, { [PR]: { body: pull(rollback, autoBase, { author: "stagehand-bot" }) }, ...reviewRoutes([]) });
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /^approved  Pulumi\.staging\.yaml: service checkout \(changed: stage\): a rollback \(stage 2 -> 1\) of a service with its autoRollback: true in Pulumi\.staging\.yaml at base: approved in advance$/m);
            await server!.close();
            server = undefined;
            const more = commit(autoBase, { "Pulumi.staging.yaml": auto.replace(/(checkout:[\s\S]*?stage: )2\n      replicas: 2/, "$11\n      replicas: 3") });
            const refused = await run(owners, { [PR]: { body: pull(more, autoBase, { author: "stagehand-bot" }) }, ...reviewRoutes([]) });
            assert.strictEqual(refused.code, 1);
            assert.match(refused.stdout, /^MISSING   Pulumi\.staging\.yaml: service checkout \(changed: replicas, stage\): needs an approval/m);
        });

        it("exit 3 naming the request when GitHub cannot be read: the pull request, or a team the token cannot see", async () => {
            const down = await run(owners, { [PR]: { status: 503, body: { code: "unavailable", message: "Service Unavailable" } } });
            assert.strictEqual(down.code, 3);
            assert.match(down.stderr, /^owners: GitHub could not be read: GET \/repos\/acme\/stagehand\/pulls\/17 answered 503/);
            await server!.close();
            server = undefined;
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            // The token cannot see the team: GitHub answers 404 for the membership and for the team itself.
            server = await fakeGitHub({ [PR]: { body: pull(head, base) }, ...reviewRoutes([review("erin", "APPROVED", head)]) });
            let stderr = "";
            const code = await owners([REPO, "17", "--root", repo], { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: server.url }, { out: () => {}, err: (s) => (stderr += s) });
            assert.strictEqual(code, 3);
            assert.match(stderr, /GET \/orgs\/acme\/teams\/checkout answered 404 "Not Found".*team acme\/checkout is an owner, and reading its members needs a token with organization members: read/);
        });

        it("exit 4 when the checkout lacks the pull request's commit; exit 2 without a token or with bad arguments", async () => {
            const missing = await run(owners, { [PR]: { body: pull("0123456789abcdef0123456789abcdef01234567", base) } });
            assert.strictEqual(missing.code, 4);
            assert.match(missing.stderr, /does not have the pull request's head commit 0123456789abcdef0123456789abcdef01234567: check out with the whole history \(actions\/checkout with fetch-depth: 0\)/);
            let stderr = "";
            assert.strictEqual(await owners([REPO, "17"], {}, { out: () => {}, err: (s) => (stderr += s) }), 2);
            assert.match(stderr, /GITHUB_TOKEN is not set/);
            assert.strictEqual(await owners(["stagehand", "17"], { GITHUB_TOKEN: TOKEN }, { out: () => {}, err: (s) => (stderr += s) }), 2);
            assert.match(stderr, /expected the repository as owner\/name/);
        });
    });

    describe("npm run break-glass", () => {
        const timeline = (events: unknown[]): Record<string, Answer> => ({ "/repos/acme/stagehand/issues/17/timeline?per_page=100": { body: events } });
        const GLASS = { labels: ["stagehand/break-glass"] };
        const prodStage2 = () => prod.replace(/(checkout:[\s\S]*?stage: )1/, "$12").replace(/(checkout:[\s\S]*?stable: "1\.4\.2")/, '$1\n      canary: "1.5.0"');

        it("counts when a platform owner of the stack, not the author, added the label after the last push", async () => {
            const head = commit(base, { "Pulumi.prod.yaml": prodStage2() });
            const r = await run(breakGlass, { [PR]: { body: pull(head, base, GLASS) }, ...timeline([committed(head, "2026-12-05T09:00:00Z"), labeled("paul", "2026-12-05T10:00:00Z", "stagehand/break-glass")]) }, ["--json"]);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            const report = JSON.parse(r.stdout);
            assert.deepStrictEqual([report.counts, report.stacks, report.label], [true, ["prod"], { by: "paul", at: "2026-12-05T10:00:00Z" }]);
            assert.match(report.reasons[0], /^paul added stagehand\/break-glass at 2026-12-05T10:00:00Z, after the last push \(commit \w{7} \(committed at 2026-12-05T09:00:00Z\)\), and owns prod\/\(change window\) \(as acme\/platform\)$/);
        });

        it("does not count a service owner's label, the author's, one added before the last push, or the verdict override's", async () => {
            const head = commit(base, { "Pulumi.prod.yaml": prodStage2() });
            const cases: [unknown[], string[], RegExp][] = [
                [[labeled("erin", "2026-12-05T10:00:00Z", "stagehand/break-glass")], GLASS.labels, /^erin is not an owner of prod\/\(change window\) \(acme\/platform: the platform owners \(stagehand:owners\) of Pulumi\.prod\.yaml at base \w{7}\)$/m],
                [[labeled("dana", "2026-12-05T10:00:00Z", "stagehand/break-glass")], GLASS.labels, /dana added it and is the pull request's author/],
                [[labeled("paul", "2026-12-05T10:00:00Z", "stagehand/break-glass"), committed(head, "2026-12-05T11:00:00Z")], GLASS.labels, /before the last push .*: remove it and add it again/],
                [[labeled("paul", "2026-12-05T10:00:00Z")], ["stagehand/override-verdict"], /^the pull request does not carry the label stagehand\/break-glass$/m],
            ];
            for (const [events, labels, why] of cases) {
                const r = await run(breakGlass, { [PR]: { body: pull(head, base, { labels }) }, ...timeline(events) });
                assert.strictEqual(r.code, 1, r.stdout);
                assert.match(r.stdout, /^break-glass \(stagehand\/break-glass\) of acme\/stagehand#17: does NOT count$/m);
                assert.match(r.stdout, why);
                await server!.close();
                server = undefined;
            }
        });

        it("--commit: the deploy job judges the merged pull request that brought the commit", async () => {
            const head = commit(base, { "Pulumi.prod.yaml": prodStage2() });
            const merge = "e5bd3914e2e596debea16f433f57875b5b90bcd6";
            const pulls = recording("commit-pulls");
            pulls[0].number = 17;
            server = await fakeGitHub({
                ...teamRoutes(),
                [`/repos/acme/stagehand/commits/${merge}/pulls?per_page=100`]: { body: pulls },
                [PR]: { body: pull(head, base, GLASS) },
                ...timeline([labeled("paul", "2026-12-05T10:00:00Z", "stagehand/break-glass")]),
            });
            let stdout = "";
            const code = await breakGlass([REPO, "--commit", merge, "--root", repo, "--stack", "prod"], { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: server.url }, { out: (s) => (stdout += s), err: (s) => (stdout += s) });
            assert.strictEqual(code, 0, stdout);
            assert.match(stdout, /^break-glass \(stagehand\/break-glass\) of acme\/stagehand#17: counts$/m);
            await server.close();
            server = await fakeGitHub({ [`/repos/acme/stagehand/commits/${merge}/pulls?per_page=100`]: { body: [] } });
            stdout = "";
            assert.strictEqual(await breakGlass([REPO, "--commit", merge, "--root", repo], { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: server.url }, { out: (s) => (stdout += s) }), 1);
            assert.match(stdout, /no merged pull request brought this commit/);
            assert.strictEqual(await breakGlass([REPO, "--commit", "abc"], { GITHUB_TOKEN: TOKEN }, { out: () => {}, err: (s) => (stdout += s) }), 2);
            assert.match(stdout, /--commit takes a full commit id/);
        });
    });

    describe("npm run verdict-override", () => {
        const timeline = (events: unknown[]): Record<string, Answer> => ({
            "/repos/acme/stagehand/issues/17/timeline?per_page=100": { body: events.slice(0, 1), headers: events.length > 1 ? { link: `<{{base}}/repos/acme/stagehand/issues/17/timeline?per_page=100&page=2>; rel="next"` } : {} },
            "/repos/acme/stagehand/issues/17/timeline?per_page=100&page=2": { body: events.slice(1) },
        });
        const LABELS = { labels: ["stagehand/override-verdict"] };

        it("counts when an owner of each overridden canary, not the author, added the label after the last push", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            const r = await run(verdictOverride, { [PR]: { body: pull(head, base, LABELS) }, ...timeline([committed(head, "2025-05-01T09:00:00Z"), forcePushed("dana", "2025-05-01T10:30:00Z"), labeled("erin", "2025-05-01T12:00:00Z")]) }, ["--json"]);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            const report = JSON.parse(r.stdout);
            assert.strictEqual(report.counts, true);
            assert.deepStrictEqual(report.stacks, [{ stack: "staging", counts: true, services: ["checkout"] }]);
            assert.match(report.reasons[0], /^erin added stagehand\/override-verdict at 2025-05-01T12:00:00Z, after the last push \(a force push by dana at 2025-05-01T10:30:00Z\), and owns staging\/checkout \(as acme\/checkout\)$/);
        });

        it("does not count a label added before the last push, and says who may add it again", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            const r = await run(verdictOverride, { [PR]: { body: pull(head, base, LABELS) }, ...timeline([labeled("erin", "2025-05-01T12:00:00Z"), committed(head, "2025-05-01T12:30:00Z")]) });
            assert.strictEqual(r.code, 1);
            assert.match(r.stdout, /^verdict override of acme\/stagehand#17 \(head \w{7}\): does NOT count$/m);
            assert.match(r.stdout, /^erin added stagehand\/override-verdict at 2025-05-01T12:00:00Z, before the last push \(commit \w{7} \(committed at 2025-05-01T12:30:00Z\)\): remove it and add it again/m);
            assert.match(r.stdout, /who may add it \(after the last push, not the author\): staging\/checkout: one of acme\/checkout \(the owners of service checkout in Pulumi\.staging\.yaml at base \w{7}\)/);
        });

        it("does not count the author's label, nor a label by someone who does not own the canary, nor no label", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            const byAuthor = await run(verdictOverride, { [PR]: { body: pull(head, base, LABELS) }, ...timeline([committed(head, "2025-05-01T09:00:00Z"), labeled("dana", "2025-05-01T12:00:00Z")]) });
            assert.strictEqual(byAuthor.code, 1);
            assert.match(byAuthor.stdout, /dana added it and is the pull request's author/);
            await server!.close();
            server = undefined;
            const byPlatform = await run(verdictOverride, { [PR]: { body: pull(head, base, LABELS) }, ...timeline([labeled("paul", "2025-05-01T12:00:00Z")]) });
            assert.strictEqual(byPlatform.code, 1);
            assert.match(byPlatform.stdout, /^paul is not an owner of staging\/checkout \(acme\/checkout: the owners of service checkout in Pulumi\.staging\.yaml at base \w{7}\)$/m);
            await server!.close();
            server = undefined;
            const none = await run(verdictOverride, { [PR]: { body: pull(head, base) }, ...timeline([labeled("erin", "2025-05-01T12:00:00Z", "documentation")]) });
            assert.strictEqual(none.code, 1);
            assert.match(none.stdout, /^the pull request does not carry the label stagehand\/override-verdict$/m);
        });

        it("--stack and --services name the overridden services; every one's owner must have added the label", async () => {
            const head = commit(base, { "Pulumi.staging.yaml": stage3() });
            const r = await run(verdictOverride, { [PR]: { body: pull(head, base, LABELS) }, ...timeline([labeled("erin", "2025-05-01T12:00:00Z")]) }, ["--stack", "staging", "--services", "checkout,payments"]);
            assert.strictEqual(r.code, 1);
            assert.match(r.stdout, /^erin is not an owner of staging\/payments \(acme\/payments: /m);
            let stderr = "";
            assert.strictEqual(await verdictOverride([REPO, "17", "--services", "checkout"], { GITHUB_TOKEN: TOKEN }, { out: () => {}, err: (s) => (stderr += s) }), 2);
            assert.match(stderr, /--services names the services of one stack: give --stack too/);
        });
    });

    it("the recordings have the shapes GitHub documents", () => {
        checkRecorded("/repos/acme/stagehand/pulls/17", 200, recording("pull"));
        checkRecorded("/repos/acme/stagehand/pulls/17/reviews", 200, [recording("review")]);
        checkRecorded("/repos/acme/stagehand/issues/17/timeline", 200, [recording("timeline-labeled"), recording("timeline-committed"), recording("timeline-force-pushed")]);
        checkRecorded("/orgs/acme/teams/checkout/memberships/erin", 200, recording("team-membership"));
        checkRecorded("/orgs/acme/teams/checkout", 200, recording("team"));
        checkRecorded("/repos/acme/stagehand/commits/e5bd3914e2e596debea16f433f57875b5b90bcd6/pulls", 200, recording("commit-pulls"));
        // The check can fail: a review without its commit_id is not what GitHub sends.
        const broken = recording("review");
        delete broken.commit_id;
        assert.throws(() => checkRecorded("/repos/acme/stagehand/pulls/17/reviews", 200, [broken]), /must have required property 'commit_id'/);
    });
});
