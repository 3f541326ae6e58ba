// Runs the pack's rules without the Pulumi engine, the way Pulumi's analyzer server runs them
// (@pulumi/policy's server.js): each rule's level and parameters from the pack config, as
// `--policy-pack-config policies/config.<stack>.json` gives them; a disabled rule does not run; validateResource
// on every resource and validateStack once over the stack, the props behind @pulumi/policy's unknown-checking
// proxy; `notApplicable` recorded; a value the rule reads that is unknown at preview reported as the server does,
// an advisory "can't run ... during preview". `npm run plan -- <stack> --policies` (scripts/policies.ts) and the
// tests' harness (test/policies/harness.ts) both call rules through here.
//
// It never constructs the PolicyPack: that starts the analyzer's gRPC server, which only policies/index.ts does.
import {
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
    UnknownValueError,
} from "@pulumi/policy";
import * as fs from "fs";
import * as path from "path";
import { Rule, rules as packRules } from "./rules";

/** The pack's level when a rule has none and the config names none (policies/index.ts). */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

/** A resource as the engine hands it to the analyzer; dependencies are URNs. */
export interface OfflineResource {
    type: string;
    name: string;
    urn: string;
    /** Resource rules read the inputs, stack rules the outputs (at preview, for these resources, the inputs). */
    props: Record<string, any>;
    /** URN of the parent resource. */
    parent?: string;
    /** URNs of the resources it depends on. */
    dependencies?: string[];
    /** Property name → URNs of the resources the property's value comes from. */
    propertyDependencies?: Record<string, string[]>;
}

/** What one rule reported on one resource or stack. */
export interface RuleRun {
    /** Each `reportViolation` call: the message, and the URN it named (if any). */
    reports: { message: string; urn?: string }[];
    /** The reason the rule gave for not applying (`args.notApplicable`; "" without a reason). */
    notApplicable?: string;
    /** Set when the rule read a value unknown at preview: the server's advisory message. */
    unknown?: string;
}

/** The level and the parameters of each rule, as the CLI reads `--policy-pack-config`. */
export type PackConfig = Record<string, { enforcementLevel?: EnforcementLevel } & Record<string, unknown>>;

/** The pack's config file for a stack: `policies/config.<stack>.json`. */
export function packConfigFile(stack: string, dir = __dirname): string {
    return path.join(dir, `config.${stack}.json`);
}

/**
 * A policy config as the CLI reads it: an entry is a level (`"advisory"`) or an object with `enforcementLevel` and
 * the rule's parameters.
 */
export function normalizePackConfig(raw: unknown, where = "the policy config"): PackConfig {
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${where}: expected a JSON object of rule name -> level or settings`);
    const out: PackConfig = {};
    for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof entry === "string") out[name] = { enforcementLevel: entry as EnforcementLevel };
        else if (entry && typeof entry === "object" && !Array.isArray(entry)) out[name] = { ...(entry as Record<string, unknown>) };
        else throw new Error(`${where}: rule ${name}: expected a level or an object, found ${JSON.stringify(entry)}`);
    }
    return out;
}

/** Reads `policies/config.<stack>.json`; undefined when the stack has none (every rule keeps its own level). */
export function readPackConfig(stack: string, dir = __dirname): PackConfig | undefined {
    const file = packConfigFile(stack, dir);
    if (!fs.existsSync(file)) return undefined;
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e: any) {
        throw new Error(`${path.relative(path.dirname(dir), file)} is not valid JSON: ${e.message}`);
    }
    return normalizePackConfig(raw, path.relative(path.dirname(dir), file));
}

/** A rule's level under a config, as the server resolves it: the config's, else the rule's, else the pack's. */
export function levelOf(rule: Rule, config: PackConfig = {}): EnforcementLevel {
    return config[rule.name]?.enforcementLevel || rule.enforcementLevel || PACK_ENFORCEMENT_LEVEL;
}

/** A rule's parameters under a config: its entry without the level (what `args.getConfig()` returns). */
export function parametersOf(rule: Rule, config: PackConfig = {}): Record<string, unknown> {
    const { enforcementLevel: _level, ...props } = config[rule.name] ?? {};
    return props;
}

class NotApplicable extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

function options(): PolicyResource["opts"] {
    return { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };
}

const isTypeOf = (type: string) => (resourceClass: any) => resourceClass?.__pulumiType === type;

/** Runs one validation, turning notApplicable and unknown values into what the server makes of them. */
async function settle(rule: Rule, run: RuleRun, validate: () => unknown): Promise<RuleRun> {
    try {
        await validate();
    } catch (e) {
        if (e instanceof NotApplicable) run.notApplicable = e.reason ?? "";
        else if (e instanceof UnknownValueError) run.unknown = `can't run policy '${rule.name}' during preview: ${(e as Error).message}`;
        else throw e;
    }
    return run;
}

function recorder(): { run: RuleRun; report: ReportViolation } {
    const run: RuleRun = { reports: [] };
    const report: ReportViolation = (message, urn) => {
        // A report may also be an object ({message, urn, ...}); the rules here pass a string.
        if (typeof message === "object") run.reports.push({ message: String((message as any).message ?? (message as any).description ?? ""), urn: (message as any).urn });
        else run.reports.push({ message: message ?? "", urn });
    };
    return { run, report };
}

