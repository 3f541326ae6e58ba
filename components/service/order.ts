// Pure: make before break — in what order one move touches a service's workloads and routing, and the waits
// between them. Used by ServiceRelease to order its Helm releases, and replayed in the ordering tests.
import { Track, TRACKS } from "../shared/tracks";
import { Traffic } from "./stages";

/** What a move does to one track's pods: more pods or new ones (a new tag), the same ones, or fewer. */
export type TrackChange = "grows" | "keeps" | "shrinks";

/**
 * The order in which one move touches a service:
 * 1. `make`: workload releases whose pods must be in place before the routing relies on them (a track that
 *    grows or rolls to a new tag, and one that shrinks while keeping its share of traffic), applied and ready;
 * 2. `settleSeconds`: a wait, when the routing is about to send more traffic to pods just made ready, for every
 *    sidecar to learn their endpoints (Envoy learns them asynchronously, after Kubernetes reports them ready);
 * 3. the routing release;
 * 4. `drainSeconds`: a wait, when pods that carried traffic are about to go, for every sidecar to learn the new
 *    routes (route changes reach the proxies eventually, not at once);
 * 5. `break`: workload releases that take pods away from a track losing traffic.
 */
export interface OperationOrder {
    make: Track[];
    break: Track[];
    /** Seconds between the routing and the break releases; 0 when no pod that carried traffic goes. */
    drainSeconds: number;
    /** Seconds between the make releases and the routing; 0 when no track gains traffic onto new pods. */
    settleSeconds: number;
    /** What the move does to each track's pods. */
    changes: Record<Track, TrackChange>;
    /**
     * True when the previous state is unknown (no trustworthy record of what was deployed): the order is the one
     * that is safe whatever the cluster holds — grow, settle, route, drain, shrink.
     */
    cautious: boolean;
}

/** The waits of a service: how long to let proxies catch up before routing moves, and after. */
export interface Timing {
    drainSeconds: number;
    settleSeconds: number;
}

/**
 * Whether a track's pods are replaced: a new tag, or a new revision (env, resources, probes, values … changed).
 * A state written before revisions were recorded is judged by its tag alone.
 */
export function newPods(before: Traffic[Track], after: Traffic[Track]): boolean {
    if (after.tag !== before.tag) return true;
    return before.revision !== undefined && after.revision !== undefined && before.revision.id !== after.revision.id;
}

/** What a move does to a track's pods. A new revision replaces every pod (a rolling update): that grows new pods. */
export function trackChange(before: Traffic[Track] | undefined, after: Traffic[Track]): TrackChange {
    if (!before) return after.replicas > 0 ? "grows" : "keeps";
    if (after.replicas < before.replicas) return "shrinks";
    if (after.replicas > before.replicas || (newPods(before, after) && after.replicas > 0)) return "grows";
    return "keeps";
}

/** The traffic a track carries: its weight, and for the canary the mirror and the test users' requests. */
function carries(t: Traffic | undefined, track: Track): { weight: number; side: boolean } {
    if (!t) return { weight: 0, side: false };
    return { weight: t[track].weight, side: track === "canary" && ((t.mirrorPercent ?? 0) > 0 || t.testRoutes === true) };
}

/**
 * Orders each track by what it really does. `prev` undefined means the previous state is unknown: then every
 * track is assumed to have carried traffic (the cautious order), and the caller holds tracks at a size that is
 * safe whatever was deployed (`heldForUnknownPast`).
 */
export function operationOrder(prev: Traffic | undefined, next: Traffic, timing: Timing): OperationOrder {
    const cautious = prev === undefined;
    const order: OperationOrder = { make: [], break: [], drainSeconds: 0, settleSeconds: 0, changes: {} as Record<Track, TrackChange>, cautious };
    for (const track of TRACKS) {
        const after = next[track];
        const change = cautious ? (after.replicas > 0 ? "grows" : "shrinks") : trackChange(prev[track], after);
        order.changes[track] = change;
        const was = cautious ? { weight: 100, side: true } : carries(prev, track);
        const now = carries(next, track);
        const losesTraffic = now.weight < was.weight || (was.side && !now.side);
        const servesNow = now.weight > 0 || now.side;
        if (change === "shrinks" && (losesTraffic || !servesNow)) {
            // Pods go from a track whose traffic moves away (or that carries none): after the routing, and after the
            // drain when they carried any. A track that shrinks but keeps serving its share (a stay with fewer
            // replicas) needs no route change and so no drain: it goes with the make releases.
            order.break.push(track);
            if (was.weight > 0 || was.side) order.drainSeconds = timing.drainSeconds;
        } else {
            // Pods that must be ready before the routing relies on them — and a track that shrinks but keeps its
            // share, whose remaining pods the plan sizes for that share.
            order.make.push(track);
            const gainsTraffic = now.weight > was.weight || (now.side && !was.side) || (cautious && (now.weight > 0 || now.side));
            if (change === "grows" && gainsTraffic) order.settleSeconds = timing.settleSeconds;
        }
    }
    return order;
}

