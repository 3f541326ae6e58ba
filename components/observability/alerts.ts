// Pure: the Prometheus alerting rules of a stack — one group per canary that serves users' traffic, from its verdict
// thresholds and with the verdict's own PromQL (components/service/verdict.ts `trackQueries`: one source of truth),
// and one group for the ingress gateway's 5xx rate. Every alert names the stack, the service, its stage (number and
// name), the production and canary tags and revisions, and the rollback to make. Prometheus reads them from the
// prometheus chart's `serverFiles` (./values.ts) and sends them to Alertmanager (./alertmanager.ts).
//
// Which canaries: those with a weight above 0 (the canary stages and promote). A shadow canary (stage `shadow N%`)
// gets copies of requests whose answers are dropped: no user sees its errors, so nothing pages anyone; the verdict
// judges it before it takes traffic. At switch back the canary drains with weight 0: production serves again.
import { INGRESS_NAMESPACE } from "../shared/namespaces";
import { PlannedService, revisionLabel } from "../service/stages";
import { trackQueries, verdictThresholds } from "../service/verdict";
import { VerdictConfig } from "../service/routing-config";
import { DEFAULT_ALERT_FOR, DEFAULT_GATEWAY_MAX_ERROR_RATE } from "./alerting-config";

/** One alerting rule as Prometheus's rule files take it. */
export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

export interface RuleGroup {
    name: string;
    interval: string;
    rules: AlertRule[];
}

/** A rule file (`alerting_rules.yml`). */
export interface RuleFile {
    groups: RuleGroup[];
}

export interface AlertRuleOptions {
    /** How long a condition holds before the alert fires (the stack's `alertmanager.for`). */
    for: string;
    /** How often Prometheus evaluates the groups. */
    interval: string;
    /** The ingress gateway's 5xx share above which it alerts (`alertmanager.gatewayMaxErrorRate`). */
    gatewayMaxErrorRate: number;
    /** The window of the gateway's rate. */
    gatewayWindow: string;
}

/** What production runs: rules evaluated every minute (Prometheus's default), the conditions held for 5 minutes. */
export const DEFAULT_ALERT_OPTIONS: AlertRuleOptions = { for: DEFAULT_ALERT_FOR, interval: "1m", gatewayMaxErrorRate: DEFAULT_GATEWAY_MAX_ERROR_RATE, gatewayWindow: "5m" };

/**
 * The ingress gateway's Deployment, as Istio's metrics name it (source_workload): the Helm release of Istio's gateway
 * chart, components/platform/istio.ts INGRESS_RELEASE (a test holds them equal; this module loads no Pulumi).
 */
export const GATEWAY_WORKLOAD = "istio-ingress";
/** Requests the gateway must have served in its window before its 5xx share is judged (a handful is noise). */
export const GATEWAY_MIN_REQUESTS = 100;

/** The alert names: what a receiver's message and a silence match on. */
export const ALERTS = {
    errorRate: "StagehandCanaryErrorRate",
    latency: "StagehandCanaryLatency",
    latencyIncrease: "StagehandCanaryLatencyIncrease",
    noTraffic: "StagehandCanaryNoTraffic",
    gateway: "StagehandGatewayErrorRate",
} as const;

/** Whether a service's configured stage sends users' requests to its canary: what alert rules are made for. */
export function canaryServesTraffic(p: PlannedService): boolean {
    return p.plan.canary.weight > 0;
}

const number = (n: number) => String(n);
const paren = (q: string) => `(${q})`;
const percent = (rate: number) => `${Number((rate * 100).toFixed(4))}%`;

/** The rollback, in the words of docs/releasing.md "How to roll back": `stage: 1`, stable unchanged, through a pull request. */
export function rollbackWords(stack: string, p: PlannedService): string {
    return (
        `set \`stage: 1\` for services.${p.name} in Pulumi.${stack}.yaml (stable stays ${p.revisions.stable.label}) ` +
        `and merge it as a pull request; \`npm run plan -- ${stack} --diff\` shows the rollback: all traffic back to production, the canary scaled to 0`
    );
}

