// What `plan --diff` adds for the fleet (docs/fleet.md "Waves: a fleet of stacks", "Change windows"): a release may start in
// a wave only once the wave before it has finished and baked it, and a forward move or a direct update is refused
// while the stack's change window is closed (a rollback never is). Judged with the fleet file, the other stacks'
// files and their history as they are at the base revision: a pull request loosens neither.
import { checkReleaseStart } from "../components/fleet/bake";
import { Calendar, describeWindow, Window, windowAt, WINDOWED_MOVES } from "../components/fleet/calendar";
import { calendarOf, Fleet, waveOf } from "../components/fleet/waves";
import { BREAK_GLASS_LABEL } from "../components/governance/labels";
import { parseServices } from "../components/service/config";
import type { ServiceDiff } from "./diff";
import { previousStatesAt } from "./fleet";

export interface FleetGateResult {
    /** One line per refused move (empty: none). */
    refused: string[];
    /** What was judged and passed, worth saying (a window open, a bake over, a break-glass used). */
    notes: string[];
    /** The stack's window at `now`, when it has a calendar. */
    window?: { calendar: Calendar; at: Window };
}

/** Whether a move starts a release in this stack: the first stage after idle with a canary, or a direct update. */
function startsRelease(move: NonNullable<ServiceDiff["move"]>): boolean {
    return move.kind === "direct" || ((move.kind === "forward" || move.kind === "skip") && move.from === 1);
}

export function judgeFleetGates(
    stack: string,
    diffs: ServiceDiff[],
    current: Record<string, unknown>,
    context: { fleet: Fleet; ref: string; root: string; now: Date; breakGlass?: boolean },
): FleetGateResult {
    const { fleet, ref, root, now } = context;
    const refused: string[] = [];
    const notes: string[] = [];
    const services = current.services === undefined ? {} : parseServices(stack, current.services);
    const calendar = calendarOf(fleet, stack);
    const window = calendar ? windowAt(calendar, now) : undefined;
    const wave = waveOf(fleet, stack)?.wave;
    for (const d of diffs) {
        if (!d.ok || !d.move) continue;
        const next = services[d.service];
        if (!next) continue;
        if (startsRelease(d.move)) {
            const tag = d.move.kind === "direct" ? next.stable : (next.canary ?? next.stable);
            const check = checkReleaseStart(fleet, stack, d.service, tag, previousStatesAt(root, ref, fleet, stack, d.service, tag), now);
            if (!check.ok) refused.push(check.reason);
            else if (check.note) notes.push(`${d.service}: ${check.note}`);
        }
        if (calendar && window && !window.open && WINDOWED_MOVES.includes(d.move.kind)) {
            const where = `stack ${stack}${wave ? ` (wave ${wave.name})` : ""}`;
            const line = `${where}, service ${d.service}: ${d.move.kind} move while the change window is ${describeWindow(calendar, window)}`;
            if (context.breakGlass) notes.push(`${line}: allowed by break-glass (${BREAK_GLASS_LABEL}, added by a platform owner who is not the author)`);
            else refused.push(`${line}. A rollback (stage: 1 with stable unchanged) is always allowed; otherwise wait for the window, or a platform owner who is not the author adds the label ${BREAK_GLASS_LABEL} after the last push`);
        }
    }
    return { refused, notes, ...(calendar && window ? { window: { calendar, at: window } } : {}) };
}
