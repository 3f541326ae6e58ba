// The one definition of every stack config field: its type, its default and what a bad value says.
// Pure: no Pulumi engine needed, so the program, `npm run plan` and the policies all validate the same way.
import { z } from "zod";
import { INSTANCE_HOURLY_USD } from "./prices";

/** Weight steps of the default canary: 10%, 90%, then 100% of traffic on the canary. */
export const DEFAULT_STEPS = [10, 90, 100] as const;

/** Everything wrong with a stack at once: a headline, then one line per problem. */
export class StackProblemsError extends Error {
    constructor(
        headline: string,
        readonly stack: string,
        readonly problems: string[],
    ) {
        super(`${headline}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}

/** Thrown when stack config is invalid; `problems` holds one line per bad field, all of them at once. */
export class ConfigError extends StackProblemsError {
    constructor(stack: string, problems: string[]) {
        super(`invalid stagehand config for stack ${stack}`, stack, problems);
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

// Shadow stage: before the first weight step, production keeps all traffic and this share of requests is
// mirrored to the canary (Istio `mirror` + `mirrorPercentage`); the responses of mirrored requests are dropped.
const shadowSchema = z.strictObject(
    {
        // Whole percent: the chart's values schema (routing.mirrorPercent) takes an integer.
        percent: z
            .number({ error: "the percentage of requests mirrored to the canary, a whole number from 1 to 100" })
            .int({ error: "the percentage of requests mirrored to the canary, a whole number from 1 to 100" })
            .min(1, { error: "the percentage of requests mirrored to the canary, a whole number from 1 to 100" })
            .max(100, { error: "the percentage of requests mirrored to the canary, a whole number from 1 to 100" }),
    },
    { error: "an object such as {percent: 20}" },
);

// Test-user routes: requests that match always reach the canary while it is live, whatever the weights.
const headerName = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const testRouteSchema = z.union(
    [
        z.strictObject({
            header: z.string().regex(headerName, { error: "a lower-case HTTP header name, e.g. x-canary" }),
            exact: z.string({ error: "a header value to match exactly" }).min(1, { error: "a non-empty header value to match exactly" }).optional(),
            regex: z.string({ error: "an RE2 regular expression" }).min(1, { error: "a non-empty RE2 regular expression" }).optional(),
        }),
        z.strictObject({
            cookie: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "a cookie name" }),
            value: z.string().regex(/^[A-Za-z0-9!#$%&'()*+./:<=>?@\[\]^_`{|}~-]+$/, { error: "a cookie value without spaces, ';' or ','" }),
        }),
    ],
    { error: "a header match {header, exact | regex} or a cookie match {cookie, value}" },
).refine((r) => !("header" in r) || (r.exact === undefined) !== (r.regex === undefined), { error: "a header match with exactly one of `exact` or `regex`" });

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
        // Forward moves may skip stages (and `stable` may change directly at stage 1). Shown in the preview.
        allowSkip: z.boolean({ error: "true or false" }).optional(),
        verdict: verdictSchema.optional(),
    })
    .superRefine((svc, ctx) => {
        if (svc.strategy === "bluegreen" && svc.steps !== undefined && !(svc.steps.length === 1 && svc.steps[0] === 100)) {
            ctx.addIssue({ code: "custom", path: ["steps"], input: svc.steps, message: "no `steps` with strategy bluegreen (blue/green is the single step [100]), or leave `strategy` out" });
        }
        const steps = stepsOf(svc);
        const count = stageCountOf(steps, svc.shadow !== undefined);
        // With a broken step list the stage count means nothing; the steps error speaks for itself.
        if (validSteps(steps) && svc.stage > count) {
            ctx.addIssue({
                code: "custom",
                path: ["stage"],
                input: svc.stage,
                message: `a stage from 1 to ${count} (steps [${steps.join(", ")}]${svc.shadow ? " and a shadow stage" : ""} give ${count} stages)`,
            });
        }
        if (svc.stage > 1 && svc.canary === undefined) {
            ctx.addIssue({ code: "custom", path: ["canary"], input: undefined, message: `a canary tag, required at stage ${svc.stage} (only stage 1 runs without a canary)` });
        }
        if (svc.stage > 1 && svc.canary !== undefined && svc.canary === svc.stable) {
            ctx.addIssue({ code: "custom", path: ["canary"], input: svc.canary, message: "a canary tag different from `stable` while a release is in progress" });
        }
    });

