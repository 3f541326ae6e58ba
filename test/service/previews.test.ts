// What a reviewer reads in a preview: a move changes the inputs of a Helm release only when the objects that
// release renders change in what runs or routes (the routing release also carries the stage, in words), and the
// drain Sleep is replaced only when the move removes pods that carried traffic. Checked for every legal move of
// every strategy, against what the real helm renders from each release's values.
import * as assert from "assert";
import * as path from "path";
import { parseServices, ServiceConfig } from "../../components/service/config";
import { deployedState } from "../../components/service/deployed";
import { checkMove } from "../../components/service/moves";
import { nextWait, operationOrder } from "../../components/service/order";
import { stagePlans } from "../../components/service/stages";
import { serviceReleaseSpecs } from "../../components/service/values";
import { Part, PARTS, TRACKS } from "../../components/shared/tracks";
import { helmTemplate } from "../../scripts/helm";
import { legalMoves } from "../helpers/moves";

const CHART = path.resolve(__dirname, "../../charts/service");
type Obj = Record<string, any>;

const rendered = new Map<string, Obj[]>();
/** The objects one release renders (helm template, cached by its values). */
function render(spec: { name: string; namespace: string; values: Obj }): Obj[] {
    const key = JSON.stringify([spec.namespace, spec.values]);
    if (!rendered.has(key)) rendered.set(key, helmTemplate(CHART, { releaseName: spec.name, namespace: spec.namespace, values: spec.values }));
    return rendered.get(key)!;
}

/** The objects without stagehand's stage annotations: what runs and routes. */
function whatRunsOrRoutes(objects: Obj[]): string {
    return JSON.stringify(
        objects.map((o) => {
            const annotations = Object.fromEntries(Object.entries(o.metadata?.annotations ?? {}).filter(([k]) => !k.startsWith("stagehand.dev/")));
            return { ...o, metadata: { ...o.metadata, annotations } };
        }),
    );
}


const strategies: { title: string; config: Obj }[] = [
    { title: "canary [10, 90, 100]", config: {} },
    { title: "custom [10, 25, 50, 75, 100]", config: { steps: [10, 25, 50, 75, 100] } },
    { title: "blue/green [100]", config: { strategy: "bluegreen" } },
    { title: "shadow 20% and test routes", config: { shadow: { percent: 20 }, testRoutes: [{ header: "x-canary", exact: "true" }] } },
    { title: "one replica", config: { replicas: 1 } },
    { title: "production follows traffic [10, 90, 100]", config: { production: "follows-traffic" } },
    { title: "production follows traffic, blue/green, no headroom", config: { strategy: "bluegreen", production: "follows-traffic", productionHeadroomPercent: 0 } },
];

