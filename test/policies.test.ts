// The policy pack (policies/): every rule run through its own validation function with hand-built args, the
// way the analyzer server calls it (props behind @pulumi/policy's unknown-checking proxy); the pack's files
// and per-stack config checked the way the CLI reads them; and the stacks as configured run through it.
// The pack itself is never constructed here: `new PolicyPack` starts a gRPC server (see policies/smoke.ts).
import { PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy, unknownCheckingProxy } from "@pulumi/policy";
import Ajv from "ajv";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { parseServices, ServiceInput } from "../components/config";
import { stagePlan, stagePlans } from "../components/stages";
import { chartValues, ChartParts } from "../components/values";
import {
    containersResourcesReadiness,
    eksApiEndpointRestricted,
    eksControlPlaneLogging,
    imageRefProblem,
    imageTagPinned,
    meshMtlsStrict,
    nodeGroupCapacityType,
    nodeGroupsMultiAz,
    noPlaintextSecrets,
    parseQuantity,
    policyConfigMatchesStack,
    releaseAtomic,
    Rule,
    rules,
    stackOfUrn,
    trafficRoutesReadyTracks,
} from "../policies/rules";
import { findSecrets, keyWords, secretLookingKey } from "../policies/secrets";
import { readStackConfig } from "../scripts/stack-file";
import { runProgram } from "./helpers/mocks";

