// The real order of operations of every legal move, captured under Pulumi mocks and replayed against what the
// real chart renders.
//
// dependsOn is not passed to mocks, so a per-resource `transformations` hook records each child's
// dependencies. Pulumi may run any two resources that are not ordered by dependencies in parallel, so the
// test replays EVERY order the captured graph allows and checks, after each single operation, that:
//  - every weighted, mirrored or header-matched route goes to a track with at least the ready pods its share
//    needs (make before break) — the pods a track has are those its rendered Deployment asks for, as Helm's wait
//    sees them: with no `replicas` field (an HPA) only the pods already there, or 1 for a new Deployment;
//  - pods that carried traffic are removed only after the routing took it away and the drain ran;
//  - weight moves onto pods made in this move only after the settle wait ran;
//  - with a smoke test, weight, a mirror or test routes move onto the canary's new pods only after the smoke Job
//    checked them (make → smoke → settle → route), and the smoke Job runs only against the canary's made pods.
// Variants: default steps, 5 steps, blue/green, shadow, test routes; 1, 4, 5 and 10 replicas; autoscaling on and
// off; production at full size and following traffic (lean); first deployments, stays, forward moves, rollbacks, finishes — and, with the previous state unknown, every
// stage the cluster could really be at.
import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseServices, ServiceConfig } from "../../components/service/config";
import { DeployedService } from "../../components/service/deployed";
import { checkMove, JudgedMove } from "../../components/service/moves";
import { ServiceRelease } from "../../components/service/release";
import { planServices, StagePlan, stagePlans } from "../../components/service/stages";
import { Track, TRACKS } from "../../components/shared/tracks";
import { helmTemplate } from "../../scripts/helm";
import { runMocked } from "../helpers/mocks";
import { legalMoves } from "../helpers/moves";

const CHART = path.resolve(__dirname, "../../charts/service");
const DRAIN = 30;
const SETTLE = 5;

interface Captured {
    name: string;
    type: string;
    props: any;
    dependsOn: string[];
}

async function captureRelease(service: ServiceConfig, previous: DeployedService | undefined, check: JudgedMove["check"], updateId?: string): Promise<Map<string, Captured>> {
    const captured = new Map<string, Captured>();
    const names = new Map<pulumi.Resource, string>();
    const capture: pulumi.ResourceTransformation = (args) => {
        names.set(args.resource, args.name);
        const deps = ([] as any[]).concat(args.opts.dependsOn ?? []);
        captured.set(args.name, { name: args.name, type: args.type, props: args.props, dependsOn: deps.map((d) => names.get(d) ?? "?") });
        return undefined;
    };
    const [planned] = planServices({ checkout: service });
    await runMocked("test", {}, () => {
        new ServiceRelease("checkout", { planned, move: { previous, check, allowSkip: false }, istioRevision: "1-30-3", updateId }, { transformations: [capture] });
    });
    return captured;
}

const rendered = new Map<string, any[]>();
/** The pods a track's release asks for, as rendered by the real chart: its Deployment's `replicas`, if it has one. */
function deploymentReplicas(values: any, track: Track): number | undefined {
    const key = JSON.stringify(values);
    if (!rendered.has(key)) rendered.set(key, helmTemplate(CHART, { releaseName: `checkout-${track}`, namespace: "checkout", values }));
    const deployment = rendered.get(key)!.find((o) => o.kind === "Deployment" && o.metadata.name === `checkout-${track}`);
    return deployment.spec.replicas;
}

/** Every order of `nodes` that respects `deps` (node -> nodes it waits for). */
function linearExtensions(nodes: string[], deps: Record<string, string[]>): string[][] {
    if (nodes.length === 0) return [[]];
    const out: string[][] = [];
    for (const n of nodes) {
        if (deps[n].some((d) => nodes.includes(d))) continue;
        for (const rest of linearExtensions(nodes.filter((x) => x !== n), deps)) out.push([n, ...rest]);
    }
    return out;
}

