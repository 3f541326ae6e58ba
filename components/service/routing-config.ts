// The routing fields of a service block: how the mesh treats its requests (`mesh`), sticky sessions (`sticky`), the
// shadow stage (`shadow`), test-user routes (`testRoutes`) and the metrics verdict's thresholds (`verdict`). What
// they change reaches the routing and the judgement of a canary, never the pods (those fields are in config.ts).
// Pure: the program, `npm run plan` and the policies all validate the same way.
import { RE2JS } from "re2js";
import { z } from "zod";
import { promDurationAtLeast, wholeNumber } from "../shared/schema";

// How the mesh treats a service's requests: a second line of defence for requests caught between a proxy and a pod
// that is going away, and for a pod of a track that fails. Defaults are safe for any service: retries only for
// failures before the request reached the app, a bounded request time, and ejection of a pod that keeps failing.
const ISTIO_DURATION_WORDS = "a duration such as \"15s\", \"500ms\" or \"1m\" (a number and ms, s, m or h)";
const istioDuration = z.string({ error: ISTIO_DURATION_WORDS }).regex(/^[0-9]+(\.[0-9]+)?(ms|s|m|h)$/, { error: ISTIO_DURATION_WORDS });

/** Retried: the connection failed, the stream was refused, or it was reset before the request was sent. */
export const SAFE_RETRY_ON = "connect-failure,refused-stream,reset-before-request";
export const DEFAULT_MESH = {
    timeout: "15s",
    retries: { attempts: 2 },
    idempotent: true,
    outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
} as const;

export const meshSchema = z.strictObject(
    {
        // The request's whole time, retries included ("0s": none). Envoy's own default; Istio turns it off.
        timeout: istioDuration.default(DEFAULT_MESH.timeout),
        retries: z
            .strictObject(
                {
                    attempts: wholeNumber("the retries of a request that never reached the app", 0, 10).default(DEFAULT_MESH.retries.attempts),
                    perTryTimeout: istioDuration.optional(),
                },
                { error: "an object with `attempts` and optionally `perTryTimeout`" },
            )
            .prefault({}),
        // false: the service's calls must never be sent twice; no retries at all (Istio's own default retries 503s).
        idempotent: z.boolean({ error: "true or false" }).default(DEFAULT_MESH.idempotent),
        outlierDetection: z
            .union(
                [
                    z.literal(false),
                    z.strictObject({
                        consecutive5xxErrors: wholeNumber("the 5xx answers in a row that eject a pod", 1, 1000).default(DEFAULT_MESH.outlierDetection.consecutive5xxErrors),
                        interval: istioDuration.default(DEFAULT_MESH.outlierDetection.interval),
                        baseEjectionTime: istioDuration.default(DEFAULT_MESH.outlierDetection.baseEjectionTime),
                        maxEjectionPercent: wholeNumber("the largest share of a track's pods ejected at once, in percent", 1, 100).default(DEFAULT_MESH.outlierDetection.maxEjectionPercent),
                    }),
                ],
                { error: "false, or an object with `consecutive5xxErrors`, `interval`, `baseEjectionTime` and `maxEjectionPercent`" },
            )
            .prefault({}),
    },
    { error: "an object with `timeout`, `retries`, `idempotent` and `outlierDetection`" },
);
export type MeshConfig = z.output<typeof meshSchema>;

// HTTP header names as Istio matches them: lower case.
const headerName = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

// Sticky sessions: during the weight steps, the mesh marks each user with the track (and tag) that served them —
// a cookie, or a response header the client sends back — and routes them there again while that track has weight.
const cookieName = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
export const DEFAULT_STICKY_MAX_AGE_SECONDS = 7 * 24 * 3600;
const STICKY_WORDS = "{cookie: <name>, maxAgeSeconds?} or {header: <name>}";
const MAX_AGE_WORDS = "the cookie's lifetime in seconds (a number with no unit, e.g. 604800 for 7 days)";
/** A sticky session marks users with a cookie (with a lifetime) or with a header the client sends back: one of them. */
export type StickyConfig = { cookie: string; maxAgeSeconds: number } | { header: string };
export const stickySchema = z
    .strictObject(
        {
            cookie: z.string({ error: "a cookie name" }).regex(cookieName, { error: "a cookie name (letters, digits and !#$%&'*+.^_`|~-)" }).optional(),
            maxAgeSeconds: wholeNumber(MAX_AGE_WORDS, 60, 31536000).optional(),
            header: z.string({ error: "a lower-case HTTP header name, e.g. x-checkout-track" }).regex(headerName, { error: "a lower-case HTTP header name, e.g. x-checkout-track" }).optional(),
        },
        { error: STICKY_WORDS },
    )
    .superRefine((s, ctx) => {
        if (s.cookie !== undefined && s.header !== undefined) {
            ctx.addIssue({
                code: "custom",
                input: s,
                message: `one of \`cookie\` or \`header\`, not both (a user is marked one way): keep {cookie: ${s.cookie}} for browsers, or {header: ${s.header}} for clients that send the header back`,
            });
        } else if (s.cookie === undefined && s.header === undefined) {
            ctx.addIssue({ code: "custom", input: s, message: STICKY_WORDS });
        } else if (s.header !== undefined && s.maxAgeSeconds !== undefined) {
            ctx.addIssue({ code: "custom", path: ["maxAgeSeconds"], input: s.maxAgeSeconds, message: "no `maxAgeSeconds` with `header` (only a cookie has a lifetime): remove it, or use {cookie: <name>, maxAgeSeconds}" });
        }
    })
    .transform((s): StickyConfig => (s.cookie !== undefined ? { cookie: s.cookie, maxAgeSeconds: s.maxAgeSeconds ?? DEFAULT_STICKY_MAX_AGE_SECONDS } : { header: s.header! }));

