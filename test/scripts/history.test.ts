// `npm run history` (scripts/history.ts, scripts/history-git.ts, components/ledger/*) on a real git repository the
// test builds: stack files committed as pull requests are merged (merge commits "Merge pull request #N from …" and
// squash commits "… (#N)"), with their authors and times, a release through staging -> uat -> prod with a rollback
// and a re-release in uat, a release rolled back in staging, a service added, and a commit whose file cannot be read.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { classifyMove, pullRequestOf } from "../../components/ledger/moves";
import { parseServices } from "../../components/service/config";
import { main as history, releaseChain } from "../../scripts/history";
import { parseFleet } from "../../components/fleet/waves";
import { Block, Repo, Stacks, TIME } from "../helpers/git-repo";

const { T0, HOUR, DAY } = TIME;

function buildRepo(): Repo {
    const repo = new Repo();
    const checkout = (stack: string) => (s: Stacks) => s[stack].checkout;
    const set = (stack: string, block: Partial<Block>) => (s: Stacks) => Object.assign(checkout(stack)(s), block);
    repo.commit("Platform", T0, "initial stacks", (s) => {
        s.staging = { checkout: { stable: "1.4.2", stage: 1 }, payments: { stable: "0.9.7", stage: 1 } };
        s.uat = { checkout: { stable: "1.4.2", stage: 1 } };
        s.prod = { checkout: { stable: "1.4.2", stage: 1 } };
    });
    // staging: start, promote, switch back, finish.
    repo.merge(11, "Alice", T0 + DAY, set("staging", { canary: "1.5.0", stage: 2 }));
    repo.squash(12, "Bob", T0 + DAY + 2 * HOUR, set("staging", { stage: 3 }));
    repo.squash(13, "Bob", T0 + DAY + 3 * HOUR, set("staging", { stage: 4 }));
    repo.merge(14, "Alice", T0 + DAY + 4 * HOUR, set("staging", { stable: "1.5.0", stage: 1 }));
    // uat: start, rolled back after 6 hours at 100%, started again the next day and finished.
    repo.merge(15, "Alice", T0 + 2 * DAY, set("uat", { canary: "1.5.0", stage: 2 }));
    repo.merge(16, "Carol", T0 + 2 * DAY + 6 * HOUR, set("uat", { stage: 1 }));
    repo.merge(17, "Alice", T0 + 3 * DAY, set("uat", { stage: 2 }));
    repo.squash(18, "Alice", T0 + 3 * DAY + HOUR, set("uat", { stage: 3 }));
    repo.squash(19, "Alice", T0 + 3 * DAY + 2 * HOUR, set("uat", { stage: 4 }));
    repo.merge(20, "Alice", T0 + 3 * DAY + 3 * HOUR, set("uat", { stable: "1.5.0", stage: 1 }));
    // prod: the whole release in three hours.
    repo.merge(21, "Alice", T0 + 4 * DAY + 9 * HOUR, set("prod", { canary: "1.5.0", stage: 2 }));
    repo.squash(22, "Alice", T0 + 4 * DAY + 10 * HOUR, set("prod", { stage: 3 }));
    repo.squash(23, "Alice", T0 + 4 * DAY + 11 * HOUR, set("prod", { stage: 4 }));
    repo.merge(24, "Alice", T0 + 4 * DAY + 12 * HOUR, set("prod", { stable: "1.5.0", stage: 1 }));
    // A service added in staging; a commit that breaks uat's file, and its fix.
    repo.merge(25, "Dan", T0 + 5 * DAY, (s) => void (s.staging.search = { stable: "3.1.0", stage: 1 }));
    repo.commit("Erin", T0 + 5 * DAY + HOUR, "uat: typo", () => undefined, { uat: "config:\n  stagehand:services:\n    checkout: [oops\n" });
    repo.commit("Erin", T0 + 5 * DAY + 2 * HOUR, "uat: fix the typo", () => undefined);
    // payments: a release rolled back in staging after 30 minutes, never released again.
    repo.merge(26, "Frank", T0 + 6 * DAY, (s) => Object.assign(s.staging.payments, { canary: "0.10.0", stage: 2 }));
    repo.merge(27, "Frank", T0 + 6 * DAY + 30 * 60, (s) => Object.assign(s.staging.payments, { stage: 1 }));
    // A README change touches no stack file: not in the ledger.
    fs.writeFileSync(path.join(repo.dir, "README.md"), "docs\n");
    repo.git([], "add", "-A");
    repo.git([["Gina", "gina@example.com", T0 + 7 * DAY]], "commit", "-qm", "docs (#28)");
    return repo;
}

