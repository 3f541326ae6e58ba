// The stack's config as one whole: every `stagehand:*` section, each validated by its own module, joined so
// that every problem of a stack is reported at once, before any resource is registered. Pure.
import { z } from "zod";
import { ObservabilityConfig, parseObservability } from "./observability/config";
import { Acknowledgements, parseAcknowledge } from "./platform/changes";
import { ClusterConfig, parseCluster } from "./platform/config";
import { chartValuesProblems } from "./service/chart-schema";
import { DEFAULT_SETTLE_SECONDS, parseServices, ServiceConfig } from "./service/config";
import { PlannedService, planProblems, planServices } from "./service/stages";
import { ConfigError, describeIssues } from "./shared/errors";
import { wholeNumber } from "./shared/schema";

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

/** Every `stagehand:*` setting of a stack, validated. */
export interface StackConfig {
    /** Every service, `stagehand:settleSeconds` resolved into its `settleSeconds`. */
    services: Record<string, ServiceConfig>;
    /** Every service with its stage plans, sorted by name. */
    planned: PlannedService[];
    cluster: ClusterConfig;
    /** `stagehand:allowSkip`: the stack-wide default of every service's `allowSkip`. */
    allowSkip: boolean;
    /** `stagehand:observability`: Prometheus, Grafana and Kiali (all off when absent). */
    observability: ObservabilityConfig;
    /** `stagehand:settleSeconds`: the stack-wide default already resolved into every service. */
    settleSeconds: number;
    /** `stagehand:acknowledge`: risky platform changes made on purpose (components/platform/changes.ts). */
    acknowledge: Acknowledgements;
}

const stackAllowSkipSchema = z.boolean({ error: "true or false" }).default(false);
const stackSettleSchema = wholeNumber("the settle time in seconds", 0, 600).default(DEFAULT_SETTLE_SECONDS);

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
    const settle = stackSettleSchema.safeParse(raw.settleSeconds, { reportInput: true });
    if (!settle.success) problems.push(...describeIssues(stack, "stagehand:settleSeconds", settle.error.issues));
    const services = attempt(() => parseServices(stack, raw.services, { settleSeconds: settle.success ? settle.data : DEFAULT_SETTLE_SECONDS }));
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
    const observability = attempt(() => parseObservability(stack, raw.observability));
    const allowSkip = stackAllowSkipSchema.safeParse(raw.allowSkip, { reportInput: true });
    if (!allowSkip.success) problems.push(...describeIssues(stack, "stagehand:allowSkip", allowSkip.error.issues));
    const acknowledge = attempt(() => parseAcknowledge(stack, raw.acknowledge));
    if (problems.length > 0 || !services || !planned || !cluster || !observability || !allowSkip.success || !acknowledge) throw new ConfigError(stack, problems);
    return { services, planned, cluster, allowSkip: allowSkip.data, observability, settleSeconds: settle.success ? settle.data : DEFAULT_SETTLE_SECONDS, acknowledge };
}