const ROOT = path.resolve(__dirname, "..");
const PACK = path.join(ROOT, "policies");
const STACKS = ["staging", "uat", "prod"];
const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];
/** What the engine sends for a string it does not know yet during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const CLUSTER = "aws:eks/cluster:Cluster";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const SUBNET = "aws:ec2/subnet:Subnet";
const PEER_AUTH = "kubernetes:security.istio.io/v1:PeerAuthentication";

// ---------- harness: call a rule the way the analyzer server does ----------

interface Outcome {
    messages: string[];
    urns: (string | undefined)[];
    notApplicable?: string;
}

class NotApplicable extends Error {}

const urnOf = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::stagehand::${type}::${name}`;

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

interface Res {
    type: string;
    name: string;
    props: Record<string, any>;
    stack?: string;
}

/** Runs a resource rule on one resource; props go through the same unknown-checking proxy as in the server. */
async function checkResource(rule: Rule, res: Res, config: Record<string, unknown> = {}): Promise<Outcome> {
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

interface StackRes extends Res {
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
async function checkStack(rule: Rule, stack: string, resources: StackRes[], config: Record<string, unknown> = {}): Promise<Outcome> {
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

function passes(outcome: Outcome): void {
    assert.deepStrictEqual(outcome.messages, [], "no violation expected");
    assert.strictEqual(outcome.notApplicable, undefined, "the rule applies");
}

// ---------- fixtures: service Releases built by the project's own pure code ----------

const ONLY: Record<"production" | "canary" | "routing", ChartParts> = {
    production: { production: true, canary: false, routing: false },
    canary: { production: false, canary: true, routing: false },
    routing: { production: false, canary: false, routing: true },
};
const ALL: ChartParts = { production: true, canary: true, routing: true };

function service(overrides: Partial<ServiceInput> = {}) {
    return parseServices("prod", { checkout: { image: "ghcr.io/acme/checkout", stable: "1.4.2", canary: "1.5.0", stage: 2, replicas: 2, ...overrides } }).checkout;
}

/** Chart values of service `checkout` at `stage` (2 = canary 10%), as components/values.ts computes them. */
function valuesAt(stage: number, parts: ChartParts = ALL, overrides: Partial<ServiceInput> = {}): Record<string, any> {
    const svc = service({ stage, ...overrides });
    return JSON.parse(JSON.stringify(chartValues("checkout", svc, stagePlan(svc), parts)));
}

function release(name: string, values: Record<string, any>, extra: Record<string, unknown> = {}): StackRes {
    return { type: RELEASE, name, props: { name, namespace: "checkout", chart: "./charts/service", values, atomic: true, cleanupOnFail: true, timeout: 600, ...extra } };
}

/** The three Releases of a split service, each with the values of its part. */
function splitReleases(stage: number, edit: (parts: Record<"production" | "canary" | "routing", Record<string, any>>) => void = () => {}): StackRes[] {
    const values = { production: valuesAt(stage, ONLY.production), canary: valuesAt(stage, ONLY.canary), routing: valuesAt(stage, ONLY.routing) };
    edit(values);
    return (["production", "canary", "routing"] as const).map((p) => release(`checkout-${p}`, values[p]));
}

const istiod: StackRes = {
    type: RELEASE,
    name: "istiod",
    props: { name: "istiod", namespace: "istio-system", chart: "istiod", repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" }, values: { pilot: { image: "pilot", tag: "latest" }, global: { jwtPolicy: "third-party-jwt" } } },
};

function deployment(container: Record<string, unknown>): Res {
    return { type: DEPLOYMENT, name: "worker", props: { metadata: { name: "worker" }, spec: { template: { spec: { containers: [{ name: "worker", ...container }] } } } } };
}

const readyContainer = {
    image: "ghcr.io/acme/worker:2.0.1",
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } },
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
};

// ---------- the pack loads ----------

describe("policy pack (policies/): it loads", () => {
    it("registers every rule once, each with a name, a description and a valid enforcement level", () => {
        const names = rules.map((r) => r.name);
        assert.strictEqual(new Set(names).size, names.length, `duplicate rule names in ${names.join(", ")}`);
        assert.ok(rules.length >= 10);
        for (const r of rules) {
            assert.match(r.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, `${r.name}: a kebab-case name`);
            assert.notStrictEqual(r.name, "all", "`all` is reserved by Pulumi");
            assert.ok(r.description.length >= 60 && r.description.endsWith("."), `${r.name}: a description a reviewer understands`);
            assert.ok(LEVELS.includes(r.enforcementLevel), `${r.name}: enforcement level ${r.enforcementLevel}`);
            const kinds = ["validateResource" in r, "validateStack" in r].filter(Boolean).length;
            assert.strictEqual(kinds, 1, `${r.name}: exactly one of validateResource / validateStack`);
            assert.ok(!r.configSchema?.properties?.enforcementLevel, `${r.name}: enforcementLevel may not be a config property`);
        }
    });

    it("has a PulumiPolicy.yaml naming the nodejs runtime, and a package.json whose main is the pack", () => {
        const manifest = parseYaml(fs.readFileSync(path.join(PACK, "PulumiPolicy.yaml"), "utf8"));
        assert.strictEqual(manifest.runtime, "nodejs");
        assert.ok(typeof manifest.description === "string" && manifest.description.length > 20);
        const pkg = JSON.parse(fs.readFileSync(path.join(PACK, "package.json"), "utf8"));
        assert.ok(fs.existsSync(path.join(PACK, pkg.main)), `main ${pkg.main} exists`);
        const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        // The pack resolves its modules from the root node_modules: its declared ranges must be the root's.
        assert.strictEqual(pkg.dependencies["@pulumi/policy"], root.devDependencies["@pulumi/policy"] ?? root.dependencies["@pulumi/policy"]);
        assert.strictEqual(pkg.dependencies["@pulumi/pulumi"], root.dependencies["@pulumi/pulumi"]);
        const index = fs.readFileSync(path.join(PACK, pkg.main), "utf8");
        assert.match(index, /new PolicyPack\("stagehand", \{[\s\S]*policies: rules,/);
    });

    for (const stack of STACKS) {
        it(`config.${stack}.json sets a level for every rule, names only real rules, and fits each rule's config schema`, () => {
            const config = JSON.parse(fs.readFileSync(path.join(PACK, `config.${stack}.json`), "utf8"));
            assert.deepStrictEqual(Object.keys(config).sort(), rules.map((r) => r.name).sort());
            const ajv = new Ajv({ strict: false });
            for (const r of rules) {
                const entry = config[r.name];
                const { enforcementLevel, ...props } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
                assert.ok(LEVELS.includes(enforcementLevel), `${stack}: ${r.name} level ${enforcementLevel}`);
                const validate = ajv.compile({ type: "object", properties: r.configSchema?.properties ?? {}, additionalProperties: false });
                assert.ok(validate(props), `${stack}: ${r.name} config ${JSON.stringify(props)}: ${ajv.errorsText(validate.errors)}`);
            }
            assert.deepStrictEqual(config["policy-config-matches-stack"].stacks, [stack]);
        });
    }

    it("config schema defaults are valid against their own schemas", () => {
        const ajv = new Ajv({ strict: false, useDefaults: true });
        for (const r of rules) {
            const validate = ajv.compile({ type: "object", properties: r.configSchema?.properties ?? {} });
            const filled: Record<string, unknown> = {};
            assert.ok(validate(filled), `${r.name}: ${ajv.errorsText(validate.errors)}`);
        }
    });

    it("README's rule table lists every rule with the levels of config.<stack>.json", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const section = readme.split(/^## /m).find((s) => s.startsWith("Policy pack"));
        assert.ok(section, "README has a `## Policy pack` section");
        const rows = new Map<string, string[]>();
        for (const line of section!.split("\n")) {
            const cells = line.split("|").map((c) => c.trim());
            const name = /^`([a-z0-9-]+)`$/.exec(cells[1] ?? "")?.[1];
            if (name) rows.set(name, cells.slice(3, 6));
        }
        assert.deepStrictEqual([...rows.keys()], rules.map((r) => r.name), "one row per rule, in the pack's order");
        for (const stack of STACKS) {
            const config = JSON.parse(fs.readFileSync(path.join(PACK, `config.${stack}.json`), "utf8"));
            for (const r of rules) {
                const entry = config[r.name];
                const level = typeof entry === "string" ? entry : entry.enforcementLevel;
                assert.strictEqual(rows.get(r.name)![STACKS.indexOf(stack)], level, `README level of ${r.name} in ${stack}`);
            }
        }
    });
});

// ---------- the rules, one passing and one violating case at least ----------

describe("policy service-image-tag-pinned", () => {
    it("passes tags and digests of a service release", async () => {
        passes(await checkResource(imageTagPinned, release("checkout", valuesAt(2))));
        passes(await checkResource(imageTagPinned, release("checkout", valuesAt(2, ALL, { canary: `sha256:${"a".repeat(64)}` }))));
    });

    it("refuses `latest` and empty tags, with the words of the config schema", async () => {
        const values = valuesAt(2);
        values.tracks.canary.tag = "latest";
        values.tracks.production.tag = "";
        const out = await checkResource(imageTagPinned, release("checkout", values));
        assert.deepStrictEqual(out.messages, [
            "release checkout: tracks.production.tag: expected an image tag such as \"1.4.2\" (letters, digits, '_', '.', '-', at most 128) or a digest \"sha256:<64 hex>\", found an empty string",
            'release checkout: tracks.canary.tag: expected a fixed image tag or digest, not "latest" (it cannot be reviewed or rolled back), found "latest"',
        ]);
    });

    it("refuses a repository that smuggles its own tag", async () => {
        const values = valuesAt(2);
        values.image.repository = "ghcr.io/acme/checkout:latest";
        const out = await checkResource(imageTagPinned, release("checkout", values));
        assert.deepStrictEqual(out.messages, [
            'release checkout: image.repository: expected an image repository without tag or digest (the tags go in tracks.<track>.tag), found "ghcr.io/acme/checkout:latest"',
        ]);
    });

    it("judges only the tracks a split release renders", async () => {
        const [production, canary] = splitReleases(2, (v) => {
            v.production.tracks.canary.tag = "latest";
            v.canary.tracks.canary.tag = "latest";
        });
        passes(await checkResource(imageTagPinned, production));
        assert.deepStrictEqual((await checkResource(imageTagPinned, canary)).messages, [
            'release checkout-canary: tracks.canary.tag: expected a fixed image tag or digest, not "latest" (it cannot be reviewed or rolled back), found "latest"',
        ]);
    });

    it("leaves Istio's own releases alone, and checks plain Deployments' images", async () => {
        assert.deepStrictEqual((await checkResource(imageTagPinned, istiod)).messages, []);
        passes(await checkResource(imageTagPinned, deployment(readyContainer)));
        passes(await checkResource(imageTagPinned, deployment({ image: `registry:5000/acme/worker@sha256:${"b".repeat(64)}` })));
        assert.deepStrictEqual((await checkResource(imageTagPinned, deployment({ image: "registry:5000/acme/worker" }))).messages, [
            'Deployment worker, container worker: expected an image with a tag or digest, found "registry:5000/acme/worker" (no tag: Kubernetes pulls "latest")',
        ]);
        assert.strictEqual(imageRefProblem("nginx:latest"), 'expected a fixed image tag or digest, not "latest" (it cannot be reviewed or rolled back), found "latest" in image "nginx:latest"');
    });
});

describe("policy service-traffic-routes-ready-tracks", () => {
    it("passes a single release at every stage of the default canary", async () => {
        for (let stage = 1; stage <= 6; stage++) passes(await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", valuesAt(stage))]));
    });

    it("passes a service split into production, canary and routing releases, combined per service", async () => {
        for (let stage = 1; stage <= 6; stage++) passes(await checkStack(trafficRoutesReadyTracks, "prod", splitReleases(stage)));
    });

    it("passes every stage of a service with a shadow stage (mirroring) and test-user routes, as the planner writes them", async () => {
        const extra: Partial<ServiceInput> = { shadow: { percent: 20 }, testRoutes: [{ header: "x-canary", exact: "always" }] };
        const stages = stagePlans(service(extra)).length;
        assert.strictEqual(stages, 7);
        let mirrored = 0;
        for (let stage = 1; stage <= stages; stage++) {
            const parts = (["production", "canary", "routing"] as const).map((p) => release(`checkout-${p}`, valuesAt(stage, ONLY[p], extra)));
            mirrored += parts[2].props.values.routing.mirrorPercent > 0 ? 1 : 0;
            passes(await checkStack(trafficRoutesReadyTracks, "prod", parts));
        }
        assert.strictEqual(mirrored, 1, "the shadow stage mirrors");
    });

    it("refuses weights that do not add up to 100", async () => {
        const values = valuesAt(2);
        values.tracks.canary.weight = 20;
        const out = await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", values)]);
        assert.deepStrictEqual(out.messages, ["service checkout (namespace checkout): the VirtualService weights add up to 110 (production 90 + canary 20), they must add up to 100"]);
        assert.deepStrictEqual(out.urns, [urnOf("prod", RELEASE, "checkout")]);
    });

    it("refuses weights that are not whole percentages", async () => {
        const values = valuesAt(2);
        values.tracks.canary.weight = 10.5;
        const out = await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", values)]);
        assert.deepStrictEqual(out.messages, ["service checkout (namespace checkout): tracks.canary.weight must be a whole percentage from 0 to 100, found 10.5"]);
    });

    it("refuses weight on a track with no replicas planned (one release)", async () => {
        const values = valuesAt(2);
        values.tracks.canary.replicas = 0;
        const out = await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", values)]);
        assert.deepStrictEqual(out.messages, [
            "service checkout (namespace checkout): 10% of traffic is routed to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout); those requests would fail. Give the track replicas before it gets weight (make before break)",
        ]);
    });

    it("refuses a routing release that weights a track its own release scales to 0 (split)", async () => {
        const out = await checkStack(trafficRoutesReadyTracks, "prod", splitReleases(3, (v) => (v.canary.tracks.canary.replicas = 0)));
        assert.deepStrictEqual(out.messages, [
            "service checkout (namespace checkout): 90% of traffic is routed to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout-canary); those requests would fail. Give the track replicas before it gets weight (make before break)",
        ]);
        assert.deepStrictEqual(out.urns, [urnOf("prod", RELEASE, "checkout-routing")]);
    });

    it("refuses weight on a track no release renders", async () => {
        const out = await checkStack(trafficRoutesReadyTracks, "prod", splitReleases(2).filter((r) => r.name !== "checkout-canary"));
        assert.deepStrictEqual(out.messages, [
            "service checkout (namespace checkout): 10% of traffic is routed to the canary track (tag 1.5.0), which has 0 replicas planned (no release renders it); those requests would fail. Give the track replicas before it gets weight (make before break)",
        ]);
    });

    it("refuses a mirror or a header match to a canary without replicas, and accepts them when the chart drops them", async () => {
        const mirrored = splitReleases(1, (v) => {
            v.routing.routing = { mirrorPercent: 5, canaryMatches: [{ headers: { "x-canary": { exact: "1" } } }] };
            v.routing.tracks.canary.replicas = 1; // the routing release believes the canary is live…
        }); // …but the canary release, at stage 1, plans 0 replicas
        assert.deepStrictEqual((await checkStack(trafficRoutesReadyTracks, "prod", mirrored)).messages, [
            "service checkout (namespace checkout): 5% of requests are mirrored to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout-canary)",
            "service checkout (namespace checkout): requests matching routing.canaryMatches are routed to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout-canary)",
        ]);
        // One release at stage 1: the chart itself leaves out mirror and match while the canary has no replicas.
        const idle = valuesAt(1);
        idle.routing = { mirrorPercent: 5, canaryMatches: [{ headers: { "x-canary": { exact: "1" } } }] };
        passes(await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", idle)]));
    });

    it("refuses two releases owning the routing, and a service nobody routes", async () => {
        const [production, canary, routing] = splitReleases(2);
        const twice = await checkStack(trafficRoutesReadyTracks, "prod", [production, canary, routing, { ...routing, name: "checkout-routing-2", props: { ...routing.props, name: "checkout-routing-2" } }]);
        assert.deepStrictEqual(twice.messages, ["service checkout (namespace checkout): 2 Helm releases render the routing part (checkout-routing, checkout-routing-2); exactly one may own the VirtualService"]);
        const unrouted = await checkStack(trafficRoutesReadyTracks, "prod", [production, canary]);
        assert.deepStrictEqual(unrouted.messages, [
            "service checkout (namespace checkout): no Helm release renders the routing part (Service, DestinationRule, VirtualService) of checkout-production, checkout-canary, so nothing routes traffic to its tracks",
        ]);
    });

    it("keeps services apart by namespace, and does not apply to a stack without service releases", async () => {
        const broken = valuesAt(2);
        broken.tracks.canary.replicas = 0;
        const other = release("checkout-eu", broken, { namespace: "eu" });
        const out = await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", valuesAt(2)), other]);
        assert.strictEqual(out.messages.length, 1);
        assert.match(out.messages[0], /^service checkout \(namespace eu\): 10% of traffic is routed to the canary track/);
        const none = await checkStack(trafficRoutesReadyTracks, "prod", [istiod]);
        assert.strictEqual(none.notApplicable, "no service Helm releases in this stack");
    });
});

describe("policy service-release-atomic", () => {
    it("passes an atomic release with a timeout; ignores Istio's releases", async () => {
        passes(await checkResource(releaseAtomic, release("checkout", valuesAt(2))));
        assert.deepStrictEqual((await checkResource(releaseAtomic, istiod)).messages, []);
    });

    it("refuses a release that is not atomic or has no timeout", async () => {
        const out = await checkResource(releaseAtomic, release("checkout", valuesAt(2), { atomic: false, timeout: undefined }));
        assert.deepStrictEqual(out.messages, [
            "release checkout: atomic must be true (a failed upgrade then rolls back by itself), found false",
            "release checkout: timeout must be a whole number of seconds from 1 to 3600 (how long Helm waits before rolling back), found nothing",
        ]);
    });

    it("bounds the timeout by the rule's config", async () => {
        const long = release("checkout", valuesAt(2), { timeout: 7200 });
        assert.deepStrictEqual((await checkResource(releaseAtomic, long)).messages, [
            "release checkout: timeout must be a whole number of seconds from 1 to 3600 (how long Helm waits before rolling back), found 7200",
        ]);
        passes(await checkResource(releaseAtomic, long, { maxTimeoutSeconds: 10800 }));
    });
});

describe("policy containers-resources-and-readiness", () => {
    it("passes the values stagehand writes, and a routing-only release that renders no containers", async () => {
        passes(await checkResource(containersResourcesReadiness, release("checkout", valuesAt(2))));
        const routing = valuesAt(2, ONLY.routing);
        delete routing.resources;
        passes(await checkResource(containersResourcesReadiness, release("checkout-routing", routing)));
    });

    it("refuses missing limits, a request above its limit and a missing readiness probe", async () => {
        const values = valuesAt(2);
        values.resources = { requests: { cpu: "2", memory: "128Mi" }, limits: { cpu: "500m" } };
        values.probes = { liveness: { path: "/healthz" } };
        const out = await checkResource(containersResourcesReadiness, release("checkout", values));
        assert.deepStrictEqual(out.messages, [
            'release checkout: resources.requests.cpu "2" is above resources.limits.cpu "500m"; Kubernetes refuses such a pod',
            'release checkout: resources.limits.memory: expected a Kubernetes quantity such as "256Mi", found nothing',
            "release checkout: probes.readiness.path: expected an HTTP path starting with '/', found nothing (without a readiness probe traffic reaches pods that are not ready)",
        ]);
    });

    it("checks the containers of plain Deployments too", async () => {
        passes(await checkResource(containersResourcesReadiness, deployment(readyContainer)));
        const out = await checkResource(containersResourcesReadiness, deployment({ image: "ghcr.io/acme/worker:2.0.1", resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "1Gi" } } }));
        assert.deepStrictEqual(out.messages, ["Deployment worker, container worker: no readinessProbe (traffic would reach pods that are not ready)"]);
    });

    it("reads Kubernetes quantities", () => {
        assert.strictEqual(parseQuantity("250m"), 0.25);
        assert.strictEqual(parseQuantity("128Mi"), 128 * 2 ** 20);
        assert.strictEqual(parseQuantity("1G"), 1e9);
        assert.strictEqual(parseQuantity(2), 2);
        assert.strictEqual(parseQuantity("lots"), undefined);
    });
});

describe("policy node-group-capacity-type", () => {
    const group = (stack: string, capacityType?: string): Res => ({ type: NODE_GROUP, name: "workers", stack, props: capacityType ? { capacityType } : {} });

    it("passes SPOT in staging and ON_DEMAND (also when unset) in UAT and prod", async () => {
        passes(await checkResource(nodeGroupCapacityType, group("staging", "SPOT")));
        passes(await checkResource(nodeGroupCapacityType, group("uat", "ON_DEMAND")));
        passes(await checkResource(nodeGroupCapacityType, group("prod")));
    });

    it("refuses on-demand in staging and spot in prod, reading the stack from the URN", async () => {
        assert.deepStrictEqual((await checkResource(nodeGroupCapacityType, group("staging"))).messages, [
            "node group workers in stack staging has capacityType ON_DEMAND (unset, which AWS treats as ON_DEMAND); node groups of stack staging must be SPOT",
        ]);
        assert.deepStrictEqual((await checkResource(nodeGroupCapacityType, group("prod", "SPOT"))).messages, [
            "node group workers in stack prod has capacityType SPOT; node groups of stack prod must be ON_DEMAND",
        ]);
    });

    it("takes the stack mapping from config, and skips stacks it does not list", async () => {
        const out = await checkResource(nodeGroupCapacityType, group("dev-alice", "ON_DEMAND"));
        assert.strictEqual(out.notApplicable, "no capacity type is required for stack dev-alice");
        assert.deepStrictEqual((await checkResource(nodeGroupCapacityType, group("dev-alice", "ON_DEMAND"), { capacityTypeByStack: { "dev-alice": "SPOT" } })).messages, [
            "node group workers in stack dev-alice has capacityType ON_DEMAND; node groups of stack dev-alice must be SPOT",
        ]);
    });
});

describe("policy node-groups-multi-az", () => {
    const subnet = (name: string, zone: string | undefined, id = `${name}-id`): StackRes => ({ type: SUBNET, name, props: { id, vpcId: "vpc-1", ...(zone ? { availabilityZone: zone } : {}) } });
    const group = (subnets: string[], props: Record<string, unknown> = {}): StackRes => ({
        type: NODE_GROUP,
        name: "workers",
        props: { capacityType: "ON_DEMAND", subnetIds: subnets.map(() => UNKNOWN), scalingConfig: { minSize: 2, maxSize: 6, desiredSize: 3 }, ...props },
        deps: { subnetIds: subnets },
    });

    it("passes a prod node group whose subnets (found by property dependency) span 2 zones", async () => {
        passes(await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), subnet("b", "us-east-1b"), group(["a", "b"])]));
    });

    it("passes subnets found by id, and subnets outside the stack listed in config", async () => {
        const byId: StackRes = { type: NODE_GROUP, name: "workers", props: { subnetIds: ["a-id", "b-id"], scalingConfig: { minSize: 2 } } };
        passes(await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), subnet("b", "us-east-1c"), byId]));
        const external: StackRes = { type: NODE_GROUP, name: "workers", props: { subnetIds: ["subnet-1", "subnet-2"], scalingConfig: { minSize: 2 } } };
        passes(await checkStack(nodeGroupsMultiAz, "prod", [external], { subnetAvailabilityZones: { "subnet-1": "us-east-1a", "subnet-2": "us-east-1b" } }));
    });

    it("refuses a prod node group in one zone, or one that may shrink below the zone count", async () => {
        const oneZone = await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), subnet("b", "us-east-1a"), group(["a", "b"])]);
        assert.deepStrictEqual(oneZone.messages, ["node group workers spans 1 availability zone (us-east-1a); node groups of stack prod must span at least 2"]);
        assert.deepStrictEqual(oneZone.urns, [urnOf("prod", NODE_GROUP, "workers")]);
        const small = await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), subnet("b", "us-east-1b"), group(["a", "b"], { scalingConfig: { minSize: 1 } })]);
        assert.deepStrictEqual(small.messages, ["node group workers may shrink to 1 node (scalingConfig.minSize), fewer than the 2 availability zones it must span in stack prod"]);
    });

    it("refuses what it cannot verify: a zone unknown at preview, subnets outside the stack", async () => {
        const unknownZone = await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), { ...subnet("b", undefined), props: { availabilityZone: UNKNOWN } }, group(["a", "b"])]);
        assert.deepStrictEqual(unknownZone.messages, [
            "node group workers: cannot verify its availability-zone spread: subnet b has no availabilityZone known at preview (set availabilityZone on the subnet, or list it in subnetAvailabilityZones)",
        ]);
        const external: StackRes = { type: NODE_GROUP, name: "workers", props: { subnetIds: ["subnet-1"], scalingConfig: { minSize: 2 } } };
        assert.deepStrictEqual((await checkStack(nodeGroupsMultiAz, "prod", [external])).messages, [
            "node group workers: cannot tell which availability zones it spans: none of its subnets is a resource of this stack or listed in the rule's subnetAvailabilityZones",
        ]);
    });

    it("does not apply to staging (single zone is fine) or a stack without node groups", async () => {
        const staging = await checkStack(nodeGroupsMultiAz, "staging", [subnet("a", "us-east-1a"), group(["a"])]);
        assert.strictEqual(staging.notApplicable, "no availability-zone spread is required for stack staging");
        assert.strictEqual((await checkStack(nodeGroupsMultiAz, "prod", [])).notApplicable, "no EKS node groups in this stack");
    });
});

