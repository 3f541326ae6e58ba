// `stagehand:observability`: Prometheus, Grafana (with Istio's dashboards) and Kiali, installed into Istio's root
// namespace with their Helm charts (components/observability/). An absent block, and any addon not written out,
// is off: like the cluster's defaults, a forgotten field never costs money by surprise. uat and prod turn them
// on; staging leaves them off. Pure.
import { z } from "zod";
import { ConfigError, describeIssues } from "../shared/errors";
import { cpuMemory, onOff, promDurationAtLeast, quantity, wholeNumber } from "../shared/schema";
import { alertmanagerSchema } from "./alerting-config";

/** Prometheus's own default retention. */
export const DEFAULT_PROMETHEUS_RETENTION = "15d";
/** Prometheus's requests and memory limit when a stack does not set them: enough for a few hundred pods. */
export const DEFAULT_PROMETHEUS_RESOURCES = { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "2Gi" } };

const RETENTION_WORDS = "a Prometheus duration of at least 1h, such as \"15d\" or \"720h\" (units y, w, d, h, m, largest first)";
const retention = promDurationAtLeast(3_600_000, RETENTION_WORDS);

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

// Tracing: Jaeger (Istio's own addon, ./tracing.ts) and the mesh's spans sent to it over OTLP. Needs no other addon:
// Kiali links to it when both are on.
/** Istio's own default share of requests traced (meshConfig's `defaultConfig.tracing.sampling`). */
export const DEFAULT_TRACING_SAMPLING_PERCENT = 1;
/** How long Jaeger keeps spans when a stack does not say: Jaeger's own badger default. */
export const DEFAULT_TRACING_RETENTION_HOURS = 72;
const SAMPLING_WORDS = "a percentage of requests traced from 0 to 100, decimals allowed (Istio's randomSamplingPercentage, e.g. 1 or 0.5)";
const tracingSchema = z.strictObject(
    {
        enabled: onOff.default(false),
        samplingPercent: z.number({ error: SAMPLING_WORDS }).min(0, { error: SAMPLING_WORDS }).max(100, { error: SAMPLING_WORDS }).default(DEFAULT_TRACING_SAMPLING_PERCENT),
        // 0: an emptyDir on the node, lost whenever the pod moves; more: a persistent volume (EBS gp3 on EKS).
        storageGi: wholeNumber("Jaeger's volume size in GiB (0: an emptyDir, lost when the pod moves)", 0, 16384).default(0),
        retentionHours: wholeNumber("how many hours Jaeger keeps spans", 1, 8760).default(DEFAULT_TRACING_RETENTION_HOURS),
    },
    { error: "an object with `enabled`, and optionally `samplingPercent`, `storageGi` and `retentionHours`" },
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
            // Alertmanager and the alert rules of the canaries and the gateway (./alerting-config.ts, docs/observability.md "Alerts").
            alertmanager: alertmanagerSchema.prefault({}),
            tracing: tracingSchema.prefault({}),
        },
        { error: "an object with `prometheus`, `grafana`, `kiali`, `alertmanager` and `tracing`" },
    )
    .superRefine((o, ctx) => {
        if (o.prometheus.enabled) return;
        const needs = {
            grafana: "Grafana's only data source is that Prometheus",
            kiali: "Kiali draws the mesh's traffic from Prometheus",
            alertmanager: "the alert rules are evaluated by that Prometheus",
        } as const;
        for (const addon of ["grafana", "kiali", "alertmanager"] as const) {
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
    if (!parsed.success) throw new ConfigError(stack, describeIssues(stack, "", parsed.error.issues, { schema: observabilitySchema, prefix: ["observability"] }));
    return parsed.data;
}


/**
 * Whether the verdict gate judges a stack's canaries: it asks the Prometheus the stack's deployed revision runs
 * (scripts/verdict-gate.ts), so a stack with Prometheus on is judged and one without passes unjudged. Switching
 * it off is therefore refused unless acknowledged (components/platform/changes.ts).
 */
export function verdictGateHasPrometheus(observability: ObservabilityConfig): boolean {
    return observability.prometheus.enabled;
}