type ParsedService = z.output<typeof serviceSchema>;
/** A service's config with every default resolved: its namespace, its strategy and its steps. */
export type ServiceConfig = Omit<ParsedService, "steps" | "strategy"> & { namespace: string; strategy: Strategy; steps: number[] };
export type ServiceInput = z.input<typeof serviceSchema>;
export type TestRoute = z.output<typeof testRouteSchema>;

/** `canary` for the default steps, `bluegreen` for [100], `custom` for an explicit step list. */
export type Strategy = "canary" | "bluegreen" | "custom";

/** The weight steps a service's `strategy`/`steps` give. */
export function stepsOf(svc: { strategy?: "canary" | "bluegreen"; steps?: number[] }): number[] {
    if (svc.steps) return svc.steps;
    return svc.strategy === "bluegreen" ? [100] : [...DEFAULT_STEPS];
}

/** The strategy a step list amounts to: [100] is blue/green, the default steps canary, any other custom. */
export function strategyOf(steps: readonly number[]): Strategy {
    if (steps.length === 1 && steps[0] === 100) return "bluegreen";
    if (steps.length === DEFAULT_STEPS.length && steps.every((w, i) => w === DEFAULT_STEPS[i])) return "canary";
    return "custom";
}

function strategyOfConfig(svc: { strategy?: "canary" | "bluegreen"; steps?: number[] }): Strategy {
    return svc.strategy ?? strategyOf(stepsOf(svc));
}

/** Stages of a step list: 1 idle, (shadow,) one per weight step, promote, switch back. */
export function stageCountOf(steps: readonly number[], shadow = false): number {
    return steps.length + 3 + (shadow ? 1 : 0);
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
        return `stack ${stack}${where ? `, ${where}` : ""}${field ? `, field ${field}` : ""}: expected ${expected}${found}`;
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
        services[name] = { ...parsed.data, namespace: parsed.data.namespace ?? name, strategy: strategyOfConfig(parsed.data), steps: stepsOf(parsed.data) };
    }
    if (problems.length > 0) throw new ConfigError(stack, problems);
    return services;
}

// ---------- cluster (stagehand:cluster) ----------
// The cluster a stack runs on and the Istio installed on it. Each stack file writes its cluster out in full;
// the defaults below are the cheap, staging-like choice for every field, so a forgotten field never costs
// money by surprise. `kind: existing` uses a cluster already in your kubeconfig and creates nothing on AWS.

/** Node capacity types of an EKS managed node group. */
export const CAPACITY_TYPES = ["SPOT", "ON_DEMAND"] as const;
/** EKS control-plane log types (sent to CloudWatch Logs). */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
/** Service types of the Istio ingress gateway. `LoadBalancer` on EKS is an internet-facing NLB. */
export const GATEWAY_SERVICE_TYPES = ["LoadBalancer", "NodePort", "ClusterIP"] as const;
/** Kubernetes version of new EKS clusters: supported by Istio 1.29, 1.30 and 1.31. */
export const DEFAULT_KUBERNETES_VERSION = "1.35";
/** Istio release used when a stack does not pin one (the stack files all pin theirs). */
export const DEFAULT_ISTIO_VERSION = "1.30.5";
/** EKS needs subnets in at least two availability zones for its control plane. */
export const MIN_AVAILABILITY_ZONES = 2;
export const MAX_AVAILABILITY_ZONES = 6;
/** A spot pool needs several interchangeable instance types, or spot capacity may not be found at all. */
export const MIN_SPOT_INSTANCE_TYPES = 3;
/** The staging-like default node pool: small burstable spot instances of three families. */
export const DEFAULT_SPOT_INSTANCE_TYPES = ["t3.medium", "t3a.medium", "t2.medium"];

