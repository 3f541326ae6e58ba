// Pure: automatic rollback through git (docs/releasing.md "Automatic rollback"). Which canaries of a stack serve traffic and so
// can be judged, what a verdict means for each (roll back or not), that the rollback is a legal move, and the pull
// request that carries it: its head branch (one per service, so at most one open rollback per service), its labels,
// title and body with the verdict's numbers and PromQL queries as evidence. No I/O: scripts/auto-rollback.ts does it.
import { Track, TRACKS } from "../shared/tracks";
import { ServiceConfig } from "./config";
import { deployedState } from "./deployed";
import { checkMove, MoveCheck } from "./moves";
import { revisionRecords } from "./revision";
import { PlannedService, stagePlan } from "./stages";
import { formatMs, formatPercent, trackQueries, Verdict } from "./verdict";
import { VerdictConfig } from "./routing-config";

/** The label every rollback pull request carries. */
export const ROLLBACK_LABEL = "stagehand/rollback";
/** The label of a rollback pull request that is merged once its checks pass (autoRollback: true). */
export const AUTO_MERGE_LABEL = "stagehand/auto-rollback";
const BRANCH_PREFIX = "stagehand/rollback/";

/** The head branch of a service's rollback pull request: one name per stack and service. */
export function rollbackBranch(stack: string, service: string): string {
    return `${BRANCH_PREFIX}${stack}/${service}`;
}

