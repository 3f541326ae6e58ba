// Pure: make before break — in what order one move touches a service's workloads and routing.
// Used by ServiceRelease to order its Helm releases, and replayed in the ordering tests.
import { Track, TRACKS } from "../shared/tracks";
import { Traffic } from "./stages";

/**
 * The order in which one move touches a service. Workload releases in `make` (scale up, new tag) are
 * applied and ready before the routing changes; workload releases in `break` (scale down) only after
 * the routing has taken their traffic away and `drainSeconds` have passed, because Envoy sidecars learn
 * route changes eventually, not at once.
 */
export interface OperationOrder {
    make: Track[];
    break: Track[];
    drainSeconds: number;
}

/** Classifies each track's change and says how long to wait between routing and scale-down. */
export function operationOrder(prev: Traffic | undefined, next: Traffic, drainSeconds: number): OperationOrder {
    const order: OperationOrder = { make: [], break: [], drainSeconds: 0 };
    for (const track of TRACKS) {
        const before = prev?.[track];
        const after = next[track];
        // Scaling to fewer pods (to 0 included, whatever the tag) takes capacity away: break.
        // Anything else — more pods, a new tag, no change — must be in place before routing relies on it.
        const shrinks = before !== undefined && after.replicas < before.replicas && (after.replicas === 0 || after.tag === before.tag);
        if (shrinks) {
            order.break.push(track);
            // Only pods that were receiving traffic (weighted, mirrored or test users') need the drain delay.
            const sideTraffic = track === "canary" && ((prev?.mirrorPercent ?? 0) > 0 || prev?.testRoutes === true);
            if (before.weight > 0 || sideTraffic) order.drainSeconds = drainSeconds;
        } else {
            order.make.push(track);
        }
    }
    return order;
}


/**
 * The drain wait of a service, as its Sleep resource holds it. The Sleep waits when it is created, so it is
 * replaced — and waits — only by a move that removes pods that carried traffic: then `count` goes up by one
 * (two such moves in a row both wait). Any other move keeps the previous drain as it was, and the preview
 * shows no change to it.
 */
export interface Drain {
    /** How many drains the service has waited so far. */
    count: number;
    /** How long the last one waited. */
    seconds: number;
}

export function nextDrain(previous: Drain | undefined, order: OperationOrder): Drain {
    if (order.drainSeconds > 0) return { count: (previous?.count ?? 0) + 1, seconds: order.drainSeconds };
    return previous ?? { count: 0, seconds: 0 };
}
