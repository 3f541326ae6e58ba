// `npm run plan -- <stack> --policies` (and `--diff <ref> --policies`): the policy pack's rules over what the
// program registers in its offline mode (scripts/offline-program.ts), each rule at its level and with its
// parameters from policies/config.<stack>.json, exactly as `pulumi preview --policy-pack policies
// --policy-pack-config policies/config.<stack>.json` would apply them (policies/offline.ts). One line per
// violation — level, policy, resource, message — then a summary; exit 1 when a mandatory rule is violated.
//
// This module loads the Pulumi SDK: scripts/plan.ts requires it only when `--policies` is given, so the plan
// table and the diff stay engine-free.
import * as path from "path";
import { serviceDefaultsOf } from "../components/config";
import { parseObservability } from "../components/observability/config";
import { PLATFORM_STATE_OUTPUT, platformState } from "../components/platform/changes";
import { parseCluster } from "../components/platform/config";
import { parseServices } from "../components/service/config";
import { SERVICE_STAGES_OUTPUT, stageSummary } from "../components/service/deployed";
import { stagePlan } from "../components/service/stages";
import { StackProblemsError } from "../components/shared/errors";
import { OfflineResource, packConfigFile, PackRun, readPackConfig, resourceOfUrn, runPack, Violation } from "../policies/offline";
import { rules } from "../policies/rules";
import { RegisteredResource, runProgramOffline } from "./offline-program";
import { projectRoot } from "./stack-file";

/**
 * The stack's previous outputs as the base revision would have left them once deployed (its rollout completed):
 * `serviceStages`, one `stageSummary` per service of the base config, and its `platformState`. The same base state
 * as `--diff` judges.
 */
export function deployedOutputs(stack: string, base: Record<string, unknown> | undefined): Record<string, unknown> {
    if (base === undefined) return {};
    // The platform as the base revision deployed it, so the program judges platform changes as the diff does.
    const outputs: Record<string, unknown> = { [PLATFORM_STATE_OUTPUT]: platformState(parseCluster(stack, base.cluster), parseObservability(stack, base.observability)) };
    // No services in the base: none deployed (an empty serviceStages, as the program exports it; outputs without it
    // would be refused as lost: components/service/deployed.ts `readPreviousServices`).
    if (base.services === undefined) return { ...outputs, [SERVICE_STAGES_OUTPUT]: {} };
    const services = parseServices(stack, base.services, serviceDefaultsOf(base));
    outputs[SERVICE_STAGES_OUTPUT] = Object.fromEntries(Object.entries(services).map(([name, svc]) => [name, stageSummary(svc, stagePlan(svc), true)]));
    return outputs;
}

/**
 * What the program registered, as the engine hands it to the analyzer (the stack's own read is not a resource):
 * the inputs, and for a custom resource its id (the mocks give `<name>-id`), which the rules match references by.
 */
export function analyzerResources(registered: RegisteredResource[]): OfflineResource[] {
    return registered.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.custom ? { ...r.inputs, id: `${r.name}-id` } : (r.inputs ?? {}),
        parent: r.parent,
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
    }));
}

const LEVEL_ORDER = ["mandatory", "advisory"];
const LEVEL_WIDTH = Math.max(...LEVEL_ORDER.map((l) => l.length), "error".length);

/** The resource a violation is about: `type name`, or the stack for a stack rule's report about it as a whole. */
function resourceWords(stack: string, urn: string | undefined): string {
    if (urn === undefined) return `stack ${stack}`;
    const { type, name } = resourceOfUrn(urn);
    return type === "pulumi:pulumi:Stack" ? `stack ${stack}` : `${type} ${name}`;
}

/** `<level>  <policy>  <type> <name>: <message>`; a message's further lines are indented under it. */
export function formatViolation(stack: string, v: Pick<Violation, "policy" | "urn" | "message"> & { level: string }): string {
    return `${v.level.padEnd(LEVEL_WIDTH)}  ${v.policy}  ${resourceWords(stack, v.urn)}: ${v.message.replace(/\n/g, `\n${" ".repeat(LEVEL_WIDTH + 2)}`)}`;
}