describe("policy mesh-mtls-strict", () => {
    const peer = (namespace: string, name: string, spec: Record<string, unknown>): StackRes => ({ type: PEER_AUTH, name: `${namespace}-${name}`, props: { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name, namespace }, spec } });
    const strict = peer("istio-system", "default", { mtls: { mode: "STRICT" } });
    const checkout = release("checkout", valuesAt(2));

    it("passes a stack with mesh-wide STRICT mTLS", async () => {
        passes(await checkStack(meshMtlsStrict, "prod", [istiod, strict, checkout]));
    });

    it("refuses a stack with services but no mesh-wide STRICT policy", async () => {
        assert.deepStrictEqual((await checkStack(meshMtlsStrict, "prod", [checkout])).messages, [
            'no mesh-wide STRICT mTLS: expected a PeerAuthentication "default" in namespace istio-system without selector and spec.mtls.mode STRICT, found none in this stack',
        ]);
        const permissive = peer("istio-system", "default", { mtls: { mode: "PERMISSIVE" } });
        assert.deepStrictEqual((await checkStack(meshMtlsStrict, "prod", [istiod, permissive])).messages, [
            'no mesh-wide STRICT mTLS: expected a PeerAuthentication "default" in namespace istio-system without selector and spec.mtls.mode STRICT, found istio-system/default mode "PERMISSIVE"',
            "PeerAuthentication istio-system/default sets mTLS mode PERMISSIVE, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)",
        ]);
    });

    it("refuses namespace or port overrides that weaken it, unless listed as exceptions", async () => {
        const legacy = peer("legacy", "default", { mtls: { mode: "PERMISSIVE" } });
        const port = peer("checkout", "metrics", { selector: { matchLabels: { app: "checkout" } }, portLevelMtls: { "9090": { mode: "DISABLE" } } });
        const out = await checkStack(meshMtlsStrict, "prod", [strict, legacy, port, checkout]);
        assert.deepStrictEqual(out.messages, [
            "PeerAuthentication legacy/default sets mTLS mode PERMISSIVE, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)",
            "PeerAuthentication checkout/metrics sets mTLS mode DISABLE on port 9090, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)",
        ]);
        passes(await checkStack(meshMtlsStrict, "prod", [strict, legacy, port, checkout], { permissiveExceptions: ["legacy/default", "checkout/metrics"] }));
    });

    it("does not apply to a stack without a mesh or services", async () => {
        const out = await checkStack(meshMtlsStrict, "prod", [{ type: SUBNET, name: "a", props: { availabilityZone: "us-east-1a" } }]);
        assert.strictEqual(out.notApplicable, "no Istio mesh or service releases in this stack");
    });
});