const INSTANCE_TYPE_WORDS = `an EC2 instance type priced in components/prices.ts, such as t3.medium or m6i.large (add a price there to use another)`;
const instanceType = z
    .string({ error: INSTANCE_TYPE_WORDS })
    .refine((t) => Object.prototype.hasOwnProperty.call(INSTANCE_HOURLY_USD, t), { error: INSTANCE_TYPE_WORDS });

const nodeCount = (what: string, min: number) => wholeNumber(what, min, 100);

const nodePoolSchema = z
    .strictObject(
        {
            name: z
                .string({ error: "a node pool name (a DNS label)" })
                .regex(dnsLabel, { error: "a node pool name (a DNS label)" })
                .max(40, { error: "a node pool name of at most 40 characters" })
                .default("default"),
            capacityType: z.enum(CAPACITY_TYPES, { error: "a capacity type, SPOT or ON_DEMAND" }).default("SPOT"),
            instanceTypes: z
                .array(instanceType, { error: "a list of EC2 instance types, e.g. [t3.medium, t3a.medium, t2.medium]" })
                .min(1, { error: "at least one instance type, e.g. [t3.medium, t3a.medium, t2.medium]" })
                .default([...DEFAULT_SPOT_INSTANCE_TYPES]),
            minSize: nodeCount("the minimum node count", 0).default(2),
            desiredSize: nodeCount("the desired node count", 0).default(2),
            maxSize: nodeCount("the maximum node count", 1).default(4),
            diskSize: wholeNumber("the node disk size in GiB (the EKS AMI needs 20)", 20, 1000).default(20),
        },
        { error: "a node pool: {name, capacityType, instanceTypes, minSize, desiredSize, maxSize, diskSize}" },
    )
    .superRefine((pool, ctx) => {
        if (pool.minSize > pool.maxSize) {
            ctx.addIssue({ code: "custom", path: ["minSize"], input: pool.minSize, message: `a minSize no greater than maxSize (${pool.maxSize})` });
        } else if (pool.desiredSize < pool.minSize || pool.desiredSize > pool.maxSize) {
            ctx.addIssue({
                code: "custom",
                path: ["desiredSize"],
                input: pool.desiredSize,
                message: `a desiredSize from minSize (${pool.minSize}) to maxSize (${pool.maxSize})`,
            });
        }
        if (pool.capacityType === "SPOT" && pool.instanceTypes.length < MIN_SPOT_INSTANCE_TYPES) {
            ctx.addIssue({
                code: "custom",
                path: ["instanceTypes"],
                input: pool.instanceTypes,
                message: `at least ${MIN_SPOT_INSTANCE_TYPES} instance types for a SPOT pool, so spot capacity is found (e.g. [t3.medium, t3a.medium, t2.medium])`,
            });
        }
        const seen = new Set<string>();
        for (const t of pool.instanceTypes) {
            if (seen.has(t)) ctx.addIssue({ code: "custom", path: ["instanceTypes"], input: pool.instanceTypes, message: `each instance type once (${t} is listed twice)` });
            seen.add(t);
        }
    });

