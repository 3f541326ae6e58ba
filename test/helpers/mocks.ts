// Runs Pulumi programs and components under the SDK's own mocks (pulumi.runtime.setMocks), recording
// every registered resource with its inputs.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";

export interface Registered {
    type: string;
    name: string;
    inputs: any;
    custom: boolean;
    provider?: string;
    /** URN of the parent resource (components: their children name them here). */
    parent?: string;
    /**
     * URNs of the resources this one waits for, as the SDK sends them to the engine: explicit `dependsOn`
     * (a component expands to its custom children) plus the resources its inputs come from.
     */
    dependencies: string[];
}

/** The resource name in a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function urnName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Names of the resources `r` waits for (see `Registered.dependencies`). */
export function dependencyNames(r: Registered): string[] {
    return r.dependencies.map(urnName);
}

export interface ProgramRun {
    resources: Registered[];
    outputs: Record<string, any>;
}

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
    if (args.type === "aws:index/getAvailabilityZones:getAvailabilityZones") state.names = ["us-east-1a", "us-east-1b", "us-east-1c"];
    return state;
}

/** What the mocks API leaves out of a registration, read from the request itself, by `type::name`. */
type RequestFacts = Pick<Registered, "parent" | "dependencies">;

function mocks(resources: Registered[], requests: Map<string, RequestFacts>, previousOutputs: Record<string, unknown>): pulumi.runtime.Mocks {
    return {
        newResource(args) {
            // The program reads its own previous outputs: a read, not a registration.
            if (args.type === "pulumi:pulumi:StackReference") {
                return { id: args.inputs.name, state: { name: args.inputs.name, outputs: previousOutputs, secretOutputNames: [] } };
            }
            const key = `${args.type}::${args.name}`;
            const facts = requests.get(key) ?? { dependencies: [] };
            requests.delete(key);
            resources.push({ type: args.type, name: args.name, inputs: args.inputs, custom: !!args.custom, provider: args.provider, ...facts });
            return { id: args.custom ? `${args.name}-id` : undefined, state: mockState(args) };
        },
        call(args) {
            if (args.token === "aws:index/getAvailabilityZones:getAvailabilityZones") {
                const letters = ["a", "b", "c", "d", "e", "f"];
                return { names: letters.map((l) => `us-east-1${l}`), zoneIds: letters.map((_, i) => `use1-az${i + 1}`) };
            }
            if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/test", userId: "test" };
            if (args.token === "aws:index/getRegion:getRegion") return { name: "us-east-1", region: "us-east-1" };
            if (args.token === "aws:iam/getPolicyDocument:getPolicyDocument") return { json: JSON.stringify(args.inputs) };
            return args.inputs;
        },
    };
}

/** Stack config as Pulumi passes it: keys `stagehand:<name>`, values JSON strings. */
export function stackConfig(config: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [`stagehand:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}

/** Runs `fn` as the body of a mocked stack `stack`; returns what it registered and its return value. */
export async function runMocked<T>(
    stack: string,
    config: Record<string, unknown>,
    fn: () => T | Promise<T>,
    previousOutputs: Record<string, unknown> = {},
): Promise<{ resources: Registered[]; value: T }> {
    const resources: Registered[] = [];
    pulumi.runtime.setAllConfig(stackConfig(config));
    const requests = new Map<string, RequestFacts>();
    await pulumi.runtime.setMocks(mocks(resources, requests, previousOutputs), "stagehand", stack, false, "organization");
    // The mock monitor hands `newResource` no parent and no dependencies: note them from each request first.
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        requests.set(`${req.getType()}::${req.getName()}`, { parent: req.getParent() || undefined, dependencies: req.getDependenciesList() });
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

const programPath = path.resolve(__dirname, "../../index.ts");

/**
 * Runs index.ts (fresh) as stack `stack` with the given `stagehand:*` config; resolves its exports.
 * `previousOutputs` are the stack's outputs from its last update, as the program reads them back.
 */
export async function runProgram(stack: string, config: Record<string, unknown>, previousOutputs: Record<string, unknown> = {}): Promise<ProgramRun> {
    const { resources, value } = await runMocked(
        stack,
        config,
        async () => {
            delete require.cache[require.resolve(programPath)];
            const program = require(programPath);
            // index.ts exports an async function that Pulumi runs and whose result it exports.
            return await resolveOutputs(typeof program === "function" ? await program() : program);
        },
        previousOutputs,
    );
    return { resources, outputs: value };
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

export function ofType(resources: Registered[], type: string): Registered[] {
    return resources.filter((r) => r.type === type);
}
