// The program's offline mode: index.ts run under the Pulumi SDK's own mocks (pulumi.runtime.setMocks), with a
// stack's config and the stack's previous outputs, recording every resource it registers with its inputs, parent
// and dependencies. No Pulumi CLI, no engine, no cloud: the mocks echo each resource's inputs back as its state and
// add the few outputs real providers compute. `npm run plan -- <stack> --policies` runs the pack over what it records.
//
// This module loads the Pulumi SDK: scripts/policies.ts requires it lazily, only when `--policies` is given.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { isSecretValue } from "../components/shared/field-diff";

export interface RegisteredResource {
    type: string;
    name: string;
    urn: string;
    inputs: Record<string, any>;
    custom: boolean;
    /** The provider reference the resource was registered with (`<urn>::<id>`), if any. */
    provider?: string;
    /** URN of the parent resource. */
    parent?: string;
    /** URNs of the resources it waits for, as the SDK sends them to the engine (explicit dependsOn and input sources). */
    dependencies: string[];
    /** Property name → URNs of the resources the property's value comes from. */
    propertyDependencies: Record<string, string[]>;
    /**
     * The URNs of its aliases: the earlier identities the engine would adopt without replacement. The SDK sends alias
     * specs (name, type, parent URN…); they are resolved here as the engine resolves them (`aliasUrn`).
     */
    aliases: string[];
}

export interface OfflineRun {
    resources: RegisteredResource[];
    /** The program's stack outputs, resolved. */
    outputs: Record<string, any>;
}

/** The organization the mocks give the program (its StackReference to itself reads `<org>/<project>/<stack>`). */
export const MOCK_ORGANIZATION = "organization";
const PROJECT = "stagehand";
const programPath = path.resolve(__dirname, "../index.ts");

/** Where index.ts reads Pulumi.<stack>.yaml from, when set (default: its own directory). */
export const STACK_ROOT_ENV = "STAGEHAND_ROOT";
/** The commit a deploy applies (the deploy job sets it to $GITHUB_SHA); index.ts exports it as `deployedCommit`. */
export const COMMIT_ENV = "STAGEHAND_COMMIT";

const settings = require("@pulumi/pulumi/runtime/settings");

/** Mock state for a resource: its inputs echoed back, plus a few outputs that real providers compute. */
function mockState(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
    const state: Record<string, any> = { ...args.inputs };
    if (args.type === "aws:eks/cluster:Cluster") {
        state.endpoint = `https://${args.name}.eks.example.com`;
        state.certificateAuthority = { data: "Y2VydA==" };
        state.arn = `arn:aws:eks:us-east-1:123456789012:cluster/${args.name}`;
        // The security group EKS creates for the control plane's network interfaces and the managed nodes.
        state.vpcConfig = { ...args.inputs.vpcConfig, clusterSecurityGroupId: `sg-${args.name}` };
    }
    // A launch template's first version.
    if (args.type === "aws:ec2/launchTemplate:LaunchTemplate") state.latestVersion = 1;
    // A Helm release that applied cleanly.
    if (args.type === "kubernetes:helm.sh/v3:Release") state.status = { status: "deployed", name: args.inputs.name, namespace: args.inputs.namespace };
    if (args.type.startsWith("aws:")) state.arn = state.arn ?? `arn:aws:mock:::${args.name}`;
    return state;
}

type RequestFacts = Pick<RegisteredResource, "urn" | "parent" | "dependencies" | "propertyDependencies" | "aliases">;

