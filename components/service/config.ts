// `stagehand:services`: one block per service, what a team edits in its pull request. The one definition of
// every service field: its type, its default and what a bad value says.
// Pure: the program, `npm run plan` and the policies all validate the same way.
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ConfigError, describeFound, describeIssues } from "../shared/errors";
import { SecretValue } from "../shared/field-diff";
import { imageRepositorySchema, tagSchema } from "../shared/image";
import { SYSTEM_NAMESPACES } from "../shared/namespaces";
import { parseQuantity } from "../shared/quantity";
import { cpuMemory, dnsLabel, ownersSchema, quantity, wholeNumber } from "../shared/schema";
import { migrateSchema, smokeSchema } from "./jobs-config";
import { callersSchema } from "./callers-config";
import { meshSchema, shadowSchema, stickySchema, testRouteSchema, verdictSchema } from "./routing-config";
import { canaryRevision, revisionRecords } from "./revision";
import { DEFAULT_PRODUCTION_HEADROOM_PERCENT, PRODUCTION_MODES, ProductionMode, stageCountOf, stepsOf, Strategy, strategyOf, validSteps } from "./stages";

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

/** Values keys the platform sets from the stage; a team's `values` may not override them. */
export const PLATFORM_VALUE_KEYS = ["fullnameOverride", "image", "istioRevision", "stagehand", "tracks", "routing", "parts", "secretEnv", "jobs"] as const;

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
        // Who may call the service: its `callers` field, and the stack's default.
        if (values.authorization !== undefined) {
            ctx.addIssue({ code: "custom", path: ["authorization"], input: values.authorization, message: "no `authorization` (set the service's `callers` instead: stagehand writes the chart's authorization from it)" });
        }
    });

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

/** The sizing of production through a release: the one schema of the service field and the stack-wide default. */
export const productionModeSchema = z.enum(PRODUCTION_MODES, {
    error: '"full" (production keeps its full size through a release: instant rollback) or "follows-traffic" (production shrinks as the canary takes its share: lean, slower rollback)',
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
        // How production is sized through a release (components/service/stages.ts `ProductionMode`): "full", or
        // "follows-traffic" (lean: it shrinks as the canary takes its share). Absent: the stack's stagehand:production.
        production: productionModeSchema.optional(),
        // Lean only: spare pods production keeps on top of what its share needs, in percent of its full size.
        productionHeadroomPercent: wholeNumber("production's headroom in percent of its full size", 0, 100).optional(),
        mesh: meshSchema.prefault({}),
        sticky: stickySchema.optional(),
        // Forward moves may skip stages (and `stable` may change directly at stage 1). Shown in the preview.
        allowSkip: z.boolean({ error: "true or false" }).optional(),
        // Whether `npm run auto-rollback` merges the rollback pull request it opens when this canary fails its
        // verdict (true), or leaves it for a person (false). Absent: the stack's `stagehand:autoRollback`.
        autoRollback: z.boolean({ error: "true or false" }).optional(),
        // Who approves a change to this block (`npm run owners`): GitHub users and org/teams. Absent: the platform
        // owners (`stagehand:owners`) approve it.
        owners: ownersSchema.optional(),
        verdict: verdictSchema.optional(),
        // Who may call the service; absent: anyone, unless the stack denies by default (cluster.istio.authorization).
        callers: callersSchema.optional(),
        // Checks run against the canary's new pods before traffic moves onto them (components/service/jobs.ts).
        smoke: smokeSchema.optional(),
        // Schema migrations: expand before a release's canary pods start, contract once it has finished.
        migrate: migrateSchema.optional(),
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
export type ServiceConfig = Omit<ParsedService, "steps" | "strategy" | "settleSeconds" | "canary" | "production" | "productionHeadroomPercent"> & {
    namespace: string;
    strategy: Strategy;
    steps: number[];
    settleSeconds: number;
    /** The service's own `production`, else the stack's `stagehand:production`, else "full". */
    production: ProductionMode;
    /** Production's headroom in follows-traffic mode (DEFAULT_PRODUCTION_HEADROOM_PERCENT unless given). */
    productionHeadroomPercent: number;
    canary?: string;
    canaryOverrides: CanaryOverrides;
};

/** How long new pods settle before weights move onto them, unless the stack or the service says otherwise. */
export const DEFAULT_SETTLE_SECONDS = 5;

/** Stack-wide defaults a service's own fields override. */
export interface ServiceDefaults {
    settleSeconds: number;
    /** `stagehand:production`; absent: "full". */
    production?: ProductionMode;
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
            production: parsed.data.production ?? defaults.production ?? "full",
            productionHeadroomPercent: parsed.data.productionHeadroomPercent ?? DEFAULT_PRODUCTION_HEADROOM_PERCENT,
        };
        // A headroom production in full mode would ignore: said, not silently dropped.
        if (parsed.data.productionHeadroomPercent !== undefined && service.production === "full") {
            const from = parsed.data.production === undefined ? (defaults.production === undefined ? " (the default)" : " (the stack's stagehand:production)") : "";
            problems.push(
                `stack ${stack}, service ${name}, field productionHeadroomPercent: expected no headroom while production is "full"${from}: production keeps its full size through a release, so the headroom applies only with production: follows-traffic, found ${parsed.data.productionHeadroomPercent}`,
            );
            continue;
        }
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
    const { stable, canary } = revisionRecords(service);
    if (service.stage > 1 && canary.id === stable.id) {
        problems.push(
            `canary: expected a revision different from production's while a release is in progress (another tag, or a map {tag, …} that changes env, resources, probes, values or image), found ${JSON.stringify(service.canary)} with the same fields as stable ${JSON.stringify(service.stable)}`,
        );
    }
    return problems;
}