function run(argv: string[], root: string) {
    const out: string[] = [];
    const err: string[] = [];
    const code = history(argv, { root, env: {}, out: (l) => out.push(l), err: (l) => err.push(l), now: T0 + 14 * DAY });
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

/** An SVG read by an XML parser that is not ours (Python's ElementTree): each element's tag, attributes, text and children. */
interface XmlNode {
    tag: string;
    attrib: Record<string, string>;
    text: string;
    children: XmlNode[];
}

function parseXml(file: string): XmlNode {
    const script = `
import json, sys, xml.etree.ElementTree as ET
def node(e):
    return {"tag": e.tag, "attrib": e.attrib, "text": (e.text or "").strip(), "children": [node(c) for c in e]}
print(json.dumps(node(ET.parse(sys.argv[1]).getroot())))`;
    return JSON.parse(execFileSync("python3", ["-c", script, file], { encoding: "utf8" }));
}

const all = (n: XmlNode): XmlNode[] => [n, ...n.children.flatMap(all)];
const SVG = "{http://www.w3.org/2000/svg}";

describe("release ledger: npm run history (scripts/history.ts, components/ledger)", function () {
    this.timeout(30_000);
    let repo: Repo;
    let ledger: any;

    before(() => {
        repo = buildRepo();
        const { code, stdout, stderr } = run(["--json", "--since", "2026-03-01", "--until", "2026-03-15"], repo.dir);
        assert.strictEqual(code, 0, stderr);
        ledger = JSON.parse(stdout);
    });
    after(() => fs.rmSync(repo.dir, { recursive: true, force: true }));

    it("every move per stack: stages, revisions, commit, pull request, author, when, time in the stage it left", () => {
        const rows = (stack: string) =>
            ledger.moves
                .filter((m: any) => m.stack === stack)
                .map((m: any) => [m.service, m.kind, m.from ? m.from.stage : null, m.to ? m.to.stage : null, m.commit.pr ?? null, m.commit.author, m.commit.at, m.secondsInFrom ?? null]);
        assert.deepStrictEqual(rows("staging"), [
            ["checkout", "added", null, 1, null, "Platform", "2026-03-02T09:00:00.000Z", null],
            ["payments", "added", null, 1, null, "Platform", "2026-03-02T09:00:00.000Z", null],
            ["checkout", "start", 1, 2, 11, "Alice", "2026-03-03T09:00:00.000Z", DAY],
            ["checkout", "promote", 2, 3, 12, "Bob", "2026-03-03T11:00:00.000Z", 2 * HOUR],
            ["checkout", "switch back", 3, 4, 13, "Bob", "2026-03-03T12:00:00.000Z", HOUR],
            ["checkout", "finish", 4, 1, 14, "Alice", "2026-03-03T13:00:00.000Z", HOUR],
            ["search", "added", null, 1, 25, "Dan", "2026-03-07T09:00:00.000Z", null],
            ["payments", "start", 1, 2, 26, "Frank", "2026-03-08T09:00:00.000Z", 6 * DAY],
            ["payments", "rollback", 2, 1, 27, "Frank", "2026-03-08T09:30:00.000Z", 1800],
        ]);
        assert.deepStrictEqual(rows("uat").map((r: any[]) => r.slice(0, 5).concat(r[7])), [
            ["checkout", "added", null, 1, null, null],
            ["checkout", "start", 1, 2, 15, 2 * DAY],
            ["checkout", "rollback", 2, 1, 16, 6 * HOUR],
            ["checkout", "start", 1, 2, 17, 18 * HOUR],
            ["checkout", "promote", 2, 3, 18, HOUR],
            ["checkout", "switch back", 3, 4, 19, HOUR],
            ["checkout", "finish", 4, 1, 20, HOUR],
        ]);
        assert.deepStrictEqual(rows("prod").map((r: any[]) => r[1]), ["added", "start", "promote", "switch back", "finish"]);
        const finish = ledger.moves.find((m: any) => m.stack === "prod" && m.kind === "finish");
        assert.deepStrictEqual(
            { from: finish.from, to: finish.to, production: finish.production, canary: finish.canary, release: finish.release },
            {
                from: { stage: 4, stageCount: 4, name: "switch back" },
                to: { stage: 1, stageCount: 4, name: "idle" },
                production: { before: "1.4.2", after: "1.5.0" },
                canary: { before: "1.5.0", after: "1.5.0" },
                release: "1.5.0",
            },
        );
        assert.match(finish.commit.subject, /^Merge pull request #24 from acme\/pr-24$/);
        assert.ok(!ledger.moves.some((m: any) => m.commit.subject === "docs (#28)"), "a commit that touches no stack file is not in the ledger");
    });

    it("a commit whose stack file cannot be read is recorded, not a crash, and the next one is compared with the last readable", () => {
        assert.strictEqual(ledger.unreadable.length, 1);
        const [u] = ledger.unreadable;
        assert.strictEqual(u.stack, "uat");
        assert.strictEqual(u.commit.subject, "uat: typo");
        assert.match(u.problem, /^Pulumi\.uat\.yaml at [0-9a-f]{7} is not valid YAML: /);
        assert.ok(!ledger.moves.some((m: any) => m.commit.subject === "uat: fix the typo"), "the fix moves nothing: it restores the last readable file");
    });

    it("releases across the stacks: attempts per stack, lead time from the first stack's start to the last one's finish", () => {
        const summary = ledger.releases.map((r: any) => ({
            service: r.service,
            revision: r.revision,
            attempts: r.attempts.map((a: any) => `${a.stack} ${a.outcome}`),
            leadTimeSeconds: r.leadTimeSeconds ?? null,
            rollbacks: r.rollbacks,
        }));
        assert.deepStrictEqual(summary, [
            {
                service: "checkout",
                revision: "1.5.0",
                attempts: ["staging finished", "uat rolled back", "uat finished", "prod finished"],
                leadTimeSeconds: 3 * DAY + 12 * HOUR,
                rollbacks: 1,
            },
            { service: "payments", revision: "0.10.0", attempts: ["staging rolled back"], leadTimeSeconds: null, rollbacks: 1 },
        ]);
        assert.strictEqual(ledger.releases[0].leadTimeSeconds, Date.parse("2026-03-06T21:00:00Z") / 1000 - Date.parse("2026-03-03T09:00:00Z") / 1000);
    });

    it("DORA figures per service and per stack over the window", () => {
        const { dora } = ledger;
        assert.deepStrictEqual(dora.window, { since: Date.parse("2026-03-01") / 1000, until: Date.parse("2026-03-15") / 1000, weeks: 2 });
        assert.deepStrictEqual(dora.services.checkout.chain, {
            releases: 1,
            finished: 1,
            deployments: 1,
            deploymentsPerWeek: 0.5,
            leadTimeSeconds: 3 * DAY + 12 * HOUR,
            failedReleases: 1,
            changeFailureRate: 1,
            rollbacks: 1,
            timeToRestoreSeconds: 6 * HOUR,
        });
        assert.deepStrictEqual(
            Object.fromEntries(Object.entries(dora.services.checkout.stacks).map(([s, f]: [string, any]) => [s, [f.releases, f.finished, f.leadTimeSeconds, f.changeFailureRate, f.timeToRestoreSeconds ?? null]])),
            { staging: [1, 1, 4 * HOUR, 0, null], uat: [1, 1, DAY + 3 * HOUR, 1, 6 * HOUR], prod: [1, 1, 3 * HOUR, 0, null] },
        );
        // Every service: two releases, one finished through prod, both rolled back somewhere; restores 6h and 30m.
        assert.deepStrictEqual([dora.chain.releases, dora.chain.finished, dora.chain.changeFailureRate, dora.chain.timeToRestoreSeconds], [2, 1, 1, (6 * HOUR + 1800) / 2]);
        assert.deepStrictEqual([dora.stacks.staging.releases, dora.stacks.staging.changeFailureRate, dora.stacks.staging.deploymentsPerWeek, dora.stacks.staging.timeToRestoreSeconds], [2, 0.5, 0.5, 1800]);
    });

    it("--service, --since, --moved-since narrow the ledger; the table reads the same data", () => {
        const payments = JSON.parse(run(["--json", "--service", "payments", "--until", "2026-03-15"], repo.dir).stdout);
        assert.deepStrictEqual([...new Set(payments.moves.map((m: any) => m.service))], ["payments"]);
        assert.deepStrictEqual(Object.keys(payments.dora.services), ["payments"]);
        const late = JSON.parse(run(["--json", "--since", "2026-03-06", "--until", "2026-03-15"], repo.dir).stdout);
        assert.deepStrictEqual(late.moves.map((m: any) => `${m.stack} ${m.service} ${m.kind}`), [
            "prod checkout start",
            "prod checkout promote",
            "prod checkout switch back",
            "prod checkout finish",
            "staging search added",
            "staging payments start",
            "staging payments rollback",
        ]);
        // The commits after HEAD~3 (the rollback of payments, its start, the docs): what a pull request would touch.
        const touched = JSON.parse(run(["--json", "--moved-since", "HEAD~3", "--until", "2026-03-15"], repo.dir).stdout);
        assert.deepStrictEqual(touched.releases.map((r: any) => `${r.service} ${r.revision}`), ["payments 0.10.0"]);
        const text = run(["--since", "2026-03-01", "--until", "2026-03-15"], repo.dir);
        assert.strictEqual(text.code, 0);
        assert.match(text.stdout, /^release ledger 2026-03-01 00:00 \.\. 2026-03-15 00:00 UTC; releases go staging -> uat -> prod; stacks: staging, uat, prod$/m);
        assert.match(text.stdout, /^2026-03-04 15:00 +checkout +rollback +2\/4 canary 100% -> 1\/4 idle +1\.4\.2 \/ - +6h 0m +[0-9a-f]{7} +#16 +Carol$/m);
        assert.match(text.stdout, /^checkout +1\.5\.0 +2026-03-03 09:00 +finished in 4h 0m +rolled back from canary 100% after 6h 0m, then finished in 3h 0m +finished in 3h 0m +3d 12h +1$/m);
        assert.match(text.stdout, /^checkout: staging -> uat -> prod +1 +1 +0\.50 +3d 12h +100% \(1\/1\) +6h 0m$/m);
        assert.match(text.stdout, /^unreadable at [0-9a-f]{7} \(2026-03-07 10:00\): Pulumi\.uat\.yaml at [0-9a-f]{7} is not valid YAML/m);
    });

    it("--svg writes one timeline per release: lanes per stack, a bar per stage, the rollback marked (parsed as XML)", () => {
        const dir = path.join(repo.dir, "timelines");
        const { code, stdout } = run(["--svg", dir, "--json", "--until", "2026-03-15"], repo.dir);
        assert.strictEqual(code, 0);
        assert.deepStrictEqual(JSON.parse(stdout).timelines, [
            { service: "checkout", revision: "1.5.0", file: "checkout-1.5.0.svg" },
            { service: "payments", revision: "0.10.0", file: "payments-0.10.0.svg" },
        ]);
        const svg = parseXml(path.join(dir, "checkout-1.5.0.svg"));
        assert.strictEqual(svg.tag, `${SVG}svg`);
        const lanes = svg.children.filter((c) => c.tag === `${SVG}g` && c.attrib.class === "lane");
        assert.deepStrictEqual(lanes.map((l) => l.attrib["data-stack"]), ["staging", "uat", "prod"]);
        const bars = (lane: XmlNode) => all(lane).filter((n) => n.tag === `${SVG}rect` && n.attrib.class === "stage").map((n) => n.attrib["data-stage"]);
        assert.deepStrictEqual(bars(lanes[0]), ["2", "3", "4"]);
        assert.deepStrictEqual(bars(lanes[1]), ["2", "2", "3", "4"], "uat: the rolled-back attempt's stage, then the second attempt's");
        const marks = (lane: XmlNode, cls: string) => all(lane).filter((n) => n.tag === `${SVG}line` && n.attrib.class === cls);
        assert.strictEqual(marks(lanes[1], "rollback").length, 1);
        assert.match(marks(lanes[1], "rollback")[0].children[0].text, /^uat: rolled back from 2\/4 canary 100% at 2026-03-04 15:00 UTC, #16$/);
        assert.deepStrictEqual(lanes.map((l) => marks(l, "finish").length), [1, 1, 1]);
        const first = all(lanes[1]).find((n) => n.attrib.class === "stage")!;
        assert.strictEqual(first.children[0].text, "uat: 2/4 canary 100%, 2026-03-04 09:00 to 2026-03-04 15:00 UTC (6h 0m), #15");
        assert.match(svg.children.find((c) => c.tag === `${SVG}title`)!.text, /^release checkout 1\.5\.0: lead time 3d 12h, 1 rollback$/);
        const legend = svg.children.find((c) => c.attrib.class === "legend")!;
        assert.deepStrictEqual(legend.children.filter((c) => c.tag === `${SVG}text`).map((c) => c.text), ["2 canary 100%", "3 promote", "4 switch back"]);
    });

    it("refuses a flag it does not know, a bad date and an unknown service, with the usage or the services there are", () => {
        const bad = run(["--servce", "checkout"], repo.dir);
        assert.strictEqual(bad.code, 2);
        assert.match(bad.stderr, /^history: Unknown option '--servce'\nusage: npm run history/);
        const date = run(["--since", "last week"], repo.dir);
        assert.strictEqual(date.code, 2);
        assert.match(date.stderr, /^history: --since: expected a date such as 2026-03-01 or 2026-03-01T12:00:00Z \(UTC\), found "last week"/);
        const stray = run(["checkout"], repo.dir);
        assert.strictEqual(stray.code, 2);
        assert.match(stray.stderr, /expected no arguments \(flags only\), found "checkout"/);
        const unknown = run(["--service", "billing"], repo.dir);
        assert.strictEqual(unknown.code, 2);
        assert.strictEqual(unknown.stderr, 'history: no service "billing" in the history of any stack file (services: checkout, payments, search)');
        const help = run(["--help"], repo.dir);
        assert.deepStrictEqual([help.code, help.stdout.split("\n")[0]], [0, "usage: npm run history [-- --service <name>] [--since <date>] [--until <date>] [--json] [--svg <dir>] [--moved-since <git-ref>] [--root <dir>]"]);
        // `npm run history --json` (no --): npm kept the flag; the command says the command line that passes it.
        const said: string[] = [];
        const kept = history([], { root: repo.dir, env: { npm_config_json: "true" }, out: (l) => said.push(l), err: (l) => said.push(l) });
        assert.strictEqual(kept, 2);
        assert.match(said[0], /^history: npm kept --json for itself \(it set npm_config_json\): .* Run: npm run history -- --json$/m);
        const order = run(["--since", "2026-03-10", "--until", "2026-03-01"], repo.dir);
        assert.deepStrictEqual([order.code, order.stderr.split("\n")[0]], [2, "history: --since 2026-03-10 is after --until 2026-03-01"]);
        const plain = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-no-git-"));
        try {
            const noGit = run([], plain);
            assert.deepStrictEqual([noGit.code, noGit.stderr], [1, `history: ${plain} is not in a git repository: the ledger reads the stack files' git history (give --root a checkout)`]);
        } finally {
            fs.rmSync(plain, { recursive: true, force: true });
        }
        const ref = run(["--moved-since", "origin/nope"], repo.dir);
        assert.strictEqual(ref.code, 1);
        assert.match(ref.stderr, /^history: git cannot find the base revision "origin\/nope" \(given as --moved-since <git-ref>\)/);
    });

    it("the words of a move and a pull request, as pure functions", () => {
        const [a, b] = [parseServices("t", { s: { image: "i", stable: "1", canary: "2", stage: 4, replicas: 2, steps: [100] } }).s, parseServices("t", { s: { image: "i", stable: "1", canary: "2", stage: 1, replicas: 2, steps: [100] } }).s];
        assert.strictEqual(classifyMove(a, b)?.kind, "rollback", "from the last stage with stable unchanged: a rollback, not a finish");
        assert.strictEqual(classifyMove(b, b), undefined);
        const svc = (fields: object) => parseServices("t", { s: { image: "i", stable: "1", stage: 1, replicas: 2, ...fields } }).s;
        assert.deepStrictEqual(classifyMove(svc({}), svc({ stable: "2", allowSkip: true })), { kind: "direct", from: { stage: 1, stageCount: 6, name: "idle" }, to: { stage: 1, stageCount: 6, name: "idle" }, production: { before: "1", after: "2" }, canary: {} });
        assert.strictEqual(classifyMove(svc({ canary: "2", stage: 3 }), svc({ canary: "2", stage: 2 }))?.kind, "back");
        assert.strictEqual(classifyMove(svc({ canary: "2", stage: 3 }), svc({ canary: "3", stage: 3 }))?.kind, "revision");
        assert.strictEqual(classifyMove(svc({ canary: "2", stage: 2 }), svc({ canary: "2", stage: 3 }))?.kind, "forward");
        assert.deepStrictEqual(classifyMove(undefined, svc({ canary: "2", stage: 3 }))?.release, "2", "a service added mid-release starts it there");
        assert.strictEqual(classifyMove(svc({ stage: 1, replicas: 2 }), svc({ stage: 1, replicas: 5 })), undefined, "replicas alone move nothing");
        assert.deepStrictEqual([pullRequestOf("Merge pull request #12 from acme/x"), pullRequestOf("fix (#7)"), pullRequestOf("Merge branch 'x'")], [12, 7, undefined]);
    });
});

describe("release ledger: the chain is the fleet's", () => {
    it("orders the stacks a release goes through by the fleet's waves, among the stacks the history holds", () => {
        const fleet = parseFleet("waves:\n  - {name: staging, stacks: [staging]}\n  - {name: prod-us, stacks: [prod-us-east-1]}\n  - {name: prod-rest, stacks: [prod-eu-west-1, prod-ap-southeast-2]}\n");
        assert.deepStrictEqual(releaseChain(["prod-ap-southeast-2", "staging", "prod-eu-west-1", "prod-us-east-1"], fleet), ["staging", "prod-us-east-1", "prod-eu-west-1", "prod-ap-southeast-2"]);
        // A stack the history does not hold is no step of the chain; without a fleet file: staging -> uat -> prod.
        assert.deepStrictEqual(releaseChain(["prod", "staging"], fleet), ["staging"]);
        assert.deepStrictEqual(releaseChain(["prod", "uat", "staging"]), ["staging", "uat", "prod"]);
    });
});