/** The stack and service a rollback branch is for; undefined for any other branch. */
export function parseRollbackBranch(branch: string): { stack: string; service: string } | undefined {
    const m = /^stagehand\/rollback\/([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(branch);
    return m ? { stack: m[1], service: m[2] } : undefined;
}

/** A canary that serves traffic now (weighted, or mirrored), and so has a verdict to judge. */
export interface ServingCanary {
    service: string;
    namespace: string;
    stage: number;
    stageCount: number;
    stageName: string;
    description: string;
    stable: string;
    canary: string;
    /** Percent of requests routed to the canary (0 in a shadow stage). */
    canaryWeight: number;
    mirrorPercent: number;
    /** The service's `autoRollback`, else the stack's `stagehand:autoRollback`. */
    autoRollback: boolean;
}

/** The canaries of a stack's planned services that serve traffic (canary weight > 0, or mirrored), by name. */
export function servingCanaries(planned: PlannedService[], stackAutoRollback: boolean): ServingCanary[] {
    return planned
        .filter(({ plan, service }) => service.canary !== undefined && (plan.canary.weight > 0 || plan.mirrorPercent > 0))
        .map(({ name, service, plan }) => ({
            service: name,
            namespace: service.namespace,
            stage: plan.stage,
            stageCount: plan.stageCount,
            stageName: plan.name,
            description: plan.description,
            stable: service.stable,
            canary: service.canary!,
            canaryWeight: plan.canary.weight,
            mirrorPercent: plan.mirrorPercent,
            autoRollback: service.autoRollback ?? stackAutoRollback,
        }));
}

/**
 * Whether a verdict calls for a rollback: only `failing` does. Not enough traffic is no evidence either way, and a
 * canary that could not be judged is not rolled back on a guess (the run fails and says why instead).
 */
export function shouldRollBack(verdict: Verdict | null): boolean {
    return verdict === "failing";
}

/**
 * The rollback judged as the program judges every move (components/service/moves.ts): from the service's stage,
 * completed or not, to stage 1 with the block otherwise unchanged. Always legal; checked, not assumed.
 */
export function rollbackMove(service: ServiceConfig): MoveCheck {
    const deployed = deployedState(service, stagePlan(service), false);
    const revisions = revisionRecords(service);
    return checkMove(deployed, { ...service, stage: 1, allowSkip: false, revisions });
}

/** The numbers of one track as `npm run verdict -- --json` reports them. */
export interface TrackNumbers {
    workload: string;
    requests: number;
    errors: number;
    errorRate: number | null;
    p95Ms: number | "+Inf" | null;
}

/** What the pull request cites: `npm run verdict -- --json`'s report of the failing canary (scripts/verdict.ts). */
export interface VerdictEvidence {
    stack: string;
    service: string;
    namespace: string;
    window: string;
    prometheus: string;
    tracks: Record<Track, TrackNumbers>;
    thresholds: VerdictConfig;
    verdict: Verdict;
    reasons: string[];
}

/** What the pull request is about: the canary, its stage, and whether it merges by itself. */
export interface RollbackSubject {
    stack: string;
    canary: ServingCanary;
    /** The link to the workflow run that judged it, when there is one. */
    runUrl?: string;
}

/** A hidden line in the body naming what was rolled back: a closed (declined) pull request is not opened again for it. */
export function rollbackMarker(stack: string, c: Pick<ServingCanary, "service" | "canary" | "stage">): string {
    return `<!-- stagehand-rollback stack=${stack} service=${c.service} canary=${c.canary} stage=${c.stage} -->`;
}

export function rollbackTitle(stack: string, c: ServingCanary): string {
    return `Roll back ${c.service} in ${stack}: canary ${c.canary} is failing at stage ${c.stage} (${c.stageName})`;
}

const number = (v: number | "+Inf" | null, ms = false) => (v === null ? "-" : v === "+Inf" ? "+Inf" : ms ? formatMs(v) : String(v));

/** The evidence as a Markdown table and list: the numbers of both tracks, the thresholds, the reasons, the queries. */
export function evidenceMarkdown(e: VerdictEvidence): string[] {
    const t = e.thresholds;
    const row = (name: string, cell: (n: TrackNumbers) => string) => `| ${name} | ${TRACKS.map((k) => cell(e.tracks[k])).join(" | ")} |`;
    const limits = [`at least ${t.minRequests} canary requests`, `error rate at most ${formatPercent(t.maxErrorRate)}`, `p95 at most ${formatMs(t.maxP95LatencyMs)}`];
    if (t.maxLatencyIncrease !== undefined) limits.push(`p95 at most ${t.maxLatencyIncrease} × production's`);
    const lines = [
        `Metrics of the last ${e.window} from Prometheus (\`${e.prometheus}\`), Istio's standard metrics reported by the server-side proxies:`,
        "",
        `|  | ${TRACKS.map((k) => `${k} (\`${e.tracks[k].workload}\`)`).join(" | ")} |`,
        `|---|${TRACKS.map(() => "---").join("|")}|`,
        row("requests", (n) => String(n.requests)),
        row("5xx", (n) => String(n.errors)),
        row("error rate", (n) => (n.errorRate === null ? "-" : formatPercent(n.errorRate))),
        row("p95 latency", (n) => number(n.p95Ms, true)),
        "",
        `Thresholds (\`verdict\` of the service): ${limits.join(", ")}.`,
        "",
        `Verdict: **${e.verdict}**`,
        ...e.reasons.map((r) => `- ${r}`),
        "",
        "<details><summary>PromQL queries (instant queries, to re-run in Prometheus or Grafana)</summary>",
        "",
    ];
    for (const track of TRACKS) {
        const q = trackQueries(e.service, e.namespace, track, e.window);
        lines.push(`${track}:`, "```promql", q.requests, q.errors, q.p95, "```");
    }
    lines.push("</details>");
    return lines;
}

/** The pull request's body: what it does, why (the evidence), what happens next, and the marker line. */
export function rollbackBody(s: RollbackSubject, evidence: VerdictEvidence, move: MoveCheck): string {
    const c = s.canary;
    const file = `Pulumi.${s.stack}.yaml`;
    const next = c.autoRollback
        ? `\`autoRollback\` is on for ${c.service}: \`npm run auto-rollback\` merges this pull request once its checks pass, and the deploy applies it. Remove the label \`${AUTO_MERGE_LABEL}\` or close the pull request to stop it.`
        : `\`autoRollback\` is off for ${c.service}: an owner of the service reviews and merges this pull request (or closes it to keep the canary; it is not opened again for canary ${c.canary} at stage ${c.stage}).`;
    return [
        rollbackMarker(s.stack, c),
        `The canary of **${c.service}** in stack **${s.stack}** fails its metrics verdict, so this pull request rolls it back: \`stage: ${c.stage}\` → \`stage: 1\` in \`${file}\`, \`stable\` and everything else of the file unchanged.`,
        "",
        `- now: stage ${c.stage}/${c.stageCount} (${c.stageName}): ${c.description}`,
        `- after: ${move.ok ? move.words : "refused"}; the canary Deployment scales to 0 once the proxies have stopped sending it traffic`,
        `- canary \`${c.canary}\`, stable \`${c.stable}\``,
        "",
        ...evidenceMarkdown(evidence),
        "",
        next,
        "",
        `Opened by \`npm run auto-rollback\`${s.runUrl ? ` in [this run](${s.runUrl})` : ""}.`,
    ].join("\n");
}

/** A later run's comment on the open pull request: the fresh numbers. */
export function evidenceComment(evidence: VerdictEvidence, runUrl?: string): string {
    return [`Still failing${runUrl ? ` ([run](${runUrl}))` : ""}:`, "", ...evidenceMarkdown(evidence)].join("\n");
}

/** How the checks of a pull request's head commit stand, as the merge needs them. */
export type ChecksState = { state: "passed"; names: string[] } | { state: "pending"; names: string[] } | { state: "failed"; names: string[] } | { state: "none" };

/** A check run (GitHub's check-runs API) or a commit status (the combined status API), as far as the merge reads it. */
export interface CheckOutcome {
    name: string;
    /** check run: queued, in_progress, completed (…); commit status: pending, success, failure, error. */
    status: string;
    conclusion: string | null;
}

const PASSING = new Set(["success", "neutral", "skipped"]);

/**
 * Whether every check of the head commit passed: none failed (a conclusion other than success, neutral or skipped,
 * or a status of failure or error), none still running, and at least one there (a pull request whose checks have not
 * started yet is not merged). The merge API still enforces the branch's required checks on top of this.
 */
export function checksState(checks: CheckOutcome[]): ChecksState {
    if (checks.length === 0) return { state: "none" };
    const failed = checks.filter((c) => (c.status === "completed" && !PASSING.has(c.conclusion ?? "")) || c.status === "failure" || c.status === "error");
    if (failed.length > 0) return { state: "failed", names: failed.map((c) => `${c.name} (${c.conclusion ?? c.status})`) };
    const pending = checks.filter((c) => c.status !== "completed" && c.status !== "success");
    if (pending.length > 0) return { state: "pending", names: pending.map((c) => `${c.name} (${c.status})`) };
    return { state: "passed", names: checks.map((c) => c.name) };
}
