// Pure: what `npm run verdict` asks Prometheus about a service's two tracks, and what the answers mean.
// The queries use Istio's standard metrics as reported by the server-side proxy (reporter="destination"),
// split by Deployment (destination_workload = <service>-production | <service>-canary), so the tracks stay
// apart even when both run the same tag (promote, switch back). No I/O here: scripts/verdict.ts does that.
import { Track } from "../shared/tracks";
import { ServiceConfig } from "./config";
import { verdictSchema, VerdictConfig } from "./routing-config";

export type Verdict = "healthy" | "failing" | "not enough traffic";

/** Exit codes of `npm run verdict`, one per outcome. */
export const EXIT_CODES = {
    healthy: 0,
    failing: 1,
    "not enough traffic": 2,
    /** Prometheus could not be queried: unreachable, timed out, HTTP or API error, or an answer that is not a vector. */
    queryFailed: 3,
    /** Bad arguments, unknown stack or service, or invalid stack config. */
    usage: 4,
} as const;

/** The thresholds of a service: its `verdict` config with defaults filled in. */
export function verdictThresholds(service: Pick<ServiceConfig, "verdict">): VerdictConfig {
    return service.verdict ?? verdictSchema.parse({});
}

/** What Prometheus said about one track over the window. Counts are whole requests (increase() rounded). */
export interface TrackMetrics {
    requests: number;
    /** Requests answered with a 5xx status. */
    errors: number;
    /** p95 latency in ms; null when unknown (no histogram samples: Prometheus answers NaN or nothing). */
    p95Ms: number | null;
}

export type TracksMetrics = Record<Track, TrackMetrics>;

/** Fraction of 5xx answers; null without requests. */
export function errorRate(m: TrackMetrics): number | null {
    return m.requests > 0 ? m.errors / m.requests : null;
}

/** The Deployment (and so Istio's destination_workload) of a track: see charts/service "service.trackName". */
export function workloadOf(service: string, track: Track): string {
    return `${service}-${track}`;
}

export interface TrackQueries {
    requests: string;
    errors: string;
    p95: string;
}

/** The three PromQL instant queries of one track over the window. */
export function trackQueries(service: string, namespace: string, track: Track, window: string): TrackQueries {
    const selector = (extra = "") =>
        `{reporter="destination",destination_workload_namespace="${namespace}",destination_workload="${workloadOf(service, track)}"${extra}}`;
    return {
        requests: `sum(increase(istio_requests_total${selector()}[${window}]))`,
        errors: `sum(increase(istio_requests_total${selector(',response_code=~"5.."')}[${window}]))`,
        p95: `histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket${selector()}[${window}])))`,
    };
}

export interface VerdictResult {
    verdict: Verdict;
    /** Why, in words a reviewer reads: the checks that decided the verdict, then notes. */
    reasons: string[];
}

export function formatPercent(rate: number): string {
    return `${(rate * 100).toFixed(2)}%`;
}