const AZ_WORDS = `a number of availability zones from ${MIN_AVAILABILITY_ZONES} to ${MAX_AVAILABILITY_ZONES}, or a list of zone names such as [us-east-1a, us-east-1b]`;
const azName = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
const availabilityZones = z.union([z.number(), z.array(z.string())], { error: AZ_WORDS }).superRefine((azs, ctx) => {
    const count = typeof azs === "number" ? azs : azs.length;
    if (typeof azs === "number" && !Number.isInteger(azs)) {
        ctx.addIssue({ code: "custom", input: azs, message: AZ_WORDS });
    } else if (count < MIN_AVAILABILITY_ZONES) {
        ctx.addIssue({ code: "custom", input: azs, message: `at least ${MIN_AVAILABILITY_ZONES} availability zones (EKS needs subnets in two)` });
    } else if (count > MAX_AVAILABILITY_ZONES) {
        ctx.addIssue({ code: "custom", input: azs, message: `at most ${MAX_AVAILABILITY_ZONES} availability zones` });
    }
    if (Array.isArray(azs)) {
        azs.forEach((name, i) => {
            if (!azName.test(name)) ctx.addIssue({ code: "custom", path: [i], input: name, message: "an availability zone name such as \"us-east-1a\"" });
            else if (azs.indexOf(name) !== i) ctx.addIssue({ code: "custom", path: [i], input: name, message: "each availability zone once" });
        });
    }
});

// The EKS API endpoint: public (optionally limited to listed CIDR blocks), private (reached from the VPC), or
// both. AWS's defaults are a public endpoint open to 0.0.0.0/0; private access is on here by default so nodes
// reach the API through the VPC.
/** AWS's own default for the sources a public API endpoint accepts: the whole internet. */
export const DEFAULT_PUBLIC_ACCESS_CIDRS = ["0.0.0.0/0"];
const CIDR_WORDS = "an IPv4 CIDR block such as \"203.0.113.0/24\" (address/prefix length)";

/** Why `cidr` is not an IPv4 CIDR block whose address starts its range, in words; undefined when it is one. */
export function ipv4CidrProblem(cidr: string): string | undefined {
    if (cidr.includes(":")) return `${CIDR_WORDS}; the cluster is IPv4, so EKS takes no IPv6 blocks`;
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(cidr)) return `${CIDR_WORDS}; a single address is "${cidr}/32"`;
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m) return CIDR_WORDS;
    const octets = m.slice(1, 5).map(Number);
    const bits = Number(m[5]);
    if (m.slice(1, 6).some((n) => n.length > 1 && n.startsWith("0")) || octets.some((o) => o > 255)) {
        return `${CIDR_WORDS}, each of its four numbers from 0 to 255 without leading zeros`;
    }
    if (bits > 32) return `${CIDR_WORDS} with a prefix length from 0 to 32`;
    const address = octets.reduce((a, o) => a * 256 + o, 0);
    const size = 2 ** (32 - bits);
    const start = address - (address % size);
    if (start !== address) {
        const network = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256).join(".");
        return `the CIDR block "${network}/${bits}" (a block's address starts its range: the bits after the prefix are zero)`;
    }
    return undefined;
}

const ipv4Cidr = z.string({ error: CIDR_WORDS }).superRefine((cidr, ctx) => {
    const problem = ipv4CidrProblem(cidr);
    if (problem) ctx.addIssue({ code: "custom", input: cidr, message: problem });
});

const apiEndpointSchema = z
    .strictObject(
        {
            public: z.boolean({ error: "true or false" }).default(true),
            publicAccessCidrs: z
                .array(ipv4Cidr, { error: "a list of IPv4 CIDR blocks, e.g. [\"203.0.113.0/24\"]" })
                .min(1, { error: "at least one CIDR block (leave publicAccessCidrs out for AWS's default 0.0.0.0/0, or set public: false)" })
                .superRefine((cidrs, ctx) => {
                    cidrs.forEach((c, i) => {
                        if (cidrs.indexOf(c) !== i) ctx.addIssue({ code: "custom", path: [i], input: c, message: "each CIDR block once" });
                    });
                })
                .optional(),
            private: z.boolean({ error: "true or false" }).default(true),
        },
        { error: "an object with `public`, `publicAccessCidrs` and `private`" },
    )
    .superRefine((e, ctx) => {
        if (!e.public && !e.private) {
            ctx.addIssue({
                code: "custom",
                path: ["private"],
                input: e.private,
                message: "true when public is false (with neither endpoint, neither the nodes nor kubectl reach the API server)",
            });
        }
        if (!e.public && e.publicAccessCidrs !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["publicAccessCidrs"],
                input: e.publicAccessCidrs,
                message: "no publicAccessCidrs with public: false (they only limit the public endpoint); remove them, or set public: true",
            });
        }
        const restricted = e.publicAccessCidrs !== undefined && !e.publicAccessCidrs.includes("0.0.0.0/0");
        if (e.public && restricted && !e.private) {
            ctx.addIssue({
                code: "custom",
                path: ["private"],
                input: e.private,
                message: "true when publicAccessCidrs limit the public endpoint (without private access the nodes reach the API server through the public endpoint, from addresses not listed)",
            });
        }
    })
    // Resolved: the CIDRs the public endpoint accepts (none when it is off).
    .transform((e) => ({ public: e.public, publicAccessCidrs: e.public ? (e.publicAccessCidrs ?? [...DEFAULT_PUBLIC_ACCESS_CIDRS]) : [], private: e.private }));