describe("policy no-plaintext-secrets", () => {
    it("passes env and values that only name or reference secrets, and Istio's values", async () => {
        const values = valuesAt(2, ALL, { env: { LOG_LEVEL: "debug", SECRET_NAME: "db-credentials", PASSWORD_FILE: "/run/secrets/db", AUTH_TOKEN_TTL: "300", PWD: "/app" } });
        values.extraEnv = [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }];
        values.tolerations = [{ key: "dedicated", operator: "Equal", value: "checkout", effect: "NoSchedule" }];
        passes(await checkResource(noPlaintextSecrets, release("checkout", values)));
        passes(await checkResource(noPlaintextSecrets, istiod));
    });

    it("refuses secret-looking values in env and extra values, without repeating the value", async () => {
        const values = valuesAt(2, ALL, { env: { DB_PASSWORD: "hunter2" }, values: { payment: { apiKey: "sk_live_abc" } } });
        values.extraEnv = [{ name: "GITHUB_TOKEN", value: "t0ken" }];
        const out = await checkResource(noPlaintextSecrets, release("checkout", values));
        const fix = "Helm keeps values readable in the cluster (`helm get values`) and the preview shows them; put it in a Kubernetes Secret and reference it (the service chart's extraEnv with valueFrom.secretKeyRef)";
        assert.deepStrictEqual(out.messages.sort(), [
            `release checkout: values.env.DB_PASSWORD is passed in plain text (its name "DB_PASSWORD" says it is a secret). ${fix}`,
            `release checkout: values.extraEnv[0](GITHUB_TOKEN) is passed in plain text (its name "GITHUB_TOKEN" says it is a secret). ${fix}`,
            `release checkout: values.payment.apiKey is passed in plain text (its name "apiKey" says it is a secret). ${fix}`,
        ]);
        for (const m of out.messages) assert.ok(!/hunter2|sk_live_abc|t0ken/.test(m), "the message never shows the value");
    });

    it("recognises secret-shaped values under any key, in ConfigMaps and Deployments too", async () => {
        const cm: Res = { type: CONFIG_MAP, name: "settings", props: { data: { "aws.id": "AKIAABCDEFGHIJKLMNOP", "db.password": "x", region: "us-east-1" } } };
        assert.deepStrictEqual((await checkResource(noPlaintextSecrets, cm)).messages, [
            "ConfigMap settings: data.aws.id is passed in plain text (the value looks like an AWS access key id). ConfigMap data is plain text; put it in a Kubernetes Secret and mount or reference that instead",
            'ConfigMap settings: data.db.password is passed in plain text (its name "db.password" says it is a secret). ConfigMap data is plain text; put it in a Kubernetes Secret and mount or reference that instead',
        ]);
        const dep = deployment({ ...readyContainer, env: [{ name: "API_KEY", value: "abc" }, { name: "MODE", value: "fast" }] });
        assert.deepStrictEqual((await checkResource(noPlaintextSecrets, dep)).messages, [
            'Deployment worker: spec.template.spec.containers[0].env[0](API_KEY) is passed in plain text (its name "API_KEY" says it is a secret). put it in a Kubernetes Secret and reference it with valueFrom.secretKeyRef',
        ]);
    });

    it("skips paths listed in config, and values unknown at preview", async () => {
        const values = valuesAt(2, ALL, { env: { SESSION_SECRET: "s3cr3t", API_TOKEN: "x" } });
        values.env.API_TOKEN = UNKNOWN;
        passes(await checkResource(noPlaintextSecrets, release("checkout", values), { ignorePaths: ["values.env.SESSION_SECRET"] }));
        assert.strictEqual((await checkResource(noPlaintextSecrets, release("checkout", values))).messages.length, 1);
    });

    it("reads key names into words", () => {
        assert.deepStrictEqual(keyWords("dbPassword"), ["db", "password"]);
        assert.deepStrictEqual(keyWords("API_KEY"), ["api", "key"]);
        assert.deepStrictEqual(keyWords("OAuthClientSecret"), ["o", "auth", "client", "secret"]);
        const secret = ["password", "DB_PASSWORD", "apiKey", "api-key", "privateKey", "clientSecret", "GITHUB_TOKEN", "credentials", "AWS_SECRET_ACCESS_KEY", "secretKey"];
        const notSecret = ["key", "topologyKey", "SECRET_NAME", "existingSecret.name", "PASSWORD_FILE", "tokenAudience", "credentialName", "PWD", "LOG_LEVEL", "secretKeyRef", "jwtPolicy"];
        for (const k of secret) assert.ok(secretLookingKey(k), `${k} looks like a secret`);
        for (const k of notSecret.map((k) => k.split(".").pop()!)) assert.ok(!secretLookingKey(k), `${k} does not look like a secret`);
        assert.deepStrictEqual(findSecrets({ a: { b: "-----BEGIN RSA PRIVATE KEY-----\nMII" } }), [{ path: "a.b", why: "the value looks like a PEM private key" }]);
    });
});

