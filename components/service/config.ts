// `stagehand:services`: one block per service, what a team edits in its pull request. The one definition of
// every service field: its type, its default and what a bad value says.
// Pure: the program, `npm run plan` and the policies all validate the same way.
import * as fs from "fs";
import * as path from "path";
import { RE2JS } from "re2js";
import { z } from "zod";
import { ConfigError, describeFound, describeIssues } from "../shared/errors";
import { SecretValue } from "../shared/field-diff";
import { imageRepositorySchema, tagSchema } from "../shared/image";
import { SYSTEM_NAMESPACES } from "../shared/namespaces";
import { parseQuantity } from "../shared/quantity";
import { cpuMemory, dnsLabel, promDurationAtLeast, quantity, wholeNumber } from "../shared/schema";
import { canaryRevision, revisionRecords } from "./revision";
import { stageCountOf, stepsOf, Strategy, strategyOf, validSteps } from "./stages";

// A DNS-1123 label. Service names also name Helm releases (at most 53 characters) that get a
// suffix such as "-production", so they are kept to 40.
export const serviceName = z
    .string()
    .regex(dnsLabel, { error: "a DNS label (lower-case letters, digits and '-', starting with a letter)" })
    .max(40, { error: "a name of at most 40 characters (it prefixes Helm release names, limited to 53)" });

const namespaceName = z
    .string({ error: "a namespace name (a DNS label)" })
    .regex(dnsLabel, { error: "a namespace name (a DNS label)" })
    .max(63, { error: "a namespace name of at most 63 characters" });

const weightSteps = z
    .array(wholeNumber("a canary weight in percent", 1, 100), {
        error: "a list of canary weights in percent, e.g. [10, 90, 100]",
    })
    .min(1, { error: "at least one weight step ending at 100, e.g. [10, 90, 100]" })
    .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]), { error: "weights strictly increasing, e.g. [10, 25, 50, 75, 100]" })
    .refine((s) => s[s.length - 1] === 100, { error: "weights ending at 100 (the last step sends all traffic to the canary)" });

/** A request no greater than its limit: Kubernetes refuses a pod whose request is above its limit. */
function requestsWithinLimits(r: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } }, ctx: z.RefinementCtx): void {
    for (const what of ["cpu", "memory"] as const) {
        const request = parseQuantity(r.requests[what]);
        const limit = parseQuantity(r.limits[what]);
        if (request !== undefined && limit !== undefined && request > limit) {
            ctx.addIssue({ code: "custom", path: ["requests", what], input: r.requests[what], message: `a ${what} request no greater than its limit (limits.${what}: ${JSON.stringify(r.limits[what])}; Kubernetes refuses a request above its limit)` });
        }
    }
}

export const resources = z
    .strictObject(
        {
            requests: cpuMemory.default({ cpu: "100m", memory: "128Mi" }),
            limits: cpuMemory.default({ cpu: "500m", memory: "256Mi" }),
        },
        { error: "an object with `requests` and `limits`, each with `cpu` and `memory`" },
    )
    .superRefine(requestsWithinLimits);

const httpPath = z.string({ error: "an HTTP path starting with '/'" }).regex(/^\/\S*$/, { error: "an HTTP path starting with '/'" });
const probes = z.strictObject(
    { readiness: httpPath.default("/healthz"), liveness: httpPath.default("/healthz") },
    { error: "an object with `readiness` and `liveness` paths" },
);

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A Pulumi secret as the stack file holds it (`pulumi config set --secret --path …` writes `{secure: <ciphertext>}`).
// The program adds the decrypted `value` (components/shared/secrets.ts); nothing else ever sees it.
const secretEnvValue = z.strictObject({ secure: z.string().min(1), value: z.string().optional() });
const envValue = z.union([z.string(), z.number(), z.boolean(), secretEnvValue], { error: "a string value, or a secret ({secure: …}, written by `pulumi config set --secret --path`)" });
const envVars = <T extends z.ZodType>(value: T) =>
    z
        .record(z.string(), value, { error: "a map of environment variable names to values" })
        .superRefine((vars, ctx) => {
            for (const key of Object.keys(vars)) {
                if (!envName.test(key)) ctx.addIssue({ code: "custom", path: [key], input: key, message: "an environment variable name (letters, digits, '_', not starting with a digit)" });
            }
        });
