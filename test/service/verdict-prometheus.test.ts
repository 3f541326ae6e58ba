// `npm run verdict` against a real Prometheus (Debian's 2.42 package; installed by the setup when absent) that
// scrapes a small exporter of Istio's standard metrics for the production and canary workloads of seven services
// with known traffic. Nothing here is canned: the verdict's PromQL runs on Prometheus's own engine, over samples
// Prometheus scraped, so a wrong selector, label, function or aggregation gives wrong numbers and fails.
//
// Timing, so that the numbers are exact rather than "about right":
// - The verdict's window is at least 1m, and increase() over 1m needs samples across that whole minute. Rather
//   than wait a minute, the setup writes the last HISTORY_MS of every series as OpenMetrics and backfills it with
//   `promtool tsdb create-blocks-from openmetrics` before Prometheus starts (instant and deterministic), then
//   Prometheus scrapes the exporter every second on top of it. The history carries the `job` and `instance`
//   labels the scrape adds, so history and scrape are one series, on one 1 s grid then at each scrape.
// - Every counter grows linearly with time and every sample is stamped with the time its value is for (see
//   test/helpers/istio-exporter.ts), so the samples lie on straight lines.
// - increase() extrapolates the samples it finds in the window to the window's edges: fully when the first and
//   last sample are within 1.1 average sample intervals of the edges, by half an interval otherwise. Samples every
//   second across the window, and a query made right after a scrape Prometheus has stored (each verdict waits for
//   one), put both edges within that distance, and a straight line extrapolated to the edges of a 1m window is
//   exactly a minute's traffic. So request and 5xx counts are exact (to floating point, before the command's
//   rounding), and rate() of each bucket is exactly its traffic per second.
// - histogram_quantile(0.95, …) takes the rank 0.95 × count and interpolates linearly inside the bucket the rank
//   falls in, from the bucket's lower bound to its upper bound. The expected p95s below are worked out that way
//   from the requests served (written out beside each). Prometheus's float arithmetic answers e.g.
//   74.99999999999999 for 75; the command keeps p95s to the microsecond, so they compare exactly.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backfilledHistory, IstioExporter, startIstioExporter, Workload } from "../helpers/istio-exporter";
import { ensurePrometheus, INSTALL_TIMEOUT_MS, READY_TIMEOUT_MS, RunningPrometheus, startPrometheus } from "../helpers/prometheus";
import { main } from "../../scripts/verdict";

/** History backfilled before Prometheus starts; the verdicts must run within HISTORY_MS - 1m of its end. */
const HISTORY_MS = 150_000;
const SCRAPE_JOB = "istio-mesh";

// Production's usual traffic: 5400 requests a minute; 4860 take 40 ms (bucket le=50), 540 take 150 ms (le=250).
// p95: rank 0.95 × 5400 = 5130 falls in (100, 250] holding 4860..5400: 100 + 150 × (5130 - 4860) / 540 = 175 ms.
const production = (service: string, namespace: string, version: string, extra: Workload["requests"] = []): Workload => ({
    service,
    namespace,
    workload: `${service}-production`,
    version,
    requests: [{ perMinute: 4860, code: 200, latencyMs: 40 }, { perMinute: 540, code: 200, latencyMs: 150 }, ...extra],
});
const canary = (service: string, namespace: string, version: string, requests: Workload["requests"]): Workload => ({
    service,
    namespace,
    workload: `${service}-canary`,
    version,
    requests,
});

