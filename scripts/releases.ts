// Releases across stacks, from the stack files alone: where each service's release stands in each environment
// (`npm run status`), and starting in the next environment the release that finished in the one before it
// (`npm run promote`). Environments follow the fleet's chain of waves (stagehand.fleet.yaml, components/fleet/
// waves.ts; without it staging -> uat -> prod): a release starts in a wave once every stack of the wave before it
// that runs the service has finished it, and that wave's bake time has passed.
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig, StackConfig } from "../components/config";
import { ServiceConfig } from "../components/service/config";
import { deployedState } from "../components/service/deployed";
import { checkMove, moveError } from "../components/service/moves";
import { revisionRecords } from "../components/service/revision";
import { PlannedService, StagePlan, stagePlans } from "../components/service/stages";
import { checkReleaseStart, PreviousState } from "../components/fleet/bake";
import { byFleetOrder, chainWords, Fleet, previousWave, waveOf } from "../components/fleet/waves";
import { finishedSince, loadFleet } from "./fleet";
import { knownStacks, projectRoot, parseStackFile, stackFilePath } from "./stack-file";
import { setServiceFields } from "./stack-edit";

/** The stacks a release must have finished in (the wave before `stack`'s) before it starts in `stack`; empty for the first wave. */
export function previousStacks(stack: string, root = projectRoot): string[] {
    return previousWave(loadFleet(root), stack)?.stacks ?? [];
}

/** The first stack a release must have finished in before it starts in `stack` (see previousStacks); undefined for the first wave. */
export function previousStack(stack: string, root = projectRoot): string | undefined {
    return previousStacks(stack, root)[0];
}

/** The stacks of the project in release order: wave by wave (stagehand.fleet.yaml), then any other by name. */
export function stacksInOrder(root = projectRoot): string[] {
    return knownStacks(root).sort(byFleetOrder(loadFleet(root)));
}

/** What planPromotion reads from the project at `root`: its fleet, when stacks finished releases (its git history), now. */
export function promotionContext(root = projectRoot, now = new Date()): PromotionContext {
    return { fleet: loadFleet(root), finishedSince: (stack, service, tag) => finishedSince(root, "HEAD", stack, service, tag), now };
}