function mocks(resources: RegisteredResource[], requests: Map<string, RequestFacts>, stack: string, previousOutputs: Record<string, unknown>): pulumi.runtime.Mocks {
    return {
        newResource(args) {
            // The program reads its own previous outputs: a read, not a registration.
            if (args.type === "pulumi:pulumi:StackReference") {
                return { id: args.inputs.name, state: { name: args.inputs.name, outputs: previousOutputs, secretOutputNames: [] } };
            }
            const key = `${args.type}::${args.name}`;
            const facts = requests.get(key) ?? { urn: `urn:pulumi:${stack}::${PROJECT}::${args.type}::${args.name}`, dependencies: [], propertyDependencies: {}, aliases: [] };
            requests.delete(key);
            resources.push({ type: args.type, name: args.name, inputs: args.inputs, custom: !!args.custom, provider: args.provider, ...facts });
            return { id: args.custom ? `${args.name}-id` : undefined, state: mockState(args) };
        },
        call(args) {
            if (args.token === "aws:index/getAvailabilityZones:getAvailabilityZones") {
                const letters = ["a", "b", "c", "d", "e", "f"];
                return { names: letters.map((l) => `us-east-1${l}`), zoneIds: letters.map((_, i) => `use1-az${i + 1}`) };
            }
            if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/offline", userId: "offline" };
            if (args.token === "aws:index/getRegion:getRegion") return { name: "us-east-1", region: "us-east-1" };
            if (args.token === "aws:iam/getPolicyDocument:getPolicyDocument") return { json: JSON.stringify(args.inputs) };
            return args.inputs;
        },
    };
}

/** The URN the mock monitor gives a resource (runtime/mocks.js `newUrn`), so dependencies name it the same way. */
function urnOf(stack: string, type: string, name: string, parent: string | undefined): string {
    const qualified = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
    return `urn:pulumi:${stack}::${PROJECT}::${qualified}::${name}`;
}

/**
 * The URN an alias spec names, as the engine computes it: the alias's name and type (else the resource's), under the
 * alias's parent (else the resource's; none with `noParent`). A child of the stack itself has no parent type in its URN.
 */
export function aliasUrn(
    spec: { name?: string; type?: string; stack?: string; project?: string; parentUrn?: string; noParent?: boolean },
    resource: { name: string; type: string; parent?: string },
    stack: string,
    project = PROJECT,
): string {
    const parent = spec.noParent ? undefined : spec.parentUrn || resource.parent;
    const parentType = parent?.split("::")[2];
    const prefix = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$` : "";
    return `urn:pulumi:${spec.stack || stack}::${spec.project || project}::${prefix}${spec.type || resource.type}::${spec.name || resource.name}`;
}

/** Deeply resolves Outputs in a plain structure of exports. */
export async function resolveOutputs(value: any): Promise<any> {
    if (pulumi.Output.isInstance(value)) return resolveOutputs(await (value as any).promise());
    if (Array.isArray(value)) return Promise.all(value.map(resolveOutputs));
    if (value && typeof value === "object" && !(value instanceof pulumi.Resource)) {
        const out: Record<string, any> = {};
        for (const [k, v] of Object.entries(value)) out[k] = await resolveOutputs(v);
        return out;
    }
    return value;
}

/**
 * Stack config as Pulumi passes it: keys `stagehand:<name>`, values JSON strings. A key of another namespace, given
 * with it (`aws:region`), is passed as it is.
 */
export function stackConfig(config: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `stagehand:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}

/**
 * Runs `fn` as the body of a mocked stack `stack` with its `stagehand:*` config (keys without the prefix, as in
 * the stack file) and the stack's previous outputs; returns what it registered and its return value. When `fn`
 * throws, the error carries what was registered before (`registered`), so a caller can check nothing was.
 */
