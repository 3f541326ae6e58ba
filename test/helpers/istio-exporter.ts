// A stand-in for the Envoy sidecars of a mesh: Istio's standard request metrics (istio_requests_total and the
// istio_request_duration_milliseconds histogram, with the labels Istio's stats plugin puts on them) for a few
// workloads with known traffic, served over HTTP on 127.0.0.1 in the Prometheus text format for a real
// Prometheus to scrape, and written out as OpenMetrics history for `promtool tsdb create-blocks-from openmetrics`.
//
// Every counter grows linearly with time: a request class of `perMinute` requests adds `perMinute` to its
// counters (and its latency bucket) every 60 s, counted from `origin`. Each sample carries its own timestamp
// (the text format allows it; Prometheus honours it by default), and the value is the exact count at that
// timestamp, so the samples Prometheus holds lie on straight lines whenever it scraped them, and increase()
// over any window the samples cover is the traffic of that window, whatever the scrape timing.
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { backfill } from "./prometheus";

/** Istio's default buckets of istio_request_duration_milliseconds (its stats plugin's histogram bounds), in ms. */
export const ISTIO_DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** Requests of one kind: how many a minute, with which status code, each taking `latencyMs`. */
export interface RequestClass {
    perMinute: number;
    code: number;
    latencyMs: number;
}

/** One Deployment of a service (a track), and the requests it serves. */
export interface Workload {
    /** The service (app) name, e.g. "checkout". */
    service: string;
    namespace: string;
    /** The Deployment: Istio's destination_workload, e.g. "checkout-canary". */
    workload: string;
    /** The image tag it runs: Istio's destination_version and destination_canonical_revision. */
    version: string;
    requests: RequestClass[];
}

type Labels = Record<string, string>;

export interface Series {
    /** The metric's full sample name, e.g. istio_requests_total or istio_request_duration_milliseconds_bucket. */
    name: string;
    labels: Labels;
    /** Increase per minute. */
    perMinute: number;
}

export interface Family {
    /** The family as the text format names it (TYPE line), and as OpenMetrics does. */
    textName: string;
    openMetricsName: string;
    type: "counter" | "histogram";
    help: string;
    series: Series[];
}

/**
 * The labels Istio's stats plugin puts on a request metric, for requests from the ingress gateway to `w`.
 * `reporter="destination"` is the server-side sidecar of `w`; `reporter="source"` the gateway's Envoy reporting
 * the same requests as a client (its connection_security_policy is "unknown": a client cannot see it).
 */
function istioLabels(w: Workload, reporter: "destination" | "source", code: number): Labels {
    const host = `${w.service}.${w.namespace}.svc.cluster.local`;
    return {
        reporter,
        source_workload: "istio-ingressgateway",
        source_workload_namespace: "istio-system",
        source_principal: "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",
        source_app: "istio-ingressgateway",
        source_version: "unknown",
        source_cluster: "Kubernetes",
        source_canonical_service: "istio-ingressgateway",
        source_canonical_revision: "latest",
        destination_workload: w.workload,
        destination_workload_namespace: w.namespace,
        destination_principal: `spiffe://cluster.local/ns/${w.namespace}/sa/${w.service}`,
        destination_app: w.service,
        destination_version: w.version,
        destination_service: host,
        destination_service_name: w.service,
        destination_service_namespace: w.namespace,
        destination_cluster: "Kubernetes",
        destination_canonical_service: w.service,
        destination_canonical_revision: w.version,
        request_protocol: "http",
        response_code: String(code),
        grpc_response_status: "",
        response_flags: "-",
        connection_security_policy: reporter === "destination" ? "mutual_tls" : "unknown",
    };
}

/** The metric families of these workloads: every request reported by the destination sidecar and by the gateway. */
export function families(workloads: Workload[]): Family[] {
    const requests: Family = {
        textName: "istio_requests_total",
        openMetricsName: "istio_requests",
        type: "counter",
        help: "Total requests.",
        series: [],
    };
    const duration: Family = {
        textName: "istio_request_duration_milliseconds",
        openMetricsName: "istio_request_duration_milliseconds",
        type: "histogram",
        help: "Request duration in milliseconds.",
        series: [],
    };
    for (const w of workloads) {
        const codes = [...new Set(w.requests.map((r) => r.code))].sort();
        for (const reporter of ["destination", "source"] as const) {
            for (const code of codes) {
                const classes = w.requests.filter((r) => r.code === code);
                const labels = istioLabels(w, reporter, code);
                const count = classes.reduce((n, r) => n + r.perMinute, 0);
                requests.series.push({ name: "istio_requests_total", labels, perMinute: count });
                for (const le of [...ISTIO_DURATION_BUCKETS_MS, Infinity]) {
                    const inBucket = classes.filter((r) => r.latencyMs <= le).reduce((n, r) => n + r.perMinute, 0);
                    duration.series.push({ name: "istio_request_duration_milliseconds_bucket", labels: { ...labels, le: le === Infinity ? "+Inf" : String(le) }, perMinute: inBucket });
                }
                const sum = classes.reduce((n, r) => n + r.perMinute * r.latencyMs, 0);
                duration.series.push({ name: "istio_request_duration_milliseconds_sum", labels, perMinute: sum });
                duration.series.push({ name: "istio_request_duration_milliseconds_count", labels, perMinute: count });
            }
        }
    }
    return [requests, duration];
}

