// `npm run verdict -- <stack> <service> [--json] [--prometheus URL] [--timeout SECONDS] [--window DURATION]`:
// the canary's error rate, p95 latency and request count beside production's, from Istio's standard metrics
// in Prometheus, with a verdict against the service's `verdict` thresholds. Exit codes: see EXIT_CODES.
import { parseArgs } from "util";
import { parseServices } from "../components/service/config";
import { VerdictConfig, verdictWindowSchema } from "../components/service/routing-config";
import { StagePlan, stagePlan } from "../components/service/stages";
import { Track, TRACKS } from "../components/shared/tracks";
import {
    EXIT_CODES,
    errorRate,
    formatMs,
    formatPercent,
    judge,
    TrackMetrics,
    trackQueries,
    TracksMetrics,
    VerdictResult,
    verdictThresholds,
    workloadOf,
} from "../components/service/verdict";
import { npmSwallowedFlags, npmSwallowedMessage, stackArgumentMessage } from "./args";
import { projectRoot, readStackConfig } from "./stack-file";

export const DEFAULT_PROMETHEUS = "http://127.0.0.1:9090";
export const DEFAULT_TIMEOUT_SECONDS = 10;

const USAGE = `usage: npm run verdict -- <stack> <service> [--json] [--prometheus URL] [--timeout SECONDS] [--window DURATION]
  --prometheus  Prometheus base URL (default: $PROMETHEUS_URL, else ${DEFAULT_PROMETHEUS},
                which \`kubectl -n prometheus port-forward svc/prometheus 9090\` serves)
  --timeout     seconds to wait for each Prometheus query (default ${DEFAULT_TIMEOUT_SECONDS})
  --window      Prometheus duration to look back over (default: the service's verdict.window, else 10m)
  --json        print one JSON object instead of the table
exit codes: 0 healthy, 1 failing, 2 not enough traffic, 3 Prometheus could not be queried, 4 usage or config error`;

/** Prometheus could not be queried, or answered something that is not an instant-query vector. */
export class QueryError extends Error {
    constructor(
        readonly problem: string,
        readonly prometheus: string,
        readonly query: string,
    ) {
        super(`${problem}\n  query: ${query}`);
        this.name = "QueryError";
    }
}

class UsageError extends Error {}
class Cancelled extends Error {}

const CONNECT_ERRORS: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host name lookup failed",
    ECONNRESET: "connection reset",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    UND_ERR_SOCKET: "connection closed",
};