const needed = (full: number, weight: number) => (weight === 0 ? 0 : Math.max(1, Math.ceil((full * weight) / 100)));

interface State {
    pods: Record<Track, { tag: string; replicas: number; pinned: boolean }>;
    weights: Record<Track, number>;
    /** Percent of requests mirrored to the canary. */
    mirror: number;
    /** Whether test-user requests are routed to the canary. */
    testRoutes: boolean;
    routed: boolean;
    drainedFor: number;
    /** Tracks whose pods this move made and that no settle wait has covered yet. */
    unsettled: Track[];
    /** Whether the canary's pods changed in this move and no smoke test has checked them since. */
    unsmoked?: boolean;
    /** Whether the smoke Job ran in this replay. */
    smoked?: boolean;
    /** Whether the canary's release ran in this replay. */
    canaryApplied?: boolean;
}

interface Target {
    weights: Record<Track, number>;
    mirror: number;
    testRoutes: boolean;
}

function replay(order: string[], ops: Record<string, (s: State) => void>, full: number, start: State, target: Target, smokeTested = false) {
    const s: State = JSON.parse(JSON.stringify(start));
    for (const op of order) {
        const before: State = JSON.parse(JSON.stringify(s));
        ops[op](s);
        const where = `after ${op} in order [${order}]`;
        assert.ok(s.mirror === 0 || s.pods.canary.replicas >= 1, `${where}: ${s.mirror}% mirrored to a canary with no pods`);
        assert.ok(!s.testRoutes || s.pods.canary.replicas >= 1, `${where}: test routes to a canary with no pods`);
        for (const t of TRACKS) {
            assert.ok(s.pods[t].replicas >= needed(full, s.weights[t]), `${where}: ${s.weights[t]}% routed to ${t} with ${s.pods[t].replicas} ready pod(s)`);
            const side = (x: { mirror: number; testRoutes: boolean }) => t === "canary" && (x.mirror > 0 || x.testRoutes);
            const carried = start.weights[t] > 0 || side(start);
            // A track that keeps (or gains) its share may shrink at any time: the plan sizes what is left for that
            // share (checked above). A track losing traffic keeps its pods until the routing moved and the drain ran.
            const losesTraffic = target.weights[t] < start.weights[t] || (side(start) && !side(target));
            if (s.pods[t].replicas < before.pods[t].replicas && carried && losesTraffic) {
                assert.ok(s.routed, `${where}: ${t} scaled down before routing moved its traffic`);
                assert.ok(s.drainedFor >= DRAIN, `${where}: ${t} scaled down without a drain delay`);
            }
        }
        if (op === "checkout-routing") {
            for (const t of TRACKS) {
                const gains = s.weights[t] > before.weights[t] || (t === "canary" && ((s.mirror > 0 && before.mirror === 0) || (s.testRoutes && !before.testRoutes)));
                assert.ok(!(gains && before.unsettled.includes(t)), `${where}: traffic moved onto ${t}'s new pods before they settled`);
                assert.ok(!(gains && t === "canary" && smokeTested && before.unsmoked), `${where}: traffic moved onto the canary's new pods before the smoke test checked them`);
            }
        }
    }
    return s;
}