function escape(value: string): string {
    return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Labels): string {
    return `{${Object.entries(labels)
        .map(([k, v]) => `${k}="${escape(v)}"`)
        .join(",")}}`;
}

/** The value of a series at `timeMs`: what it counted since `originMs`. */
function valueAt(s: Series, originMs: number, timeMs: number): number {
    return (s.perMinute * (timeMs - originMs)) / 60_000;
}

/** The Prometheus text exposition format (0.0.4) at `timeMs`, every sample stamped with it (in ms). */
export function textExposition(fams: Family[], originMs: number, timeMs: number): string {
    const lines: string[] = [];
    for (const f of fams) {
        lines.push(`# HELP ${f.textName} ${f.help}`, `# TYPE ${f.textName} ${f.type}`);
        for (const s of f.series) lines.push(`${s.name}${labelText(s.labels)} ${valueAt(s, originMs, timeMs)} ${timeMs}`);
    }
    return `${lines.join("\n")}\n`;
}

/**
 * Writes to `file` the OpenMetrics text of the history from `fromMs` to `toMs` (inclusive) every `stepMs`, each
 * series with `extra` labels (the `job` and `instance` a scrape adds, so that the history and the scraped
 * samples are one series). Timestamps are in seconds, as OpenMetrics has them; each series' points are in time
 * order, and a histogram's buckets, sum and count of one time are together. Written in pieces: it is large.
 */
export function writeOpenMetricsHistory(file: string, fams: Family[], originMs: number, fromMs: number, toMs: number, stepMs: number, extra: Labels): void {
    const times: number[] = [];
    for (let t = fromMs; t <= toMs; t += stepMs) times.push(t);
    const fd = fs.openSync(file, "w");
    try {
        let buffer: string[] = [];
        const flush = () => {
            fs.writeSync(fd, buffer.join(""));
            buffer = [];
        };
        const line = (text: string) => {
            buffer.push(text, "\n");
            if (buffer.length >= 20_000) flush();
        };
        for (const f of fams) {
            line(`# HELP ${f.openMetricsName} ${f.help}`);
            line(`# TYPE ${f.openMetricsName} ${f.type}`);
            // Group the series of one label set (a counter: itself; a histogram: its buckets, sum and count).
            const groups = new Map<string, Series[]>();
            for (const s of f.series) {
                const { le: _le, ...rest } = s.labels;
                const key = labelText(rest);
                groups.set(key, [...(groups.get(key) ?? []), s]);
            }
            for (const group of groups.values()) {
                const names = group.map((s) => `${s.name}${labelText({ ...s.labels, ...extra })} `);
                for (const t of times) {
                    const stamp = ` ${t / 1000}`;
                    group.forEach((s, i) => line(`${names[i]}${valueAt(s, originMs, t)}${stamp}`));
                }
            }
        }
        line("# EOF");
        flush();
    } finally {
        fs.closeSync(fd);
    }
}

export interface IstioExporter {
    /** host:port, as a scrape config's target (and Prometheus' `instance` label) names it. */
    target: string;
    /** The timestamp (ms) of the last sample served, or undefined before the first scrape. */
    lastServedMs(): number | undefined;
    /** Resolves with the timestamp (ms) of the next scrape's samples. */
    nextScrape(): Promise<number>;
    close(): Promise<void>;
}

/** Serves /metrics on 127.0.0.1 (a free port): the workloads' counters as of each scrape. */
export async function startIstioExporter(workloads: Workload[], originMs: number): Promise<IstioExporter> {
    const fams = families(workloads);
    let last: number | undefined;
    let waiting: ((t: number) => void)[] = [];
    const server = http.createServer((req, res) => {
        if (req.url !== "/metrics" && !req.url?.startsWith("/metrics?")) {
            res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
            return;
        }
        const now = Date.now();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(textExposition(fams, originMs, now), () => {
            last = now;
            const resolve = waiting;
            waiting = [];
            for (const r of resolve) r(now);
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    return {
        target: `127.0.0.1:${port}`,
        lastServedMs: () => last,
        nextScrape: () => new Promise<number>((resolve) => waiting.push(resolve)),
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

/**
 * The history of `workloads` from `fromMs` to `toMs` (one sample a second, labelled as the exporter's scrape job
 * would label it), backfilled with promtool into a new TSDB under `dir`; returns the TSDB's directory. Prometheus
 * started on it sees the past, and scraping the exporter carries the series on.
 */
export async function backfilledHistory(promtool: string, dir: string, workloads: Workload[], exporter: IstioExporter, job: string, originMs: number, fromMs: number, toMs: number): Promise<string> {
    const history = path.join(dir, "history.om");
    writeOpenMetricsHistory(history, families(workloads), originMs, fromMs, toMs, 1000, { job, instance: exporter.target });
    const tsdb = path.join(dir, "tsdb");
    await backfill(promtool, history, tsdb);
    fs.rmSync(history);
    return tsdb;
}