// Shadow stage: before the first weight step, production keeps all traffic and this share of requests is
// mirrored to the canary (Istio `mirror` + `mirrorPercentage`); the responses of mirrored requests are dropped.
export const shadowSchema = z.strictObject(
    {
        // Whole percent: the chart's values schema (routing.mirrorPercent) takes an integer.
        percent: wholeNumber("the percentage of requests mirrored to the canary", 1, 100),
    },
    { error: "an object such as {percent: 20}" },
);

/** Why RE2 (Envoy's regex engine, so Istio's) refuses a pattern: no lookarounds, no backreferences. */
export function re2Problem(regex: string): string | undefined {
    try {
        RE2JS.compile(regex);
        return undefined;
    } catch (e: any) {
        return String(e.message).replace(/^error parsing regexp: /, "");
    }
}

/**
 * Headers every client sends (or the mesh sets on every request): a regex matching any non-empty value of one of
 * them matches every request.
 */
export const EVERY_REQUEST_HEADERS = [
    ":authority", ":method", ":path", ":scheme", "host", "user-agent", "accept", "accept-encoding", "accept-language",
    "connection", "x-request-id", "x-forwarded-proto", "x-forwarded-for", "x-envoy-external-address",
] as const;

// Header values a regex is tried on: if it matches them all, it matches any value (RE2 matches the whole value).
const PROBE_VALUES = [
    "a", "Z", "0", "1", "true", "false", "-", " ", "x-canary", "beta-42", "GET", "https", "/", "/api/v1/orders?id=42&x=%20",
    "*/*", "gzip, deflate, br", "en-US,en;q=0.9", "curl/8.5.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
    "checkout.example.com:443", "10.0.0.1, 203.0.113.7", "3f2a1c9e-7b4d-4e6a-9c1b-2d5f8e0a7b31", "ünïcødé ✓", "tab\tseparated", "x".repeat(300),
];

/**
 * Why a test route's header regex would send (nearly) every request to the canary, or undefined: decided by
 * compiling it with RE2 and trying it on probe values, not by reading the pattern. A regex that matches the empty
 * value and every probe matches any value of any header; one that matches every non-empty probe matches every
 * request when the header is one every client sends.
 */
export function catchAllRegexProblem(header: string, regex: string): string | undefined {
    let re: RE2JS;
    try {
        re = RE2JS.compile(regex);
    } catch {
        return undefined; // re2Problem speaks for it
    }
    if (!PROBE_VALUES.every((v) => re.matches(v))) return undefined;
    const why = re.matches("")
        ? `it matches any value of ${header}, empty or not`
        : (EVERY_REQUEST_HEADERS as readonly string[]).includes(header)
          ? `it matches any value of ${header}, a header every client sends`
          : undefined;
    if (!why) return undefined;
    return `a regex that picks out test requests, not every request: ${why}, so nearly all traffic would go to the canary, which runs only a few pods; match a dedicated header with an exact value instead, e.g. {header: x-canary, exact: "true"}`;
}

const TEST_ROUTE_WORDS = "a header match {header, exact | regex} or a cookie match {cookie, value}";
/** A value YAML did not read as text: `exact: true` is a boolean, `exact: 42` a number. */
const textValue = (what: string, field: string) =>
    z.string({
        error: (issue) =>
            typeof issue.input === "boolean" || typeof issue.input === "number"
                ? `${what} in quotes (YAML reads an unquoted ${issue.input} as a ${typeof issue.input}, not text): write ${field}: "${issue.input}"`
                : what,
    });