function service(config: Obj): ServiceConfig {
    return parseServices("test", { checkout: { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", replicas: 4, stage: 1, namespace: "shop", ...config } }).checkout;
}

for (const { title, config } of strategies) {
    describe(`previews show exactly the move: ${title}`, () => {
        const base = service(config);
        const count = stagePlans(base).length;
        for (const move of legalMoves(count)) {
            const name = move.from === undefined ? "first deployment at 1" : move.finish ? `finish after ${move.from}` : `${move.from} -> ${move.to}`;
            it(name, () => {
                const before = move.from === undefined ? undefined : { ...base, stage: move.from };
                const after = move.finish ? { ...base, stable: "02", canary: undefined, stage: 1 } : { ...base, stage: move.to };
                const afterPlan = stagePlans(after)[after.stage - 1];
                const beforePlan = before && stagePlans(before)[before.stage - 1];
                const previous = before && deployedState(before, beforePlan!, true);
                assert.ok(checkMove(previous, { ...after, allowSkip: false }).ok, "a legal move");

                const next = serviceReleaseSpecs({ name: "checkout", service: after, plan: afterPlan });
                if (!before) return; // a first deployment creates every release
                const prev = serviceReleaseSpecs({ name: "checkout", service: before, plan: beforePlan! });
                const changed = (part: Part) => JSON.stringify(prev[part]) !== JSON.stringify(next[part]);
                for (const part of TRACKS) {
                    const objectsChanged = JSON.stringify(render(prev[part])) !== JSON.stringify(render(next[part]));
                    assert.strictEqual(changed(part), objectsChanged, `${part} release: inputs changed ${changed(part)}, rendered objects changed ${objectsChanged}`);
                }
                // The routing release changes when its routes do, and when the stage does (its words are on it).
                const routesChanged = whatRunsOrRoutes(render(prev.routing)) !== whatRunsOrRoutes(render(next.routing));
                const stageChanged = beforePlan!.stage !== afterPlan.stage || beforePlan!.description !== afterPlan.description;
                assert.strictEqual(changed("routing"), routesChanged || stageChanged, `routing release: inputs changed ${changed("routing")}, routes ${routesChanged}, stage ${stageChanged}`);
                if (move.from === move.to) for (const part of PARTS) assert.ok(!changed(part), `a stay changes no release (${part})`);

                // The drain waits (its Sleep is replaced) only when pods that carried traffic go away.
                const removesServingPods = TRACKS.some((t) => {
                    const carried = beforePlan![t].weight > 0 || (t === "canary" && (beforePlan!.mirrorPercent > 0 || beforePlan!.testRoutes));
                    return carried && afterPlan[t].replicas < beforePlan![t].replicas;
                });
                const prevDrain = { count: 3, seconds: 30 };
                const drain = nextWait(prevDrain, operationOrder({ ...beforePlan! }, afterPlan, after).drainSeconds);
                assert.strictEqual(JSON.stringify(drain) !== JSON.stringify(prevDrain), removesServingPods, `drain replaced: ${JSON.stringify(drain)}`);
            });
        }
    });
}

describe("previews show exactly the move: the walk the issue measured", () => {
    it("production is untouched by 1 -> 2, 2 -> 3, 3 -> 4, 5 -> 6 and a rollback from 3; every listed update changes what runs or routes", () => {
        const base = service({});
        const plans = stagePlans(base);
        const specsAt = (svc: ServiceConfig, stage: number) => serviceReleaseSpecs({ name: "checkout", service: { ...svc, stage }, plan: stagePlans(svc)[stage - 1] });
        const walk: [ServiceConfig, number, ServiceConfig, number][] = [
            [base, 1, base, 2],
            [base, 2, base, 3],
            [base, 3, base, 4],
            [base, 4, base, 5],
            [base, 5, base, 6],
            [base, 6, { ...base, stable: "02", canary: undefined }, 1],
            [base, 3, base, 1],
        ];
        const updates: string[] = [];
        for (const [a, from, b, to] of walk) {
            const prev = specsAt(a, from);
            const next = specsAt(b, to);
            for (const part of PARTS) {
                if (JSON.stringify(prev[part]) === JSON.stringify(next[part])) continue;
                updates.push(`${from}->${to} ${part}`);
                // Nothing is listed for its annotations alone: each update changes what runs or routes, or is the routing's stage.
                const runsOrRoutes = whatRunsOrRoutes(render(prev[part])) !== whatRunsOrRoutes(render(next[part]));
                assert.ok(runsOrRoutes || part === "routing", `${from}->${to}: ${part} changes only in annotations`);
            }
        }
        assert.deepStrictEqual(updates, [
            "1->2 canary", "1->2 routing",
            "2->3 canary", "2->3 routing",
            "3->4 routing", // 90% of 4 pods is already all 4: the canary release does not change

            "4->5 production", "4->5 routing",
            "5->6 routing",
            "6->1 canary", "6->1 routing",
            "3->1 canary", "3->1 routing",
        ]);
        assert.strictEqual(plans.length, 6);
    });
});
