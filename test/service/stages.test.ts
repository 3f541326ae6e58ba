import * as assert from "assert";
import { canaryReplicas, followingProductionReplicas, MIN_SERVING_REPLICAS, planProblems, stagePlan, stagePlans, strategyOf } from "../../components/service/stages";

const checkout = { stable: "01", canary: "02", replicas: 3, steps: [10, 90, 100] };

// [stage, kind, production tag, production replicas, production weight, canary tag, canary replicas, canary weight]
type Row = [number, string, string, number, number, string, number, number];

function assertPlans(rows: Row[], plans = stagePlans(checkout)) {
    assert.strictEqual(plans.length, rows.length);
    rows.forEach(([stage, kind, pTag, pRep, pW, cTag, cRep, cW], i) => {
        const p = plans[i];
        assert.deepStrictEqual(
            { stage: p.stage, kind: p.kind, production: p.production, canary: p.canary },
            { stage, kind, production: { tag: pTag, replicas: pRep, weight: pW }, canary: { tag: cTag, replicas: cRep, weight: cW } },
            `stage ${stage}`,
        );
    });
}

describe("stage plan (components/service/stages.ts)", () => {
    it("follows the design's table for the default steps [10, 90, 100]", () => {
        assertPlans([
            [1, "idle", "01", 3, 100, "02", 0, 0],
            [2, "canary", "01", 3, 90, "02", 2, 10],
            [3, "canary", "01", 3, 10, "02", 3, 90],
            [4, "canary", "01", 3, 0, "02", 3, 100],
            [5, "promote", "02", 3, 0, "02", 3, 100],
            [6, "switch-back", "02", 3, 100, "02", 3, 0],
        ]);
    });

    it("gives one stage per step of [10, 25, 50, 75, 100], sizing the canary by its share", () => {
        assertPlans(
            [
                [1, "idle", "01", 4, 100, "02", 0, 0],
                [2, "canary", "01", 4, 90, "02", 2, 10],
                [3, "canary", "01", 4, 75, "02", 2, 25],
                [4, "canary", "01", 4, 50, "02", 2, 50],
                [5, "canary", "01", 4, 25, "02", 3, 75],
                [6, "canary", "01", 4, 0, "02", 4, 100],
                [7, "promote", "02", 4, 0, "02", 4, 100],
                [8, "switch-back", "02", 4, 100, "02", 4, 0],
            ],
            stagePlans({ ...checkout, replicas: 4, steps: [10, 25, 50, 75, 100] }),
        );
    });

    it("makes blue/green the step list [100]", () => {
        assertPlans(
            [
                [1, "idle", "01", 3, 100, "02", 0, 0],
                [2, "canary", "01", 3, 0, "02", 3, 100],
                [3, "promote", "02", 3, 0, "02", 3, 100],
                [4, "switch-back", "02", 3, 100, "02", 3, 0],
            ],
            stagePlans({ ...checkout, steps: [100] }),
        );
        assert.strictEqual(stagePlan({ ...checkout, steps: [100], stage: 2 }).strategy, "bluegreen");
    });

    it("rolls back with stage 1 and stable unchanged: the idle plan, whatever stage came before", () => {
        const rollback = stagePlan({ ...checkout, stage: 1 });
        assert.deepStrictEqual(rollback.production, { tag: "01", replicas: 3, weight: 100 });
        assert.deepStrictEqual(rollback.canary, { tag: "02", replicas: 0, weight: 0 });
    });

    it("finishes a release with stable set to the released tag and stage 1", () => {
        const finished = stagePlan({ stable: "02", replicas: 3, steps: [10, 90, 100], stage: 1 });
        assert.deepStrictEqual(finished.production, { tag: "02", replicas: 3, weight: 100 });
        assert.deepStrictEqual(finished.canary, { tag: "02", replicas: 0, weight: 0 });
    });

    it("keeps at least one canary pod while it carries traffic, and full size at 100%", () => {
        assert.strictEqual(canaryReplicas(10, 1), 1);
        assert.strictEqual(canaryReplicas(10, 25), 3);
        assert.strictEqual(canaryReplicas(10, 99), 10);
        assert.strictEqual(canaryReplicas(10, 100), 10);
        assert.strictEqual(canaryReplicas(10, 0), 0);
    });

    it("keeps two canary pods while it serves a share of users, so an eviction never leaves it without one", () => {
        assert.strictEqual(canaryReplicas(10, 1, MIN_SERVING_REPLICAS), 2);
        assert.strictEqual(canaryReplicas(10, 25, MIN_SERVING_REPLICAS), 3);
        assert.strictEqual(canaryReplicas(1, 10, MIN_SERVING_REPLICAS), 1, "never more than the service's full size");
        for (const replicas of [2, 3, 7]) {
            for (const p of stagePlans({ ...checkout, replicas, steps: [1, 10, 50, 100] })) {
                for (const track of [p.production, p.canary]) if (track.weight > 0) assert.ok(track.replicas >= 2, p.description);
            }
        }
        // A mirror's copies are not users' requests: the shadow stage sizes the canary for its share alone.
        assert.strictEqual(stagePlans({ ...checkout, replicas: 4, shadow: { percent: 20 } })[1].canary.replicas, 1);
    });

    it("describes each stage in one line a reviewer reads", () => {
        const plans = stagePlans(checkout);
        assert.strictEqual(plans[0].description, "stage 1/6 idle: 100% -> 01 (production x3), 0% -> 02 (canary x0); strategy canary");
        assert.strictEqual(plans[1].description, "stage 2/6 canary 10%: 90% -> 01 (production x3), 10% -> 02 (canary x2); strategy canary");
        assert.strictEqual(plans[4].description, "stage 5/6 promote: 0% -> 02 (production x3, rolling from 01), 100% -> 02 (canary x3); strategy canary");
        assert.strictEqual(plans[5].description, "stage 6/6 switch back: 100% -> 02 (production x3), 0% -> 02 (canary x3, draining); strategy canary");
    });

    it("names the strategy of a step list", () => {
        assert.strictEqual(strategyOf([10, 90, 100]), "canary");
        assert.strictEqual(strategyOf([100]), "bluegreen");
        assert.strictEqual(strategyOf([10, 25, 50, 75, 100]), "custom");
    });

    it("refuses a stage beyond the step list", () => {
        assert.throws(() => stagePlan({ ...checkout, stage: 7 }), /stage 7 does not exist: the steps \[10, 90, 100\] give stages 1 to 6/);
    });

    it("weights always sum to 100 and never route to a track without replicas", () => {
        for (const steps of [[10, 90, 100], [1, 2, 3, 100], [100], [5, 50, 95, 100]]) {
            for (const replicas of [1, 2, 7]) {
                for (const p of stagePlans({ ...checkout, replicas, steps })) {
                    assert.strictEqual(p.production.weight + p.canary.weight, 100, p.description);
                    for (const track of [p.production, p.canary]) {
                        if (track.weight > 0) assert.ok(track.replicas > 0, p.description);
                    }
                }
            }
        }
    });

    describe("production: follows-traffic (lean releases)", () => {
        const lean = { ...checkout, replicas: 4, production: "follows-traffic" as const };

        it("shrinks production as the canary takes its share, keeps a warm pool at 100%, and grows it back at switch back", () => {
            assertPlans(
                [
                    [1, "idle", "01", 4, 100, "02", 0, 0],
                    // 90% of 4 is 3.6 pods, plus 20% of 4 (0.8): all 4.
                    [2, "canary", "01", 4, 90, "02", 2, 10],
                    // 10% of 4 is 0.4 pods, plus 0.8: 2 (and never fewer than two while it serves).
                    [3, "canary", "01", 2, 10, "02", 4, 90],
                    // No share: the headroom alone, 0.8 rounded up: one warm pod.
                    [4, "canary", "01", 1, 0, "02", 4, 100],
                    [5, "promote", "02", 1, 0, "02", 4, 100],
                    // Production back at full size; the canary's pods go once the drain ran.
                    [6, "switch-back", "02", 4, 100, "02", 0, 0],
                ],
                stagePlans(lean),
            );
        });

        it("leaves full mode (and a service that names no mode) as the design's table", () => {
            assert.deepStrictEqual(stagePlans({ ...checkout, production: "full" }), stagePlans(checkout));
        });

        it("sizes production for its share plus the headroom, in pods of the full size", () => {
            assert.strictEqual(followingProductionReplicas(10, 90, 20), 10, "never above the full size");
            assert.strictEqual(followingProductionReplicas(10, 50, 20), 7);
            assert.strictEqual(followingProductionReplicas(10, 10, 20), 3);
            assert.strictEqual(followingProductionReplicas(10, 0, 20), 2, "the warm pool: the headroom alone");
            assert.strictEqual(followingProductionReplicas(10, 0, 0), 0, "no headroom: production scales to 0 at the canary's 100%");
            assert.strictEqual(followingProductionReplicas(10, 1, 0), MIN_SERVING_REPLICAS, "two pods while it serves a share");
            assert.strictEqual(followingProductionReplicas(1, 1, 0), 1, "a service of one replica keeps its one");
            assert.strictEqual(followingProductionReplicas(10, 100, 0), 10);
        });

        it("always has the pods its share needs, and is never larger than in full mode", () => {
            for (const steps of [[10, 90, 100], [1, 2, 3, 100], [100], [5, 50, 95, 100], [10, 25, 50, 75, 100]]) {
                for (const replicas of [1, 2, 3, 7, 20]) {
                    for (const headroom of [0, 20, 100]) {
                        const full = stagePlans({ ...checkout, replicas, steps });
                        stagePlans({ ...checkout, replicas, steps, production: "follows-traffic", productionHeadroomPercent: headroom }).forEach((p, i) => {
                            assert.deepStrictEqual(planProblems(p), [], p.description);
                            assert.ok(p.production.replicas >= Math.ceil((replicas * p.production.weight) / 100), p.description);
                            assert.ok(p.production.replicas <= full[i].production.replicas && p.canary.replicas <= full[i].canary.replicas, p.description);
                            if (p.production.weight > 0) assert.ok(p.production.replicas >= Math.min(replicas, MIN_SERVING_REPLICAS), p.description);
                        });
                    }
                }
            }
        });

        it("says production's size in the stage's description", () => {
            const plans = stagePlans(lean);
            assert.strictEqual(plans[3].description, "stage 4/6 canary 100%: 0% -> 01 (production x1), 100% -> 02 (canary x4); strategy canary");
            assert.strictEqual(plans[5].description, "stage 6/6 switch back: 100% -> 02 (production x4), 0% -> 02 (canary x0, draining); strategy canary");
        });
    });
});
