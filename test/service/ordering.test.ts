// The real order of operations of every legal move, captured under Pulumi mocks and replayed.
//
// dependsOn is not passed to mocks, so a per-resource `transformations` hook records each child's
// dependencies. Pulumi may run any two resources that are not ordered by dependencies in parallel, so the
// test replays EVERY order the captured graph allows and checks, after each single operation, that:
//  - no route sends traffic to a track with too few pods for its share (make before break), and
//  - pods that carried traffic are removed only after the routing took it away and the drain delay ran.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseServices } from "../../components/service/config";
import { DeployedService } from "../../components/service/deployed";
import { checkMove, JudgedMove } from "../../components/service/moves";
import { ServiceRelease } from "../../components/service/release";
import { planServices, stagePlans } from "../../components/service/stages";
import { Track, TRACKS } from "../../components/shared/tracks";
import { runMocked } from "../helpers/mocks";

interface Captured {
    name: string;
    type: string;
    props: any;
    dependsOn: string[];
}

async function captureRelease(service: Record<string, unknown>, previous: DeployedService | undefined, check: JudgedMove["check"]): Promise<Map<string, Captured>> {
    const captured = new Map<string, Captured>();
    const names = new Map<pulumi.Resource, string>();
    const capture: pulumi.ResourceTransformation = (args) => {
        names.set(args.resource, args.name);
        const deps = ([] as any[]).concat(args.opts.dependsOn ?? []);
        captured.set(args.name, { name: args.name, type: args.type, props: args.props, dependsOn: deps.map((d) => names.get(d) ?? "?") });
        return undefined;
    };
    const [planned] = planServices(parseServices("test", { checkout: service }));
    await runMocked("test", {}, () => {
        new ServiceRelease("checkout", { planned, move: { previous, check, allowSkip: false }, ownsNamespace: true }, { transformations: [capture] });
    });
    return captured;
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

function replay(order: string[], ops: Record<string, (s: State) => void>, full: number, start: State, drainSeconds: number) {
    const s: State = JSON.parse(JSON.stringify(start));
    for (const op of order) {
        const before: State = JSON.parse(JSON.stringify(s));
        ops[op](s);
        assert.ok(s.mirror === 0 || s.pods.canary.replicas >= 1, `after ${op} in order [${order}]: ${s.mirror}% mirrored to a canary with no pods`);
        assert.ok(!s.testRoutes || s.pods.canary.replicas >= 1, `after ${op} in order [${order}]: test routes to a canary with no pods`);
        for (const t of TRACKS) {
            assert.ok(
                s.pods[t].replicas >= needed(full, s.weights[t]),
                `after ${op} in order [${order}]: ${s.weights[t]}% routed to ${t} with ${s.pods[t].replicas} pod(s)`,
            );
            const carried = start.weights[t] > 0 || (t === "canary" && (start.mirror > 0 || start.testRoutes));
            if (s.pods[t].replicas < before.pods[t].replicas && carried) {
                assert.ok(s.routed, `after ${op} in order [${order}]: ${t} scaled down before routing moved its traffic`);
                assert.ok(s.drainedFor >= drainSeconds && drainSeconds > 0, `after ${op} in order [${order}]: ${t} scaled down without a drain delay`);
            }
        }
    }
    return s;
}

interface State {
    pods: Record<Track, { tag: string; replicas: number }>;
    weights: Record<Track, number>;
    /** Percent of requests mirrored to the canary. */
    mirror: number;
    /** Whether test-user requests are routed to the canary. */
    testRoutes: boolean;
    routed: boolean;
    drainedFor: number;
}

type Move = { from: number | undefined; to: number; finish?: boolean };

function legalMoves(stageCount: number): Move[] {
    const moves: Move[] = [{ from: undefined, to: 1 }];
    for (let s = 1; s <= stageCount; s++) {
        moves.push({ from: s, to: s });
        if (s < stageCount) moves.push({ from: s, to: s + 1 });
        if (s > 1) moves.push({ from: s, to: 1 });
    }
    moves.push({ from: stageCount, to: 1, finish: true });
    return moves;
}

const testRoutes = [{ header: "x-canary", exact: "true" }];
const variants: { steps: number[]; shadow?: { percent: number }; testRoutes?: typeof testRoutes }[] = [
    { steps: [10, 90, 100] },
    { steps: [10, 25, 50, 75, 100] },
    { steps: [10, 90, 100], shadow: { percent: 20 }, testRoutes },
];
for (const { steps, shadow, testRoutes } of variants) {
    describe(`order of operations of every legal move, steps [${steps.join(", ")}]${shadow ? `, shadow ${shadow.percent}%` : ""}${testRoutes ? ", test routes" : ""}`, () => {
        const full = 4;
        const base = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", replicas: full, steps, drainSeconds: 30, ...(shadow ? { shadow } : {}), ...(testRoutes ? { testRoutes } : {}) };
        const plans = stagePlans(base);
        for (const move of legalMoves(plans.length)) {
            const title = move.from === undefined ? `first deployment at stage ${move.to}` : move.finish ? `finish after stage ${move.from}` : `stage ${move.from} -> ${move.to}`;
            it(title, async () => {
                const next = move.finish ? { ...base, stable: "02", stage: 1 } : { ...base, stage: move.to };
                const prevPlan = move.from === undefined ? undefined : plans[move.from - 1];
                const prev: DeployedService | undefined = prevPlan && {
                    stage: prevPlan.stage,
                    stable: "01",
                    canary: "02",
                    steps,
                    shadow,
                    completed: true,
                    tracks: { production: prevPlan.production, canary: prevPlan.canary },
                    mirrorPercent: prevPlan.mirrorPercent,
                    testRoutes: prevPlan.testRoutes,
                };
                const check = checkMove(prev, { ...next, allowSkip: false });
                if (!check.ok) assert.fail(`the move must be legal: ${JSON.stringify(check)}`);

                const nextPlan = stagePlans(next)[next.stage - 1];
                const captured = await captureRelease(next, prev, check);
                const ids = { production: "checkout-production", canary: "checkout-canary", routing: "checkout-routing", drain: "checkout-drain" };
                for (const id of Object.values(ids)) assert.ok(captured.has(id), `${id} registered`);

                // What each operation does, read from the captured inputs — not from the plan.
                const ops: Record<string, (s: State) => void> = {};
                for (const t of TRACKS) {
                    ops[ids[t]] = (s) => {
                        s.pods[t] = { tag: captured.get(ids[t])!.props.values.tracks[t].tag, replicas: captured.get(ids[t])!.props.values.tracks[t].replicas };
                    };
                }
                ops[ids.routing] = (s) => {
                    const { tracks, routing } = captured.get(ids.routing)!.props.values;
                    s.weights = { production: tracks.production.weight, canary: tracks.canary.weight };
                    s.mirror = routing.mirrorPercent;
                    s.testRoutes = routing.canaryMatches.length > 0;
                    s.routed = true;
                };
                ops[ids.drain] = (s) => {
                    if (s.routed) s.drainedFor = parseInt(captured.get(ids.drain)!.props.createDuration, 10);
                };
                const deps: Record<string, string[]> = {};
                for (const id of Object.values(ids)) deps[id] = captured.get(id)!.dependsOn.filter((d) => Object.values(ids).includes(d));

                const start: State = prevPlan
                    ? {
                          pods: { production: { ...prevPlan.production }, canary: { ...prevPlan.canary } },
                          weights: { production: prevPlan.production.weight, canary: prevPlan.canary.weight },
                          mirror: prevPlan.mirrorPercent,
                          testRoutes: prevPlan.testRoutes,
                          routed: false,
                          drainedFor: 0,
                      }
                    : { pods: { production: { tag: "", replicas: 0 }, canary: { tag: "", replicas: 0 } }, weights: { production: 0, canary: 0 }, mirror: 0, testRoutes: false, routed: false, drainedFor: 0 };
                const orders = linearExtensions(Object.values(ids), deps);
                assert.ok(orders.length > 0, "the dependency graph has no cycle");
                for (const order of orders) {
                    const end = replay(order, ops, full, start, 30);
                    assert.deepStrictEqual(end.weights, { production: nextPlan.production.weight, canary: nextPlan.canary.weight });
                    assert.strictEqual(end.mirror, nextPlan.mirrorPercent);
                    assert.strictEqual(end.testRoutes, nextPlan.testRoutes);
                    for (const t of TRACKS) assert.deepStrictEqual(end.pods[t], { tag: nextPlan[t].tag, replicas: nextPlan[t].replicas });
                }
                // The routing release holds the DestinationRule with both subsets: the route never names a missing one.
                assert.deepStrictEqual(captured.get(ids.routing)!.props.values.parts, { production: false, canary: false, routing: true });
            });
        }
    });
}
