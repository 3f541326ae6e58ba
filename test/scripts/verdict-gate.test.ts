import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { gateExit, gateList, GATE_EXIT, main, parseGateArgs, servicesToJudge } from "../../scripts/verdict-gate";

const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3, ...over });

/** The services to judge and the others' reasons, for one service moving from `a` to `b`. */
function move(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined, stack: Record<string, unknown> = {}) {
    return servicesToJudge("uat", { services: a ? { checkout: a } : {} }, { ...stack, services: b ? { checkout: b } : {} });
}

describe("npm run verdict-gate: the canaries a pull request must judge (scripts/verdict-gate.ts)", () => {
    describe("which services: a move on from a stage where the canary serves traffic, judged at the base revision's stage", () => {
        it("forward from a weighted stage: the canary is judged where it is now, with its namespace and stage", () => {
            assert.deepStrictEqual(move(svc({ stage: 2, namespace: "shop" }), svc({ stage: 3, namespace: "shop" })), {
                judge: [
                    {
                        service: "checkout",
                        namespace: "shop",
                        stage: 2,
                        stageCount: 6,
                        stageName: "canary 10%",
                        to: 3,
                        kind: "forward",
                        description: "stage 2/6 canary 10%: 90% -> 01 (production x3), 10% -> 02 (canary x2); strategy canary",
                    },
                ],
                skip: [],
            });
        });

        it("every stage whose canary serves traffic: each weight step, 100%, promote, a shadow stage (mirrored only), blue/green", () => {
            const judged = (a: Record<string, unknown>, b: Record<string, unknown>) => move(a, b).judge.map((t) => [t.stage, t.stageName, t.to]);
            assert.deepStrictEqual(judged(svc({ stage: 3 }), svc({ stage: 4 })), [[3, "canary 90%", 4]]);
            assert.deepStrictEqual(judged(svc({ stage: 4 }), svc({ stage: 5 })), [[4, "canary 100%", 5]], "promote: the canary carries every request");
            assert.deepStrictEqual(judged(svc({ stage: 5 }), svc({ stage: 6 })), [[5, "promote", 6]], "switch back: the canary still carries every request at promote");
            const shadow = { shadow: { percent: 20 } };
            assert.deepStrictEqual(judged(svc({ ...shadow, stage: 2 }), svc({ ...shadow, stage: 3 })), [[2, "shadow 20%", 3]], "a shadow canary answers mirrored copies");
            const bluegreen = { strategy: "bluegreen" };
            assert.deepStrictEqual(judged(svc({ ...bluegreen, stage: 2 }), svc({ ...bluegreen, stage: 3 })), [[2, "canary 100%", 3]]);
        });

        it("a skip (allowSkip) from a weighted stage is judged too, at the stage it leaves", () => {
            const { judge, skip } = move(svc({ stage: 2 }), svc({ stage: 4 }), { allowSkip: true });
            assert.deepStrictEqual(
                judge.map((t) => [t.service, t.stage, t.to, t.kind]),
                [["checkout", 2, 4, "skip"]],
            );
            assert.deepStrictEqual(skip, []);
        });

        it("no verdict for a move from stage 1, where the canary has no traffic yet: 1 -> 2, a skip from 1, the shadow stage's start", () => {
            for (const [a, b, stack] of [
                [svc({ stage: 1 }), svc({ stage: 2 }), {}],
                [svc({ stage: 1 }), svc({ stage: 4 }), { allowSkip: true }],
                [svc({ stage: 1, shadow: { percent: 20 } }), svc({ stage: 2, shadow: { percent: 20 } }), {}],
            ] as const) {
                assert.deepStrictEqual(move(a, b, stack), {
                    judge: [],
                    skip: [{ service: "checkout", why: "moves on from stage 1 (idle), where its canary serves no traffic: nothing to judge yet" }],
                });
            }
        });

        it("no verdict for a rollback, a stay, a finish, a new service, a removed one (listed in stagehand:remove, else refused), a direct update, or a refused move", () => {
            const cases: [Record<string, unknown> | undefined, Record<string, unknown> | undefined, Record<string, unknown>, string][] = [
                [svc({ stage: 3 }), svc({ stage: 1 }), {}, "rollback to stage 1: the way back is never gated"],
                [svc({ stage: 3 }), svc({ stage: 3, replicas: 4 }), {}, "stays at its stage: nothing moves on"],
                [svc({ stage: 6 }), svc({ stage: 1, stable: "02", canary: undefined }), {}, "finishes the release: production already runs the released tag"],
                [undefined, svc({ stage: 2 }), {}, "new service: no canary has run yet"],
                [svc({ stage: 3 }), undefined, { remove: ["checkout"] }, "removed"],
                [svc({ stage: 3 }), undefined, {}, "the plan diff refuses its move"],
                [svc({ stage: 1, canary: undefined }), svc({ stage: 1, stable: "02", canary: undefined }), { allowSkip: true }, "direct update of production without a canary (allowSkip): no canary to judge"],
                [svc({ stage: 2 }), svc({ stage: 4 }), {}, "the plan diff refuses its move"],
            ];
            for (const [a, b, stack, why] of cases) assert.deepStrictEqual(move(a, b, stack), { judge: [], skip: [{ service: "checkout", why }] }, why);
        });

        it("an unchanged service is not listed; several services are judged in name order", () => {
            const r = servicesToJudge(
                "uat",
                { services: { checkout: svc({ stage: 3 }), payments: svc({ stage: 2 }), catalog: svc({ stage: 4 }) } },
                { services: { checkout: svc({ stage: 4 }), payments: svc({ stage: 3 }), catalog: svc({ stage: 4 }) } },
            );
            assert.deepStrictEqual(r.judge.map((t) => [t.service, t.stage]), [["checkout", 3], ["payments", 2]]);
            assert.deepStrictEqual(r.skip, []);
        });
    });

    it("gateExit: failing wins, then not judged, then not enough traffic", () => {
        assert.strictEqual(gateExit([]), GATE_EXIT.pass);
        assert.strictEqual(gateExit([0, 0]), GATE_EXIT.pass);
        assert.strictEqual(gateExit([0, 2]), GATE_EXIT.notEnoughTraffic);
        assert.strictEqual(gateExit([2, 3]), GATE_EXIT.notJudged);
        assert.strictEqual(gateExit([4, 0]), GATE_EXIT.notJudged, "a verdict that could not run judged nothing");
        assert.strictEqual(gateExit([3, 1, 2]), GATE_EXIT.failing);
        assert.deepStrictEqual(GATE_EXIT, { pass: 0, failing: 1, notEnoughTraffic: 2, notJudged: 3, usage: 4 });
    });

    it("reads its command line strictly", () => {
        assert.deepStrictEqual(parseGateArgs(["uat", "origin/main", "--list"]), { stack: "uat", base: "origin/main", list: true, prometheus: undefined, timeout: undefined, help: false });
        assert.deepStrictEqual(parseGateArgs(["uat"]).base, "HEAD");
        assert.throws(() => parseGateArgs([]), /expected a stack and optionally the base git revision, found none\nusage: npm run verdict-gate/);
        assert.throws(() => parseGateArgs(["uat", "a", "b"]), /found "uat", "a", "b"/);
        assert.throws(() => parseGateArgs(["uat", "--threshold", "1"]), /Unknown option '--threshold'/);
        assert.throws(() => parseGateArgs(["uat", "--list", "--prometheus", "http://x"]), /--list judges nothing/);
    });

    describe("against a git revision and a Prometheus", function () {
        this.timeout(20_000);
        let repo: string;
        let server: http.Server;
        let prometheus: string;
        let closed: string;
        /** Per Deployment (destination_workload): requests, 5xx and p95 the fake Prometheus answers. */
        let traffic: Record<string, { requests: number; errors: number; p95: number }> = {};
        let queries: string[] = [];

        const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
        const stackFile = (services: object, extra = "") =>
            `config:\n  aws:region: eu-west-1\n  stagehand:cluster: { kind: eks, name: shop-uat, admins: ["arn:aws:iam::123456789012:role/stagehand-deploy-uat"] }\n${extra}  stagehand:services: ${JSON.stringify(services)}\n`;
        const PROMETHEUS_ON = "  stagehand:observability: { prometheus: { enabled: true } }\n";
        /** Commits `base` as the base revision, then writes `head` to the working tree. */
        function revisions(base: string, head: string) {
            fs.writeFileSync(path.join(repo, "Pulumi.uat.yaml"), base);
            git("add", ".");
            git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base", "--allow-empty");
            fs.writeFileSync(path.join(repo, "Pulumi.uat.yaml"), head);
        }
        async function run(argv: string[]) {
            let stdout = "";
            let stderr = "";
            const code = await main(argv, {}, { root: repo, out: (s) => (stdout += s), err: (s) => (stderr += s) });
            return { code, stdout, stderr };
        }

        before(async () => {
            repo = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-gate-"));
            git("init", "-q");
            server = http.createServer((req, res) => {
                const query = new URL(req.url ?? "/", "http://127.0.0.1").searchParams.get("query") ?? "";
                queries.push(query);
                const workload = /destination_workload="([^"]+)"/.exec(query)?.[1] ?? "";
                const t = traffic[workload];
                const value = !t ? undefined : query.startsWith("histogram_quantile") ? t.p95 : query.includes("response_code") ? t.errors : t.requests;
                res.writeHead(200, { "content-type": "application/json" });
                res.end(JSON.stringify({ status: "success", data: { resultType: "vector", result: value === undefined ? [] : [{ metric: {}, value: [1700000000, String(value)] }] } }));
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            prometheus = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            // A port nothing listens on: Prometheus unreachable, as when the port-forward failed.
            const spare = http.createServer();
            await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
            closed = `http://127.0.0.1:${(spare.address() as AddressInfo).port}`;
            await new Promise<void>((resolve) => spare.close(() => resolve()));
        });
        beforeEach(() => {
            traffic = {};
            queries = [];
        });
        after(async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
            fs.rmSync(repo, { recursive: true, force: true });
        });

        it("--list: the canaries to judge as JSON, whether the deployed stack has a Prometheus, its cluster and region", async () => {
            revisions(stackFile({ checkout: svc({ stage: 2 }), cart: svc({ stage: 3 }) }, PROMETHEUS_ON), stackFile({ checkout: svc({ stage: 3 }), cart: svc({ stage: 1 }) }, PROMETHEUS_ON));
            const r = await run(["uat", "HEAD", "--list"]);
            assert.strictEqual(r.code, 0, r.stderr);
            const list = JSON.parse(r.stdout);
            assert.deepStrictEqual(
                { ...list, judge: list.judge.map((t: any) => t.service) },
                { stack: "uat", base: "HEAD", prometheus: true, cluster: "shop-uat", region: "eu-west-1", wave: "uat", judge: ["checkout"], skip: [{ service: "cart", why: "rollback to stage 1: the way back is never gated" }] },
            );
            assert.deepStrictEqual(queries, [], "--list asks Prometheus nothing");
            assert.deepStrictEqual(gateList("uat", "HEAD", repo), list);
        });

        it("what is deployed decides whether there is a Prometheus: turning it on in the pull request does not", () => {
            revisions(stackFile({ checkout: svc({ stage: 2 }) }), stackFile({ checkout: svc({ stage: 3 }) }, PROMETHEUS_ON));
            assert.strictEqual(gateList("uat", "HEAD", repo).prometheus, false);
            revisions(stackFile({ checkout: svc({ stage: 2 }) }, PROMETHEUS_ON), stackFile({ checkout: svc({ stage: 3 }) }));
            assert.strictEqual(gateList("uat", "HEAD", repo).prometheus, true);
        });

        it("a healthy canary passes (exit 0): its report at the stage deployed now, not the one the pull request moves to", async () => {
            revisions(stackFile({ checkout: svc({ stage: 2 }) }, PROMETHEUS_ON), stackFile({ checkout: svc({ stage: 3 }) }, PROMETHEUS_ON));
            traffic = { "checkout-production": { requests: 9000, errors: 3, p95: 100 }, "checkout-canary": { requests: 1000, errors: 1, p95: 110 } };
            const r = await run(["uat", "HEAD", "--prometheus", prometheus]);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            const lines = r.stdout.split("\n");
            assert.match(lines[0], /^metrics verdict of stack uat: each canary this pull request moves on, judged at the stage deployed now \(HEAD\)/);
            assert.strictEqual(lines[1], "checkout: stage 2/6 canary 10% -> 3: healthy");
            assert.strictEqual(lines[2], "gate: passes");
            assert.match(r.stdout, /^---- checkout \(npm run verdict -- uat checkout, at HEAD\)\nservice checkout of stack uat \(namespace checkout\), last 10m/m);
            assert.match(r.stdout, /^stage 2\/6 canary 10%: /m);
            assert.ok(!/stage 3\/6/.test(r.stdout), "not the stage the pull request moves to");
            assert.match(r.stdout, /^verdict: healthy$/m);
            assert.strictEqual(queries.length, 6, "both tracks' requests, 5xx and p95");
        });

        it("a failing canary fails the gate (exit 1), judged by the base revision's thresholds even when the pull request loosens them", async () => {
            const loose = { verdict: { maxErrorRate: 0.5 } };
            revisions(stackFile({ checkout: svc({ stage: 2 }) }, PROMETHEUS_ON), stackFile({ checkout: svc({ stage: 3, ...loose }) }, PROMETHEUS_ON));
            traffic = { "checkout-production": { requests: 9000, errors: 3, p95: 100 }, "checkout-canary": { requests: 1000, errors: 50, p95: 110 } };
            const r = await run(["uat", "HEAD", "--prometheus", prometheus]);
            assert.strictEqual(r.code, 1, r.stdout);
            assert.match(r.stdout, /^checkout: stage 2\/6 canary 10% -> 3: FAILING$/m);
            assert.match(r.stdout, /^gate: FAILS: a canary is failing; the check fails unless an owner of the canary \(not the author\) adds the label stagehand\/override-verdict after the last push$/m);
            assert.match(r.stdout, /error rate at most 1\.00%/, "the deployed threshold, not the pull request's 50%");
        });

        it("too little traffic passes with a warning (exit 2); Prometheus unreachable is not judged (exit 3) and names the URL", async () => {
            revisions(stackFile({ checkout: svc({ stage: 2 }) }, PROMETHEUS_ON), stackFile({ checkout: svc({ stage: 3 }) }, PROMETHEUS_ON));
            traffic = { "checkout-production": { requests: 900, errors: 0, p95: 100 }, "checkout-canary": { requests: 40, errors: 0, p95: 110 } };
            const quiet = await run(["uat", "HEAD", "--prometheus", prometheus]);
            assert.strictEqual(quiet.code, 2, quiet.stdout);
            assert.match(quiet.stdout, /^checkout: stage 2\/6 canary 10% -> 3: not enough traffic$/m);
            assert.match(quiet.stdout, /^gate: passes, with a warning: a canary served too little traffic/m);

            const down = await run(["uat", "HEAD", "--prometheus", closed, "--timeout", "2"]);
            assert.strictEqual(down.code, 3, down.stdout);
            assert.match(down.stdout, /^checkout: stage 2\/6 canary 10% -> 3: NOT JUDGED: Prometheus could not be queried$/m);
            assert.match(down.stdout, new RegExp(`could not reach Prometheus at ${closed.replace(/\./g, "\\.")}: connection refused`));
            assert.match(down.stdout, /^gate: FAILS: a canary could not be judged; the check fails unless an owner of the canary \(not the author\) adds the label stagehand\/override-verdict after the last push$/m);
        });

        it("several canaries: one failing and one quiet fail the gate; each has its report", async () => {
            revisions(
                stackFile({ checkout: svc({ stage: 2 }), payments: svc({ stage: 3, image: "ghcr.io/acme/payments" }) }, PROMETHEUS_ON),
                stackFile({ checkout: svc({ stage: 3 }), payments: svc({ stage: 4, image: "ghcr.io/acme/payments" }) }, PROMETHEUS_ON),
            );
            traffic = { "checkout-canary": { requests: 10, errors: 0, p95: 50 }, "payments-canary": { requests: 5000, errors: 400, p95: 90 } };
            const r = await run(["uat", "HEAD", "--prometheus", prometheus]);
            assert.strictEqual(r.code, 1);
            assert.deepStrictEqual(r.stdout.split("\n").slice(1, 4), [
                "checkout: stage 2/6 canary 10% -> 3: not enough traffic",
                "payments: stage 3/6 canary 90% -> 4: FAILING",
                "gate: FAILS: a canary is failing; the check fails unless an owner of the canary (not the author) adds the label stagehand/override-verdict after the last push",
            ]);
            assert.match(r.stdout, /^---- checkout /m);
            assert.match(r.stdout, /^---- payments /m);
        });

        it("nothing to judge, or no Prometheus in the stack as deployed: passes and says so, asking Prometheus nothing", async () => {
            revisions(stackFile({ checkout: svc({ stage: 1 }) }, PROMETHEUS_ON), stackFile({ checkout: svc({ stage: 2 }) }, PROMETHEUS_ON));
            const none = await run(["uat", "HEAD", "--prometheus", closed]);
            assert.deepStrictEqual([none.code, none.stdout], [0, "metrics verdict of stack uat: no canary to judge: no service moves on from a stage where its canary serves traffic\n"]);

            revisions(stackFile({ checkout: svc({ stage: 2 }) }), stackFile({ checkout: svc({ stage: 3 }) }));
            const off = await run(["uat", "HEAD", "--prometheus", closed]);
            assert.strictEqual(off.code, 0);
            assert.strictEqual(
                off.stdout,
                "metrics verdict of stack uat: not run: the stack has no Prometheus (stagehand:observability.prometheus is off at HEAD); judge these canaries yourself: checkout (stage 2/6 canary 10% -> 3)\n",
            );
            assert.deepStrictEqual(queries, []);
        });

        it("a bad command line, an unknown stack or revision: exit 4 with the reason", async () => {
            const usage = await run(["uat", "--window", "1h"]);
            assert.strictEqual(usage.code, 4);
            assert.match(usage.stderr, /^verdict-gate: Unknown option '--window'\nusage: npm run verdict-gate/);
            const stack = await run(["nope", "HEAD", "--list"]);
            assert.strictEqual(stack.code, 4);
            assert.match(stack.stderr, /no stack "nope"/);
            const ref = await run(["uat", "no-such-ref", "--list"]);
            assert.strictEqual(ref.code, 4);
            assert.match(ref.stderr, /git cannot find the base revision "no-such-ref" \(given as the base revision argument\) in this repository; the working tree is not the problem\. .*git branch -a/);
        });
    });
});