describe("policy eks-control-plane-logging", () => {
    const cluster = (enabledClusterLogTypes?: string[]): Res => ({ type: CLUSTER, name: "eks", props: { vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true }, ...(enabledClusterLogTypes ? { enabledClusterLogTypes } : {}) } });

    it("passes a cluster logging api, audit and authenticator", async () => {
        passes(await checkResource(eksControlPlaneLogging, cluster(["api", "audit", "authenticator", "scheduler"])));
    });

    it("refuses a cluster without (enough) control-plane logging", async () => {
        assert.deepStrictEqual((await checkResource(eksControlPlaneLogging, cluster())).messages, [
            "EKS cluster eks: control-plane logging is missing api, audit, authenticator (enabledClusterLogTypes is nothing; required: api, audit, authenticator)",
        ]);
        assert.deepStrictEqual((await checkResource(eksControlPlaneLogging, cluster(["api", "audit", "authenticator"]), { requiredLogTypes: ["audit", "scheduler"] })).messages, [
            'EKS cluster eks: control-plane logging is missing scheduler (enabledClusterLogTypes is ["api","audit","authenticator"]; required: audit, scheduler)',
        ]);
    });
});

describe("policy eks-api-endpoint-restricted", () => {
    const cluster = (vpcConfig: Record<string, unknown>): Res => ({ type: CLUSTER, name: "eks", props: { vpcConfig: { subnetIds: ["subnet-1"], ...vpcConfig } } });

    it("passes a private endpoint, or a public one limited to listed CIDRs", async () => {
        passes(await checkResource(eksApiEndpointRestricted, cluster({ endpointPublicAccess: false, endpointPrivateAccess: true })));
        passes(await checkResource(eksApiEndpointRestricted, cluster({ endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] })));
    });

    it("refuses an endpoint open to the internet, including AWS's default", async () => {
        assert.deepStrictEqual((await checkResource(eksApiEndpointRestricted, cluster({}))).messages, [
            "EKS cluster eks: the public API endpoint is open to 0.0.0.0/0 (no publicAccessCidrs, the AWS default). Set vpcConfig.endpointPublicAccess to false (with endpointPrivateAccess), or list the allowed CIDR blocks in vpcConfig.publicAccessCidrs, or opt in explicitly with allowPublicApiEndpoint: true in this stack's policy config",
        ]);
        const open = await checkResource(eksApiEndpointRestricted, cluster({ endpointPublicAccess: true, publicAccessCidrs: ["10.0.0.0/8", "0.0.0.0/0"] }));
        assert.match(open.messages[0], /^EKS cluster eks: the public API endpoint is open to 0\.0\.0\.0\/0\. Set vpcConfig/);
    });

    it("accepts the explicit opt-in of the stack's policy config", async () => {
        passes(await checkResource(eksApiEndpointRestricted, cluster({}), { allowPublicApiEndpoint: true }));
    });
});