const kubernetesVersion = z
    .string({ error: "a Kubernetes minor version supported by EKS, such as \"1.35\" (quote it in YAML)" })
    .regex(/^1\.\d{2}$/, { error: "a Kubernetes minor version supported by EKS, such as \"1.35\" (quote it in YAML)" });

const iamPrincipal = z
    .string({ error: "an IAM role or user ARN such as \"arn:aws:iam::123456789012:role/platform\"" })
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@\/-]+$/, { error: "an IAM role or user ARN such as \"arn:aws:iam::123456789012:role/platform\"" });

const ISTIO_VERSION_WORDS = "a pinned Istio release such as \"1.30.5\" (major.minor.patch: no range, no \"latest\")";
const istioVersion = z.string({ error: ISTIO_VERSION_WORDS }).regex(/^1\.\d+\.\d+$/, { error: ISTIO_VERSION_WORDS });

/** Minor version of "1.30.5": 30. */
export function istioMinor(version: string): number {
    return Number(version.split(".")[1]);
}

/** Orders two "major.minor.patch" versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

const replicaFields = {
    replicas: wholeNumber("a replica count", 1, 20).default(1),
    maxReplicas: wholeNumber("the autoscaling maximum", 1, 50).default(1),
};
const autoscaleRefine = (c: { replicas: number; maxReplicas: number }, ctx: z.RefinementCtx) => {
    if (c.maxReplicas < c.replicas) {
        ctx.addIssue({ code: "custom", path: ["maxReplicas"], input: c.maxReplicas, message: `a maxReplicas of at least replicas (${c.replicas})` });
    }
};

const istioSchema = z
    .strictObject(
        {
            version: istioVersion.default(DEFAULT_ISTIO_VERSION),
            canaryVersion: istioVersion.optional(),
            istiod: z
                .strictObject(
                    { ...replicaFields, cpu: quantity.default("100m"), memory: quantity.default("256Mi") },
                    { error: "an object with `replicas`, `maxReplicas`, `cpu` and `memory`" },
                )
                .superRefine(autoscaleRefine)
                .prefault({}),
            gateway: z
                .strictObject(
                    { ...replicaFields, serviceType: z.enum(GATEWAY_SERVICE_TYPES, { error: "LoadBalancer, NodePort or ClusterIP" }).default("LoadBalancer") },
                    { error: "an object with `replicas`, `maxReplicas` and `serviceType`" },
                )
                .superRefine(autoscaleRefine)
                .prefault({}),
        },
        { error: "an object with `version`, and optionally `canaryVersion`, `istiod` and `gateway`" },
    )
    .superRefine((istio, ctx) => {
        const canary = istio.canaryVersion;
        if (canary === undefined) return;
        if (compareVersions(canary, istio.version) <= 0) {
            ctx.addIssue({ code: "custom", path: ["canaryVersion"], input: canary, message: `a canaryVersion newer than version (${istio.version})` });
        } else if (istioMinor(canary) > istioMinor(istio.version) + 1) {
            ctx.addIssue({
                code: "custom",
                path: ["canaryVersion"],
                input: canary,
                message: `a canaryVersion at most one minor release above version ${istio.version} (Istio upgrades one minor at a time)`,
            });
        }
    });

const eksClusterSchema = z
    .strictObject({
        kind: z.literal("eks"),
        name: z
            .string({ error: "an EKS cluster name (letters, digits, '-', at most 100)" })
            .regex(/^[A-Za-z][A-Za-z0-9-]{0,99}$/, { error: "an EKS cluster name (letters, digits, '-', at most 100)" })
            .optional(),
        kubernetesVersion: kubernetesVersion.default(DEFAULT_KUBERNETES_VERSION),
        availabilityZones: availabilityZones.default(MIN_AVAILABILITY_ZONES),
        nodeSubnets: z.enum(["public", "private"], { error: "public or private" }).default("public"),
        natGateways: z.enum(["none", "single", "perAz"], { error: "none, single or perAz" }).default("none"),
        nodePools: z
            .array(nodePoolSchema, { error: "a list of node pools" })
            .min(1, { error: "at least one node pool" })
            .prefault([{}]),
        logging: z
            .array(z.enum(CONTROL_PLANE_LOG_TYPES, { error: `a control-plane log type: ${CONTROL_PLANE_LOG_TYPES.join(", ")}` }), {
                error: `a list of control-plane log types (${CONTROL_PLANE_LOG_TYPES.join(", ")})`,
            })
            .default([]),
        admins: z.array(iamPrincipal, { error: "a list of IAM role or user ARNs" }).default([]),
        apiEndpoint: apiEndpointSchema.prefault({}),
        istio: istioSchema.prefault({}),
    })
    .superRefine((c, ctx) => {
        if (c.nodeSubnets === "private" && c.natGateways === "none") {
            ctx.addIssue({
                code: "custom",
                path: ["natGateways"],
                input: c.natGateways,
                message: "single or perAz with nodeSubnets: private (nodes in private subnets reach the internet, ECR and the EKS API through NAT)",
            });
        }
        if (c.nodeSubnets === "public" && c.natGateways !== "none") {
            ctx.addIssue({
                code: "custom",
                path: ["natGateways"],
                input: c.natGateways,
                message: "none with nodeSubnets: public (public nodes do not use a NAT gateway, and each one costs about $33 a month)",
            });
        }
        const names = c.nodePools.map((p) => p.name);
        names.forEach((n, i) => {
            if (names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["nodePools", i, "name"], input: n, message: "a node pool name used once" });
        });
    });

const existingClusterSchema = z.strictObject({
    kind: z.literal("existing"),
    // Path to a kubeconfig file (`~/` is your home); absent: $KUBECONFIG or ~/.kube/config, as kubectl does.
    kubeconfig: z.string({ error: "a path to a kubeconfig file" }).min(1, { error: "a path to a kubeconfig file" }).optional(),
    // A context of that kubeconfig; absent: its current context.
    context: z.string({ error: "a kubeconfig context name" }).min(1, { error: "a kubeconfig context name" }).optional(),
    istio: istioSchema.prefault({}),
});

export type NodePoolConfig = z.output<typeof nodePoolSchema>;
export type IstioConfig = z.output<typeof istioSchema>;
export type ApiEndpointConfig = z.output<typeof apiEndpointSchema>;
export type EksClusterConfig = Omit<z.output<typeof eksClusterSchema>, "name"> & { name: string };
export type ExistingClusterConfig = z.output<typeof existingClusterSchema>;
export type ClusterConfig = EksClusterConfig | ExistingClusterConfig;
/** What a stack file may write under `stagehand:cluster` (`kind` defaults to eks). */
export type ClusterInput = (Omit<z.input<typeof eksClusterSchema>, "kind"> & { kind?: "eks" }) | z.input<typeof existingClusterSchema>;

