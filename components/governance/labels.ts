// Whether a label counts (docs/reviewing.md "Who may change what"): the verdict override and the break-glass each
// count only when added after the last push by an owner of what they let through who is not the author. Pure: the
// commands (scripts/verdict-override.ts, scripts/break-glass.ts) read the timeline with GitHub's API and hand it here.
import { ownerEntry, OwnerTest, short, stackOwners } from "./owners";

/** The label that lets a pull request pass with a failing (or unjudged) metrics verdict, when it counts. */
export const OVERRIDE_LABEL = "stagehand/override-verdict";

/**
 * The label that lets a pull request's forward moves and direct updates through a closed change window (README
 * "Change windows"), when it counts: added after the last push by a platform owner of each stack who is not the author.
 */
export const BREAK_GLASS_LABEL = "stagehand/break-glass";

/** The services whose verdict an override lets pass, with the owners who may override it. */
export interface OverriddenService {
    stack: string;
    service: string;
    owners: string[];
    ownersFrom: string;
}

/** A service's owners at the base revision: its block's own, else the stack's platform owners. */
export function serviceOwners(stack: string, service: string, baseText: string | undefined, baseSha: string): OverriddenService {
    const owners = stackOwners(baseText);
    const own = owners.services[service];
    const file = `Pulumi.${stack}.yaml`;
    if (own) return { stack, service, owners: own, ownersFrom: `the owners of service ${service} in ${file} at base ${short(baseSha)}` };
    return { stack, service, owners: owners.platform, ownersFrom: `the platform owners of ${file} at base ${short(baseSha)} (the block names none of its own)` };
}

/** A timeline event (the fields used here), as GitHub's issue timeline API lists them. */
export interface TimelineEvent {
    event: string;
    created_at?: string;
    actor?: { login: string } | null;
    label?: { name: string };
    sha?: string;
    committer?: { date: string };
}

/**
 * When the pull request's branch was last pushed to, as far as its timeline tells: the latest of a force push
 * (`head_ref_force_pushed`, stamped by GitHub when it happened) and each commit's committer date (`committed`,
 * written by whoever made the commit: a push carries no date of its own on the timeline). Undefined: no push at all
 * on the timeline (the pull request was opened on its commits).
 */
export function lastPush(events: TimelineEvent[]): { at: number; how: string } | undefined {
    let last: { at: number; how: string } | undefined;
    for (const e of events) {
        let at: number | undefined;
        let how = "";
        if (e.event === "head_ref_force_pushed" && e.created_at) {
            at = Date.parse(e.created_at);
            how = `a force push${e.actor ? ` by ${e.actor.login}` : ""} at ${e.created_at}`;
        } else if (e.event === "committed" && e.committer?.date) {
            at = Date.parse(e.committer.date);
            how = `commit ${short(e.sha ?? "")} (committed at ${e.committer.date})`;
        }
        if (at !== undefined && !Number.isNaN(at) && (!last || at >= last.at)) last = { at, how };
    }
    return last;
}

export interface OverrideDecision {
    counts: boolean;
    /** The label's own conditions hold: on the pull request, added after the last push, not by the author. */
    labelHolds: boolean;
    /** The label's current application: who added it, when; undefined when the pull request does not carry it. */
    label?: { by: string; at: string };
    lastPush?: { at: string; how: string };
    /** Per service: whether the labeller owns it, and who may add the label. */
    services: (OverriddenService & { owned: boolean; as?: string })[];
    /** Why it counts or not, in words, one line each. */
    reasons: string[];
}

const whoMay = (s: OverriddenService) =>
    s.owners.length ? `${s.stack}/${s.service}: one of ${s.owners.join(", ")} (${s.ownersFrom})` : `${s.stack}/${s.service}: no one (${s.ownersFrom} name nobody)`;

/**
 * Whether the override label counts: it must be on the pull request, added after its last push, by someone who
 * is not the author and owns every overridden service (docs/reviewing.md "Who may change what").
 */
export async function judgeOverride(
    pr: { author: string; labels: string[]; events: TimelineEvent[] },
    services: OverriddenService[],
    isMember: OwnerTest,
    /** The label judged: the verdict override (default), or the break-glass of a closed change window (BREAK_GLASS_LABEL). */
    label: string = OVERRIDE_LABEL,
): Promise<OverrideDecision> {
    const LABEL = label.toLowerCase();
    const who = `who may add it (after the last push, not the author): ${services.map(whoMay).join("; ") || "anyone who owns the overridden services"}`;
    const push = lastPush(pr.events);
    const lastPushOut = push && { at: new Date(push.at).toISOString(), how: push.how };
    const carries = pr.labels.some((l) => l.toLowerCase() === LABEL);
    const labelled = [...pr.events].reverse().find((e) => e.event === "labeled" && e.label?.name.toLowerCase() === LABEL);
    const plain = services.map((s) => ({ ...s, owned: false }));
    if (!carries || !labelled || !labelled.created_at) {
        const why = carries ? `the pull request carries ${label} but its timeline does not say who added it` : `the pull request does not carry the label ${label}`;
        return { counts: false, labelHolds: false, lastPush: lastPushOut, services: plain, reasons: [why, who] };
    }
    const by = labelled.actor?.login ?? "(a deleted user)";
    const applied = { by, at: labelled.created_at };
    const reasons: string[] = [];
    if (push && Date.parse(labelled.created_at) <= push.at) {
        reasons.push(`${by} added ${label} at ${labelled.created_at}, before the last push (${push.how}): remove it and add it again to vouch for the head commit`);
    }
    if (by.toLowerCase() === pr.author.toLowerCase()) reasons.push(`${by} added it and is the pull request's author: an author does not vouch for their own pull request with it`);
    const labelHolds = reasons.length === 0;
    if (labelHolds && services.length === 0) return { counts: true, labelHolds, label: applied, lastPush: lastPushOut, services: [], reasons: ["no canary needs an override"] };
    const judged: OverrideDecision["services"] = [];
    for (const s of services) {
        const as = labelled.actor ? await ownerEntry(s.owners, by, isMember) : undefined;
        judged.push(as ? { ...s, owned: true, as } : { ...s, owned: false });
        if (!as) reasons.push(`${by} is not an owner of ${s.stack}/${s.service} (${s.owners.join(", ") || "no one"}: ${s.ownersFrom})`);
    }
    if (reasons.length === 0) {
        return {
            counts: true,
            labelHolds,
            label: applied,
            lastPush: lastPushOut,
            services: judged,
            reasons: [`${by} added ${label} at ${labelled.created_at}, after the last push${push ? ` (${push.how})` : ""}, and owns ${judged.map((s) => `${s.stack}/${s.service} (as ${s.as})`).join(", ")}`],
        };
    }
    return { counts: false, labelHolds, label: applied, lastPush: lastPushOut, services: judged, reasons: [...reasons, who] };
}