describe("policy policy-config-matches-stack", () => {
    const checkout = release("checkout", valuesAt(2));

    it("passes the config file written for the stack", async () => {
        passes(await checkStack(policyConfigMatchesStack, "prod", [checkout], { stacks: ["prod"] }));
    });

    it("refuses another stack's config file", async () => {
        assert.deepStrictEqual((await checkStack(policyConfigMatchesStack, "prod", [checkout], { stacks: ["staging"] })).messages, [
            "stack prod is being checked with the policy config written for staging; use --policy-pack-config policies/config.prod.json",
        ]);
    });

    it("does not apply without a config file", async () => {
        assert.match((await checkStack(policyConfigMatchesStack, "prod", [checkout])).notApplicable ?? "", /^no policy config file names its stacks/);
        assert.strictEqual(stackOfUrn("urn:pulumi:prod::stagehand::kubernetes:helm.sh/v3:Release::checkout"), "prod");
    });
});

// ---------- the stacks as configured ----------

/**
 * Rules every configured stack must pass under mocks, with its own config file. Infra rules only judge what the
 * program registers (a rule about node groups does not apply to a stack without them); mTLS is judged once the
 * program installs Istio. The EKS control-plane rules judge the cluster the stack file configures: prod passes
 * them (mandatory there); staging and uat knowingly keep an API endpoint open to the internet and no
 * control-plane logs, which their config files make advisory — those warnings are listed below, and expected.
 */