/** The availability zone count of a cluster config. */
export function azCount(cluster: Pick<EksClusterConfig, "availabilityZones">): number {
    return typeof cluster.availabilityZones === "number" ? cluster.availabilityZones : cluster.availabilityZones.length;
}

/** NAT gateways a cluster config creates: none, one, or one per availability zone. */
export function natGatewayCount(cluster: ClusterConfig): number {
    if (cluster.kind !== "eks") return 0;
    return cluster.natGateways === "none" ? 0 : cluster.natGateways === "single" ? 1 : azCount(cluster);
}

/**
 * Validates `stagehand:cluster` of one stack (absent: an EKS cluster with every default). Returns the config
 * with defaults filled in (the cluster name defaults to `stagehand-<stack>`), or throws a ConfigError
 * listing every problem, each naming the field as `cluster.<path>`.
 */
export function parseCluster(stack: string, raw: unknown): ClusterConfig {
    const fail = (issues: z.core.$ZodIssue[]) =>
        new ConfigError(stack, describeIssues(stack, "", issues.map((i) => ({ ...i, path: ["cluster", ...i.path] }))));
    const input = raw === undefined || raw === null ? {} : raw;
    if (typeof input !== "object" || Array.isArray(input)) {
        throw new ConfigError(stack, [`stack ${stack}, field cluster: expected an object with \`kind\` (eks or existing) and its fields, found ${JSON.stringify(input)}`]);
    }
    const kind = z
        .enum(["eks", "existing"], { error: "a cluster kind, eks (created on AWS) or existing (a cluster in your kubeconfig)" })
        .default("eks")
        .safeParse((input as Record<string, unknown>).kind, { reportInput: true });
    if (!kind.success) throw fail(kind.error.issues.map((i) => ({ ...i, path: ["kind", ...i.path] })));
    const withKind = { ...(input as Record<string, unknown>), kind: kind.data };
    if (kind.data === "existing") {
        const parsed = existingClusterSchema.safeParse(withKind, { reportInput: true });
        if (!parsed.success) throw fail(parsed.error.issues);
        return parsed.data;
    }
    const parsed = eksClusterSchema.safeParse(withKind, { reportInput: true });
    if (!parsed.success) throw fail(parsed.error.issues);
    return { ...parsed.data, name: parsed.data.name ?? `stagehand-${stack}` };
}