export async function runMocked<T>(
    stack: string,
    config: Record<string, unknown>,
    fn: () => T | Promise<T>,
    previousOutputs: Record<string, unknown> = {},
): Promise<{ resources: RegisteredResource[]; value: T }> {
    const resources: RegisteredResource[] = [];
    const requests = new Map<string, RequestFacts>();
    pulumi.runtime.setAllConfig(stackConfig(config));
    await pulumi.runtime.setMocks(mocks(resources, requests, stack, previousOutputs), PROJECT, stack, false, MOCK_ORGANIZATION);
    // The mock monitor hands `newResource` no parent and no dependencies: note them from each request first.
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        const parent = req.getParent() || undefined;
        const propertyDependencies: Record<string, string[]> = {};
        for (const [prop, deps] of req.getPropertydependenciesMap().entries()) propertyDependencies[prop] = deps.getUrnsList();
        const resource = { name: req.getName(), type: req.getType(), parent };
        const aliases: string[] = [
            ...req.getAliasurnsList(),
            ...req.getAliasesList().map((a: any) => {
                if (!a.hasSpec()) return a.getUrn();
                const s = a.getSpec();
                return aliasUrn(
                    { name: s.getName(), type: s.getType(), stack: s.getStack(), project: s.getProject(), parentUrn: s.hasParenturn() ? s.getParenturn() : undefined, noParent: s.hasNoparent() && s.getNoparent() },
                    resource,
                    stack,
                );
            }),
        ];
        requests.set(`${req.getType()}::${req.getName()}`, {
            urn: urnOf(stack, req.getType(), req.getName(), parent),
            parent,
            dependencies: req.getDependenciesList(),
            propertyDependencies,
            aliases,
        });
        return register(req, callback);
    };
    let value!: T;
    let failure: unknown;
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            value = await fn();
            return {};
        });
    } catch (e) {
        failure = e;
    }
    // Resource registrations are asynchronous: wait for every outstanding RPC before reading them.
    await settings.waitForRPCs();
    if (failure) throw Object.assign(failure as object, { registered: resources.filter((r) => r.type !== "pulumi:pulumi:Stack") });
    return { resources, value };
}

/** A stand-in for a secret's value offline, where nothing decrypts it: what the Secret would hold is unknown here. */
export const OFFLINE_SECRET_VALUE = "(secret: not decrypted offline)";

/**
 * The config as the program sees it offline: a secret from the stack file (`{secure}`, no value: nothing decrypts it
 * here) gets a stand-in value, as the Pulumi CLI would hand over the decrypted one. Nothing offline is applied.
 */
export function withOfflineSecrets<T>(value: T): T {
    if (Array.isArray(value)) return value.map(withOfflineSecrets) as T;
    if (value && typeof value === "object") {
        const v = value as Record<string, unknown>;
        if (isSecretValue(v)) return { value: OFFLINE_SECRET_VALUE, ...v } as T;
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withOfflineSecrets(x)])) as T;
    }
    return value;
}

/**
 * Runs index.ts (fresh) as stack `stack` with its `stagehand:*` config and the stack's previous outputs
 * (`serviceStages`, as the program reads them back; `{}` for a first deployment). Rejects with the program's own
 * error (a config error, a refused move) when it stops.
 */
export async function runProgramOffline(
    stack: string,
    config: Record<string, unknown>,
    previousOutputs: Record<string, unknown> = {},
    options: { stackRoot?: string; commit?: string } = {},
): Promise<OfflineRun> {
    // index.ts reads Pulumi.<stack>.yaml (which values are secrets) from STAGEHAND_ROOT when set, else from its own
    // directory: `plan --root` points it at the checkout whose stack file is judged. Offline there is no deploy, so
    // no deployed commit either, unless a test gives one (as the deploy job sets STAGEHAND_COMMIT).
    const saved = { root: process.env[STACK_ROOT_ENV], commit: process.env[COMMIT_ENV] };
    if (options.stackRoot !== undefined) process.env[STACK_ROOT_ENV] = options.stackRoot;
    if (options.commit !== undefined) process.env[COMMIT_ENV] = options.commit;
    else delete process.env[COMMIT_ENV];
    try {
        return await runOffline(stack, config, previousOutputs);
    } finally {
        for (const [name, value] of [[STACK_ROOT_ENV, saved.root], [COMMIT_ENV, saved.commit]] as const) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
    }
}

async function runOffline(stack: string, config: Record<string, unknown>, previousOutputs: Record<string, unknown>): Promise<OfflineRun> {
    const { resources, value } = await runMocked(
        stack,
        withOfflineSecrets(config),
        async () => {
            delete require.cache[require.resolve(programPath)];
            const program = require(programPath);
            // index.ts exports an async function that Pulumi runs and whose result it exports.
            return (await resolveOutputs(typeof program === "function" ? await program() : program)) as Record<string, any>;
        },
        previousOutputs,
    );
    return { resources, outputs: value };
}