const WORKLOADS: Workload[] = [
    // checkout, healthy. Production: 5400 as usual but 27 of the 40 ms ones are 503s of 2 ms (le=5): 5400
    // requests, 27 5xx; the rank 5130 still falls in (100, 250] above 4860: 175 ms.
    {
        ...production("checkout", "shop", "1.4.2"),
        requests: [{ perMinute: 27, code: 503, latencyMs: 2 }, { perMinute: 4833, code: 200, latencyMs: 40 }, { perMinute: 540, code: 200, latencyMs: 150 }],
    },
    // Canary: 600 a minute, 3 503s (2 ms), 537 at 20 ms (le=25: 540 by then), 60 at 80 ms (le=100: 600).
    // p95: rank 570 in (50, 100] holding 540..600: 50 + 50 × 30 / 60 = 75 ms.
    canary("checkout", "shop", "1.5.0", [
        { perMinute: 3, code: 503, latencyMs: 2 },
        { perMinute: 537, code: 200, latencyMs: 20 },
        { perMinute: 60, code: 200, latencyMs: 80 },
    ]),
    // Not checkout's canary: the same Deployment name in another namespace, failing every request. Counted by a
    // query that forgot the namespace, it would turn checkout's healthy canary into a failing one.
    canary("checkout", "shop-preview", "1.6.0-rc.1", [{ perMinute: 600, code: 503, latencyMs: 2 }]),

    // payments, failing on errors: 600 a minute, 30 503s (5%); 510 at 40 ms (le=50: 540), 60 at 150 ms (le=250).
    // p95: rank 570 in (100, 250] holding 540..600: 175 ms. Production has no 5xx series at all.
    production("payments", "payments", "0.9.7"),
    canary("payments", "payments", "0.10.0", [
        { perMinute: 30, code: 503, latencyMs: 2 },
        { perMinute: 510, code: 200, latencyMs: 40 },
        { perMinute: 60, code: 200, latencyMs: 150 },
    ]),

    // search, failing on p95: 600 a minute, 540 at 150 ms (le=250), 60 at 1500 ms (le=2500).
    // p95: rank 570 in (1000, 2500] holding 540..600: 1000 + 1500 × 30 / 60 = 1750 ms.
    production("search", "search", "3.1.0"),
    canary("search", "search", "3.2.0", [
        { perMinute: 540, code: 200, latencyMs: 150 },
        { perMinute: 60, code: 200, latencyMs: 1500 },
    ]),

    // reviews, failing relative to production (maxLatencyIncrease 1.2: at most 210 ms): 540 at 150 ms
    // (le=250), 60 at 400 ms (le=500). p95: rank 570 in (250, 500]: 250 + 250 × 30 / 60 = 375 ms, under the
    // absolute 500 ms.
    production("reviews", "reviews", "5.0.0"),
    canary("reviews", "reviews", "5.1.0", [
        { perMinute: 540, code: 200, latencyMs: 150 },
        { perMinute: 60, code: 200, latencyMs: 400 },
    ]),

    // ratings at stage 6 (switch back): both Deployments run 2.1.0, production takes the traffic and the
    // canary drains: 40 requests a minute at 40 ms. Its p95: rank 38 in (25, 50] holding 0..40: 25 + 25 × 38/40.
    production("ratings", "ratings", "2.1.0"),
    canary("ratings", "ratings", "2.1.0", [{ perMinute: 40, code: 200, latencyMs: 40 }]),

    // exports, its canary stuck: 60 of 600 requests take 2 hours, beyond Istio's largest bucket (le=3600000), so
    // only +Inf counts them. The rank 570 falls in (3600000, +Inf], and histogram_quantile answers the largest
    // finite bound for that bucket, not +Inf.
    production("exports", "exports", "1.0.0"),
    canary("exports", "exports", "1.1.0", [
        { perMinute: 540, code: 200, latencyMs: 150 },
        { perMinute: 60, code: 200, latencyMs: 7_200_000 },
    ]),

    // catalog at stage 1 (idle): the canary has never served a request, so it has no series at all.
    production("catalog", "catalog", "2.3.1"),
];

const STACK_FILE = `config:
  stagehand:services:
    checkout:
      image: ghcr.io/acme/checkout
      namespace: shop
      stable: "1.4.2"
      canary: "1.5.0"
      stage: 2
      replicas: 4
      verdict: { window: 1m }
    payments:
      image: ghcr.io/acme/payments
      stable: "0.9.7"
      canary: "0.10.0"
      stage: 2
      replicas: 4
      verdict: { window: 1m }
    search:
      image: ghcr.io/acme/search
      stable: "3.1.0"
      canary: "3.2.0"
      stage: 2
      replicas: 4
      verdict: { window: 1m }
    reviews:
      image: ghcr.io/acme/reviews
      stable: "5.0.0"
      canary: "5.1.0"
      stage: 2
      replicas: 4
      verdict: { maxLatencyIncrease: 1.2 }
    ratings:
      image: ghcr.io/acme/ratings
      stable: "2.0.0"
      canary: "2.1.0"
      stage: 6
      replicas: 4
      verdict: { window: 1m }
    exports:
      image: ghcr.io/acme/exports
      stable: "1.0.0"
      canary: "1.1.0"
      stage: 2
      replicas: 4
      verdict: { window: 1m }
    catalog:
      image: ghcr.io/acme/catalog
      stable: "2.3.1"
      stage: 1
      replicas: 4
      verdict: { window: 1m }
`;