const toEnvString = (v: string | number | boolean | SecretValue): string | SecretValue => (typeof v === "object" ? v : String(v));
const env = envVars(envValue.transform(toEnvString));
/** An env value: plain text, or a secret handed to the pods through a Kubernetes Secret. */
export type EnvValue = string | SecretValue;

/** Where relative chart paths are resolved: the project directory, where `pulumi up` and `npm run plan` run. */
export const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** Whether a local chart path is a chart: a directory with Chart.yaml, or a packaged chart (.tgz). */
function isLocalChart(chartPath: string): boolean {
    const full = path.resolve(PROJECT_ROOT, chartPath);
    return chartPath.endsWith(".tgz") ? fs.existsSync(full) : fs.existsSync(path.join(full, "Chart.yaml"));
}

const chartRef = z
    .union(
        [
            z.string().min(1),
            z.strictObject({
                repo: z.string().min(1), // https://… Helm repository, or oci://… registry path
                name: z.string().min(1),
                version: z.string().min(1),
            }),
        ],
        { error: "a chart path (e.g. ./charts/service) or {repo, name, version}" },
    )
    .superRefine((chart, ctx) => {
        if (typeof chart === "string") {
            if (!isLocalChart(chart)) {
                ctx.addIssue({ code: "custom", input: chart, message: `a chart directory with a Chart.yaml (or a .tgz), relative to the project directory; ${path.resolve(PROJECT_ROOT, chart)} is none` });
            }
        } else if (!/^(https|oci):\/\/[^/\s]+/.test(chart.repo)) {
            ctx.addIssue({ code: "custom", path: ["repo"], input: chart.repo, message: "a chart repository URL starting with https:// (a Helm repository) or oci:// (an OCI registry)" });
        }
    });

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

const meshSchema = z.strictObject(
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
const stickySchema = z
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

/** Values keys the platform sets from the stage; a team's `values` may not override them. */
export const PLATFORM_VALUE_KEYS = ["fullnameOverride", "image", "istioRevision", "stagehand", "tracks", "routing", "parts", "secretEnv"] as const;

const extraValues = z
    .record(z.string(), z.unknown(), { error: "a map of extra chart values" })
    .superRefine((values, ctx) => {
        for (const key of PLATFORM_VALUE_KEYS) {
            if (key in values) {
                ctx.addIssue({
                    code: "custom",
                    path: [key],
                    input: values[key],
                    message: `no \`${key}\` (stagehand sets it from the stage; change image/stable/canary/stage instead)`,
                });
            }
        }
        // One place for how the mesh treats requests: the service's `mesh` field.
        const istio = values.istio as Record<string, any> | undefined;
        for (const [key, path] of [["timeout", ["istio", "timeout"]], ["retries", ["istio", "retries"]], ["outlierDetection", ["istio", "trafficPolicy", "outlierDetection"]]] as const) {
            const value = path.slice(1).reduce((o: any, k) => (o && typeof o === "object" ? o[k] : undefined), istio);
            if (value !== undefined) ctx.addIssue({ code: "custom", path: [...path], input: value, message: `no \`${path.join(".")}\` (set \`mesh.${key}\` instead: stagehand writes it from there)` });
        }
    });

// Shadow stage: before the first weight step, production keeps all traffic and this share of requests is
// mirrored to the canary (Istio `mirror` + `mirrorPercentage`); the responses of mirrored requests are dropped.
const shadowSchema = z.strictObject(
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
const testRouteSchema = z
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

// `canary:` as a map: the revision being released is the tag plus the pod-shaping fields it changes. The canary
// track runs the block's fields with these overrides from its first stage; production takes them at promote.
const partialCpuMemory = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() }, { error: "an object with `cpu` and/or `memory`" });
const canaryOverridesSchema = z.strictObject(
    {
        tag: tagSchema,
        image: imageRepositorySchema.optional(),
        // Merged into the block's env key by key; null removes a variable from the canary.
        env: envVars(z.union([envValue.transform(toEnvString), z.null()], { error: "a string value, a secret ({secure: …}), or null to remove the variable from the canary" })).optional(),
        resources: z.strictObject({ requests: partialCpuMemory.optional(), limits: partialCpuMemory.optional() }, { error: "an object with `requests` and/or `limits`" }).optional(),
        probes: z.strictObject({ readiness: httpPath.optional(), liveness: httpPath.optional() }, { error: "an object with `readiness` and/or `liveness` paths" }).optional(),
        values: extraValues.optional(),
        // A new version of the team's own chart ({repo, name, version}), installed by the canary's release only.
        chartVersion: z.string({ error: "a chart version such as \"1.3.0\"" }).min(1, { error: "a chart version such as \"1.3.0\"" }).optional(),
    },
    { error: "a canary map {tag, and any of image, env, resources, probes, values, chartVersion}" },
);
export type CanaryOverrides = Omit<z.output<typeof canaryOverridesSchema>, "tag">;
const CANARY_WORDS =
    'a canary tag such as "1.5.0" (quoted: YAML reads 1.10 as the number 1.1), or a map {tag, and any of image, env, resources, probes, values, chartVersion} for a release that changes more than the tag';