/** The labels every alert of a canary carries: who, where, which stage and which revisions. */
function canaryLabels(stack: string, p: PlannedService): Record<string, string> {
    const { plan } = p;
    return {
        stack,
        service: p.name,
        namespace: p.service.namespace,
        stage: String(plan.stage),
        stage_name: plan.name,
        canary_weight: String(plan.canary.weight),
        production_tag: plan.production.tag,
        production_revision: revisionLabel(plan.production),
        canary_tag: plan.canary.tag,
        canary_revision: revisionLabel(plan.canary),
    };
}

/** The rules of one canary serving traffic, from its verdict thresholds. */
export function canaryRules(stack: string, p: PlannedService, options: AlertRuleOptions = DEFAULT_ALERT_OPTIONS): AlertRule[] {
    const t: VerdictConfig = verdictThresholds(p.service);
    const ns = p.service.namespace;
    const canary = trackQueries(p.name, ns, "canary", t.window);
    const production = trackQueries(p.name, ns, "production", t.window);
    const labels = canaryLabels(stack, p);
    const where = `${p.name} (stack ${stack}, namespace ${ns}) at stage ${p.plan.stage}/${p.plan.stageCount} ${p.plan.name}, canary ${revisionLabel(p.plan.canary)} taking ${p.plan.canary.weight}% of requests`;
    const rollback = rollbackWords(stack, p);
    const E = paren(canary.errors);
    const R = paren(canary.requests);
    const rule = (alert: string, severity: string, expr: string, summary: string, description: string): AlertRule => ({
        alert,
        expr,
        for: options.for,
        labels: { ...labels, severity },
        annotations: { summary, description, rollback, verdict: `npm run verdict -- ${stack} ${p.name}` },
    });
    const rules: AlertRule[] = [
        // The verdict's first rule: failing on 5xx with enough requests, or conclusively so with fewer (the errors
        // alone exceed the budget of minRequests requests). The value is the error rate in both cases.
        rule(
            ALERTS.errorRate,
            "critical",
            `(${E} / ${R} > ${number(t.maxErrorRate)} and ${R} >= ${t.minRequests}) or (${E} / ${R} and ${E} / ${t.minRequests} > ${number(t.maxErrorRate)} and ${R} < ${t.minRequests})`,
            `canary of ${p.name} in ${stack} answers {{ $value | humanizePercentage }} 5xx, above ${percent(t.maxErrorRate)}`,
            `${where}: its 5xx rate over the last ${t.window} is {{ $value | humanizePercentage }}, above the verdict's maximum ${percent(t.maxErrorRate)}.`,
        ),
        // Latency is judged once the canary served minRequests, as the verdict does.
        rule(
            ALERTS.latency,
            "critical",
            `${paren(canary.p95)} > ${number(t.maxP95LatencyMs)} and ${R} >= ${t.minRequests}`,
            `canary of ${p.name} in ${stack} has a p95 latency of {{ $value | humanize }} ms, above ${t.maxP95LatencyMs} ms`,
            `${where}: its p95 latency over the last ${t.window} is {{ $value | humanize }} ms, above the verdict's maximum ${t.maxP95LatencyMs} ms.`,
        ),
    ];
    if (t.maxLatencyIncrease !== undefined) {
        rules.push(
            rule(
                ALERTS.latencyIncrease,
                "critical",
                `${paren(canary.p95)} > ${number(t.maxLatencyIncrease)} * ${paren(production.p95)} and ${R} >= ${t.minRequests} and ${paren(production.requests)} >= ${t.minRequests}`,
                `canary of ${p.name} in ${stack} has a p95 latency of {{ $value | humanize }} ms, above ${t.maxLatencyIncrease} × production's`,
                `${where}: its p95 latency over the last ${t.window} is {{ $value | humanize }} ms, above ${t.maxLatencyIncrease} × production's p95 (${revisionLabel(p.plan.production)}).`,
            ),
        );
    }
    // The canary is routed its weight's share of requests but served fewer than the verdict needs, though that share
    // of the service's requests would be enough: its routing or its pods are broken, and the verdict cannot judge it.
    const some = (q: string) => `(${q} or vector(0))`;
    rules.push(
        rule(
            ALERTS.noTraffic,
            "warning",
            `${some(canary.requests)} < ${t.minRequests} and (${some(production.requests)} + ${some(canary.requests)}) * ${number(p.plan.canary.weight / 100)} >= ${t.minRequests}`,
            `canary of ${p.name} in ${stack} served {{ $value | humanize }} requests, fewer than the ${t.minRequests} its ${p.plan.canary.weight}% share should bring`,
            `${where}: it served {{ $value | humanize }} requests in the last ${t.window}, fewer than the verdict's ${t.minRequests}, while ${p.plan.canary.weight}% of the service's requests would be at least that many: its route or its pods do not take the traffic.`,
        ),
    );
    return rules;
}