const EXCLUDED = new Set(["policy-config-matches-stack"]);
/** The advisory warnings (by rule) a stack's policy config accepts knowingly; any other violation fails. */
const ACCEPTED_ADVISORIES: Record<string, string[]> = {
    staging: ["eks-control-plane-logging", "eks-api-endpoint-restricted"],
    uat: ["eks-control-plane-logging", "eks-api-endpoint-restricted"],
    prod: [],
};

/** What each enabled rule (with its level and parameters from config.<stack>.json) reports on a program run. */
async function programViolations(stack: string, stackConfig: Record<string, unknown>): Promise<{ level: Map<string, string>; messages: Map<string, string[]>; resources: StackRes[] }> {
    const config = JSON.parse(fs.readFileSync(path.join(PACK, `config.${stack}.json`), "utf8"));
    const { resources } = await runProgram(stack, stackConfig);
    // Custom resources with their inputs; the mocks give each the id `<name>-id`.
    const stackResources: StackRes[] = resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, props: { ...r.inputs, id: `${r.name}-id` } }));
    const hasIstio = stackResources.some((r) => r.type === PEER_AUTH || (r.type === RELEASE && r.props.chart === "istiod"));
    const level = new Map<string, string>();
    const messages = new Map<string, string[]>();
    for (const rule of rules) {
        const entry = config[rule.name];
        const { enforcementLevel, ...ruleConfig } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
        if (EXCLUDED.has(rule.name) || enforcementLevel === "disabled" || (rule === meshMtlsStrict && !hasIstio)) continue;
        level.set(rule.name, enforcementLevel);
        const found: string[] = [];
        if ("validateStack" in rule) {
            found.push(...(await checkStack(rule, stack, stackResources, ruleConfig)).messages);
        } else {
            for (const r of stackResources) found.push(...(await checkResource(rule, { ...r, stack }, ruleConfig)).messages);
        }
        messages.set(rule.name, found);
    }
    return { level, messages, resources: stackResources };
}