/**
 * With the previous state unknown, a track the plan gives some pods but not its full size might have been
 * carrying more traffic than the plan now gives it, and a release is applied once per update: so it is applied
 * at full size (enough for any share), and shrinks to its planned size on the next update, when what was
 * deployed is known again (it is exported as applied). Returns the plan to apply.
 */
export function holdForUnknownPast<P extends Traffic>(plan: P, fullReplicas: number): P {
    const held = { ...plan };
    for (const track of TRACKS) {
        if (plan[track].replicas > 0 && plan[track].replicas < fullReplicas) held[track] = { ...plan[track], replicas: fullReplicas };
    }
    return held;
}

/** The tracks a cautious update holds above their plan, in words for the preview ("canary held at x4"). */
export function heldWords(plan: Traffic, applied: Traffic): string[] {
    return TRACKS.filter((t) => applied[t].replicas !== plan[t].replicas).map((t) => `${t} held at x${applied[t].replicas} (planned x${plan[t].replicas}) until the next update`);
}

/**
 * A wait of a service, as its Sleep resource holds it. A Sleep waits when it is created, so it is replaced —
 * and waits — only by a move that needs the wait: then `count` goes up by one (two such moves in a row both
 * wait). Any other move keeps the previous one as it was, and the preview shows no change to it.
 *
 * With the previous state unknown (a cautious move) the count starts from nothing and could equal the deployed
 * Sleep's: its trigger would not change, Pulumi would keep it, and it would not wait. So a cautious move that needs
 * a wait also records the update's own identity (`update`, fresh for every update), and the trigger carries it:
 * it differs from whatever is deployed, and the Sleep is replaced and waits.
 */
export interface Wait {
    /** How many times the service has waited so far. */
    count: number;
    /** How long the last one waited. */
    seconds: number;
    /** The identity of the update that last waited with the previous state unknown (absent otherwise). */
    update?: string;
}

/**
 * The wait a move leaves: a new one (replacing the Sleep) when it needs `seconds` of waiting, else the previous one.
 * `cautiousUpdate`: the identity of this update when its previous state is unknown; then a new wait carries it.
 */
export function nextWait(previous: Wait | undefined, seconds: number, cautiousUpdate?: string): Wait {
    if (seconds > 0) return { count: (previous?.count ?? 0) + 1, seconds, ...(cautiousUpdate ? { update: cautiousUpdate } : {}) };
    return previous ?? { count: 0, seconds: 0 };
}

/** The trigger of a wait's Sleep: its count, and the cautious update's identity when it has one. */
export function waitTrigger(wait: Wait): string {
    return wait.update ? `${wait.count} (update ${wait.update})` : String(wait.count);
}

/**
 * What a move starts before traffic returns to production, in words for the preview: production growing back to take
 * traffic (after a lean release's weight steps: a rollback, the switch back) — how many pods start, and that they
 * are ready and settled before traffic moves onto them. Empty when production does not grow in number while gaining
 * traffic, and when the previous state is unknown (the cautious order says so itself).
 */
export function growsBackWords(prev: Traffic | undefined, next: Traffic, order: OperationOrder): string[] {
    const [before, after] = [prev?.production, next.production];
    if (!before || !order.make.includes("production") || after.replicas <= before.replicas || after.weight <= before.weight) return [];
    const start = after.replicas - before.replicas;
    return [`production grows back first: x${before.replicas} -> x${after.replicas}, ${start} pod${start === 1 ? "" : "s"} start${start === 1 ? "s" : ""} and settle before ${after.weight}% of traffic moves onto it`];
}