// A value that is neither a string nor a map (a number YAML read from `canary: 2.0`, say) gets the tag's own words.
const canarySchema = z.union([tagSchema, canaryOverridesSchema], {
    error: (issue) => {
        const asTag = typeof issue.input === "object" ? undefined : tagSchema.safeParse(issue.input);
        return asTag && !asTag.success ? asTag.error.issues[0].message : CANARY_WORDS;
    },
});

const STAGE_WORDS = "a stage number, a whole number from 1 to the number of stages (6 with the default steps [10, 90, 100])";

/** Ports Istio's sidecar (Envoy) and agent listen on in every pod of the mesh. */
export const ISTIO_PORTS = { from: 15000, to: 15090 } as const;
const ISTIO_PORT_WORDS = `the container port, a whole number from 1 to 65535 outside ${ISTIO_PORTS.from}-${ISTIO_PORTS.to}: Istio's sidecar owns those ports in every pod (15001 outbound, 15006 inbound, 15020/15021 health, 15090 metrics), so the app could not listen there; use e.g. 8080`;

const serviceFields = {
        image: imageRepositorySchema,
        stable: tagSchema,
        canary: canarySchema.optional(),
        // Any whole number passes here (even 1e21, beyond safe integers): the check against the stage count below
        // says the valid range.
        stage: z.number({ error: STAGE_WORDS }).refine((n) => Number.isInteger(n) && n >= 1, { error: STAGE_WORDS }),
        replicas: wholeNumber("the production replica count", 1, 1000),
        port: wholeNumber("the container port", 1, 65535)
            .refine((p) => p < ISTIO_PORTS.from || p > ISTIO_PORTS.to, { error: ISTIO_PORT_WORDS })
            .default(8080),
        namespace: namespaceName.optional(),
        // `strategy` picks the steps (canary: [10, 90, 100], bluegreen: [100]); explicit `steps` make a custom one.
        strategy: z.enum(["canary", "bluegreen"], { error: "\"canary\" or \"bluegreen\" (or leave it out and give `steps`)" }).optional(),
        steps: weightSteps.optional(),
        shadow: shadowSchema.optional(),
        testRoutes: z.array(testRouteSchema, { error: "a list of header or cookie matches, e.g. [{header: x-canary, exact: \"true\"}]" }).max(16, { error: "at most 16 test routes" }).default([]),
        chart: chartRef.default("./charts/service"),
        resources: resources.default({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } }),
        probes: probes.default({ readiness: "/healthz", liveness: "/healthz" }),
        env: env.default({}),
        values: extraValues.default({}),
        // Seconds between taking traffic away from pods and removing them (Argo Rollouts' default
        // scaleDownDelaySeconds): Envoy sidecars learn route changes eventually, not at once.
        drainSeconds: wholeNumber("the drain delay in seconds", 0, 3600).default(30),
        // Seconds between new pods being ready and the weights moving onto them: Envoy sidecars learn a track's
        // endpoints asynchronously, after Kubernetes reports the pods ready. Absent: the stack's settleSeconds.
        settleSeconds: wholeNumber("the settle time in seconds", 0, 600).optional(),
        mesh: meshSchema.prefault({}),
        sticky: stickySchema.optional(),
        // Forward moves may skip stages (and `stable` may change directly at stage 1). Shown in the preview.
        allowSkip: z.boolean({ error: "true or false" }).optional(),
        verdict: verdictSchema.optional(),
};

