// Pure: what a change to a service block is, field by field — before -> after, and what it reaches (production's
// pods, the canary's pods, the routing, the waits, the verdict, the move rules). What `npm run plan -- --diff`
// prints under each service, so a reviewer never reads "no change" over a change. Secrets read [secret].
import { changeWords, FieldChange, fieldChanges } from "../shared/field-diff";
import type { ServiceConfig } from "./config";
import { CANARY_OVERRIDE_FIELDS, overriddenFields, POD_FIELDS } from "./revision";
import type { StagePlan } from "./stages";

/** What a change to a top-level field reaches, in words, apart from the pod-shaping fields (worked out per plan). */
const REACHES: Record<string, string> = {
    stage: "traffic and pods (the move)",
    replicas: "pods of both tracks",
    namespace: "where everything of the service runs",
    strategy: "the stages (routing)",
    steps: "the stages (routing)",
    shadow: "routing (mirrored requests)",
    testRoutes: "routing (test users)",
    sticky: "routing (sticky sessions)",
    mesh: "routing (timeouts, retries, outlier detection)",
    callers: "who may call the service (its AuthorizationPolicy)",
    drainSeconds: "waits between moves",
    settleSeconds: "waits between moves",
    production: "production pods (its size at each stage of a release)",
    productionHeadroomPercent: "production pods (its size at each stage of a release)",
    verdict: "the metrics verdict's thresholds",
    allowSkip: "which moves are allowed",
    autoRollback: "whether a failing canary's rollback pull request merges without a person (npm run auto-rollback)",
    owners: "who approves changes to this block",
};

/** A block as the reviewer reads it: `canary` as the tag, or `{tag, …overrides}` when either side overrides fields. */
function displayBlock(service: ServiceConfig, canaryAsMap: boolean): Record<string, unknown> {
    const { canary, canaryOverrides, ...rest } = service;
    const shown: Record<string, unknown> = { ...rest };
    if (canary !== undefined) shown.canary = canaryAsMap ? { tag: canary, ...canaryOverrides } : canary;
    return shown;
}

const hasOverrides = (s: ServiceConfig) => overriddenFields(s).length > 0;

/** Who runs a block's pod-shaping field at a plan: production unless it runs the canary revision that overrides it; the canary if it has pods and does not override it. */
function podReach(field: string, service: ServiceConfig, plan: StagePlan, canaryOverrides: boolean): string[] {
    const reach: string[] = [];
    const productionRunsCanary = plan.production.revision !== undefined && plan.production.revision.id === plan.canary.revision?.id && service.canary !== undefined;
    if (!(productionRunsCanary && canaryOverrides)) reach.push("production pods");
    if (!canaryOverrides && plan.canary.replicas > 0) reach.push("canary pods");
    else if (!canaryOverrides) reach.push("the canary's Deployment (0 pods)");
    return reach;
}

/** The reach of one changed field, judged on both sides of the change. */
function reachOf(change: FieldChange, a: ServiceConfig, planA: StagePlan, b: ServiceConfig, planB: StagePlan): string {
    const [top, second] = change.path.split(/[.[]/);
    if (top === "stable") return "production pods";
    if (top === "canary") {
        const canaryPods = Math.max(planA.canary.replicas, planB.canary.replicas) > 0 ? "canary pods" : "the canary's Deployment (0 pods)";
        const production = planB.kind === "promote" || planB.kind === "switch-back" ? ", production pods" : "";
        return second === undefined || second === "tag" || (CANARY_OVERRIDE_FIELDS as readonly string[]).includes(second) ? `${canaryPods}${production}` : canaryPods;
    }
    if ((POD_FIELDS as readonly string[]).includes(top)) {
        const overridden = (s: ServiceConfig) => (top in (s.canaryOverrides ?? {}) && s.canary !== undefined) || (top === "chart" && s.canaryOverrides?.chartVersion !== undefined && second === "version");
        const reach = new Set([...podReach(top, a, planA, overridden(a)), ...podReach(top, b, planB, overridden(b))]);
        if (top === "port") reach.add("routing (the Service's target)");
        return [...reach].join(", ");
    }
    return REACHES[top] ?? "the service";
}

/** Every changed field of a service block between two revisions of the stack, "path: before -> after (reaches …)". */
export function serviceFieldChanges(a: ServiceConfig, planA: StagePlan, b: ServiceConfig, planB: StagePlan): string[] {
    const asMap = hasOverrides(a) || hasOverrides(b);
    return fieldChanges(displayBlock(a, asMap), displayBlock(b, asMap))
        .filter((c) => c.path !== "stage")
        .map((c) => `${changeWords(c)} (reaches ${reachOf(c, a, planA, b, planB)})`);
}
