// The one definition of every stack config field: its type, its default and what a bad value says.
// Pure: no Pulumi engine needed, so the program, `npm run plan` and the policies all validate the same way.
import { z } from "zod";

/** Weight steps of the default canary: 10%, 90%, then 100% of traffic on the canary. */
export const DEFAULT_STEPS = [10, 90, 100] as const;

/** Thrown when stack config is invalid; `problems` holds one line per bad field, all of them at once. */
export class ConfigError extends Error {
    constructor(
        readonly stack: string,
        readonly problems: string[],
    ) {
        super(`invalid stagehand config for stack ${stack}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

// ---------- field schemas: each carries the words of its expectation ----------

// A DNS-1123 label. Service names also name Helm releases (at most 53 characters) that get a
// suffix such as "-production", so they are kept to 40.
const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const serviceName = z
    .string()
    .regex(dnsLabel, { error: "a DNS label (lower-case letters, digits and '-', starting with a letter)" })
    .max(40, { error: "a name of at most 40 characters (it prefixes Helm release names, limited to 53)" });

const namespaceName = z
    .string({ error: "a namespace name (a DNS label)" })
    .regex(dnsLabel, { error: "a namespace name (a DNS label)" })
    .max(63, { error: "a namespace name of at most 63 characters" });

// An image tag (Docker's grammar) or a digest. `latest` moves under your feet, so it is refused.
const dockerTag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digest = /^sha256:[a-f0-9]{64}$/;
export const tagSchema = z
    .string({ error: "an image tag such as \"1.4.2\" or a digest \"sha256:<64 hex>\"" })
    .refine((t) => t !== "latest", { error: "a fixed image tag or digest, not \"latest\" (it cannot be reviewed or rolled back)" })
    .refine((t) => dockerTag.test(t) || digest.test(t), {
        error: "an image tag such as \"1.4.2\" (letters, digits, '_', '.', '-', at most 128) or a digest \"sha256:<64 hex>\"",
    });

const imageRepository = z
    .string({ error: "an image repository such as \"ghcr.io/acme/checkout\"" })
    .min(1, { error: "an image repository such as \"ghcr.io/acme/checkout\"" })
    .refine((r) => !r.includes("@") && !/:[^/]*$/.test(r.replace(/^[^/]+\//, "x/")), {
        error: "an image repository without tag or digest (the tags go in `stable` and `canary`)",
    })
    .refine((r) => /^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$/.test(r), {
        error: "an image repository in lower case (registry/path/name)",
    });

function validSteps(s: readonly number[]): boolean {
    return s.length > 0 && s.every((w, i) => i === 0 || w > s[i - 1]) && s[s.length - 1] === 100;
}

const weightSteps = z
    .array(z.number({ error: "a whole percentage from 1 to 100" }).int({ error: "a whole percentage from 1 to 100" }).min(1, { error: "a whole percentage from 1 to 100" }).max(100, { error: "a whole percentage from 1 to 100" }), {
        error: "a list of canary weights in percent, e.g. [10, 90, 100]",
    })
    .min(1, { error: "at least one weight step ending at 100, e.g. [10, 90, 100]" })
    .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]), { error: "weights strictly increasing, e.g. [10, 25, 50, 75, 100]" })
    .refine((s) => s[s.length - 1] === 100, { error: "weights ending at 100 (the last step sends all traffic to the canary)" });

// Kubernetes resource quantities: "250m", "0.5", "128Mi", "1G".
const quantity = z
    .union([z.string(), z.number()], { error: "a Kubernetes quantity such as \"250m\" or \"128Mi\"" })
    .transform((q) => String(q))
    .refine((q) => /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/.test(q), {
        error: "a Kubernetes quantity such as \"250m\" or \"128Mi\"",
    });
const cpuMemory = z.strictObject({ cpu: quantity, memory: quantity }, { error: "an object with `cpu` and `memory`" });
const resources = z.strictObject(
    {
        requests: cpuMemory.default({ cpu: "100m", memory: "128Mi" }),
        limits: cpuMemory.default({ cpu: "500m", memory: "256Mi" }),
    },
    { error: "an object with `requests` and `limits`, each with `cpu` and `memory`" },
);

const httpPath = z.string({ error: "an HTTP path starting with '/'" }).regex(/^\/\S*$/, { error: "an HTTP path starting with '/'" });
const probes = z.strictObject(
    { readiness: httpPath.default("/healthz"), liveness: httpPath.default("/healthz") },
    { error: "an object with `readiness` and `liveness` paths" },
);

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const env = z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: "a string value" }).transform(String), {
        error: "a map of environment variable names to values",
    })
    .superRefine((vars, ctx) => {
        for (const key of Object.keys(vars)) {
            if (!envName.test(key)) ctx.addIssue({ code: "custom", path: [key], input: key, message: "an environment variable name (letters, digits, '_', not starting with a digit)" });
        }
    });

const chartRef = z.union(
    [
        z.string().min(1),
        z.strictObject({
            repo: z.string().min(1), // https://… Helm repository, or oci://… registry path
            name: z.string().min(1),
            version: z.string().min(1),
        }),
    ],
    { error: "a chart path (e.g. ./charts/service) or {repo, name, version}" },
);

/** Values keys the platform sets from the stage; a team's `values` may not override them. */
export const PLATFORM_VALUE_KEYS = ["fullnameOverride", "image", "stagehand", "tracks", "routing", "parts"] as const;

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
    });

const wholeNumber = (what: string, min: number, max?: number) => {
    const words = max === undefined ? `${what}, a whole number of at least ${min}` : `${what}, a whole number from ${min} to ${max}`;
    const n = z.number({ error: words }).int({ error: words }).min(min, { error: words });
    return max === undefined ? n : n.max(max, { error: words });
};

// Thresholds of `npm run verdict` (scripts/verdict.ts): what a healthy canary looks like in Prometheus.
// Optional per service; absent fields take these defaults. `maxErrorRate` is a fraction (0.01 = 1%).
const promDuration = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;
const promDurationMs = (d: string): number => {
    const units: Record<string, number> = { y: 31536e6, w: 6048e5, d: 864e5, h: 36e5, m: 6e4, s: 1e3, ms: 1 };
    return [...d.matchAll(/(\d+)(ms|[ywdhms])/g)].reduce((sum, [, n, u]) => sum + Number(n) * units[u], 0);
};
export const verdictWindowSchema = z
    .string({ error: "a Prometheus duration of at least 1m, such as \"10m\" or \"1h30m\"" })
    .refine((d) => d !== "" && promDuration.test(d) && promDurationMs(d) >= 60_000, {
        error: "a Prometheus duration of at least 1m, such as \"10m\" or \"1h30m\" (units y, w, d, h, m, s, ms, largest first; rate() needs several scrapes)",
    });
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
export type VerdictInput = z.input<typeof verdictSchema>;

export const serviceSchema = z
    .strictObject({
        image: imageRepository,
        stable: tagSchema,
        canary: tagSchema.optional(),
        stage: wholeNumber("a stage number", 1),
        replicas: wholeNumber("the production replica count", 1, 1000),
        port: wholeNumber("the container port", 1, 65535).default(8080),
        namespace: namespaceName.optional(),
        steps: weightSteps.default([...DEFAULT_STEPS]),
        chart: chartRef.default("./charts/service"),
        resources: resources.default({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } }),
        probes: probes.default({ readiness: "/healthz", liveness: "/healthz" }),
        env: env.default({}),
        values: extraValues.default({}),
        // Seconds between taking traffic away from pods and removing them (Argo Rollouts' default
        // scaleDownDelaySeconds): Envoy sidecars learn route changes eventually, not at once.
        drainSeconds: wholeNumber("the drain delay in seconds", 0, 3600).default(30),
        // Forward moves may skip stages (and `stable` may change directly at stage 1). Shown in the preview.
        allowSkip: z.boolean({ error: "true or false" }).optional(),
        verdict: verdictSchema.optional(),
    })
    .superRefine((svc, ctx) => {
        const count = stageCountOf(svc.steps);
        // With a broken step list the stage count means nothing; the steps error speaks for itself.
        if (validSteps(svc.steps) && svc.stage > count) {
            ctx.addIssue({
                code: "custom",
                path: ["stage"],
                input: svc.stage,
                message: `a stage from 1 to ${count} (steps [${svc.steps.join(", ")}] give ${count} stages)`,
            });
        }
        if (svc.stage > 1 && svc.canary === undefined) {
            ctx.addIssue({ code: "custom", path: ["canary"], input: undefined, message: `a canary tag, required at stage ${svc.stage} (only stage 1 runs without a canary)` });
        }
        if (svc.stage > 1 && svc.canary !== undefined && svc.canary === svc.stable) {
            ctx.addIssue({ code: "custom", path: ["canary"], input: svc.canary, message: "a canary tag different from `stable` while a release is in progress" });
        }
    });

export type ServiceConfig = z.output<typeof serviceSchema> & { namespace: string };
export type ServiceInput = z.input<typeof serviceSchema>;

/** Stages of a step list: 1 idle, one per weight step, promote, switch back. */
export function stageCountOf(steps: readonly number[]): number {
    return steps.length + 3;
}

// ---------- error words ----------

function describeFound(input: unknown): string {
    if (input === undefined) return "nothing (the field is missing)";
    if (input === null) return "null";
    if (typeof input === "string") return input === "" ? "an empty string" : JSON.stringify(input);
    if (Array.isArray(input)) return JSON.stringify(input);
    if (typeof input === "object") return "an object";
    return String(input);
}

function expectation(issue: z.core.$ZodIssue): string {
    // Custom messages carry the expectation in words; zod's own ones are translated here.
    if (issue.code === "unrecognized_keys") {
        return `no unknown fields (found ${issue.keys.map((k) => `\`${k}\``).join(", ")}; check the spelling against README's config reference)`;
    }
    if (issue.message && !issue.message.startsWith("Invalid input")) return issue.message;
    if (issue.code === "invalid_type") return `a value of type ${issue.expected}`;
    return issue.message;
}

function fieldPath(path: PropertyKey[]): string {
    return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
}

/** One line per zod issue: stack, service, field, what was expected, what was found. */
export function describeIssues(stack: string, where: string, issues: z.core.$ZodIssue[]): string[] {
    return issues.map((issue) => {
        const field = fieldPath(issue.path);
        const expected = expectation(issue);
        const found = issue.code === "unrecognized_keys" ? "" : `, found ${describeFound(issue.input)}`;
        return `stack ${stack}, ${where}${field ? `, field ${field}` : ""}: expected ${expected}${found}`;
    });
}

/**
 * Validates `stagehand:services` of one stack. Returns every service's config with defaults filled in,
 * or throws a ConfigError listing every problem of every service.
 */
export function parseServices(stack: string, raw: unknown): Record<string, ServiceConfig> {
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
            problems.push(...describeIssues(stack, `service ${name}`, parsed.error.issues));
            continue;
        }
        services[name] = { ...parsed.data, namespace: parsed.data.namespace ?? name };
    }
    if (problems.length > 0) throw new ConfigError(stack, problems);
    return services;
}