describe("npm run verdict (scripts/verdict.ts) against a real Prometheus scraping Istio's standard metrics", function () {
    this.timeout(30_000);

    let dir: string;
    let root: string;
    let exporter: IstioExporter | undefined;
    let prometheus: RunningPrometheus | undefined;
    /** The 1 s grid of backfilled history: from, to (ms). */
    let historyFrom: number;
    let historyTo: number;

    before(async function () {
        // apt-get update and install when Prometheus is absent, then backfill, start and the first scrape.
        this.timeout(INSTALL_TIMEOUT_MS + 60_000 + READY_TIMEOUT_MS + 30_000);
        const bin = await ensurePrometheus();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-prometheus-"));
        root = path.join(dir, "project");
        fs.mkdirSync(root);
        fs.writeFileSync(path.join(root, "Pulumi.mesh.yaml"), STACK_FILE);

        // The counters have been counting for an hour (so none is near zero at the window's start, where
        // increase() would stop extrapolating), and the history is the last HISTORY_MS of it on a 1 s grid.
        historyTo = Math.floor(Date.now() / 1000) * 1000;
        historyFrom = historyTo - HISTORY_MS;
        const origin = historyTo - 3_600_000;
        exporter = await startIstioExporter(WORKLOADS, origin);
        const tsdb = await backfilledHistory(bin.promtool, dir, WORKLOADS, exporter, SCRAPE_JOB, origin, historyFrom, historyTo);

        prometheus = await startPrometheus(bin.prometheus, {
            dir,
            tsdbDir: tsdb,
            config: [
                "global:",
                "  scrape_interval: 1s",
                "  scrape_timeout: 1s",
                "  evaluation_interval: 1m",
                "scrape_configs:",
                `  - job_name: ${SCRAPE_JOB}`,
                "    static_configs:",
                `      - targets: ["${exporter.target}"]`,
                "",
            ].join("\n"),
        });
        await freshSamples();
    });

    after(async function () {
        this.timeout(20_000);
        await prometheus?.stop();
        await exporter?.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /**
     * Waits for the exporter's next scrape and until Prometheus has stored it, so a query made now finds a
     * sample well within one scrape interval of its end (see the top of the file); returns that sample's time.
     */
    async function freshSamples(): Promise<number> {
        let timer: NodeJS.Timeout | undefined;
        const served = await Promise.race([
            exporter!.nextScrape(),
            new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no scrape of the exporter within 15 s; Prometheus logged:\n${prometheus!.log()}`)), 15_000);
            }),
        ]).finally(() => clearTimeout(timer));
        const deadline = Date.now() + 5000;
        for (;;) {
            const [latest] = await prometheus!.query("max(timestamp(istio_requests_total))");
            if (latest && Math.round(Number(latest.value[1]) * 1000) >= served) return served;
            if (Date.now() > deadline) throw new Error(`Prometheus did not store the scrape of ${served} within 5 s; it logged:\n${prometheus!.log()}`);
            await new Promise((r) => setTimeout(r, 20));
        }
    }

    async function verdict(service: string, ...extra: string[]) {
        const served = await freshSamples();
        // The window's start must fall inside the 1 s history, or increase() extrapolates differently.
        assert.ok(Date.now() - 60_000 > historyFrom + 1000, `the verdicts ran more than ${(HISTORY_MS - 61_000) / 1000} s after the history ends: lengthen HISTORY_MS`);
        // And its end within a fraction of a scrape interval of the last sample (typically a few ms here).
        assert.ok(Date.now() - served < 500, `${Date.now() - served} ms passed since the last sample Prometheus stored`);
        let stdout = "";
        let stderr = "";
        const code = await main(["mesh", service, "--prometheus", prometheus!.url, "--timeout", "10", ...extra], {}, { root, out: (s) => (stdout += s), err: (s) => (stderr += s) });
        assert.strictEqual(stderr, "");
        return { code, stdout, report: extra.includes("--json") ? JSON.parse(stdout) : undefined };
    }

    it("holds the exporter's series as Istio labels them: history and scrapes are one series per label set", async () => {
        const up = await prometheus!.query(`up{job="${SCRAPE_JOB}"}`);
        assert.deepStrictEqual(
            up.map((s: any) => [s.metric.instance, s.value[1]]),
            [[exporter!.target, "1"]],
        );
        // Two reporters (the canary's sidecar and the gateway) of a canary with 200s and 503s: four request series.
        const series = await prometheus!.query('istio_requests_total{destination_workload="checkout-canary",destination_workload_namespace="shop"}');
        assert.deepStrictEqual(
            series.map((s: any) => `${s.metric.reporter} ${s.metric.response_code} ${s.metric.destination_version} ${s.metric.destination_service} ${s.metric.job}`).sort(),
            [
                "destination 200 1.5.0 checkout.shop.svc.cluster.local istio-mesh",
                "destination 503 1.5.0 checkout.shop.svc.cluster.local istio-mesh",
                "source 200 1.5.0 checkout.shop.svc.cluster.local istio-mesh",
                "source 503 1.5.0 checkout.shop.svc.cluster.local istio-mesh",
            ],
        );
        // Samples from the start of the history to the latest scrape, every second: 1 s grid then live scrapes.
        const [samples] = await prometheus!.query(
            'count_over_time(istio_requests_total{reporter="destination",destination_workload="checkout-canary",destination_workload_namespace="shop",response_code="200"}[5m])',
        );
        assert.ok(Number(samples.value[1]) > HISTORY_MS / 1000, `expected more than ${HISTORY_MS / 1000} samples, got ${samples.value[1]}`);
        // Every bucket Istio has, and +Inf.
        const buckets = await prometheus!.query('count(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload="checkout-canary",response_code="200"})');
        assert.strictEqual(buckets[0].value[1], "20");
    });

    it("healthy: checkout's canary at 0.5% 5xx and a p95 of 75 ms, each track counted once and apart (exit 0)", async () => {
        const { code, report } = await verdict("checkout", "--json");
        assert.strictEqual(code, 0);
        assert.strictEqual(report.verdict, "healthy");
        assert.strictEqual(report.exitCode, 0);
        assert.strictEqual(report.window, "1m");
        const { production: p, canary: c } = report.tracks;
        // Not 1200 (the gateway's reports counted too), not 1200 with 603 5xx (the other namespace's canary).
        assert.deepStrictEqual([c.workload, c.requests, c.errors, c.errorRate], ["checkout-canary", 600, 3, 0.005]);
        assert.strictEqual(c.p95Ms, 75);
        assert.deepStrictEqual([p.workload, p.requests, p.errors, p.errorRate], ["checkout-production", 5400, 27, 0.005]);
        assert.strictEqual(p.p95Ms, 175);
        assert.deepStrictEqual(report.reasons, [
            "canary served 600 requests in the last 1m (at least 100)",
            "canary error rate 0.50% (3 of 600 requests) is at most 1.00%",
            "canary p95 latency 75 ms is at most 500 ms",
        ]);
    });

    it("prints the same numbers as a table", async () => {
        const { code, stdout } = await verdict("checkout");
        assert.strictEqual(code, 0);
        assert.strictEqual(
            stdout,
            [
                `service checkout of stack mesh (namespace shop), last 1m, Prometheus ${prometheus!.url}`,
                "stage 2/6 canary 10%: 90% -> 1.4.2 (production x4), 10% -> 1.5.0 (canary x2); strategy canary",
                "",
                "             PRODUCTION  CANARY",
                "requests     5400        600",
                "5xx          27          3",
                "error rate   0.50%       0.50%",
                "p95 latency  175 ms      75 ms",
                "",
                "thresholds: at least 100 canary requests, error rate at most 1.00%, p95 at most 500 ms",
                "verdict: healthy",
                "  - canary served 600 requests in the last 1m (at least 100)",
                "  - canary error rate 0.50% (3 of 600 requests) is at most 1.00%",
                "  - canary p95 latency 75 ms is at most 500 ms",
                "",
            ].join("\n"),
        );
    });

    it("failing on errors: payments' canary answers 5% 503s (exit 1); production has no 5xx series at all", async () => {
        const { code, report } = await verdict("payments", "--json");
        assert.strictEqual(code, 1);
        assert.strictEqual(report.verdict, "failing");
        const { production: p, canary: c } = report.tracks;
        assert.deepStrictEqual([c.requests, c.errors, c.errorRate], [600, 30, 0.05]);
        assert.strictEqual(c.p95Ms, 175);
        assert.deepStrictEqual([p.requests, p.errors, p.errorRate], [5400, 0, 0]);
        assert.strictEqual(p.p95Ms, 175);
        assert.deepStrictEqual(report.reasons, ["canary error rate 5.00% (30 of 600 requests) is above the maximum 1.00%"]);
    });

    it("failing on p95: search's canary has a p95 of 1750 ms, interpolated inside the 1000-2500 ms bucket (exit 1)", async () => {
        const { code, report } = await verdict("search", "--json");
        assert.strictEqual(code, 1);
        assert.strictEqual(report.verdict, "failing");
        const { production: p, canary: c } = report.tracks;
        assert.deepStrictEqual([c.requests, c.errors, c.errorRate], [600, 0, 0]);
        assert.strictEqual(c.p95Ms, 1750);
        assert.strictEqual(p.p95Ms, 175);
        assert.deepStrictEqual(report.reasons, ["canary p95 latency 1750 ms is above the maximum 500 ms"]);
    });

    it("failing relative to production: reviews' canary p95 375 ms is above 1.2 × production's 175 ms (exit 1)", async () => {
        const { code, report } = await verdict("reviews", "--json", "--window", "1m");
        assert.strictEqual(code, 1);
        assert.strictEqual(report.verdict, "failing");
        assert.strictEqual(report.window, "1m");
        const { production: p, canary: c } = report.tracks;
        assert.deepStrictEqual([c.requests, c.errors, p.requests, p.errors], [600, 0, 5400, 0]);
        assert.strictEqual(c.p95Ms, 375);
        assert.strictEqual(p.p95Ms, 175);
        assert.deepStrictEqual(report.reasons, ["canary p95 latency 375 ms is above 1.2 × production's 175 ms (210 ms)"]);
    });

    it("failing on p95 beyond the largest bucket: Prometheus answers Istio's largest bound, 3600000 ms, not +Inf (exit 1)", async () => {
        const { code, report } = await verdict("exports", "--json");
        assert.strictEqual(code, 1);
        assert.strictEqual(report.tracks.canary.requests, 600);
        assert.strictEqual(report.tracks.canary.p95Ms, 3_600_000);
        assert.deepStrictEqual(report.reasons, ["canary p95 latency 3600000 ms is above the maximum 500 ms"]);
    });

    it("not enough traffic: ratings' canary drains at switch back, 40 requests, on the same tag as production (exit 2)", async () => {
        const { code, report } = await verdict("ratings", "--json");
        assert.strictEqual(code, 2);
        assert.strictEqual(report.verdict, "not enough traffic");
        assert.deepStrictEqual(report.stage, { stage: 6, stageCount: 6, name: "switch back", description: report.stage.description });
        const { production: p, canary: c } = report.tracks;
        // Both Deployments run 2.1.0: only destination_workload tells them apart.
        assert.deepStrictEqual([c.requests, c.errors, c.errorRate], [40, 0, 0]);
        assert.strictEqual(c.p95Ms, 25 + (25 * 38) / 40);
        assert.deepStrictEqual([p.requests, p.errors], [5400, 0]);
        assert.deepStrictEqual(report.reasons, ["canary served only 40 requests (0 5xx) in the last 1m, fewer than the 100 needed to judge it"]);
    });

    it("not enough traffic: catalog's idle canary has no series, so no requests and an unknown p95 (exit 2)", async () => {
        const { code, report } = await verdict("catalog", "--json");
        assert.strictEqual(code, 2);
        assert.strictEqual(report.verdict, "not enough traffic");
        assert.deepStrictEqual(report.tracks.canary, { workload: "catalog-canary", requests: 0, errors: 0, errorRate: null, p95Ms: null });
        assert.deepStrictEqual([report.tracks.production.requests, report.tracks.production.errors], [5400, 0]);
        assert.strictEqual(report.tracks.production.p95Ms, 175);
        assert.deepStrictEqual(report.reasons, ["canary served no requests in the last 1m, fewer than the 100 needed to judge it"]);
    });
});
