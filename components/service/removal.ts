// Pure: what a running service may not lose by accident. A service whose block disappears from
// `stagehand:services` is deleted by the update — its three Helm releases, their pods, and its namespace when no
// other service is left in it — so that happens only when the stack lists it under `stagehand:remove` for that
// update. A running service never changes namespace: that would delete it in one and create it in the other.
// Judged by the program (against the stack's previous outputs, before any resource is registered) and by
// `npm run plan -- --diff` (against the base revision), with the same words.
import { z } from "zod";
import { describeIssues, nearestName, StackProblemsError } from "../shared/errors";
import { PARTS } from "../shared/tracks";
import { serviceName } from "./config";
import type { DeployedService } from "./deployed";
import { judgeMoves, MoveError } from "./moves";

/** `stagehand:remove`: the services this update deletes, each named once. */
export const removeSchema = z
    .array(serviceName, { error: "a list of the service names this update removes, e.g. [cart]" })
    .superRefine((names, ctx) => {
        names.forEach((name, i) => {
            if (names.indexOf(name) !== i) ctx.addIssue({ code: "custom", path: [i], input: name, message: "each service once" });
        });
    })
    .default([]);

/**
 * Validates `stagehand:remove` against the services the config still has (`configured`: the names under
 * `stagehand:services`). Returns the list and one line per problem.
 */
export function parseRemove(stack: string, raw: unknown, configured: readonly string[]): { remove: string[]; problems: string[] } {
    const parsed = removeSchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) return { remove: [], problems: describeIssues(stack, "stagehand:remove", parsed.error.issues) };
    const problems = parsed.data.flatMap((name, i) =>
        configured.includes(name)
            ? [
                  `stack ${stack}, service ${name}, field stagehand:remove[${i}]: expected only services whose block is gone from stagehand:services, found ${JSON.stringify(name)}, which still has its block (remove it from stagehand:remove, or remove its block)`,
              ]
            : [],
    );
    return { remove: parsed.data, problems };
}

/** What a removed service was running: its stage and both tracks (from the previous outputs, or the base revision's plan). */
export type RunningService = Pick<DeployedService, "stage" | "tracks">;

/**
 * What deleting a service deletes, in words: its Helm releases, the pods they run, and its namespace when no service
 * of the stack is left in it (`namespace` undefined: not known).
 */
export function deletedWords(service: string, running: RunningService, namespace: { name: string; remaining: string[] } | undefined): string {
    const { production, canary } = running.tracks;
    const releases = PARTS.map((p) => `${service}-${p}`);
    const what = `the Helm releases ${releases.slice(0, -1).join(", ")} and ${releases[releases.length - 1]} and the pods they run (production x${production.replicas} of ${production.tag}, canary x${canary.replicas} of ${canary.tag})`;
    if (!namespace) return `${what}, and its namespace if no other service is in it (the previous outputs do not record which namespace it runs in)`;
    if (namespace.remaining.length === 0) return `${what}, and namespace ${namespace.name} with everything else in it (no service of the stack is left there)`;
    return `${what}; namespace ${namespace.name} stays (${namespace.remaining.join(", ")} still in it)`;
}

/** The refusal of a running service whose block is gone while `stagehand:remove` does not list it. */
export function unlistedRemovalProblem(stack: string, service: string, running: RunningService, namespace: { name: string; remaining: string[] } | undefined, remove: readonly string[] = []): string {
    const near = nearestName(service, remove.filter((r) => r !== service));
    return (
        `stack ${stack}, service ${service}, field stagehand:remove: cannot remove a running service unless the stack says so: its block is gone from stagehand:services, ` +
        `but it is deployed at stage ${running.stage}, and this update would delete ${deletedWords(service, running, namespace)}. ` +
        `To remove it, add it to stagehand:remove for this update (stagehand:remove: [${service}])${near ? ` — stagehand:remove lists ${JSON.stringify(near)}: did you mean ${service}?` : ""}; to keep it, restore its block.`
    );
}

/** The words of an allowed removal: what goes. */
export function removalLine(service: string, running: RunningService, namespace: { name: string; remaining: string[] }): string {
    return `${service}: removed (listed in stagehand:remove): deletes ${deletedWords(service, running, namespace)}`;
}