const testRoutes = [{ header: "x-canary", exact: "true" }];
const autoscaling = { production: { enabled: true, maxReplicas: 10 }, canary: { enabled: true, maxReplicas: 10 } };
const variants: { title: string; config: Record<string, unknown>; full: number }[] = [
    { title: "steps [10, 90, 100]", config: { steps: [10, 90, 100] }, full: 4 },
    { title: "steps [10, 25, 50, 75, 100], 5 replicas, autoscaling", config: { steps: [10, 25, 50, 75, 100], values: { autoscaling } }, full: 5 },
    { title: "steps [10, 90, 100], 5 replicas, autoscaling", config: { steps: [10, 90, 100], values: { autoscaling } }, full: 5 },
    { title: "blue/green, 5 replicas, autoscaling", config: { strategy: "bluegreen", values: { autoscaling } }, full: 5 },
    { title: "shadow 20% and test routes", config: { steps: [10, 90, 100], shadow: { percent: 20 }, testRoutes }, full: 4 },
    { title: "one replica", config: { steps: [10, 90, 100] }, full: 1 },
    // Lean releases: production shrinks as the canary takes its share and grows back first when traffic returns.
    { title: "production follows traffic, steps [10, 90, 100]", config: { steps: [10, 90, 100], production: "follows-traffic" }, full: 4 },
    { title: "production follows traffic, steps [10, 25, 50, 75, 100], 10 replicas, no headroom", config: { steps: [10, 25, 50, 75, 100], production: "follows-traffic", productionHeadroomPercent: 0 }, full: 10 },
    { title: "production follows traffic, blue/green, 5 replicas, autoscaling", config: { strategy: "bluegreen", production: "follows-traffic", values: { autoscaling } }, full: 5 },
    { title: "production follows traffic, shadow 20% and test routes", config: { steps: [10, 90, 100], shadow: { percent: 20 }, testRoutes, production: "follows-traffic" }, full: 4 },
    { title: "smoke test, shadow 20% and test routes", config: { steps: [10, 90, 100], shadow: { percent: 20 }, testRoutes, smoke: { http: [{ path: "/healthz" }] } }, full: 4 },
    { title: "smoke test, 5 steps, autoscaling", config: { steps: [10, 25, 50, 75, 100], values: { autoscaling }, smoke: { http: [{ path: "/healthz" }] } }, full: 5 },
];

