// Pure: what a release costs in pods on top of the service's full size, and what a rollback has to start — read off
// the stage plans, for `npm run plan` and the cost estimate (components/cost/release.ts). Both production modes
// (components/service/stages.ts `ProductionMode`) are measured the same way.
import { TRACKS } from "../shared/tracks";
import type { StagePlan } from "./stages";

/** The pods a release of one service runs beyond its full size, and the pods a rollback starts. */
export interface ReleaseOverhead {
    /** The service's full size: production's replicas outside a release. */
    fullReplicas: number;
    /**
     * The most pods beyond the full size that a stage holds (production's and the canary's together), for as long as
     * the release stays at that stage: hours or days. 0 for a service whose plan never runs both tracks.
     */
    heldExtra: number;
    /** The stages that hold `heldExtra` ("canary 100%", "promote"), in order. */
    heldAt: string[];
    /**
     * The most pods beyond the full size while a move between stages runs (forward one stage, a rollback to stage 1,
     * finishing): make before break keeps the pods a track loses until traffic has left them, and starts the pods a
     * track gains before traffic moves onto them, so for minutes both are up. Not counting a rolling update's surge.
     */
    movingExtra: number;
    /**
     * The most production pods a rollback from a weight step has to start (and wait ready and settled) before traffic
     * returns to production: 0 when production keeps its full size. From promote on production runs the canary's
     * revision, so a rollback from there replaces all of its pods in either mode; that is not counted here.
     */
    rollbackStarts: number;
    /** The weight step `rollbackStarts` is worst from ("canary 100%"); absent when it is 0. */
    rollbackFrom?: string;
}

const total = (p: Pick<StagePlan, "production" | "canary">) => p.production.replicas + p.canary.replicas;

/** The pods both tracks hold at once while a move from `a` to `b` runs: each track at the larger of its sizes. */
function duringMove(a: Pick<StagePlan, "production" | "canary">, b: Pick<StagePlan, "production" | "canary">): number {
    return TRACKS.reduce((n, t) => n + Math.max(a[t].replicas, b[t].replicas), 0);
}

/**
 * The overhead of a release of a service from its stage plans (index 0 = stage 1, as `stagePlans` makes them), at
 * full size `fullReplicas` (the service's `replicas`). Moves measured: one stage forward, a rollback to stage 1 from
 * any stage, and finishing after the last (the canary scaling to 0) — the moves a release is made of.
 */
export function releaseOverhead(plans: readonly StagePlan[], fullReplicas: number): ReleaseOverhead {
    const extra = (pods: number) => Math.max(0, pods - fullReplicas);
    const heldExtra = Math.max(0, ...plans.map((p) => extra(total(p))));
    const heldAt = heldExtra > 0 ? plans.filter((p) => extra(total(p)) === heldExtra).map((p) => p.name) : [];
    const idle = plans[0];
    const moves: [StagePlan, StagePlan][] = [];
    plans.forEach((p, i) => {
        if (i + 1 < plans.length) moves.push([p, plans[i + 1]]);
        if (i > 0) moves.push([p, idle]);
    });
    const movingExtra = Math.max(heldExtra, ...moves.map(([a, b]) => extra(duringMove(a, b))));
    let rollbackStarts = 0;
    let rollbackFrom: string | undefined;
    for (const p of plans) {
        if (p.kind !== "canary" && p.kind !== "shadow") continue;
        const starts = idle.production.replicas - p.production.replicas;
        if (starts > rollbackStarts) [rollbackStarts, rollbackFrom] = [starts, p.name];
    }
    return { fullReplicas, heldExtra, heldAt, movingExtra, rollbackStarts, ...(rollbackFrom ? { rollbackFrom } : {}) };
}

/** The overhead in words, one line, as `npm run plan` shows it under each service. */
export function overheadWords(mode: string, headroomPercent: number, o: ReleaseOverhead): string {
    const pods = (n: number) => `${n} pod${n === 1 ? "" : "s"}`;
    const how = mode === "follows-traffic" ? `production follows traffic (headroom ${headroomPercent}%)` : "production keeps its full size";
    const held = o.heldExtra > 0 ? `holds up to ${pods(o.heldExtra)} beyond x${o.fullReplicas} (at ${o.heldAt.join(", ")})` : `holds no pods beyond x${o.fullReplicas}`;
    const moving = o.movingExtra > o.heldExtra ? `, ${pods(o.movingExtra)} for the minutes of a switch back or rollback (make before break)` : "";
    const rollback =
        o.rollbackStarts > 0
            ? `a rollback from ${o.rollbackFrom} starts ${pods(o.rollbackStarts)} of production before traffic returns`
            : "a rollback from a weight step is instant (production is at full size)";
    return `release: ${how}: ${held}${moving}; ${rollback}`;
}