/** Runs a resource rule on one resource, as the server's `analyze` does (one call per validation function). */
export async function runResourceRule(rule: Rule, resource: OfflineResource, parameters: Record<string, unknown> = {}): Promise<RuleRun> {
    const policy = rule as ResourceValidationPolicy;
    if (!policy.validateResource) throw new Error(`${rule.name} is not a resource rule`);
    const { run, report } = recorder();
    const props = unknownCheckingProxy(resource.props);
    const args: ResourceValidationArgs = {
        type: resource.type,
        name: resource.name,
        urn: resource.urn,
        props,
        opts: options(),
        stackTags: new Map(),
        isType: isTypeOf(resource.type) as ResourceValidationArgs["isType"],
        asType: ((cls: any) => (isTypeOf(resource.type)(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => ({ ...parameters }) as T,
        notApplicable,
    };
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    // The server runs each validation on its own: one that cannot run does not stop the next.
    for (const validate of validations) {
        const { run: one, report: reportOne } = recorder();
        await settle(rule, one, () => validate(args, reportOne));
        for (const r of one.reports) report(r.message, r.urn);
        run.notApplicable = run.notApplicable ?? one.notApplicable;
        run.unknown = run.unknown ?? one.unknown;
    }
    return run;
}

/** The stack's resources as the server builds them for `analyzeStack`: parents and dependencies linked by URN. */
export function policyResources(resources: OfflineResource[]): PolicyResource[] {
    const built = resources.map((r) => {
        const props = unknownCheckingProxy(r.props);
        const resource: PolicyResource = {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props,
            opts: options(),
            dependencies: [],
            propertyDependencies: {},
            isType: isTypeOf(r.type) as PolicyResource["isType"],
            asType: ((cls: any) => (isTypeOf(r.type)(cls) ? props : undefined)) as PolicyResource["asType"],
        };
        return resource;
    });
    const byUrn = new Map(built.map((b) => [b.urn, b]));
    const find = (urns: string[] | undefined) => (urns ?? []).map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
    resources.forEach((r, i) => {
        if (r.parent && byUrn.has(r.parent)) built[i].parent = byUrn.get(r.parent);
        built[i].dependencies = find(r.dependencies);
        for (const [prop, urns] of Object.entries(r.propertyDependencies ?? {})) built[i].propertyDependencies[prop] = find(urns);
    });
    return built;
}

/** Runs a stack rule over the whole stack, as the server's `analyzeStack` does. */
export async function runStackRule(rule: Rule, resources: OfflineResource[], parameters: Record<string, unknown> = {}): Promise<RuleRun> {
    const policy = rule as StackValidationPolicy;
    if (!policy.validateStack) throw new Error(`${rule.name} is not a stack rule`);
    const { run, report } = recorder();
    const args: StackValidationArgs = {
        // Built afresh for every rule, as the server does: a rule cannot change what the next one sees.
        resources: policyResources(resources),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...parameters }) as T,
        notApplicable,
    };
    return settle(rule, run, () => policy.validateStack(args, report));
}

/** The levels a violation is reported at (`remediate` reports as mandatory, as in the server). */
export type ReportedLevel = "mandatory" | "advisory";

export interface Violation {
    policy: string;
    level: ReportedLevel;
    message: string;
    /** The resource it is about; undefined for a stack rule's report about the stack as a whole. */
    urn?: string;
}

/** A rule that threw: the real analyzer fails the preview with it. */
export interface RuleFailure {
    policy: string;
    urn?: string;
    message: string;
}

export interface PackRun {
    /** The rules that ran, in the pack's order. */
    ran: string[];
    /** The rules the config disables. */
    disabled: string[];
    /** Violations, in the pack's rule order, then in the order the resources were given. */
    violations: Violation[];
    failures: RuleFailure[];
    /** Rules that said they do not apply, per resource (resource rules) or for the stack. */
    notApplicable: { policy: string; reason: string; urn?: string }[];
}

/**
 * Runs every enabled rule of the pack over a stack's resources, each at its level with its parameters from
 * `config` (no config: every rule at its own level, as a preview without `--policy-pack-config`).
 */
export async function runPack(resources: OfflineResource[], config: PackConfig = {}, rules: Rule[] = packRules): Promise<PackRun> {
    const out: PackRun = { ran: [], disabled: [], violations: [], failures: [], notApplicable: [] };
    for (const rule of rules) {
        let level = levelOf(rule, config);
        if (level === "disabled") {
            out.disabled.push(rule.name);
            continue;
        }
        if (level === "remediate") level = "mandatory";
        out.ran.push(rule.name);
        const parameters = parametersOf(rule, config);
        const record = (run: RuleRun, urn?: string) => {
            for (const r of run.reports) out.violations.push({ policy: rule.name, level: level as ReportedLevel, message: r.message, urn: r.urn ?? urn });
            if (run.unknown !== undefined) out.violations.push({ policy: rule.name, level: "advisory", message: run.unknown, urn });
            if (run.notApplicable !== undefined) out.notApplicable.push({ policy: rule.name, reason: run.notApplicable, urn });
        };
        const fail = (e: unknown, urn?: string) => out.failures.push({ policy: rule.name, urn, message: e instanceof Error ? e.message : String(e) });
        if ("validateStack" in rule) {
            try {
                record(await runStackRule(rule, resources, parameters));
            } catch (e) {
                fail(e);
            }
        } else {
            for (const r of resources) {
                try {
                    record(await runResourceRule(rule, r, parameters), r.urn);
                } catch (e) {
                    fail(e, r.urn);
                }
            }
        }
    }
    return out;
}

/** `type name` of a URN (`urn:pulumi:<stack>::<project>::[<parent type>$]<type>::<name>`). */
export function resourceOfUrn(urn: string): { type: string; name: string } {
    const parts = urn.split("::");
    const qualified = parts[2] ?? urn;
    return { type: qualified.slice(qualified.lastIndexOf("$") + 1), name: parts.slice(3).join("::") };
}
