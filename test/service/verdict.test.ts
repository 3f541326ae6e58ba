import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { parseServices } from "../../components/service/config";
import { EXIT_CODES, judge, TrackMetrics, trackQueries, verdictThresholds } from "../../components/service/verdict";
import { main } from "../../scripts/verdict";
import { problemsOf } from "../helpers/problems";

// ---------- the verdict function, without HTTP ----------

const defaults = verdictThresholds({});
const m = (requests: number, errors: number, p95Ms: number | null): TrackMetrics => ({ requests, errors, p95Ms });
const steady = m(12000, 12, 120);

describe("verdict (components/service/verdict.ts)", () => {
    it("has the documented defaults", () => {
        assert.deepStrictEqual(defaults, { window: "10m", minRequests: 100, maxErrorRate: 0.01, maxP95LatencyMs: 500 });
    });

    it("is healthy when the canary has enough requests, few 5xx and a low p95, and says why", () => {
        const r = judge({ production: steady, canary: m(1300, 4, 140) }, defaults);
        assert.strictEqual(r.verdict, "healthy");
        assert.deepStrictEqual(r.reasons, [
            "canary served 1300 requests in the last 10m (at least 100)",
            "canary error rate 0.31% (4 of 1300 requests) is at most 1.00%",
            "canary p95 latency 140 ms is at most 500 ms",
        ]);
    });

    it("treats the thresholds themselves as healthy (the maxima are inclusive)", () => {
        assert.strictEqual(judge({ production: steady, canary: m(100, 1, 500) }, defaults).verdict, "healthy");
        assert.strictEqual(judge({ production: steady, canary: m(100, 2, 500) }, defaults).verdict, "failing");
        assert.strictEqual(judge({ production: steady, canary: m(100, 1, 500.1) }, defaults).verdict, "failing");
        assert.strictEqual(judge({ production: steady, canary: m(99, 0, 100) }, defaults).verdict, "not enough traffic");
    });

    it("fails on the error rate", () => {
        const r = judge({ production: steady, canary: m(1000, 50, 140) }, defaults);
        assert.deepStrictEqual(r, { verdict: "failing", reasons: ["canary error rate 5.00% (50 of 1000 requests) is above the maximum 1.00%"] });
    });

    it("fails on p95 latency, absolute and relative to production", () => {
        assert.deepStrictEqual(judge({ production: steady, canary: m(1000, 0, 812) }, defaults), {
            verdict: "failing",
            reasons: ["canary p95 latency 812 ms is above the maximum 500 ms"],
        });
        const relative = { ...defaults, maxLatencyIncrease: 1.2 };
        assert.deepStrictEqual(judge({ production: m(5000, 0, 200), canary: m(1000, 0, 250) }, relative), {
            verdict: "failing",
            reasons: ["canary p95 latency 250 ms is above 1.2 × production's 200 ms (240 ms)"],
        });
        const ok = judge({ production: m(5000, 0, 200), canary: m(1000, 0, 240) }, relative);
        assert.strictEqual(ok.verdict, "healthy");
        assert.match(ok.reasons.join("\n"), /canary p95 latency 240 ms is at most 1\.2 × production's 200 ms \(240 ms\)/);
        assert.strictEqual(judge({ production: steady, canary: m(1000, 0, Infinity) }, defaults).verdict, "failing");
    });

    it("skips the relative check, saying so, when production has too little traffic to compare with", () => {
        const relative = { ...defaults, maxLatencyIncrease: 1.2 };
        const r = judge({ production: m(0, 0, null), canary: m(1000, 0, 300) }, relative);
        assert.strictEqual(r.verdict, "healthy");
        assert.match(r.reasons[r.reasons.length - 1], /^relative latency check skipped: production served 0 requests, fewer than 100 in the last 10m$/);
    });

    it("says not enough traffic below minRequests, whatever the latency of those few requests", () => {
        const r = judge({ production: steady, canary: m(40, 0, 2000) }, defaults);
        assert.deepStrictEqual(r, { verdict: "not enough traffic", reasons: ["canary served only 40 requests (0 5xx) in the last 10m, fewer than the 100 needed to judge it"] });
        assert.deepStrictEqual(judge({ production: steady, canary: m(0, 0, null) }, defaults).reasons, [
            "canary served no requests in the last 10m, fewer than the 100 needed to judge it",
        ]);
    });

    it("lets conclusive errors beat not-enough-traffic: errors above the budget of minRequests requests", () => {
        // 1% of 100 requests is 1 error: one 5xx among 10 requests could still end healthy, two cannot.
        assert.strictEqual(judge({ production: steady, canary: m(10, 1, 100) }, defaults).verdict, "not enough traffic");
        const r = judge({ production: steady, canary: m(10, 2, 100) }, defaults);
        assert.strictEqual(r.verdict, "failing");
        assert.match(r.reasons[0], /^canary error rate 20\.00% \(2 of 10 requests\) is above the maximum 1\.00%, and conclusively so: 2 errors exceed the budget of 100 requests/);
    });

    it("does not call a canary healthy when its latency is unknown", () => {
        const r = judge({ production: steady, canary: m(1000, 0, null) }, defaults);
        assert.strictEqual(r.verdict, "not enough traffic");
        assert.match(r.reasons[0], /^canary p95 latency is unknown: no istio_request_duration_milliseconds samples in the last 10m/);
    });

    it("notes when production fails the error threshold too", () => {
        const r = judge({ production: m(1000, 30, 100), canary: m(1000, 40, 100) }, defaults);
        assert.strictEqual(r.verdict, "failing");
        assert.strictEqual(r.reasons[1], "note: production's error rate 3.00% is above the maximum too; the cause may not be the canary");
    });

    it("builds queries on Istio's destination-reported metrics, split by workload", () => {
        assert.deepStrictEqual(trackQueries("checkout", "shop", "canary", "5m"), {
            requests: 'sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary"}[5m]))',
            errors: 'sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary",response_code=~"5.."}[5m]))',
            p95: 'histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary"}[5m])))',
        });
    });
});

// ---------- the `verdict` field of the service config ----------

const svc = { image: "ghcr.io/acme/checkout", stable: "1.4.2", canary: "1.5.0", stage: 2, replicas: 2 };

function verdictProblems(verdict: unknown): string[] {
    return problemsOf(() => parseServices("staging", { checkout: { ...svc, verdict } }));
}

describe("verdict service config (components/service/config.ts)", () => {
    it("is optional, fills in defaults for absent fields and keeps the ones given", () => {
        const { checkout } = parseServices("staging", { checkout: svc });
        assert.strictEqual(checkout.verdict, undefined);
        assert.deepStrictEqual(verdictThresholds(checkout), defaults);
        const { checkout: tuned } = parseServices("staging", { checkout: { ...svc, verdict: { window: "1h30m", maxErrorRate: 0, maxLatencyIncrease: 1.2 } } });
        assert.deepStrictEqual(verdictThresholds(tuned), { window: "1h30m", minRequests: 100, maxErrorRate: 0, maxP95LatencyMs: 500, maxLatencyIncrease: 1.2 });
    });

    it("refuses bad thresholds, each naming the field, the expectation and what was found", () => {
        assert.deepStrictEqual(verdictProblems({ window: "30s", minRequests: 0, maxErrorRate: 5, maxP95LatencyMs: 0, maxLatencyIncrease: 0.8 }), [
            'stack staging, service checkout, field verdict.window: expected a Prometheus duration of at least 1m, such as "10m" or "1h30m" (units y, w, d, h, m, s, ms, largest first; rate() needs several scrapes), found "30s"',
            "stack staging, service checkout, field verdict.minRequests: expected the canary requests needed in the window before judging, a whole number of at least 1, found 0",
            "stack staging, service checkout, field verdict.maxErrorRate: expected a fraction of requests from 0 up to (not including) 1, e.g. 0.01 for 1%, found 5",
            "stack staging, service checkout, field verdict.maxP95LatencyMs: expected a latency in milliseconds greater than 0, e.g. 500, found 0",
            "stack staging, service checkout, field verdict.maxLatencyIncrease: expected a factor of production's p95 latency of at least 1, e.g. 1.2 (canary p95 at most 20% above production's), found 0.8",
        ]);
        assert.match(verdictProblems({ window: "10 minutes" })[0], /field verdict\.window: expected a Prometheus duration .*, found "10 minutes"$/);
        assert.match(verdictProblems({ window: "m10" })[0], /field verdict\.window: expected a Prometheus duration/);
        assert.match(verdictProblems({ maxErrorRate: "1%" })[0], /field verdict\.maxErrorRate: expected a fraction of requests .*, found "1%"$/);
        assert.match(verdictProblems({ threshold: 1 })[0], /field verdict\.threshold: unknown field; the fields here are window, minRequests, maxErrorRate, maxP95LatencyMs, maxLatencyIncrease$/);
        assert.match(verdictProblems("strict")[0], /field verdict: expected an object with `window`, `minRequests`, `maxErrorRate`, `maxP95LatencyMs` and optionally `maxLatencyIncrease`, found "strict"$/);
    });
});

// ---------- the command, against recorded Prometheus API responses on 127.0.0.1 ----------

/** The queries Prometheus should receive, written out independently of components/service/verdict.ts. */
function expectedQueries(namespace: string, workload: string, window: string) {
    const sel = `reporter="destination",destination_workload_namespace="${namespace}",destination_workload="${workload}"`;
    return {
        requests: `sum(increase(istio_requests_total{${sel}}[${window}]))`,
        errors: `sum(increase(istio_requests_total{${sel},response_code=~"5.."}[${window}]))`,
        p95: `histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${sel}}[${window}])))`,
    };
}

interface Recorded {
    status: number;
    contentType: string;
    body: string;
}

/** Prometheus' answer to an instant query: a vector of one sample, or an empty vector. */
const vector = (value?: string): Recorded => ({
    status: 200,
    contentType: "application/json",
    body: JSON.stringify({
        status: "success",
        data: { resultType: "vector", result: value === undefined ? [] : [{ metric: {}, value: [1718000000.123, value] }] },
    }),
});

/** A sample per query of each track; undefined = empty result. */
type TrackAnswers = { requests?: string; errors?: string; p95?: string };

function recordings(namespace: string, service: string, window: string, tracks: { production: TrackAnswers; canary: TrackAnswers }): Map<string, Recorded> {
    const out = new Map<string, Recorded>();
    for (const track of ["production", "canary"] as const) {
        const q = expectedQueries(namespace, `${service}-${track}`, window);
        const a = tracks[track];
        out.set(q.requests, vector(a.requests));
        out.set(q.errors, vector(a.errors));
        out.set(q.p95, vector(a.p95));
    }
    return out;
}

const STACK_FILE = `config:
  stagehand:services:
    checkout:
      image: ghcr.io/acme/checkout
      stable: "1.4.2"
      canary: "1.5.0"
      stage: 2
      replicas: 2
    payments:
      image: ghcr.io/acme/payments
      stable: "0.9.7"
      canary: "0.10.0"
      namespace: shop
      stage: 3
      replicas: 4
      steps: [10, 25, 50, 75, 100]
      verdict:
        window: 5m
        minRequests: 50
        maxErrorRate: 0.02
        maxP95LatencyMs: 300
        maxLatencyIncrease: 1.5
`;

const BROKEN_STACK_FILE = `config:
  stagehand:services:
    checkout:
      image: ghcr.io/acme/checkout
      stable: "1.4.2"
      canary: "1.5.0"
      stage: 2
      replicas: 2
      verdict:
        maxErrorRate: 5
`;

describe("npm run verdict (scripts/verdict.ts) against a recorded Prometheus", function () {
    this.timeout(10_000);

    let root: string;
    let server: http.Server;
    let prometheus: string;
    /** Query strings received, in order. */
    let received: string[] = [];
    let answers = new Map<string, Recorded>();
    /** When set, every request is left unanswered. */
    let hang = false;

    before(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-verdict-"));
        fs.writeFileSync(path.join(root, "Pulumi.test.yaml"), STACK_FILE);
        fs.writeFileSync(path.join(root, "Pulumi.broken.yaml"), BROKEN_STACK_FILE);
        server = http.createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://127.0.0.1");
            const query = url.searchParams.get("query") ?? "";
            received.push(query);
            if (hang) return; // never answers; the client's --timeout must end it
            const recorded =
                url.pathname === "/api/v1/query" && req.method === "GET"
                    ? answers.get(query)
                    : { status: 404, contentType: "text/plain", body: "404 page not found\n" };
            const answer = recorded ?? {
                status: 400,
                contentType: "application/json",
                body: JSON.stringify({ status: "error", errorType: "bad_data", error: `the test server has no recording for ${query}` }),
            };
            res.writeHead(answer.status, { "content-type": answer.contentType });
            res.end(answer.body);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        prometheus = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    beforeEach(() => {
        received = [];
        answers = new Map();
        hang = false;
    });

    after(async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        fs.rmSync(root, { recursive: true, force: true });
    });

    async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
        let stdout = "";
        let stderr = "";
        const code = await main(args, env, { root, out: (s) => (stdout += s), err: (s) => (stderr += s) });
        return { code, stdout, stderr };
    }

    const checkout = (canary: TrackAnswers, production: TrackAnswers = { requests: "12000", errors: "12", p95: "120.5" }) =>
        recordings("checkout", "checkout", "10m", { production, canary });

    it("prints both tracks side by side, the stage and a healthy verdict (exit 0)", async () => {
        answers = checkout({ requests: "1299.6", errors: "4", p95: "140" });
        const { code, stdout, stderr } = await run(["test", "checkout", "--prometheus", prometheus]);
        assert.strictEqual(stderr, "");
        assert.strictEqual(code, 0);
        assert.strictEqual(
            stdout,
            [
                `service checkout of stack test (namespace checkout), last 10m, Prometheus ${prometheus}`,
                "stage 2/6 canary 10%: 90% -> 1.4.2 (production x2), 10% -> 1.5.0 (canary x2); strategy canary",
                "",
                "             PRODUCTION  CANARY",
                "requests     12000       1300",
                "5xx          12          4",
                "error rate   0.10%       0.31%",
                "p95 latency  120.5 ms    140 ms",
                "",
                "thresholds: at least 100 canary requests, error rate at most 1.00%, p95 at most 500 ms",
                "verdict: healthy",
                "  - canary served 1300 requests in the last 10m (at least 100)",
                "  - canary error rate 0.31% (4 of 1300 requests) is at most 1.00%",
                "  - canary p95 latency 140 ms is at most 500 ms",
                "",
            ].join("\n"),
        );
    });

    it("sends six instant queries with the service's namespace, workloads, reporter and window", async () => {
        answers = checkout({ requests: "1300", errors: "0", p95: "140" });
        assert.strictEqual((await run(["test", "checkout", "--prometheus", prometheus])).code, 0);
        const want = [
            ...Object.values(expectedQueries("checkout", "checkout-production", "10m")),
            ...Object.values(expectedQueries("checkout", "checkout-canary", "10m")),
        ];
        assert.deepStrictEqual([...received].sort(), want.sort());
        assert.ok(received.every((q) => q.includes('reporter="destination"') && q.includes("[10m]")), received.join("\n"));

        // payments: its own namespace and window from config; --window overrides the window.
        received = [];
        answers = recordings("shop", "payments", "5m", { production: { requests: "900", errors: "0", p95: "100" }, canary: { requests: "300", errors: "0", p95: "120" } });
        assert.strictEqual((await run(["test", "--prometheus", prometheus, "payments"])).code, 0);
        assert.deepStrictEqual(
            [...received].sort(),
            [...Object.values(expectedQueries("shop", "payments-production", "5m")), ...Object.values(expectedQueries("shop", "payments-canary", "5m"))].sort(),
        );
        received = [];
        answers = recordings("shop", "payments", "1h", { production: { requests: "900", errors: "0", p95: "100" }, canary: { requests: "300", errors: "0", p95: "120" } });
        const { code, stdout } = await run(["test", "payments", "--prometheus", `${prometheus}/`, "--window", "1h"]);
        assert.strictEqual(code, 0, stdout);
        assert.ok(received.length === 6 && received.every((q) => q.endsWith("[1h]))") || q.endsWith("[1h])))")), received.join("\n"));
    });

    it("prints one JSON object with --json, and fails on the canary's error rate (exit 1)", async () => {
        answers = checkout({ requests: "1000", errors: "50", p95: "140" });
        const { code, stdout } = await run(["test", "checkout", "--json", "--prometheus", prometheus]);
        assert.strictEqual(code, EXIT_CODES.failing);
        assert.strictEqual(code, 1);
        assert.deepStrictEqual(JSON.parse(stdout), {
            stack: "test",
            service: "checkout",
            namespace: "checkout",
            stage: { stage: 2, stageCount: 6, name: "canary 10%", description: "stage 2/6 canary 10%: 90% -> 1.4.2 (production x2), 10% -> 1.5.0 (canary x2); strategy canary" },
            window: "10m",
            prometheus,
            thresholds: { window: "10m", minRequests: 100, maxErrorRate: 0.01, maxP95LatencyMs: 500 },
            tracks: {
                production: { workload: "checkout-production", requests: 12000, errors: 12, errorRate: 0.001, p95Ms: 120.5 },
                canary: { workload: "checkout-canary", requests: 1000, errors: 50, errorRate: 0.05, p95Ms: 140 },
            },
            verdict: "failing",
            exitCode: 1,
            reasons: ["canary error rate 5.00% (50 of 1000 requests) is above the maximum 1.00%"],
        });
    });

    it("fails on the canary's p95 latency (exit 1)", async () => {
        answers = checkout({ requests: "1000", errors: "1", p95: "812.3" });
        const { code, stdout } = await run(["test", "checkout", "--prometheus", prometheus]);
        assert.strictEqual(code, 1);
        assert.match(stdout, /^p95 latency {2}120\.5 ms {4}812\.3 ms$/m);
        assert.match(stdout, /^verdict: failing\n {2}- canary p95 latency 812\.3 ms is above the maximum 500 ms$/m);
    });

    it("fails on latency relative to production when the service asks for it (exit 1)", async () => {
        answers = recordings("shop", "payments", "5m", { production: { requests: "900", errors: "0", p95: "100" }, canary: { requests: "300", errors: "0", p95: "180" } });
        const { code, stdout } = await run(["test", "payments", "--prometheus", prometheus]);
        assert.strictEqual(code, 1);
        assert.match(stdout, /^stage 3\/8 canary 25%: /m);
        assert.match(stdout, /^thresholds: at least 50 canary requests, error rate at most 2\.00%, p95 at most 300 ms, p95 at most 1\.5 × production's$/m);
        assert.match(stdout, /^ {2}- canary p95 latency 180 ms is above 1\.5 × production's 100 ms \(150 ms\)$/m);
    });

    it("says not enough traffic below minRequests (exit 2)", async () => {
        answers = checkout({ requests: "40", errors: "0", p95: "95" });
        const { code, stdout } = await run(["test", "checkout", "--prometheus", prometheus]);
        assert.strictEqual(code, 2);
        assert.match(stdout, /^verdict: not enough traffic\n {2}- canary served only 40 requests \(0 5xx\) in the last 10m, fewer than the 100 needed to judge it$/m);
    });

    it("reads empty results as no traffic: zero requests, unknown latency (exit 2)", async () => {
        answers = checkout({}, {});
        const { code, stdout } = await run(["test", "checkout", "--json", "--prometheus", prometheus]);
        assert.strictEqual(code, 2);
        const report = JSON.parse(stdout);
        assert.deepStrictEqual(report.tracks, {
            production: { workload: "checkout-production", requests: 0, errors: 0, errorRate: null, p95Ms: null },
            canary: { workload: "checkout-canary", requests: 0, errors: 0, errorRate: null, p95Ms: null },
        });
        assert.strictEqual(report.verdict, "not enough traffic");
        assert.deepStrictEqual(report.reasons, ["canary served no requests in the last 10m, fewer than the 100 needed to judge it"]);
        const text = await run(["test", "checkout", "--prometheus", prometheus]);
        assert.match(text.stdout, /^error rate {3}- {11}-$/m);
        assert.match(text.stdout, /^p95 latency {2}- {11}-$/m);
    });

    it("reads a NaN p95 as unknown latency and does not call the canary healthy (exit 2)", async () => {
        answers = checkout({ requests: "1300", errors: "0", p95: "NaN" }, { requests: "12000", errors: "0", p95: "NaN" });
        const { code, stdout } = await run(["test", "checkout", "--json", "--prometheus", prometheus]);
        assert.strictEqual(code, 2);
        const report = JSON.parse(stdout);
        assert.strictEqual(report.tracks.canary.p95Ms, null);
        assert.strictEqual(report.tracks.canary.requests, 1300);
        assert.strictEqual(report.verdict, "not enough traffic");
        assert.match(report.reasons[0], /^canary p95 latency is unknown/);
    });

    it("reports a Prometheus error (HTTP 400 with error JSON) naming the URL and the query (exit 3)", async () => {
        answers = checkout({ requests: "1300", errors: "0", p95: "140" });
        const bad = expectedQueries("checkout", "checkout-canary", "10m").errors;
        answers.set(bad, {
            status: 400,
            contentType: "application/json",
            body: JSON.stringify({ status: "error", errorType: "bad_data", error: 'invalid parameter "query": 1:63: parse error: unexpected character' }),
        });
        const { code, stdout, stderr } = await run(["test", "checkout", "--prometheus", prometheus]);
        assert.strictEqual(code, 3);
        assert.strictEqual(stdout, "");
        assert.strictEqual(
            stderr,
            `verdict: Prometheus at ${prometheus} answered HTTP 400 Bad Request with an error: bad_data: invalid parameter "query": 1:63: parse error: unexpected character\n  query: ${bad}\n`,
        );
    });

    it("reports a non-JSON HTTP 503 with the start of its body (exit 3), as JSON too with --json", async () => {
        const html = "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>";
        for (const q of checkout({}).keys()) answers.set(q, { status: 503, contentType: "text/html", body: html });
        const { code, stdout, stderr } = await run(["test", "checkout", "--json", "--prometheus", prometheus]);
        assert.strictEqual(code, 3);
        assert.match(stderr, new RegExp(`^verdict: Prometheus at ${prometheus} answered HTTP 503 Service Unavailable, not Prometheus API JSON: "<html><body><h1>503 Service Unavailable</h1> No server is available`));
        assert.match(stderr, /\n {2}query: (sum|histogram_quantile)\(.*destination_workload="checkout-(production|canary)"/);
        const report = JSON.parse(stdout);
        assert.deepStrictEqual(Object.keys(report).sort(), ["error", "exitCode", "prometheus", "service", "stack", "verdict", "window"]);
        assert.strictEqual(report.verdict, null);
        assert.strictEqual(report.exitCode, 3);
        assert.match(report.error, /answered HTTP 503/);
    });

    it("gives up after --timeout when Prometheus never answers (exit 3)", async () => {
        hang = true;
        const started = Date.now();
        const { code, stderr } = await run(["test", "checkout", "--prometheus", prometheus, "--timeout", "0.3"]);
        const elapsed = Date.now() - started;
        assert.strictEqual(code, 3);
        assert.match(stderr, new RegExp(`^verdict: Prometheus at ${prometheus} did not answer within 0.3 s \\(--timeout\\)\n {2}query: `));
        assert.ok(elapsed >= 250 && elapsed < 3000, `took ${elapsed} ms`);
        assert.strictEqual(received.length, 6);
    });

    it("says when nothing listens at the Prometheus address (exit 3)", async () => {
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const port = (closed.address() as AddressInfo).port;
        await new Promise<void>((resolve) => closed.close(() => resolve()));
        const { code, stderr } = await run(["test", "checkout"], { PROMETHEUS_URL: `http://127.0.0.1:${port}` });
        assert.strictEqual(code, 3);
        assert.match(stderr, new RegExp(`^verdict: could not reach Prometheus at http://127.0.0.1:${port}: connection refused \\(ECONNREFUSED\\); .*port-forward svc/prometheus 9090`));
        assert.match(stderr, /\n {2}query: /);
    });

    it("takes the address from $PROMETHEUS_URL, and --prometheus over it", async () => {
        answers = checkout({ requests: "1300", errors: "0", p95: "140" });
        const fromEnv = await run(["test", "checkout"], { PROMETHEUS_URL: prometheus });
        assert.strictEqual(fromEnv.code, 0, fromEnv.stderr);
        assert.strictEqual(received.length, 6);
        const fromFlag = await run(["test", "checkout", "--prometheus", prometheus], { PROMETHEUS_URL: "http://127.0.0.1:9/nowhere" });
        assert.strictEqual(fromFlag.code, 0, fromFlag.stderr);
        assert.strictEqual(received.length, 12);
    });

    it("refuses bad usage, unknown stacks and services and invalid config before querying (exit 4)", async () => {
        const cases: [string[], RegExp][] = [
            [["test"], /^verdict: expected a stack and a service, found 1 argument\nusage: npm run verdict -- <stack> <service>/],
            [["test", "checkout", "--bogus"], /^verdict: Unknown option '--bogus'/],
            [["nope", "checkout"], /^verdict: no stack "nope": Pulumi\.nope\.yaml does not exist \(stacks here: broken, test\)\n$/],
            [["test", "orders"], /^verdict: stack test has no service "orders" \(services: checkout, payments\)\n$/],
            [["broken", "checkout"], /^verdict: invalid stagehand config for stack broken:\n {2}- stack broken, service checkout, field verdict\.maxErrorRate: expected a fraction/],
            [["test", "checkout", "--timeout", "soon"], /^verdict: --timeout: expected a number of seconds greater than 0, found "soon"\n$/],
            [["test", "checkout", "--timeout", "0"], /^verdict: --timeout: expected a number of seconds greater than 0, found "0"\n$/],
            [["test", "checkout", "--window", "10"], /^verdict: --window: expected a Prometheus duration of at least 1m/],
            [["test", "checkout", "--prometheus", "127.0.0.1:9090"], /^verdict: --prometheus \/ PROMETHEUS_URL: expected an http\(s\) URL such as http:\/\/127\.0\.0\.1:9090, found "127\.0\.0\.1:9090"\n$/],
        ];
        for (const [args, expected] of cases) {
            const { code, stdout, stderr } = await run([...args, ...(args.includes("--prometheus") ? [] : ["--prometheus", prometheus])]);
            assert.strictEqual(code, 4, `${args.join(" ")}: ${stderr}`);
            assert.strictEqual(stdout, "", args.join(" "));
            assert.match(stderr, expected, args.join(" "));
        }
        assert.deepStrictEqual(received, [], "nothing may be queried on a usage error");
        const help = await run(["--help"]);
        assert.strictEqual(help.code, 0);
        assert.match(help.stdout, /^usage: npm run verdict -- <stack> <service>[^]*exit codes: 0 healthy, 1 failing, 2 not enough traffic, 3 /);
    });
});