/** Reads and validates a stack file as the program does; the text too, for editing. */
export function loadStack(stack: string, root = projectRoot): { text: string; config: StackConfig; file: string } {
    const file = stackFilePath(stack, root);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack ${JSON.stringify(stack)}: ${path.basename(file)} does not exist (stacks here: ${stacksInOrder(root).join(", ") || "none"})`);
    }
    const text = fs.readFileSync(file, "utf8");
    const { config, region } = parseStackFile(text, path.basename(file));
    return { text, file, config: parseStackConfig(stack, config, { region }) };
}

/** Where a service's release stands in one stack. */
export type ReleaseState =
    /** Stage 1: production runs `stable`, and that is the tag the environment has finished. */
    | { state: "idle"; finished: string }
    /** Between stage 2 and the one before last: `tag` is being released. */
    | { state: "releasing"; tag: string }
    /** The last stage (switch back): production runs `tag`; finishing sets stable to it and stage 1. */
    | { state: "switched back"; tag: string };

export function releaseState(p: Pick<PlannedService, "service" | "plan">): ReleaseState {
    const { service, plan } = p;
    if (plan.stage === 1) return { state: "idle", finished: service.stable };
    const tag = service.canary ?? service.stable;
    return plan.stage === plan.stageCount ? { state: "switched back", tag } : { state: "releasing", tag };
}

/** A stage in words, as `npm run plan` shows it: "2/6 canary 10%". */
export function stageWords(plan: Pick<StagePlan, "stage" | "stageCount" | "name">): string {
    return `${plan.stage}/${plan.stageCount} ${plan.name}`;
}

/** A stage in a sentence: "stage 2/6 (canary 10%)". */
function stageSentence(plan: Pick<StagePlan, "stage" | "stageCount" | "name">): string {
    return `stage ${plan.stage}/${plan.stageCount} (${plan.name})`;
}

function finishWords(tag: string): string {
    return `stable: "${tag}" and stage: 1`;
}

export type Promotion =
    | {
          ok: true;
          service: string;
          from: string;
          to: string;
          tag: string;
          /** The target's stage before and after. */
          before: StagePlan;
          after: StagePlan;
          /** The move in the program's words, e.g. "forward from stage 1 (idle) to 2 (canary 10%)". */
          move: string;
          /** The target stack file's text, edited. */
          text: string;
          /** The lines that changed, as `key: value` after the edit. */
          changes: string[];
      }
    | {
          ok: false;
          reason: string;
          /** When the wave before's bake ends, when that is all that keeps the release from starting. */
          bakeEndsAt?: Date;
      };

/** What planPromotion reads besides the stack files: the fleet, when each stack finished a tag (git), the time. */
export interface PromotionContext {
    fleet: Fleet;
    /** When `stack` first ran `tag` as stable at stage 1 (scripts/fleet.ts `finishedSince`); undefined: unknown. */
    finishedSince?: (stack: string, service: string, tag: string) => { at: Date; commit: string } | undefined;
    now?: Date;
}

type LoadedStack = { text: string; config: StackConfig };

/**
 * Starts in `to` the release that finished in the wave before it: `canary` set to the tag every stack of that wave
 * that runs the service runs as `stable` at stage 1, and the first stage after idle (2: the first weight step, or the
 * shadow stage when the service has one). Refused when a stack of that wave has not finished a release (it is at a
 * stage past 1) or they disagree on the tag, when the wave's bake time has not passed since the last of them
 * finished, when `to` is in the middle of a release, when the tag is already `stable` there, and when the program
 * would refuse the move or the edited file.
 */
export function planPromotion(service: string, to: string, stacks: { from: Record<string, LoadedStack>; to: LoadedStack }, context: PromotionContext): Promotion {
    const { fleet } = context;
    const prev = previousWave(fleet, to);
    if (!prev) {
        const first = fleet.waves[0];
        const where = waveOf(fleet, to) ? `${to} is in the first wave` : `${to} is in no wave of the fleet`;
        return {
            ok: false,
            reason: `${where} (${chainWords(fleet)}): releases start in ${first.stacks.map((s) => `Pulumi.${s}.yaml`).join(", ")} by editing the file (canary and stage: 2), and are promoted from there`,
        };
    }
    const running = prev.stacks.filter((s) => stacks.from[s]?.config.planned.some((p) => p.name === service));
    if (running.length === 0) {
        const where = prev.stacks.length === 1 ? `not in stack ${prev.stacks[0]}` : `in no stack of wave ${prev.name} (${prev.stacks.join(", ")})`;
        return { ok: false, reason: `service ${service} is ${where}, so no release of it has finished there` };
    }
    const tags = new Map<string, string[]>();
    const states: Record<string, PreviousState> = {};
    for (const from of running) {
        const source = stacks.from[from].config.planned.find((p) => p.name === service)!;
        const state = releaseState(source);
        if (state.state !== "idle") {
            const next = state.state === "switched back" ? `finish it there: ${finishWords(state.tag)}` : `finish it there: up to stage ${source.plan.stageCount} (switch back), then ${finishWords(state.tag)}`;
            return {
                ok: false,
                reason: `${service} has not finished its release in ${from}: it is at ${stageSentence(source.plan)} releasing ${state.tag}; ${next}, before promoting it to ${to}`,
            };
        }
        tags.set(state.finished, [...(tags.get(state.finished) ?? []), from]);
        states[from] = { kind: "idle", stable: state.finished };
    }
    if (tags.size > 1) {
        return { ok: false, reason: `the stacks of wave ${prev.name} run different stable tags of ${service}: ${[...tags].map(([t, s]) => `${s.join(", ")} ${t}`).join("; ")}; finish one release in all of them before promoting it to ${to}` };
    }
    const [tag] = [...tags.keys()];
    const from = running.join(", ");

    const target = stacks.to.config.planned.find((p) => p.name === service);
    if (!target) {
        return { ok: false, reason: `service ${service} is not in stack ${to}: add its block to Pulumi.${to}.yaml (image, stable, stage: 1, replicas …) first` };
    }
    const targetState = releaseState(target);
    if (targetState.state !== "idle") {
        return {
            ok: false,
            reason:
                `${service} is in the middle of a release in ${to}: it is at ${stageSentence(target.plan)} releasing ${targetState.tag}; ` +
                `finish it (${targetState.state === "switched back" ? finishWords(targetState.tag) : `up to stage ${target.plan.stageCount}, then ${finishWords(targetState.tag)}`}) or roll it back (stage: 1) first`,
        };
    }
    if (target.service.stable === tag) {
        return { ok: false, reason: `${service} already runs ${tag} as stable in ${to}: nothing to promote (${from} has finished ${tag} too)` };
    }
    // The wave before has finished it: has it baked long enough? When each finished is read from git only then.
    if (prev.bakeMs > 0) {
        for (const [stack, state] of Object.entries(states)) {
            const since = state.kind === "idle" ? context.finishedSince?.(stack, service, state.stable) : undefined;
            if (since && state.kind === "idle") states[stack] = { ...state, since };
        }
    }
    const bake = checkReleaseStart(fleet, to, service, tag, states, context.now ?? new Date());
    if (!bake.ok) return { ok: false, reason: bake.reason, ...(bake.bakeEndsAt ? { bakeEndsAt: bake.bakeEndsAt } : {}) };
    // The first stage after idle of the target's own stage plans, with the new canary.
    const nextConfig: ServiceConfig = { ...target.service, canary: tag };
    const first = stagePlans(nextConfig).find((p) => p.kind !== "idle");
    if (!first) return { ok: false, reason: `${service} in ${to} has no stage after idle` };
    nextConfig.stage = first.stage;

    // The program's own rules: the target's current config as deployed (its rollout completed), this change next.
    const check = checkMove(deployedState(target.service, target.plan, true), {
        ...nextConfig,
        allowSkip: target.service.allowSkip ?? stacks.to.config.allowSkip,
        revisions: revisionRecords(nextConfig),
    });
    if (!check.ok) return { ok: false, reason: moveError(to, service, target.plan.stage, nextConfig.stage, check) };

    const where = `Pulumi.${to}.yaml`;
    const text = setServiceFields(
        stacks.to.text,
        service,
        [
            { key: "canary", value: tag },
            { key: "stage", value: first.stage },
        ],
        where,
    );
    // The edited file, validated exactly as the program validates it.
    let edited: StackConfig;
    try {
        const { config, region } = parseStackFile(text, where);
        edited = parseStackConfig(to, config, { region });
    } catch (e: any) {
        return { ok: false, reason: `the edited ${where} would not be valid: ${e.message}` };
    }
    const after = edited.planned.find((p) => p.name === service)!.plan;
    return {
        ok: true,
        service,
        from,
        to,
        tag,
        before: target.plan,
        after,
        move: check.words,
        text,
        changes: [`canary: "${tag}"${target.service.canary === undefined ? " (added)" : ` (was "${target.service.canary}")`}`, `stage: ${first.stage} (was ${target.plan.stage})`],
    };
}