describe("policy pack on the stacks as configured (index.ts under Pulumi mocks)", () => {
    for (const stack of STACKS) {
        const accepted = ACCEPTED_ADVISORIES[stack];
        const but = accepted.length > 0 ? `, but for the advisory ${accepted.join(" and ")}` : "";
        it(`${stack}: the program's resources pass every enabled rule${but}`, async () => {
            const { level, messages, resources } = await programViolations(stack, readStackConfig(stack));
            assert.ok(resources.some((r) => r.type === RELEASE), "the program registers service releases");
            assert.ok(resources.some((r) => r.type === CLUSTER), "the program registers the EKS cluster");
            for (const name of ["eks-control-plane-logging", "eks-api-endpoint-restricted"]) assert.ok(level.has(name), `${name} runs for ${stack}`);
            for (const name of accepted) {
                assert.strictEqual(level.get(name), "advisory", `${stack} accepts ${name} only as advisory`);
                assert.ok(messages.get(name)!.length > 0, `${stack} still warns of ${name} (else drop it from ACCEPTED_ADVISORIES)`);
            }
            const violations = [...messages].filter(([name]) => !accepted.includes(name)).flatMap(([name, found]) => found.map((m) => `${name}: ${m}`));
            assert.deepStrictEqual(violations, []);
        });
    }

    const prod = readStackConfig("prod");
    const prodWithCluster = (edit: Record<string, unknown>) => ({ ...prod, cluster: { ...(prod.cluster as Record<string, unknown>), ...edit } });
    const eksRules = (messages: Map<string, string[]>) => ({
        "eks-api-endpoint-restricted": messages.get("eks-api-endpoint-restricted"),
        "eks-control-plane-logging": messages.get("eks-control-plane-logging"),
    });

    it("prod: a cluster config with an API endpoint open to the internet and no control-plane logs fails both EKS rules, mandatory there", async () => {
        const { level, messages } = await programViolations("prod", prodWithCluster({ apiEndpoint: { public: true }, logging: [] }));
        assert.deepStrictEqual([level.get("eks-api-endpoint-restricted"), level.get("eks-control-plane-logging")], ["mandatory", "mandatory"]);
        assert.deepStrictEqual(eksRules(messages), {
            "eks-api-endpoint-restricted": [
                "EKS cluster cluster-eks: the public API endpoint is open to 0.0.0.0/0. Set vpcConfig.endpointPublicAccess to false (with endpointPrivateAccess), or list the allowed CIDR blocks in vpcConfig.publicAccessCidrs, or opt in explicitly with allowPublicApiEndpoint: true in this stack's policy config",
            ],
            "eks-control-plane-logging": ["EKS cluster cluster-eks: control-plane logging is missing api, audit, authenticator (enabledClusterLogTypes is []; required: api, audit, authenticator)"],
        });
    });

    it("prod: a public endpoint limited to listed CIDR blocks passes", async () => {
        const { messages } = await programViolations("prod", prodWithCluster({ apiEndpoint: { public: true, publicAccessCidrs: ["203.0.113.0/24", "198.51.100.7/32"] } }));
        assert.deepStrictEqual(eksRules(messages), { "eks-api-endpoint-restricted": [], "eks-control-plane-logging": [] });
    });
});
