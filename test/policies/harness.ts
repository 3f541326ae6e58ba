// Calls a rule of the pack the way the analyzer server does, through policies/offline.ts (the same code
// `npm run plan -- <stack> --policies` runs): props behind @pulumi/policy's unknown-checking proxy, violations and
// `notApplicable` recorded. The pack itself is never constructed in the tests: `new PolicyPack` starts a gRPC server
// (see policies/smoke.ts).
import * as assert from "assert";
import * as path from "path";
import { OfflineResource, parametersOf, readPackConfig, RuleRun, runResourceRule, runStackRule } from "../../policies/offline";
import { Rule } from "../../policies/rules";
import { runProgram } from "../helpers/mocks";

export const ROOT = path.resolve(__dirname, "../..");
export const PACK = path.join(ROOT, "policies");
export const STACKS = ["staging", "uat", "prod"];
/** What the engine sends for a string it does not know yet during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// Resource types spelled out as the engine sends them, not taken from the rules under test.
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
export const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
export const CLUSTER = "aws:eks/cluster:Cluster";
export const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const SUBNET = "aws:ec2/subnet:Subnet";
export const PEER_AUTH = "kubernetes:security.istio.io/v1:PeerAuthentication";

export interface Outcome {
    messages: string[];
    urns: (string | undefined)[];
    notApplicable?: string;
}

export const urnOf = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::stagehand::${type}::${name}`;

/**
 * A rule run as the tests read it. A rule that reads a value unknown at preview (the server would report an
 * advisory "can't run during preview") fails the test: the rules read such values with `known()`.
 */
function outcomeOf(rule: Rule, run: RuleRun): Outcome {
    if (run.unknown !== undefined) throw new Error(`${rule.name}: ${run.unknown}`);
    const outcome: Outcome = { messages: run.reports.map((r) => r.message), urns: run.reports.map((r) => r.urn) };
    if (run.notApplicable !== undefined) outcome.notApplicable = run.notApplicable;
    return outcome;
}

export interface Res {
    type: string;
    name: string;
    props: Record<string, any>;
    stack?: string;
}

/** Runs a resource rule on one resource; props go through the same unknown-checking proxy as in the server. */
export async function checkResource(rule: Rule, res: Res, config: Record<string, unknown> = {}): Promise<Outcome> {
    assert.ok("validateResource" in rule && rule.validateResource, `${rule.name} is a resource rule`);
    const resource: OfflineResource = { type: res.type, name: res.name, urn: urnOf(res.stack ?? "prod", res.type, res.name), props: res.props };
    return outcomeOf(rule, await runResourceRule(rule, resource, config));
}

export interface StackRes extends Res {
    /** Property name → names of the resources it depends on (the engine's propertyDependencies). */
    deps?: Record<string, string[]>;
}

function offlineResources(stack: string, resources: StackRes[]): OfflineResource[] {
    const urnByName = new Map(resources.map((r) => [r.name, urnOf(stack, r.type, r.name)]));
    return resources.map((r) => {
        const propertyDependencies = Object.fromEntries(Object.entries(r.deps ?? {}).map(([prop, names]) => [prop, names.map((n) => urnByName.get(n)!)]));
        return { type: r.type, name: r.name, urn: urnOf(stack, r.type, r.name), props: r.props, propertyDependencies, dependencies: Object.values(propertyDependencies).flat() };
    });
}

/** Runs a stack rule on a stack of resources (a `pulumi:pulumi:Stack` resource is added, as in a real stack). */
export async function checkStack(rule: Rule, stack: string, resources: StackRes[], config: Record<string, unknown> = {}): Promise<Outcome> {
    assert.ok("validateStack" in rule && rule.validateStack, `${rule.name} is a stack rule`);
    const all = offlineResources(stack, [{ type: "pulumi:pulumi:Stack", name: `stagehand-${stack}`, props: {} }, ...resources]);
    return outcomeOf(rule, await runStackRule(rule, all, config));
}

export function passes(outcome: Outcome): void {
    assert.deepStrictEqual(outcome.messages, [], "no violation expected");
    assert.strictEqual(outcome.notApplicable, undefined, "the rule applies");
}

export const SERVICE_RELEASE = "stagehand:index:ServiceRelease";

/**
 * A resource rule's messages on every ServiceRelease the program (index.ts under mocks, on an existing cluster)
 * registers for `stack` with `config`, at the parameters of the stack's policy config.
 */
export async function ruleOnServiceReleases(rule: Rule, stack: string, config: Record<string, unknown>): Promise<string[]> {
    const { resources } = await runProgram(stack, { cluster: { kind: "existing" }, ...config });
    const components = resources.filter((r) => r.type === SERVICE_RELEASE);
    assert.ok(components.length > 0, "the program registers ServiceRelease components");
    const parameters = parametersOf(rule, readPackConfig(stack, PACK));
    const messages: string[] = [];
    for (const c of components) messages.push(...(await checkResource(rule, { type: c.type, name: c.name, props: c.inputs, stack }, parameters)).messages);
    return messages;
}