function serviceOf(config: Record<string, unknown>, full: number, over: Record<string, unknown>): ServiceConfig {
    return parseServices("test", { checkout: { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", replicas: full, drainSeconds: DRAIN, settleSeconds: SETTLE, stage: 1, ...config, ...over } }).checkout;
}

function deployed(service: ServiceConfig, plan: StagePlan): DeployedService {
    return {
        stage: plan.stage, stable: service.stable, canary: service.canary, steps: service.steps, shadow: service.shadow, completed: true,
        tracks: { production: plan.production, canary: plan.canary }, mirrorPercent: plan.mirrorPercent, testRoutes: plan.testRoutes,
        settle: { count: DEPLOYED_COUNT, seconds: SETTLE }, drain: { count: DEPLOYED_COUNT, seconds: DRAIN },
    };
}
/** How many times the deployed service has waited: its Sleeps' triggers are this count. */
const DEPLOYED_COUNT = 7;

/** The triggers of the Sleeps in the cluster (undefined: no Sleep yet). A Sleep waits only when Pulumi creates it: new, or its trigger changed. */
interface DeployedTriggers {
    settle?: string;
    drain?: string;
}

/** What each captured operation does to the state, read from the captured inputs and the rendered chart — not from the plan. */
function operations(captured: Map<string, Captured>, deployedTriggers: DeployedTriggers) {
    const ids = { production: "checkout-production", canary: "checkout-canary", routing: "checkout-routing", settle: "checkout-settle", drain: "checkout-drain" };
    for (const id of Object.values(ids)) assert.ok(captured.has(id), `${id} registered`);
    const ops: Record<string, (s: State) => void> = {};
    for (const t of TRACKS) {
        ops[ids[t]] = (s) => {
            const values = captured.get(ids[t])!.props.values;
            const asked = deploymentReplicas(values, t);
            const tag = values.tracks[t].tag;
            // No `replicas` field: Helm's wait sees only the pods already there (an HPA raises them later), and a
            // field that disappears resets the Deployment to 1.
            const replicas = asked ?? (s.pods[t].pinned ? 1 : s.pods[t].replicas || 1);
            if (replicas !== s.pods[t].replicas || tag !== s.pods[t].tag) {
                s.unsettled = [...s.unsettled.filter((x) => x !== t), t];
                if (t === "canary") s.unsmoked = true;
            }
            if (t === "canary") s.canaryApplied = true;
            s.pods[t] = { tag, replicas, pinned: asked !== undefined };
        };
    }
    const smoke = captured.get("checkout-smoke");
    if (smoke) {
        ops["checkout-smoke"] = (s) => {
            // The Job checks the canary-only Service: the canary's pods as this move's release made them, never none.
            assert.ok(s.canaryApplied, "the smoke test runs only after the canary's release made its pods");
            assert.ok(s.pods.canary.replicas > 0, "the smoke test runs against canary pods");
            s.unsmoked = false;
            s.smoked = true;
        };
    }
    ops[ids.settle] = (s) => {
        if (smoke) assert.ok(s.smoked, "the settle wait starts only after the smoke test (make → smoke → settle → route)");
        const props = captured.get(ids.settle)!.props;
        if (props.triggers.settles !== deployedTriggers.settle && parseInt(props.createDuration, 10) >= SETTLE) s.unsettled = [];
    };
    ops[ids.routing] = (s) => {
        const { tracks, routing } = captured.get(ids.routing)!.props.values;
        s.weights = { production: tracks.production.weight, canary: tracks.canary.weight };
        s.mirror = routing.mirrorPercent;
        s.testRoutes = routing.canaryMatches.length > 0;
        s.routed = true;
    };
    ops[ids.drain] = (s) => {
        const props = captured.get(ids.drain)!.props;
        if (s.routed && props.triggers.drains !== deployedTriggers.drain) s.drainedFor = parseInt(props.createDuration, 10);
    };
    const nodes = [...Object.values(ids), ...(smoke ? ["checkout-smoke"] : [])];
    const deps: Record<string, string[]> = {};
    for (const id of nodes) deps[id] = captured.get(id)!.dependsOn.filter((d) => nodes.includes(d));
    const orders = linearExtensions(nodes, deps);
    assert.ok(orders.length > 0, "the dependency graph has no cycle");
    return { ops, orders, ids };
}

const stateOf = (plan: StagePlan): State => ({
    pods: { production: { ...plan.production, pinned: true }, canary: { ...plan.canary, pinned: true } },
    weights: { production: plan.production.weight, canary: plan.canary.weight },
    mirror: plan.mirrorPercent,
    testRoutes: plan.testRoutes,
    routed: false,
    drainedFor: 0,
    unsettled: [],
});
const EMPTY: State = { pods: { production: { tag: "", replicas: 0, pinned: false }, canary: { tag: "", replicas: 0, pinned: false } }, weights: { production: 0, canary: 0 }, mirror: 0, testRoutes: false, routed: false, drainedFor: 0, unsettled: [] };

for (const { title, config, full } of variants) {
    describe(`order of operations of every legal move, ${title}`, () => {
        const base = serviceOf(config, full, {});
        const plans = stagePlans(base);
        for (const move of legalMoves(plans.length, [1, 2])) {
            const name = move.from === undefined ? `first deployment at stage ${move.to}` : move.finish ? `finish after stage ${move.from}` : `stage ${move.from} -> ${move.to}`;
            it(name, async () => {
                const next = move.finish ? serviceOf(config, full, { stable: "02", canary: undefined, stage: 1 }) : serviceOf(config, full, { stage: move.to });
                const prevPlan = move.from === undefined ? undefined : plans[move.from - 1];
                const prev = prevPlan && deployed(base, prevPlan);
                const check = checkMove(prev, { ...next, allowSkip: false });
                if (!check.ok) assert.fail(`the move must be legal: ${JSON.stringify(check)}`);
                const nextPlan = stagePlans(next)[next.stage - 1];
                const deployedTriggers = prev ? { settle: String(DEPLOYED_COUNT), drain: String(DEPLOYED_COUNT) } : {};
                const captured = await captureRelease(next, prev, check);
                const { ops, orders, ids } = operations(captured, deployedTriggers);
                for (const order of orders) {
                    const target = { weights: { production: nextPlan.production.weight, canary: nextPlan.canary.weight }, mirror: nextPlan.mirrorPercent, testRoutes: nextPlan.testRoutes };
                    const end = replay(order, ops, full, prevPlan ? stateOf(prevPlan) : EMPTY, target, "smoke" in config);
                    assert.deepStrictEqual(end.weights, { production: nextPlan.production.weight, canary: nextPlan.canary.weight });
                    assert.strictEqual(end.mirror, nextPlan.mirrorPercent);
                    assert.strictEqual(end.testRoutes, nextPlan.testRoutes);
                    for (const t of TRACKS) {
                        assert.strictEqual(end.pods[t].tag, nextPlan[t].tag);
                        // A first deployment holds a partly sized track at full size until the next update.
                        const expected = prev || nextPlan[t].replicas === 0 ? nextPlan[t].replicas : Math.max(nextPlan[t].replicas, full);
                        assert.strictEqual(end.pods[t].replicas, expected, `${t} replicas`);
                    }
                }
                // The routing release holds the DestinationRule with both subsets: the route never names a missing one.
                assert.deepStrictEqual(captured.get(ids.routing)!.props.values.parts, { production: false, canary: false, routing: true });
            });
        }

        // Outputs lost, a stack re-created or imported: the program sees no previous state, whatever the cluster runs.
        describe("with the previous state unknown: safe whatever stage the cluster is really at", () => {
            for (let to = 1; to <= plans.length; to++) {
                it(`configured at stage ${to}, live at any stage`, async () => {
                    const next = serviceOf(config, full, { stage: to });
                    const check = checkMove(undefined, { ...next, allowSkip: false });
                    if (!check.ok) assert.fail("a first deployment is always legal");
                    const captured = await captureRelease(next, undefined, check);
                    const plan = plans[to - 1];
                    const target = { weights: { production: plan.production.weight, canary: plan.canary.weight }, mirror: plan.mirrorPercent, testRoutes: plan.testRoutes };
                    // Whatever Sleeps the cluster holds: none, any count an earlier update left, or an earlier
                    // cautious update's (captured with another update's identity).
                    const earlier = await captureRelease(next, undefined, check);
                    const triggers: (string | undefined)[] = [undefined, "0", "1", "2", "3", "8", earlier.get("checkout-settle")!.props.triggers.settles, earlier.get("checkout-drain")!.props.triggers.drains];
                    for (const trigger of triggers) {
                        const { ops, orders } = operations(captured, { settle: trigger, drain: trigger });
                        for (const live of [EMPTY, ...plans.map(stateOf)]) {
                            for (const order of orders) replay(order, ops, full, live, target, "smoke" in config);
                        }
                    }
                });
            }
        });
    });
}

describe("a rollback from stage 3 with the outputs lost", () => {
    it("replaces the drain Sleep whatever trigger the deployed one holds, so the drain waits before the canary's pods go", async () => {
        const next = serviceOf({ steps: [10, 90, 100] }, 4, { stage: 1 });
        const check = checkMove(undefined, { ...next, allowSkip: false });
        if (!check.ok) assert.fail("a first deployment is always legal");
        const [one, two] = [await captureRelease(next, undefined, check), await captureRelease(next, undefined, check)];
        const [drainOne, drainTwo] = [one.get("checkout-drain")!.props, two.get("checkout-drain")!.props];
        assert.strictEqual(drainOne.createDuration, `${DRAIN}s`);
        // Two updates with the outputs lost: each has its own trigger, so neither equals what the other deployed.
        assert.notStrictEqual(drainOne.triggers.drains, drainTwo.triggers.drains);
        for (const count of [0, 1, 2, 3, 100]) assert.notStrictEqual(drainOne.triggers.drains, String(count));
        const stage3 = stagePlans(next)[2];
        const { ops, orders } = operations(one, { settle: "1", drain: "1" });
        for (const order of orders) replay(order, ops, 4, stateOf(stage3), { weights: { production: 100, canary: 0 }, mirror: 0, testRoutes: false });
    });
});