/**
 * A config value as Pulumi hands it over (a string: JSON for objects, lists, numbers and booleans) → the
 * value, or the plain string when it is not JSON, so that validation can say what it found.
 */
export function configValue(text: string | undefined): unknown {
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

// ---------- observability (stagehand:observability) ----------
// Prometheus, Grafana (with Istio's dashboards) and Kiali, installed into istio-system with their Helm charts
// (components/observability.ts). An absent block, and any addon not written out, is off: like the cluster's
// defaults, a forgotten field never costs money by surprise. uat and prod turn them on; staging leaves them off.

/** Prometheus's own default retention. */
export const DEFAULT_PROMETHEUS_RETENTION = "15d";
/** Prometheus's requests and memory limit when a stack does not set them: enough for a few hundred pods. */
export const DEFAULT_PROMETHEUS_RESOURCES = { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "2Gi" } };

const RETENTION_WORDS = "a Prometheus duration of at least 1h, such as \"15d\" or \"720h\" (units y, w, d, h, m, largest first)";
const retention = z
    .string({ error: RETENTION_WORDS })
    .refine((d) => d !== "" && promDuration.test(d) && promDurationMs(d) >= 3_600_000, { error: RETENTION_WORDS });
const onOff = z.boolean({ error: "true or false" });

const prometheusSchema = z.strictObject(
    {
        enabled: onOff.default(false),
        retention: retention.default(DEFAULT_PROMETHEUS_RETENTION),
        // 0: an emptyDir on the node, lost whenever the pod moves; more: a persistent volume (EBS gp3 on EKS).
        storageGi: wholeNumber("Prometheus's volume size in GiB (0: an emptyDir, lost when the pod moves)", 0, 16384).default(0),
        resources: z
            .strictObject(
                {
                    requests: cpuMemory,
                    limits: z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() }, { error: "an object with `cpu` and/or `memory`" }).default({}),
                },
                { error: "an object with `requests` ({cpu, memory}) and optionally `limits`" },
            )
            .default(DEFAULT_PROMETHEUS_RESOURCES),
    },
    { error: "an object with `enabled`, `retention`, `storageGi` and optionally `resources`" },
);

