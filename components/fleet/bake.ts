// When a release may start in a wave (docs/fleet.md "Waves: a fleet of stacks"): only once every stack of the wave before it
// that runs the service has finished that release (stage 1, `stable` the released tag), and the last of them
// finished at least the wave's bake time ago. Pure: the callers read the stacks (and, from git, when each finished).
import { Fleet, previousWave, waveOf } from "./waves";

/** Where a service stands in one stack of the previous wave. */
export type PreviousState =
    /** The stack does not run the service: it has nothing to finish. */
    | { kind: "absent" }
    /** Stage 1 with `stable`; `since`: when it first ran `stable` at stage 1 (the commit's time), when known. */
    | { kind: "idle"; stable: string; since?: { at: Date; commit: string } }
    /** Mid-release, in words ("stage 3/6 (canary 90%) releasing 1.5.0"). */
    | { kind: "releasing"; words: string };

export type StartCheck =
    | { ok: true; reason?: undefined; note?: string }
    | {
          ok: false;
          reason: string;
          /** When the bake ends, when that is all that is missing. */
          bakeEndsAt?: Date;
      };

/** An instant for messages: ISO, to the second. */
export const isoWords = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Whether `service` may start releasing `tag` in `stack` at `now`, given where it stands in each stack of the
 * previous wave. The first wave, and a stack in no wave, start releases freely.
 */
export function checkReleaseStart(fleet: Fleet, stack: string, service: string, tag: string, previous: Record<string, PreviousState>, now: Date): StartCheck {
    const prev = previousWave(fleet, stack);
    if (!prev) return { ok: true };
    const here = waveOf(fleet, stack)!.wave;
    const head = `stack ${stack}, service ${service}: cannot start releasing ${tag} in wave ${here.name}`;
    const running = prev.stacks.filter((s) => (previous[s] ?? { kind: "absent" }).kind !== "absent");
    if (running.length === 0) return { ok: true, note: `no stack of wave ${prev.name} (${prev.stacks.join(", ")}) runs ${service}: nothing to finish there first` };
    const missing: string[] = [];
    let last: { at: Date; commit: string; stack: string } | undefined;
    let unknownSince: string[] = [];
    for (const s of running) {
        const state = previous[s];
        if (state.kind === "releasing") missing.push(`${s} is at ${state.words}`);
        else if (state.kind === "idle" && state.stable !== tag) missing.push(`${s} runs ${state.stable} as stable, not ${tag}`);
        else if (state.kind === "idle") {
            if (!state.since) unknownSince.push(s);
            else if (!last || state.since.at > last.at) last = { ...state.since, stack: s };
        }
    }
    if (missing.length > 0) {
        return { ok: false, reason: `${head}: wave ${prev.name} must finish it first (stage 1 with stable: "${tag}" in ${running.join(", ")}): ${missing.join("; ")}` };
    }
    if (prev.bakeMs === 0) return { ok: true };
    if (unknownSince.length > 0) {
        return { ok: false, reason: `${head}: wave ${prev.name} bakes ${prev.bake} and the history does not say when ${unknownSince.join(", ")} finished ${tag} (no commit of the stack file sets it): merge the finish there first` };
    }
    const ends = new Date(last!.at.getTime() + prev.bakeMs);
    if (now < ends) {
        return {
            ok: false,
            bakeEndsAt: ends,
            reason:
                `${head}: wave ${prev.name} bakes ${prev.bake} after its last stack finishes it; ${last!.stack} finished ${tag} at ${isoWords(last!.at)} (commit ${last!.commit.slice(0, 7)}, ` +
                `its merge time standing for the deploy), so the bake ends at ${isoWords(ends)}: start it then`,
        };
    }
    return { ok: true, note: `wave ${prev.name} finished ${tag} and baked ${prev.bake} (last finish ${isoWords(last!.at)} in ${last!.stack})` };
}