/** What a service block is, in words: the error for a block that is not a map (null, a list, a string). */
const SERVICE_BLOCK_WORDS = `a service block: a map with image, stable, stage and replicas, and optionally ${Object.keys(serviceFields)
    .filter((k) => !["image", "stable", "stage", "replicas"].includes(k))
    .join(", ")}`;

export const serviceSchema = z
    .strictObject(serviceFields, { error: SERVICE_BLOCK_WORDS })
    .superRefine((svc, ctx) => {
        if (svc.strategy === "bluegreen" && svc.steps !== undefined && !(svc.steps.length === 1 && svc.steps[0] === 100)) {
            ctx.addIssue({ code: "custom", path: ["steps"], input: svc.steps, message: "no `steps` with strategy bluegreen (blue/green is the single step [100]), or leave `strategy` out" });
        }
        // A stage that is no stage number says so once (its own issue); the checks below need one.
        if (!Number.isInteger(svc.stage) || svc.stage < 1) return;
        const steps = stepsOf(svc);
        const count = stageCountOf(steps, svc.shadow !== undefined);
        // With a broken step list the stage count means nothing; the steps error speaks for itself.
        const beyond = validSteps(steps) && svc.stage > count;
        if (beyond) {
            ctx.addIssue({
                code: "custom",
                path: ["stage"],
                input: svc.stage,
                message: `a stage from 1 to ${count} (steps [${steps.join(", ")}]${svc.shadow ? " and a shadow stage" : ""} give ${count} stages)`,
            });
        }
        // A stage beyond the last says so once; whether it needs a canary means nothing then.
        if (beyond) return;
        if (svc.stage > 1 && svc.canary === undefined) {
            ctx.addIssue({ code: "custom", path: ["canary"], input: undefined, message: `a canary tag, required at stage ${svc.stage} (only stage 1 runs without a canary)` });
        }
        if (typeof svc.canary === "object" && svc.canary.chartVersion !== undefined && typeof svc.chart !== "object") {
            ctx.addIssue({
                code: "custom",
                path: ["canary", "chartVersion"],
                input: svc.canary.chartVersion,
                message: `no chartVersion with a local chart (${JSON.stringify(svc.chart)}): a chart version is released only for a chart from a repository (chart: {repo, name, version}); a local chart changes with the code`,
            });
        }
    });

type ParsedService = z.output<typeof serviceSchema>;
/**
 * A service's config with every default resolved: its namespace, its strategy, its steps and its settle time.
 * `canary` is the tag being released; `canaryOverrides` the pod-shaping fields `canary:` changes (empty for a tag).
 */
export type ServiceConfig = Omit<ParsedService, "steps" | "strategy" | "settleSeconds" | "canary"> & {
    namespace: string;
    strategy: Strategy;
    steps: number[];
    settleSeconds: number;
    canary?: string;
    canaryOverrides: CanaryOverrides;
};

/** How long new pods settle before weights move onto them, unless the stack or the service says otherwise. */
export const DEFAULT_SETTLE_SECONDS = 5;

/** Stack-wide defaults a service's own fields override. */
export interface ServiceDefaults {
    settleSeconds: number;
}
export type ServiceInput = z.input<typeof serviceSchema>;

/** The strategy a service's config amounts to: the one it names, else what its steps are. */
function strategyOfConfig(svc: { strategy?: "canary" | "bluegreen"; steps?: number[] }): Strategy {
    return svc.strategy ?? strategyOf(stepsOf(svc));
}