/**
 * `npm run plan -- --diff`: a service of the base revision gone from the revision under review (`services`), judged as
 * the program judges it against its previous outputs: refused unless `remove` lists it; else what is deleted.
 */
export function judgeRemoval(
    stack: string,
    service: string,
    base: RunningService & { namespace: string },
    services: Record<string, { namespace: string }>,
    remove: readonly string[],
): { ok: boolean; line: string } {
    const remaining = Object.keys(services).filter((s) => services[s].namespace === base.namespace).sort();
    const namespace = { name: base.namespace, remaining };
    if (!remove.includes(service)) return { ok: false, line: unlistedRemovalProblem(stack, service, base, namespace, remove) };
    return { ok: true, line: removalLine(service, base, namespace) };
}

/** The refusal of a running service's namespace change, with how to move a service. */
export function namespaceChangeProblem(stack: string, service: string, from: string, to: string): string {
    return (
        `stack ${stack}, service ${service}, field namespace: cannot move a running service from namespace ${from} to ${to}: ` +
        `that deletes its Helm releases and their pods in ${from} and creates them anew in ${to}, with nothing serving in between. ` +
        `Keep namespace ${from}. To move the service, add a new service block (another name) with namespace ${to}, ` +
        `move its callers and traffic to it, then remove ${service} explicitly (delete its block and list it under stagehand:remove).`
    );
}

/**
 * Every problem of the configured services against what runs (`previous`, the stack's previous outputs): a namespace
 * changed under a running service; a running service gone from the config that `remove` does not list; a listed one
 * whose namespace the outputs do not record (written by an earlier stagehand), since the update could not tell
 * whether its namespace goes with it. In service name order.
 */
export function liveServiceProblems(stack: string, services: Record<string, { namespace: string }>, previous: Record<string, DeployedService>, remove: readonly string[]): string[] {
    const problems: string[] = [];
    const remaining = (ns: string) => Object.keys(services).filter((s) => services[s].namespace === ns).sort();
    for (const name of [...new Set([...Object.keys(services), ...Object.keys(previous)])].sort()) {
        const prev = previous[name];
        if (!prev) continue;
        const next = services[name];
        if (next) {
            if (prev.namespace !== undefined && prev.namespace !== next.namespace) problems.push(namespaceChangeProblem(stack, name, prev.namespace, next.namespace));
            continue;
        }
        const namespace = prev.namespace === undefined ? undefined : { name: prev.namespace, remaining: remaining(prev.namespace) };
        if (!remove.includes(name)) {
            problems.push(unlistedRemovalProblem(stack, name, prev, namespace, remove));
        } else if (!namespace) {
            problems.push(
                `stack ${stack}, service ${name}, field stagehand:remove: cannot remove ${name} in this update: the stack's previous outputs do not record which namespace it runs in ` +
                    `(an earlier stagehand wrote them), so this update cannot tell whether the namespace goes with it. Restore its block and drop it from stagehand:remove for one update ` +
                    `(the outputs then record its namespace), then remove it.`,
            );
        }
    }
    return problems;
}

/** Thrown when an update would remove a running service unannounced or move it to another namespace (with any refused stage move). */
export class LiveServiceError extends StackProblemsError {
    constructor(stack: string, problems: string[]) {
        super(`refused change to running services in stack ${stack}`, stack, problems);
        this.name = "LiveServiceError";
    }
}

/**
 * Judges the update against what runs before anything is registered: every service's stage move (moves.ts
 * `judgeMoves`), its namespace, and every removal. Refused stage moves alone throw the usual MoveError; any removal or
 * namespace problem throws a LiveServiceError listing those and the refused moves together.
 */
export function judgeUpdate(
    stack: string,
    services: (Parameters<typeof judgeMoves>[1][number] & { service: { namespace: string } })[],
    previous: Record<string, DeployedService>,
    stackAllowSkip: boolean,
    remove: readonly string[],
): ReturnType<typeof judgeMoves> {
    const live = liveServiceProblems(stack, Object.fromEntries(services.map((s) => [s.name, s.service])), previous, remove);
    let moves: string[] = [];
    try {
        const judged = judgeMoves(stack, services, previous, stackAllowSkip);
        if (live.length === 0) return judged;
    } catch (e) {
        if (!(e instanceof MoveError) || live.length === 0) throw e;
        moves = e.problems;
    }
    throw new LiveServiceError(stack, [...live, ...moves]);
}
