// Calls a rule of the pack the way the analyzer server does: props behind @pulumi/policy's unknown-checking
// proxy, violations and `notApplicable` recorded. The pack itself is never constructed in the tests:
// `new PolicyPack` starts a gRPC server (see policies/smoke.ts).
import { PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy, unknownCheckingProxy } from "@pulumi/policy";
import * as assert from "assert";
import * as path from "path";
import { Rule } from "../../policies/rules";

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

class NotApplicable extends Error {}

export const urnOf = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::stagehand::${type}::${name}`;

function recorder(): { outcome: Outcome; report: ReportViolation } {
    const outcome: Outcome = { messages: [], urns: [] };
    const report: ReportViolation = (message: string, urn?: string) => {
        outcome.messages.push(message);
        outcome.urns.push(urn);
    };
    return { outcome, report };
}

async function settle(outcome: Outcome, run: () => Promise<void> | void): Promise<Outcome> {
    try {
        await run();
    } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
        outcome.notApplicable = e.message;
    }
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
    const policy = rule as ResourceValidationPolicy;
    assert.ok(policy.validateResource, `${rule.name} is a resource rule`);
    const { outcome, report } = recorder();
    const props = unknownCheckingProxy(res.props);
    const args: ResourceValidationArgs = {
        type: res.type,
        name: res.name,
        urn: urnOf(res.stack ?? "prod", res.type, res.name),
        props,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    return settle(outcome, async () => {
        for (const v of validations) await v(args, report);
    });
}

export interface StackRes extends Res {
    /** Property name → names of the resources it depends on (the engine's propertyDependencies). */
    deps?: Record<string, string[]>;
}

function policyResources(stack: string, resources: StackRes[]): PolicyResource[] {
    const built = resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: urnOf(stack, r.type, r.name),
        props: unknownCheckingProxy(r.props),
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        dependencies: [] as PolicyResource[],
        propertyDependencies: {} as Record<string, PolicyResource[]>,
        isType: () => false,
        asType: () => undefined,
    }));
    const byName = new Map(built.map((b) => [b.name, b as PolicyResource]));
    resources.forEach((r, i) => {
        for (const [prop, names] of Object.entries(r.deps ?? {})) {
            built[i].propertyDependencies[prop] = names.map((n) => byName.get(n)!);
            built[i].dependencies.push(...built[i].propertyDependencies[prop]);
        }
    });
    return built as PolicyResource[];
}

/** Runs a stack rule on a stack of resources (a `pulumi:pulumi:Stack` resource is added, as in a real stack). */
export async function checkStack(rule: Rule, stack: string, resources: StackRes[], config: Record<string, unknown> = {}): Promise<Outcome> {
    const policy = rule as StackValidationPolicy;
    assert.ok(policy.validateStack, `${rule.name} is a stack rule`);
    const { outcome, report } = recorder();
    const args: StackValidationArgs = {
        resources: policyResources(stack, [{ type: "pulumi:pulumi:Stack", name: `stagehand-${stack}`, props: {} }, ...resources]),
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    return settle(outcome, () => policy.validateStack(args, report));
}

export function passes(outcome: Outcome): void {
    assert.deepStrictEqual(outcome.messages, [], "no violation expected");
    assert.strictEqual(outcome.notApplicable, undefined, "the rule applies");
}