/**
 * Validates `stagehand:services` of one stack. Returns every service's config with defaults filled in,
 * or throws a ConfigError listing every problem of every service.
 */
export function parseServices(stack: string, raw: unknown, defaults: ServiceDefaults = { settleSeconds: DEFAULT_SETTLE_SECONDS }): Record<string, ServiceConfig> {
    const problems: string[] = [];
    const services: Record<string, ServiceConfig> = {};
    if (raw === undefined || raw === null) {
        throw new ConfigError(stack, [`stack ${stack}, stagehand:services: expected a map of service name to service config, found nothing (add it to Pulumi.${stack}.yaml)`]);
    }
    if (typeof raw !== "object" || Array.isArray(raw)) {
        throw new ConfigError(stack, [`stack ${stack}, stagehand:services: expected a map of service name to service config, found ${describeFound(raw)}`]);
    }
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
        const nameCheck = serviceName.safeParse(name, { reportInput: true });
        if (!nameCheck.success) {
            problems.push(...describeIssues(stack, `service ${JSON.stringify(name)}`, nameCheck.error.issues).map((p) => p.replace(/: expected/, ", name: expected")));
        }
        const parsed = serviceSchema.safeParse(value, { reportInput: true });
        if (!parsed.success) {
            problems.push(...describeIssues(stack, `service ${name}`, parsed.error.issues, { schema: serviceSchema }));
            continue;
        }
        const namespace = parsed.data.namespace ?? name;
        if (SYSTEM_NAMESPACES.includes(namespace)) {
            // The service owns its namespace: removing the service would delete the namespace and all in it.
            const field = parsed.data.namespace === undefined ? "namespace (defaults to the service name)" : "namespace";
            problems.push(
                `stack ${stack}, service ${name}, field ${field}: expected a namespace of the service's own, not one the platform or Kubernetes runs in (${SYSTEM_NAMESPACES.join(", ")}): removing the service would delete it, found ${JSON.stringify(namespace)}`,
            );
            continue;
        }
        const { canary, ...block } = parsed.data;
        const { tag: canaryTag, ...canaryOverrides } = typeof canary === "object" ? canary : { tag: canary };
        const service: ServiceConfig = {
            ...block,
            ...(canaryTag !== undefined ? { canary: canaryTag } : {}),
            canaryOverrides,
            namespace,
            strategy: strategyOfConfig(parsed.data),
            steps: stepsOf(parsed.data),
            settleSeconds: parsed.data.settleSeconds ?? defaults.settleSeconds,
        };
        const revisionProblems = canaryRevisionProblems(service);
        if (revisionProblems.length > 0) {
            problems.push(...revisionProblems.map((p) => `stack ${stack}, service ${name}, field ${p}`));
            continue;
        }
        services[name] = service;
    }
    if (problems.length > 0) throw new ConfigError(stack, problems);
    return services;
}

/**
 * What is wrong with the revision a service releases, as "field: expected …, found …": the canary's merged
 * resources must hold as the block's do, and a release in progress must release something (a revision that
 * differs from production's).
 */
function canaryRevisionProblems(service: ServiceConfig): string[] {
    if (service.canary === undefined) return [];
    const problems: string[] = [];
    const merged = canaryRevision(service);
    if (service.canaryOverrides.resources !== undefined) {
        const check = resources.safeParse(merged.resources, { reportInput: true });
        if (!check.success) {
            for (const issue of check.error.issues) {
                const field = ["canary", "resources", ...issue.path].join(".");
                problems.push(`${field}: expected ${issue.message}, found ${describeFound(issue.input)} (the block's resources with the canary's overrides)`);
            }
        }
    }
    if (service.stage > 1 && revisionRecords(service).canary.id === revisionRecords(service).stable.id) {
        problems.push(
            `canary: expected a revision different from production's while a release is in progress (another tag, or a map {tag, …} that changes env, resources, probes, values or image), found ${JSON.stringify(service.canary)} with the same fields as stable ${JSON.stringify(service.stable)}`,
        );
    }
    return problems;
}