const observabilitySchema = z
    .strictObject(
        {
            prometheus: prometheusSchema.prefault({}),
            grafana: z
                .strictObject(
                    // dashboards: Istio's own dashboards (mesh, service, workload, performance, control plane).
                    { enabled: onOff.default(false), dashboards: onOff.default(true) },
                    { error: "an object with `enabled` and `dashboards`" },
                )
                .prefault({}),
            kiali: z.strictObject({ enabled: onOff.default(false) }, { error: "an object with `enabled`" }).prefault({}),
        },
        { error: "an object with `prometheus`, `grafana` and `kiali`" },
    )
    .superRefine((o, ctx) => {
        if (o.prometheus.enabled) return;
        const needs = { grafana: "Grafana's only data source is that Prometheus", kiali: "Kiali draws the mesh's traffic from Prometheus" } as const;
        for (const addon of ["grafana", "kiali"] as const) {
            if (o[addon].enabled) {
                ctx.addIssue({ code: "custom", path: [addon, "enabled"], input: true, message: `false unless prometheus.enabled is true (${needs[addon]})` });
            }
        }
    });

export type ObservabilityConfig = z.output<typeof observabilitySchema>;
export type ObservabilityInput = z.input<typeof observabilitySchema>;

/** Every addon off: what an absent `stagehand:observability` means. */
export const OBSERVABILITY_OFF: ObservabilityConfig = observabilitySchema.parse({});

/**
 * Validates `stagehand:observability` of one stack (absent: every addon off). Throws a ConfigError listing
 * every problem, each naming the field as `observability.<path>`.
 */
export function parseObservability(stack: string, raw: unknown): ObservabilityConfig {
    const parsed = observabilitySchema.safeParse(raw === undefined || raw === null ? {} : raw, { reportInput: true });
    if (!parsed.success) throw new ConfigError(stack, describeIssues(stack, "", parsed.error.issues.map((i) => ({ ...i, path: ["observability", ...i.path] }))));
    return parsed.data;
}

/** Every `stagehand:*` setting of a stack, validated. */
export interface StackConfig {
    services: Record<string, ServiceConfig>;
    cluster: ClusterConfig;
    /** `stagehand:allowSkip`: the stack-wide default of every service's `allowSkip`. */
    allowSkip: boolean;
    /** `stagehand:observability`: Prometheus, Grafana and Kiali (all off when absent). */
    observability: ObservabilityConfig;
}

const stackAllowSkipSchema = z.boolean({ error: "true or false" }).default(false);

/**
 * Validates a stack's config: `raw` holds the `stagehand:*` keys without the prefix ({services, cluster, …}).
 * Services, cluster and observability are checked together and every problem is reported in one ConfigError.
 */
export function parseStackConfig(stack: string, raw: Record<string, unknown>): StackConfig {
    const problems: string[] = [];
    const attempt = <T>(parse: () => T): T | undefined => {
        try {
            return parse();
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            problems.push(...e.problems);
            return undefined;
        }
    };
    const services = attempt(() => parseServices(stack, raw.services));
    const cluster = attempt(() => parseCluster(stack, raw.cluster));
    const observability = attempt(() => parseObservability(stack, raw.observability));
    const allowSkip = stackAllowSkipSchema.safeParse(raw.allowSkip, { reportInput: true });
    if (!allowSkip.success) problems.push(...describeIssues(stack, "stagehand:allowSkip", allowSkip.error.issues));
    if (problems.length > 0 || !services || !cluster || !observability || !allowSkip.success) throw new ConfigError(stack, problems);
    return { services, cluster, allowSkip: allowSkip.data, observability };
}
