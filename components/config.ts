// The stack's config as one whole: every `stagehand:*` section, each validated by its own module, joined so
// that every problem of a stack is reported at once, before any resource is registered. Pure.
import { z } from "zod";
import { receiverServiceProblems } from "./observability/alerting-config";
import { ObservabilityConfig, parseObservability } from "./observability/config";
import { Acknowledgements, parseAcknowledge } from "./platform/changes";
import { adminProblems, certificateProblems, ClusterConfig, parseCluster, zoneRegionProblems } from "./platform/config";
import { chartValuesProblems } from "./service/chart-schema";
import { callersProblems, hostOwnershipProblems } from "./service/authorization";
import { DEFAULT_SETTLE_SECONDS, parseServices, productionModeSchema, ServiceConfig, ServiceDefaults } from "./service/config";
import { parseRemove } from "./service/removal";
import { PlannedService, planProblems, planServices, ProductionMode } from "./service/stages";
import { ConfigError, describeIssues, nearestName } from "./shared/errors";
import { misplacedSecrets } from "./shared/secrets";
import { ownersSchema, wholeNumber } from "./shared/schema";

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

/**
 * Every `stagehand:*` key a stack file may hold, without the prefix. A key not listed is refused (naming the nearest
 * known one): a misspelt `stagehand:observabilty` must not silently turn observability off. `acknowledge`
 * (platform/changes.ts) and `remove` (service/removal.ts) are parsed by their own modules.
 */
export const STACK_CONFIG_KEYS = ["services", "cluster", "allowSkip", "settleSeconds", "production", "observability", "acknowledge", "remove", "owners", "autoRollback"] as const;
export type StackConfigKey = (typeof STACK_CONFIG_KEYS)[number];

/** One line per `stagehand:*` key of `raw` that stagehand does not know, with the nearest known key. */
export function unknownKeyProblems(stack: string, raw: Record<string, unknown>): string[] {
    return Object.keys(raw)
        .filter((key) => !(STACK_CONFIG_KEYS as readonly string[]).includes(key))
        .sort()
        .map((key) => {
            const near = nearestName(key, STACK_CONFIG_KEYS);
            const hint = near ? `did you mean stagehand:${near}?` : `the keys stagehand reads are ${STACK_CONFIG_KEYS.map((k) => `stagehand:${k}`).join(", ")}`;
            return `stack ${stack}, stagehand:${key}: unknown config key (stagehand would ignore it); ${hint}`;
        });
}

/** What a stack's config is validated against besides its `stagehand:*` keys. */
export interface StackContext {
    /** The stack's `aws:region`, when known: availability zones given by name must be in it. */
    region?: string;
    /**
     * The config is a base revision, read to compare with (`plan --diff`): what it must name since a later stagehand
     * (a cluster's `admins`) is asked of the revision under review, not of the one it changes.
     */
    base?: boolean;
}

/** Every `stagehand:*` setting of a stack, validated. */
export interface StackConfig {
    /** Every service, `stagehand:settleSeconds` resolved into its `settleSeconds`. */
    services: Record<string, ServiceConfig>;
    /** Every service with its stage plans, sorted by name. */
    planned: PlannedService[];
    cluster: ClusterConfig;
    /** `stagehand:allowSkip`: the stack-wide default of every service's `allowSkip`. */
    allowSkip: boolean;
    /**
     * `stagehand:autoRollback`: the stack-wide default of every service's `autoRollback` (a service's own wins): whether
     * `npm run auto-rollback` merges the rollback pull request it opens for a failing canary once its checks pass.
     */
    autoRollback: boolean;
    /** `stagehand:observability`: Prometheus, Grafana and Kiali (all off when absent). */
    observability: ObservabilityConfig;
    /** `stagehand:remove`: the services this update deletes (service/removal.ts); none when absent. */
    remove: string[];
    /** `stagehand:settleSeconds`: the stack-wide default already resolved into every service. */
    settleSeconds: number;
    /**
     * `stagehand:production`: how production is sized through a release, the stack-wide default already resolved
     * into every service's `production` ("full" when absent).
     */
    production: ProductionMode;
    /** `stagehand:acknowledge`: risky platform changes made on purpose (components/platform/changes.ts). */
    acknowledge: Acknowledgements;
    /**
     * `stagehand:owners`: the platform owners, who approve everything of the stack but its service blocks (and the
     * blocks that name no owners of their own); none when absent.
     */
    owners: string[];
}

const stackAllowSkipSchema = z.boolean({ error: "true or false" }).default(false);
const stackAutoRollbackSchema = z.boolean({ error: "true or false" }).default(false);
const stackSettleSchema = wholeNumber("the settle time in seconds", 0, 600).default(DEFAULT_SETTLE_SECONDS);
// Absent: "full" — a stack opts in to lean releases (the shipped staging does, in Pulumi.staging.yaml).
const stackProductionSchema = productionModeSchema.default("full");

/**
 * The stack-wide defaults of a stack's services (`stagehand:settleSeconds`, `stagehand:production`) from its raw
 * `stagehand:*` keys, for reading a base revision's services as that revision deployed them (`plan --diff`, the
 * policies' deployed outputs, the verdict gate). A value the schema refuses falls back to the default: the revision
 * under review is validated in full by `parseStackConfig`, which reports it.
 */