/** Mandatory first, then advisory; within a level by the pack's rule order, then by resource, then by message. */
export function sortViolations(violations: Violation[]): Violation[] {
    const ruleIndex = new Map(rules.map((r, i) => [r.name, i]));
    const key = (v: Violation) => [LEVEL_ORDER.indexOf(v.level), ruleIndex.get(v.policy) ?? rules.length] as const;
    return [...violations].sort((a, b) => {
        const [la, ra] = key(a);
        const [lb, rb] = key(b);
        return la - lb || ra - rb || (a.urn ?? "").localeCompare(b.urn ?? "") || a.message.localeCompare(b.message);
    });
}

/** The lines of a pack run: one per violation (and per rule that failed), then the summary. */
export function formatPackRun(stack: string, run: PackRun): string[] {
    const lines = sortViolations(run.violations).map((v) => formatViolation(stack, v));
    for (const f of run.failures) lines.push(formatViolation(stack, { policy: f.policy, urn: f.urn, level: "error", message: `the rule failed: ${f.message}` }));
    const count = (level: string) => run.violations.filter((v) => v.level === level).length;
    const rulesRun = `${run.ran.length} rule${run.ran.length === 1 ? "" : "s"}${run.disabled.length ? `; disabled: ${run.disabled.join(", ")}` : ""}`;
    const errors = run.failures.length ? `, ${run.failures.length} rule error(s)` : "";
    lines.push(
        run.violations.length === 0 && run.failures.length === 0
            ? `policies: no violations (${rulesRun})`
            : `policies: ${count("mandatory")} mandatory, ${count("advisory")} advisory violation(s)${errors} (${rulesRun})`,
    );
    return lines;
}

/** The exit code of a pack run: 1 when a mandatory rule is violated or a rule failed, else 0. */
export function packExitCode(run: PackRun): number {
    return run.failures.length > 0 || run.violations.some((v) => v.level === "mandatory") ? 1 : 0;
}

export interface PolicyCheckOptions {
    /** With `--diff <ref>`: the revision the moves are judged against, and its config (undefined: no stack file there). */
    base?: { ref: string; config: Record<string, unknown> | undefined };
    log?: (line: string) => void;
    /** Where the pack's config files are (policies/): this code's, never the stack files' checkout. */
    packDir?: string;
    /** Where the stack's file is, when not this code's directory (`plan --root`): the program reads its secrets' places there. */
    stackRoot?: string;
}

/**
 * Runs the program offline with the stack's config and the pack over what it registers; prints the results and
 * returns the exit code: 1 on a mandatory violation, a failed rule, or a program that stops (a config error, a
 * refused move), else 0.
 */
export async function checkPolicies(stack: string, config: Record<string, unknown>, opts: PolicyCheckOptions = {}): Promise<number> {
    const log = opts.log ?? console.log;
    const packDir = opts.packDir ?? path.join(projectRoot, "policies");
    const packConfig = readPackConfig(stack, packDir);
    const configWords = packConfig
        ? `levels from ${path.relative(projectRoot, packConfigFile(stack, packDir))}`
        : `no ${path.relative(projectRoot, packConfigFile(stack, packDir))}: every rule at its own level`;
    const { base } = opts;
    const previous = base === undefined ? "every service a first deployment" : base.config === undefined ? `no Pulumi.${stack}.yaml at ${base.ref}: every service a first deployment` : `moves judged against ${base.ref} as deployed`;
    log(`policy pack on stack ${stack}, offline (the program under mocks, ${previous}; ${configWords})`);

    let registered: RegisteredResource[];
    try {
        registered = (await runProgramOffline(stack, config, deployedOutputs(stack, base?.config), { stackRoot: opts.stackRoot })).resources;
    } catch (e: any) {
        if (e instanceof StackProblemsError || e?.__pulumiRunError === true) {
            log(`policies: not run: the program stops before registering anything:\n${e.message}`);
        } else {
            log(`policies: not run: the program failed: ${e?.message ?? String(e)}`);
        }
        return 1;
    }
    const run = await runPack(analyzerResources(registered), packConfig ?? {});
    for (const line of formatPackRun(stack, run)) log(line);
    return packExitCode(run);
}