/** A test route: requests that match always reach the canary while it has pods. */
export type TestRoute = { header: string; exact: string; regex?: undefined } | { header: string; regex: string; exact?: undefined } | { cookie: string; value: string };

// Test-user routes: requests that match always reach the canary while it is live, whatever the weights.
export const testRouteSchema = z
    .strictObject(
        {
            header: z.string({ error: "a lower-case HTTP header name, e.g. x-canary" }).regex(headerName, { error: "a lower-case HTTP header name, e.g. x-canary" }).optional(),
            exact: textValue("a header value to match exactly", "exact").min(1, { error: "a non-empty header value to match exactly" }).optional(),
            regex: z
                .string({ error: "an RE2 regular expression" })
                .min(1, { error: "a non-empty RE2 regular expression" })
                .superRefine((regex, ctx) => {
                    const problem = re2Problem(regex);
                    if (problem) ctx.addIssue({ code: "custom", input: regex, message: `an RE2 regular expression, the syntax Istio matches headers with (${problem})` });
                })
                .optional(),
            cookie: z.string({ error: "a cookie name" }).regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "a cookie name" }).optional(),
            value: textValue("a cookie value", "value").regex(/^[A-Za-z0-9!#$%&'()*+./:<=>?@\[\]^_`{|}~-]+$/, { error: "a cookie value without spaces, ';' or ','" }).optional(),
        },
        { error: TEST_ROUTE_WORDS },
    )
    .superRefine((r, ctx) => {
        if (r.header !== undefined && r.cookie === undefined) {
            if ((r.exact === undefined) === (r.regex === undefined)) ctx.addIssue({ code: "custom", input: r, message: "a header match with exactly one of `exact` or `regex`" });
            if (r.value !== undefined) ctx.addIssue({ code: "custom", path: ["value"], input: r.value, message: "no `value` in a header match (it takes `exact` or `regex`)" });
            if (r.regex !== undefined) {
                const problem = catchAllRegexProblem(r.header, r.regex);
                if (problem) ctx.addIssue({ code: "custom", path: ["regex"], input: r.regex, message: problem });
            }
        } else if (r.cookie !== undefined && r.header === undefined) {
            if (r.value === undefined) ctx.addIssue({ code: "custom", path: ["value"], input: undefined, message: "the cookie value that marks a test user, e.g. {cookie: canary, value: always}" });
            for (const k of ["exact", "regex"] as const) {
                if (r[k] !== undefined) ctx.addIssue({ code: "custom", path: [k], input: r[k], message: `no \`${k}\` in a cookie match (it takes \`value\`)` });
            }
        } else {
            ctx.addIssue({ code: "custom", input: r, message: TEST_ROUTE_WORDS });
        }
    })
    .transform((r): TestRoute => {
        if (r.cookie !== undefined) return { cookie: r.cookie, value: r.value! };
        return r.exact !== undefined ? { header: r.header!, exact: r.exact } : { header: r.header!, regex: r.regex! };
    });

// Thresholds of `npm run verdict` (scripts/verdict.ts): what a healthy canary looks like in Prometheus.
// Optional per service; absent fields take these defaults. `maxErrorRate` is a fraction (0.01 = 1%).
export const verdictWindowSchema = promDurationAtLeast(
    60_000,
    "a Prometheus duration of at least 1m, such as \"10m\" or \"1h30m\" (units y, w, d, h, m, s, ms, largest first; rate() needs several scrapes)",
);
const errorRateWords = "a fraction of requests from 0 up to (not including) 1, e.g. 0.01 for 1%";
const latencyWords = "a latency in milliseconds greater than 0, e.g. 500";
const increaseWords = "a factor of production's p95 latency of at least 1, e.g. 1.2 (canary p95 at most 20% above production's)";
export const verdictSchema = z.strictObject(
    {
        window: verdictWindowSchema.default("10m"),
        minRequests: wholeNumber("the canary requests needed in the window before judging", 1).default(100),
        maxErrorRate: z.number({ error: errorRateWords }).min(0, { error: errorRateWords }).lt(1, { error: errorRateWords }).default(0.01),
        maxP95LatencyMs: z.number({ error: latencyWords }).gt(0, { error: latencyWords }).default(500),
        maxLatencyIncrease: z.number({ error: increaseWords }).min(1, { error: increaseWords }).optional(),
    },
    { error: "an object with `window`, `minRequests`, `maxErrorRate`, `maxP95LatencyMs` and optionally `maxLatencyIncrease`" },
);
export type VerdictConfig = z.output<typeof verdictSchema>;