function snippet(text: string): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 120)}…` : flat);
}

/** Prometheus' sample value: a decimal string, or "NaN", "+Inf", "-Inf". */
function sampleValue(s: unknown): number | undefined {
    if (s === "NaN") return NaN;
    if (s === "+Inf") return Infinity;
    if (s === "-Inf") return -Infinity;
    if (typeof s !== "string" || s.trim() === "") return undefined;
    const n = Number(s);
    return Number.isNaN(n) ? undefined : n;
}

/**
 * One instant query (`GET <prometheus>/api/v1/query?query=…`): the value of its single series, or undefined
 * for an empty result. Every failure is a QueryError naming the Prometheus URL and the query.
 */
export async function instantQuery(prometheus: string, query: string, timeoutMs: number, cancel?: AbortSignal): Promise<number | undefined> {
    const url = `${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`;
    const fail = (problem: string) => new QueryError(problem, prometheus, query);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
    }, timeoutMs);
    const onCancel = () => controller.abort();
    cancel?.addEventListener("abort", onCancel, { once: true });
    let status: number;
    let statusText: string;
    let text: string;
    try {
        const res = await fetch(url, { signal: controller.signal, headers: { accept: "application/json" } });
        status = res.status;
        statusText = res.statusText;
        text = await res.text();
    } catch (e: any) {
        if (timedOut) throw fail(`Prometheus at ${prometheus} did not answer within ${timeoutMs / 1000} s (--timeout)`);
        if (cancel?.aborted) throw new Cancelled();
        const code: string | undefined = e?.cause?.code;
        const why = (code && CONNECT_ERRORS[code] ? `${CONNECT_ERRORS[code]} (${code})` : undefined) ?? e?.cause?.message ?? e?.message ?? String(e);
        throw fail(
            `could not reach Prometheus at ${prometheus}: ${why}; is it running and reachable? ` +
                `e.g. \`kubectl -n prometheus port-forward svc/prometheus 9090\`, or pass --prometheus / set PROMETHEUS_URL`,
        );
    } finally {
        clearTimeout(timer);
        cancel?.removeEventListener("abort", onCancel);
    }

    let body: any;
    try {
        body = JSON.parse(text);
    } catch {
        body = undefined;
    }
    const http = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
    if (body && body.status === "error") {
        throw fail(`Prometheus at ${prometheus} answered ${http} with an error: ${body.errorType ?? "error"}: ${body.error ?? "(no message)"}`);
    }
    if (status < 200 || status > 299) {
        throw fail(`Prometheus at ${prometheus} answered ${http}, not Prometheus API JSON: ${snippet(text)}`);
    }
    const result = body?.data?.result;
    if (body?.status !== "success" || body.data.resultType !== "vector" || !Array.isArray(result)) {
        throw fail(`Prometheus at ${prometheus} answered ${http} with something other than an instant-query vector (is it the Prometheus API?): ${snippet(text)}`);
    }
    if (result.length === 0) return undefined;
    if (result.length > 1) throw fail(`Prometheus at ${prometheus} answered ${result.length} series where the query sums to one`);
    const value = Array.isArray(result[0]?.value) ? sampleValue(result[0].value[1]) : undefined;
    if (value === undefined) throw fail(`Prometheus at ${prometheus} answered a sample without a number: ${snippet(JSON.stringify(result[0]))}`);
    return value;
}

/** Requests, 5xx and p95 of both tracks: six instant queries in parallel; the first failure cancels the rest. */
export async function queryTracks(prometheus: string, service: string, namespace: string, window: string, timeoutMs: number): Promise<TracksMetrics> {
    const cancel = new AbortController();
    let firstError: unknown;
    const run = (query: string) =>
        instantQuery(prometheus, query, timeoutMs, cancel.signal).catch((e) => {
            if (firstError === undefined && !(e instanceof Cancelled)) {
                firstError = e;
                cancel.abort();
            }
            return undefined;
        });
    const count = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 0 : Math.round(v));
    // Prometheus's float arithmetic (per-second rates of each bucket, interpolation inside one) leaves noise such
    // as 74.99999999999999 for a p95 of 75 ms: kept to the microsecond, the report and the thresholds see 75.
    const latency = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? null : v === Infinity ? v : Math.round(v * 1000) / 1000);
    const perTrack = TRACKS.map(async (track): Promise<[Track, TrackMetrics]> => {
        const q = trackQueries(service, namespace, track, window);
        const [requests, errors, p95] = await Promise.all([run(q.requests), run(q.errors), run(q.p95)]);
        return [track, { requests: count(requests), errors: count(errors), p95Ms: latency(p95) }];
    });
    const results = await Promise.all(perTrack);
    if (firstError !== undefined) throw firstError;
    return Object.fromEntries(results) as TracksMetrics;
}

export interface VerdictReport {
    stack: string;
    service: string;
    namespace: string;
    stage: Pick<StagePlan, "stage" | "stageCount" | "name" | "description">;
    window: string;
    prometheus: string;
    tracks: Record<Track, { workload: string; requests: number; errors: number; errorRate: number | null; p95Ms: number | "+Inf" | null }>;
    thresholds: VerdictConfig;
    verdict: VerdictResult["verdict"];
    exitCode: number;
    reasons: string[];
}