export function formatMs(ms: number | null): string {
    if (ms === null) return "unknown";
    if (ms === Infinity) return "+Inf ms";
    return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`;
}

function plural(n: number, word: string): string {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * The verdict on the canary, from the metrics of both tracks and the service's thresholds.
 * Only the canary is judged; production is the yardstick of the optional relative latency check.
 *
 * Precedence, first match wins:
 * 1. `failing` if the canary's 5xx are already conclusive: with at least `minRequests` requests, the error
 *    rate is above `maxErrorRate`; with fewer, the errors alone exceed the budget of `minRequests` requests
 *    (errors / minRequests > maxErrorRate), so no amount of further successful traffic could bring it back.
 * 2. `not enough traffic` if the canary served fewer than `minRequests` requests in the window (latency of a
 *    handful of requests, cold starts included, is noise), or if its p95 latency is unknown.
 * 3. `failing` if the canary's p95 is above `maxP95LatencyMs`, or above `maxLatencyIncrease` × production's
 *    p95 (checked only when production also served at least `minRequests` requests with a known p95).
 * 4. `healthy`.
 */
export function judge(tracks: TracksMetrics, t: VerdictConfig): VerdictResult {
    const { canary, production } = tracks;
    const rate = errorRate(canary);
    const notes: string[] = [];
    const prodRate = errorRate(production);
    if (prodRate !== null && prodRate > t.maxErrorRate) {
        notes.push(`note: production's error rate ${formatPercent(prodRate)} is above the maximum too; the cause may not be the canary`);
    }

    // 1. Errors.
    const enough = canary.requests >= t.minRequests;
    const errorsText = `${canary.errors} of ${plural(canary.requests, "request")}`;
    if (rate !== null && enough && rate > t.maxErrorRate) {
        return { verdict: "failing", reasons: [`canary error rate ${formatPercent(rate)} (${errorsText}) is above the maximum ${formatPercent(t.maxErrorRate)}`, ...notes] };
    }
    if (rate !== null && !enough && canary.errors / t.minRequests > t.maxErrorRate) {
        return {
            verdict: "failing",
            reasons: [
                `canary error rate ${formatPercent(rate)} (${errorsText}) is above the maximum ${formatPercent(t.maxErrorRate)}, ` +
                    `and conclusively so: ${plural(canary.errors, "error")} exceed the budget of ${t.minRequests} requests even before the canary reaches them`,
                ...notes,
            ],
        };
    }

    // 2. Traffic.
    if (!enough) {
        const seen = canary.requests === 0 ? "no requests" : `only ${plural(canary.requests, "request")} (${canary.errors} 5xx)`;
        return {
            verdict: "not enough traffic",
            reasons: [`canary served ${seen} in the last ${t.window}, fewer than the ${t.minRequests} needed to judge it`, ...notes],
        };
    }
    const passed = [`canary served ${plural(canary.requests, "request")} in the last ${t.window} (at least ${t.minRequests})`];
    passed.push(`canary error rate ${formatPercent(rate ?? 0)} (${errorsText}) is at most ${formatPercent(t.maxErrorRate)}`);
    if (canary.p95Ms === null) {
        return {
            verdict: "not enough traffic",
            reasons: [`canary p95 latency is unknown: no istio_request_duration_milliseconds samples in the last ${t.window}, so latency cannot be judged`, ...passed, ...notes],
        };
    }

    // 3. Latency.
    const failures: string[] = [];
    if (canary.p95Ms > t.maxP95LatencyMs) {
        failures.push(`canary p95 latency ${formatMs(canary.p95Ms)} is above the maximum ${formatMs(t.maxP95LatencyMs)}`);
    } else {
        passed.push(`canary p95 latency ${formatMs(canary.p95Ms)} is at most ${formatMs(t.maxP95LatencyMs)}`);
    }
    if (t.maxLatencyIncrease !== undefined) {
        const prod = production.p95Ms;
        if (production.requests < t.minRequests || prod === null || prod === Infinity) {
            const why = production.requests < t.minRequests ? `production served ${plural(production.requests, "request")}, fewer than ${t.minRequests}` : "production's p95 latency is unknown";
            notes.push(`relative latency check skipped: ${why} in the last ${t.window}`);
        } else {
            const limit = prod * t.maxLatencyIncrease;
            const words = `${t.maxLatencyIncrease} × production's ${formatMs(prod)} (${formatMs(Math.round(limit * 10) / 10)})`;
            if (canary.p95Ms > limit) failures.push(`canary p95 latency ${formatMs(canary.p95Ms)} is above ${words}`);
            else passed.push(`canary p95 latency ${formatMs(canary.p95Ms)} is at most ${words}`);
        }
    }
    if (failures.length > 0) return { verdict: "failing", reasons: [...failures, ...notes] };
    return { verdict: "healthy", reasons: [...passed, ...notes] };
}
