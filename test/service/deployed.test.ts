// The deployed state that crosses runs: what one update exports under `serviceStages` and the next reads back.
import * as assert from "assert";
import { parseServices } from "../../components/service/config";
import { DEPLOYED_STATE_VERSION, DeployedStateError, readDeployedServices, SERVICE_STAGES_OUTPUT, stageSummary } from "../../components/service/deployed";
import { checkMove } from "../../components/service/moves";
import { planServices } from "../../components/service/stages";
import { runProgram } from "../helpers/mocks";
import { refusal } from "../helpers/problems";

const services = parseServices("test", {
    checkout: { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 3, replicas: 4, shadow: { percent: 20 }, testRoutes: [{ header: "x-canary", exact: "1" }] },
});
const [planned] = planServices(services);

describe("deployed state (components/service/deployed.ts)", () => {
    it("exports a versioned summary without a second copy of the weights", () => {
        const summary = stageSummary(planned.service, planned.plan, true);
        assert.strictEqual(summary.version, DEPLOYED_STATE_VERSION);
        assert.strictEqual(DEPLOYED_STATE_VERSION, 3);
        assert.ok(!("weights" in summary), "weights repeat tracks.*.weight");
        const { stable, canary } = planned.revisions;
        assert.deepStrictEqual(summary.tracks, {
            production: { tag: "01", revision: { id: stable.id, label: "01" }, replicas: 4, weight: 90 },
            canary: { tag: "02", revision: { id: canary.id, label: "02" }, replicas: 2, weight: 10 },
        });
        assert.deepStrictEqual(summary.revisions, planned.revisions);
        // Fingerprints, never values: nothing of env, resources or probes leaves the stack in words.
        for (const r of [stable, canary]) for (const f of Object.values(r.fields)) assert.match(f, /^[0-9a-f]{12}$/);
        assert.strictEqual(SERVICE_STAGES_OUTPUT, "serviceStages");
    });

    it("reads back exactly what it wrote, as the state the next move starts from", () => {
        const written = JSON.parse(JSON.stringify({ checkout: stageSummary(planned.service, planned.plan, true) }));
        assert.deepStrictEqual(readDeployedServices("test", written), {
            checkout: {
                stage: 3,
                stable: "01",
                canary: "02",
                steps: [10, 90, 100],
                shadow: { percent: 20 },
                completed: true,
                tracks: {
                    production: { tag: "01", revision: { id: planned.revisions.stable.id, label: "01" }, replicas: 4, weight: 90 },
                    canary: { tag: "02", revision: { id: planned.revisions.canary.id, label: "02" }, replicas: 2, weight: 10 },
                },
                mirrorPercent: 0,
                testRoutes: true,
                drain: { count: 0, seconds: 0 },
                settle: { count: 0, seconds: 0 },
                namespace: "checkout",
                revisions: planned.revisions,
                smoke: { count: 0 },
                migrations: {},
            },
        });
    });

    it("reads outputs written before the shape had a version (with `weights`) and version 1, without revisions", () => {
        const { version, revisions, smoke: _s, migrations: _m, ...unversioned } = stageSummary(planned.service, planned.plan, false);
        assert.strictEqual(version, 3);
        assert.ok(revisions);
        const bare = (t: any) => ({ tag: t.tag, replicas: t.replicas, weight: t.weight });
        const v1 = { ...unversioned, version: 1, tracks: { production: bare(unversioned.tracks.production), canary: bare(unversioned.tracks.canary) } };
        const { version: _v, ...old } = { ...v1, weights: { production: 90, canary: 10 } };
        for (const written of [old, v1]) {
            const read = readDeployedServices("test", { checkout: written });
            assert.strictEqual(read.checkout.stage, 3);
            assert.strictEqual(read.checkout.completed, false);
            assert.deepStrictEqual(read.checkout.tracks.canary, { tag: "02", replicas: 2, weight: 10 });
            assert.strictEqual(read.checkout.revisions, undefined, "no revisions recorded: the next move is judged by tags alone, once");
        }
    });

    it("never drops an entry it cannot read: a newer version or missing fields is an error naming the service", () => {
        const summary = stageSummary(planned.service, planned.plan, true);
        const problemsOf = (outputs: unknown) => {
            const e = refusal(() => readDeployedServices("prod", outputs), DeployedStateError);
            assert.match(e.message, /^unreadable deployed state in stack prod:\n/);
            return e.problems;
        };
        assert.deepStrictEqual(problemsOf({ checkout: { ...summary, version: 4 } }), [
            "stack prod, service checkout, output serviceStages.checkout: expected a deployed state of version 3, 2 or 1 (or one written before versions), found version 4: it was written by another stagehand; deploy with that one, or a newer one that reads it",
        ]);
        const { revisions: _r, ...withoutRevisions } = summary;
        assert.deepStrictEqual(problemsOf({ checkout: withoutRevisions }), ["stack prod, service checkout, output serviceStages.checkout: expected revisions.stable and revisions.canary (version 3), found undefined"]);
        assert.match(problemsOf({ checkout: { ...summary, tracks: { production: summary.tracks.production } } })[0], /^stack prod, service checkout, output serviceStages\.checkout: expected a deployed state with tracks\.canary, found \{/);
        assert.deepStrictEqual(problemsOf({ checkout: null, cart: "stage 2" }), [
            "stack prod, service checkout, output serviceStages.checkout: expected a deployed-state object, found null",
            'stack prod, service cart, output serviceStages.cart: expected a deployed-state object, found "stage 2"',
        ]);
        assert.deepStrictEqual(readDeployedServices("prod", undefined), {}, "no outputs at all: every service's past is unknown");
    });

    it("says the judged move as it is: its words, the stage it came from, what may come next", () => {
        const previous = readDeployedServices("test", { checkout: { ...stageSummary(planned.service, planned.plan, true), stage: 2, tracks: { production: { tag: "01", replicas: 4, weight: 100 }, canary: { tag: "02", replicas: 1, weight: 0 } }, mirrorPercent: 20 } }).checkout;
        const check = checkMove(previous, { ...planned.service, allowSkip: false });
        if (!check.ok) assert.fail(check.reason);
        const summary = stageSummary(planned.service, planned.plan, true, { previous, check, allowSkip: false });
        assert.strictEqual(summary.move, "forward from stage 2 (shadow 20%) to 3 (canary 10%)");
        assert.strictEqual(summary.previousStage, 2);
        assert.strictEqual(summary.next, "stay at 3, 4 (canary 90%), or 1 (rollback)");
    });

    it("the program judges a move against outputs an older stagehand wrote (no version)", async () => {
        const cluster = { kind: "existing" };
        const svc = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3 };
        const first = await runProgram("uat", { cluster, services: { checkout: svc } });
        const { version, revisions: _r, smoke: _s, migrations: _m, ...older } = first.outputs.serviceStages.checkout;
        assert.strictEqual(version, 3);
        const second = await runProgram("uat", { cluster, services: { checkout: { ...svc, stage: 4 } } }, { serviceStages: { checkout: { ...older, weights: { production: 90, canary: 10 } } } }).catch((e) => e);
        assert.match(String(second.message), /cannot move from stage 2 to 4: .* skips stage 3/);
    });
});
