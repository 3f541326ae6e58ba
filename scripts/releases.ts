// Releases across stacks, from the stack files alone: where each service's release stands in each environment
// (`npm run status`), and starting in the next environment the release that finished in the one before it
// (`npm run promote`). Environments follow one chain: staging -> uat -> prod.
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig, StackConfig } from "../components/config";
import { ServiceConfig } from "../components/service/config";
import { deployedState } from "../components/service/deployed";
import { checkMove, moveError } from "../components/service/moves";
import { revisionRecords } from "../components/service/revision";
import { PlannedService, StagePlan, stagePlans } from "../components/service/stages";
import { byPromotionOrder, knownStacks, projectRoot, PROMOTION_CHAIN, parseStackFile, stackFilePath } from "./stack-file";
import { setServiceFields } from "./stack-edit";

/** The environment a release must have finished in before it starts in `stack`; undefined for the first. */
export function previousStack(stack: string): string | undefined {
    const i = (PROMOTION_CHAIN as readonly string[]).indexOf(stack);
    return i > 0 ? PROMOTION_CHAIN[i - 1] : undefined;
}

/** The stacks of the project: the chain's first, in its order, then any other by name. */
export function stacksInOrder(root = projectRoot): string[] {
    return knownStacks(root).sort(byPromotionOrder);
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
    | { ok: false; reason: string };

/**
 * Starts in `to` the release that finished in the environment before it: `canary` set to the tag that
 * environment runs as `stable` at stage 1, and the first stage after idle (2: the first weight step, or the
 * shadow stage when the service has one). Refused when the previous environment has not finished a release
 * (it is at a stage past 1), when `to` is in the middle of a release, when the tag is already `stable` there, and
 * when the program would refuse the move or the edited file.
 */
export function planPromotion(service: string, to: string, stacks: { from: { text: string; config: StackConfig }; to: { text: string; config: StackConfig } }): Promotion {
    const from = previousStack(to);
    if (!from) {
        const where = (PROMOTION_CHAIN as readonly string[]).includes(to) ? `${to} is the first environment` : `${to} is not one of the environments releases go through`;
        return { ok: false, reason: `${where} (${PROMOTION_CHAIN.join(" -> ")}): releases start in ${PROMOTION_CHAIN[0]} by editing Pulumi.${PROMOTION_CHAIN[0]}.yaml (canary and stage: 2), and are promoted from there` };
    }
    const source = stacks.from.config.planned.find((p) => p.name === service);
    if (!source) return { ok: false, reason: `service ${service} is not in stack ${from}, so no release of it has finished there` };
    const state = releaseState(source);
    if (state.state !== "idle") {
        const next = state.state === "switched back" ? `finish it there: ${finishWords(state.tag)}` : `finish it there: up to stage ${source.plan.stageCount} (switch back), then ${finishWords(state.tag)}`;
        return {
            ok: false,
            reason: `${service} has not finished its release in ${from}: it is at ${stageSentence(source.plan)} releasing ${state.tag}; ${next}, before promoting it to ${to}`,
        };
    }
    const tag = state.finished;

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