/** The ingress gateway's 5xx share of the requests it answered, as Istio's gateway Envoy reports them. */
export function gatewayRule(stack: string, options: AlertRuleOptions = DEFAULT_ALERT_OPTIONS): AlertRule {
    const selector = (extra = "") => `{reporter="source",source_workload="${GATEWAY_WORKLOAD}",source_workload_namespace="${INGRESS_NAMESPACE}"${extra}}`;
    const total = `sum(increase(istio_requests_total${selector()}[${options.gatewayWindow}]))`;
    const errors = `sum(increase(istio_requests_total${selector(',response_code=~"5.."')}[${options.gatewayWindow}]))`;
    return {
        alert: ALERTS.gateway,
        expr: `(${errors}) / (${total}) > ${number(options.gatewayMaxErrorRate)} and (${total}) >= ${GATEWAY_MIN_REQUESTS}`,
        for: options.for,
        labels: { stack, service: GATEWAY_WORKLOAD, namespace: INGRESS_NAMESPACE, severity: "critical" },
        annotations: {
            summary: `ingress gateway of ${stack} answers {{ $value | humanizePercentage }} 5xx, above ${percent(options.gatewayMaxErrorRate)}`,
            description:
                `The ingress gateway (${INGRESS_NAMESPACE}/${GATEWAY_WORKLOAD}) of stack ${stack} answered {{ $value | humanizePercentage }} of its requests over the last ${options.gatewayWindow} with a 5xx. ` +
                `Which services: sum by (destination_service_name) (increase(istio_requests_total${selector(',response_code=~"5.."')}[${options.gatewayWindow}])).`,
            rollback: `when the 5xx come from a service in a release (its own ${ALERTS.errorRate} alert names it), set \`stage: 1\` for services.<service> in Pulumi.${stack}.yaml and merge it as a pull request; otherwise the gateway or the platform is at fault: see docs/observability.md "Alerts"`,
        },
    };
}

/** Every alerting rule of a stack: one group per canary serving traffic, sorted by service, then the gateway's. */
export function alertRules(stack: string, planned: readonly PlannedService[], options: AlertRuleOptions = DEFAULT_ALERT_OPTIONS): RuleFile {
    const groups: RuleGroup[] = planned.filter(canaryServesTraffic).map((p) => ({ name: `stagehand-canary-${p.name}`, interval: options.interval, rules: canaryRules(stack, p, options) }));
    groups.push({ name: "stagehand-ingress-gateway", interval: options.interval, rules: [gatewayRule(stack, options)] });
    return { groups };
}

/** The stack's rule options from its `alertmanager` config (production's interval and gateway window). */
export function alertOptionsOf(alertmanager: { for: string; gatewayMaxErrorRate: number }): AlertRuleOptions {
    return { ...DEFAULT_ALERT_OPTIONS, for: alertmanager.for, gatewayMaxErrorRate: alertmanager.gatewayMaxErrorRate };
}

/** How many alert rules each service has at its configured stage (0 when its canary serves no traffic): what plan shows. */
export function alertRuleCounts(stack: string, planned: readonly PlannedService[]): Record<string, number> {
    return Object.fromEntries(planned.map((p) => [p.name, canaryServesTraffic(p) ? canaryRules(stack, p).length : 0]));
}