function table(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

export function formatReport(r: VerdictReport, metrics: TracksMetrics): string {
    const t = r.thresholds;
    const cell = {
        requests: (m: TrackMetrics) => String(m.requests),
        errors: (m: TrackMetrics) => String(m.errors),
        rate: (m: TrackMetrics) => {
            const rate = errorRate(m);
            return rate === null ? "-" : formatPercent(rate);
        },
        p95: (m: TrackMetrics) => (m.p95Ms === null ? "-" : formatMs(m.p95Ms)),
    };
    const rows = [
        ["", "PRODUCTION", "CANARY"],
        ["requests", ...TRACKS.map((k) => cell.requests(metrics[k]))],
        ["5xx", ...TRACKS.map((k) => cell.errors(metrics[k]))],
        ["error rate", ...TRACKS.map((k) => cell.rate(metrics[k]))],
        ["p95 latency", ...TRACKS.map((k) => cell.p95(metrics[k]))],
    ];
    const limits = [`at least ${t.minRequests} canary requests`, `error rate at most ${formatPercent(t.maxErrorRate)}`, `p95 at most ${formatMs(t.maxP95LatencyMs)}`];
    if (t.maxLatencyIncrease !== undefined) limits.push(`p95 at most ${t.maxLatencyIncrease} × production's`);
    return [
        `service ${r.service} of stack ${r.stack} (namespace ${r.namespace}), last ${r.window}, Prometheus ${r.prometheus}`,
        r.stage.description,
        "",
        table(rows),
        "",
        `thresholds: ${limits.join(", ")}`,
        `verdict: ${r.verdict}`,
        ...r.reasons.map((reason) => `  - ${reason}`),
    ].join("\n");
}

export interface VerdictOptions {
    /** Where output goes; default process.stdout / process.stderr. */
    out?: (text: string) => void;
    err?: (text: string) => void;
    /** Directory holding Pulumi.<stack>.yaml; default the project root. */
    root?: string;
}

function prometheusUrl(raw: string): string {
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        throw new UsageError(`--prometheus / PROMETHEUS_URL: expected an http(s) URL such as ${DEFAULT_PROMETHEUS}, found ${JSON.stringify(raw)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new UsageError(`--prometheus / PROMETHEUS_URL: expected an http(s) URL such as ${DEFAULT_PROMETHEUS}, found ${JSON.stringify(raw)}`);
    }
    return raw.replace(/\/+$/, "");
}

/** Runs the command; resolves to its exit code. Never calls process.exit. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, options: VerdictOptions = {}): Promise<number> {
    const out = options.out ?? ((s: string) => void process.stdout.write(s));
    const err = options.err ?? ((s: string) => void process.stderr.write(s));
    const json = argv.includes("--json");
    // Errors go to stderr; with --json, stdout still gets one JSON object (verdict null, the error, the exit code).
    const failWith = (code: number, message: string, context: Record<string, unknown> = {}, usage = false) => {
        err(`verdict: ${message}\n${usage ? `${USAGE}\n` : ""}`);
        if (json) out(`${JSON.stringify({ ...context, verdict: null, exitCode: code, error: message }, null, 2)}\n`);
        return code;
    };

    let args: ReturnType<typeof parse>;
    function parse() {
        return parseArgs({
            args: argv,
            allowPositionals: true,
            strict: true,
            options: {
                json: { type: "boolean" },
                help: { type: "boolean", short: "h" },
                prometheus: { type: "string" },
                timeout: { type: "string" },
                window: { type: "string" },
            },
        });
    }
    const swallowed = npmSwallowedFlags(argv, { json: { type: "boolean" }, prometheus: { type: "string" }, timeout: { type: "string" }, window: { type: "string" } }, env);
    if (swallowed.length > 0) return failWith(EXIT_CODES.usage, npmSwallowedMessage("verdict", argv, swallowed), {}, true);
    try {
        args = parse();
    } catch (e: any) {
        return failWith(EXIT_CODES.usage, e.message, {}, true);
    }
    const notAStack = args.positionals[0] === undefined ? undefined : stackArgumentMessage(args.positionals[0], argv, USAGE);
    if (notAStack && !args.values.help) return failWith(EXIT_CODES.usage, notAStack, {}, true);
    if (args.values.help) {
        out(`${USAGE}\n`);
        return 0;
    }
    const [stack, name, ...extra] = args.positionals;
    if (!stack || !name || extra.length > 0) return failWith(EXIT_CODES.usage, `expected a stack and a service, found ${args.positionals.length} argument${args.positionals.length === 1 ? "" : "s"}`, {}, true);

    let context: Record<string, unknown> = { stack, service: name };
    let report: Omit<VerdictReport, "tracks" | "verdict" | "exitCode" | "reasons">;
    let timeoutMs: number;
    try {
        const prometheus = prometheusUrl(args.values.prometheus ?? (env.PROMETHEUS_URL || DEFAULT_PROMETHEUS));
        const timeoutText = args.values.timeout ?? String(DEFAULT_TIMEOUT_SECONDS);
        timeoutMs = Number(timeoutText) * 1000;
        if (!/^\d*\.?\d+$/.test(timeoutText) || !(timeoutMs > 0)) throw new UsageError(`--timeout: expected a number of seconds greater than 0, found ${JSON.stringify(timeoutText)}`);
        if (args.values.window !== undefined && !verdictWindowSchema.safeParse(args.values.window).success) {
            throw new UsageError(`--window: expected a Prometheus duration of at least 1m, such as "10m" or "1h30m", found ${JSON.stringify(args.values.window)}`);
        }
        const services = parseServices(stack, readStackConfig(stack, options.root ?? projectRoot).services);
        const service = services[name];
        if (!service) {
            throw new UsageError(`stack ${stack} has no service ${JSON.stringify(name)} (services: ${Object.keys(services).sort().join(", ") || "none"})`);
        }
        const thresholds = { ...verdictThresholds(service), ...(args.values.window ? { window: args.values.window } : {}) };
        const plan = stagePlan(service);
        report = {
            stack,
            service: name,
            namespace: service.namespace,
            stage: { stage: plan.stage, stageCount: plan.stageCount, name: plan.name, description: plan.description },
            window: thresholds.window,
            prometheus,
            thresholds,
        };
        context = { ...context, prometheus, window: thresholds.window };
    } catch (e: any) {
        // UsageError, ConfigError (every problem of the stack's config) or readStackConfig's unknown stack / bad YAML.
        return failWith(EXIT_CODES.usage, e.message, context);
    }

    let metrics: TracksMetrics;
    try {
        metrics = await queryTracks(report.prometheus, report.service, report.namespace, report.window, timeoutMs);
    } catch (e: any) {
        if (e instanceof QueryError) return failWith(EXIT_CODES.queryFailed, e.message, context);
        throw e;
    }

    const result = judge(metrics, report.thresholds);
    const full: VerdictReport = {
        ...report,
        tracks: Object.fromEntries(
            TRACKS.map((k) => [
                k,
                {
                    workload: workloadOf(report.service, k),
                    requests: metrics[k].requests,
                    errors: metrics[k].errors,
                    errorRate: errorRate(metrics[k]),
                    p95Ms: metrics[k].p95Ms === Infinity ? "+Inf" : metrics[k].p95Ms,
                },
            ]),
        ) as VerdictReport["tracks"],
        verdict: result.verdict,
        exitCode: EXIT_CODES[result.verdict],
        reasons: result.reasons,
    };
    out(json ? `${JSON.stringify(full, null, 2)}\n` : `${formatReport(full, metrics)}\n`);
    return full.exitCode;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(`verdict: ${e?.stack ?? e}`);
            process.exit(EXIT_CODES.usage);
        },
    );
}