export function serviceDefaultsOf(raw: Record<string, unknown>): ServiceDefaults {
    const settle = stackSettleSchema.safeParse(raw.settleSeconds);
    const production = productionModeSchema.safeParse(raw.production);
    return { settleSeconds: settle.success ? settle.data : DEFAULT_SETTLE_SECONDS, ...(production.success ? { production: production.data } : {}) };
}

/**
 * Validates a stack's config: `raw` holds every `stagehand:*` key of the stack without the prefix ({services,
 * cluster, …}); a key not in STACK_CONFIG_KEYS is refused. Services, cluster and observability are checked together
 * and every problem is reported in one ConfigError. `context.region` (the stack's `aws:region`) checks zone names.
 */
export function parseStackConfig(stack: string, raw: Record<string, unknown>, context: StackContext = {}): StackConfig {
    // Secrets are accepted only as env values; anywhere else the schema's words ("found an object") would mislead.
    const misplaced = misplacedSecrets(stack, raw);
    if (misplaced.length > 0) throw new ConfigError(stack, misplaced);
    const problems: string[] = unknownKeyProblems(stack, raw);
    const attempt = <T>(parse: () => T): T | undefined => {
        try {
            return parse();
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            problems.push(...e.problems);
            return undefined;
        }
    };
    const settle = stackSettleSchema.safeParse(raw.settleSeconds, { reportInput: true });
    if (!settle.success) problems.push(...describeIssues(stack, "stagehand:settleSeconds", settle.error.issues));
    const production = stackProductionSchema.safeParse(raw.production, { reportInput: true });
    if (!production.success) problems.push(...describeIssues(stack, "stagehand:production", production.error.issues));
    const services = attempt(() =>
        parseServices(stack, raw.services, { settleSeconds: settle.success ? settle.data : DEFAULT_SETTLE_SECONDS, ...(production.success && raw.production !== undefined ? { production: production.data } : {}) }),
    );
    // Each service's stage plans, computed once: the chart check here, the move check, the releases and `plan`
    // all read them.
    const planned = services && planServices(services);
    if (planned) {
        for (const { name, plan } of planned) {
            problems.push(...planProblems(plan).map((p) => `stack ${stack}, service ${name}, field stage: stage ${plan.stage} (${plan.name}) is not safe to apply: ${p}`));
        }
        problems.push(...chartValuesProblems(stack, planned));
    }
    const cluster = attempt(() => parseCluster(stack, raw.cluster));
    // Namespaces moved to the canary control plane must be service namespaces: nothing else is labelled by stagehand.
    if (services && cluster) {
        const namespaces = [...new Set(Object.values(services).map((s) => s.namespace))].sort();
        cluster.istio.canaryNamespaces.forEach((ns, i) => {
            if (!namespaces.includes(ns)) {
                problems.push(`stack ${stack}, field cluster.istio.canaryNamespaces[${i}]: expected the namespace of a service of this stack (${namespaces.join(", ") || "none"}), found ${JSON.stringify(ns)}`);
            }
        });
    }
    // Who may call each service, and which service owns each host on the shared Gateway.
    if (services) problems.push(...hostOwnershipProblems(stack, services));
    if (services && cluster) problems.push(...callersProblems(stack, services, cluster.istio.authorization));
    if (cluster && context.region) problems.push(...zoneRegionProblems(stack, cluster, context.region));
    if (cluster) problems.push(...certificateProblems(stack, cluster, context.region));
    // A stack file writes its cluster out in full (the shipped ones name their deploy role in `admins`); a config
    // without `stagehand:cluster` (a services-only check, as `npm run plan -- --diff` makes) is not held to it.
    if (cluster && raw.cluster !== undefined && !context.base) problems.push(...adminProblems(stack, cluster));
    const observability = attempt(() => parseObservability(stack, raw.observability));
    if (observability && services) problems.push(...receiverServiceProblems(stack, observability.alertmanager, Object.keys(services)));
    const allowSkip = stackAllowSkipSchema.safeParse(raw.allowSkip, { reportInput: true });
    if (!allowSkip.success) problems.push(...describeIssues(stack, "stagehand:allowSkip", allowSkip.error.issues));
    const autoRollback = stackAutoRollbackSchema.safeParse(raw.autoRollback, { reportInput: true });
    if (!autoRollback.success) problems.push(...describeIssues(stack, "stagehand:autoRollback", autoRollback.error.issues));
    const remove = parseRemove(stack, raw.remove, raw.services && typeof raw.services === "object" ? Object.keys(raw.services) : []);
    problems.push(...remove.problems);
    const acknowledge = attempt(() => parseAcknowledge(stack, raw.acknowledge));
    const owners = raw.owners === undefined ? { success: true as const, data: [] as string[] } : ownersSchema.safeParse(raw.owners, { reportInput: true });
    if (!owners.success) problems.push(...describeIssues(stack, "stagehand:owners", owners.error.issues));
    if (problems.length > 0 || !services || !planned || !cluster || !observability || !allowSkip.success || !autoRollback.success || !acknowledge || !owners.success) throw new ConfigError(stack, problems);
    return {
        services,
        planned,
        cluster,
        allowSkip: allowSkip.data,
        autoRollback: autoRollback.data,
        observability,
        remove: remove.remove,
        settleSeconds: settle.success ? settle.data : DEFAULT_SETTLE_SECONDS,
        production: production.success ? production.data : "full",
        acknowledge,
        owners: owners.data,
    };
}
