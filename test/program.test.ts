import * as assert from "assert";
import { parseServices } from "../components/service/config";
import { MoveError } from "../components/service/moves";
import { revisionRecords } from "../components/service/revision";
import { ConfigError } from "../components/shared/errors";
import { readStackConfig } from "../scripts/stack-file";
import { dependencyNames, ofType, Registered, runProgram } from "./helpers/mocks";
import { podSecurityLabels } from "../components/shared/pod-security";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
/** Namespaces the Istio component creates (components/platform/istio.ts). */
const ISTIO_NAMESPACES = ["istio-system", "istio-ingress"];

function byName(resources: Registered[], type: string): Record<string, Registered> {
    return Object.fromEntries(ofType(resources, type).map((r) => [r.name, r]));
}

/** A service is three Helm releases of its chart: one per track and one for routing. */
const PARTS = ["production", "canary", "routing"] as const;

/** The service releases (by service name) — their routing release holds both tracks' plan. */
function serviceReleases(resources: Registered[]): Record<string, Registered> {
    return Object.fromEntries(
        ofType(resources, RELEASE)
            .filter((r) => r.inputs.values?.parts?.routing)
            .map((r) => [r.inputs.values.fullnameOverride, r]),
    );
}

/** Each service's tracks as its three releases carry them together: tag and replicas from a track's own, weights from the routing. */
function serviceTracks(resources: Registered[]): Record<string, Record<string, Record<string, unknown>>> {
    const out: Record<string, Record<string, Record<string, unknown>>> = {};
    for (const r of ofType(resources, RELEASE).filter((r) => r.inputs.values?.tracks)) {
        const tracks = (out[r.inputs.values.fullnameOverride] ??= { production: {}, canary: {} });
        for (const t of ["production", "canary"]) Object.assign(tracks[t], r.inputs.values.tracks[t]);
    }
    return out;
}

describe("program (index.ts) under Pulumi mocks", () => {
    for (const stack of ["staging", "uat", "prod"]) {
        it(`${stack}: atomic Releases of each service with its stage's values, in a namespace labelled for injection`, async () => {
            const config = readStackConfig(stack);
            const names = Object.keys(config.services as object).sort();
            const { resources, outputs } = await runProgram(stack, config);

            const releases = byName(resources, RELEASE);
            for (const name of names) {
                for (const part of PARTS) {
                    const r = releases[`${name}-${part}`]?.inputs;
                    assert.ok(r, `release ${name}-${part}`);
                    assert.strictEqual(r.name, `${name}-${part}`);
                    assert.strictEqual(r.namespace, name);
                    assert.strictEqual(r.chart, "./charts/service");
                    assert.strictEqual(r.atomic, true);
                    assert.ok(r.timeout > 0 && r.maxHistory > 0);
                    assert.strictEqual(r.values.fullnameOverride, name);
                    assert.deepStrictEqual(r.values.parts, { production: part === "production", canary: part === "canary", routing: part === "routing" });
                }
                const routing = releases[`${name}-routing`].inputs;
                assert.strictEqual(routing.values.tracks.production.weight + routing.values.tracks.canary.weight, 100);
                assert.strictEqual(outputs.serviceStages[name].description, routing.description);
            }
            // The observability addons' namespaces (uat, prod) are the Observability component's, not injected.
            const addonNamespaces = ofType(resources, NAMESPACE).filter((n) => n.parent?.endsWith("stagehand:index:Observability::observability"));
            assert.deepStrictEqual(addonNamespaces.map((n) => n.inputs.metadata.name).sort(), stack === "staging" ? [] : ["observability", "prometheus"]);
            for (const ns of addonNamespaces) assert.strictEqual(ns.inputs.metadata.labels["istio.io/rev"], undefined);
            const namespaces = ofType(resources, NAMESPACE).filter((n) => !ISTIO_NAMESPACES.includes(n.inputs.metadata.name) && !addonNamespaces.includes(n));
            assert.deepStrictEqual(namespaces.map((n) => n.inputs.metadata.name).sort(), names);
            // Injection by revision, never `istio-injection: enabled` (it would override the revision label).
            for (const ns of namespaces) assert.deepStrictEqual(ns.inputs.metadata.labels, { "istio.io/rev": "1-30-3", "app.kubernetes.io/managed-by": "stagehand", ...podSecurityLabels("restricted", "1.35") });
            // Istio's own namespaces exist too, and are the only other ones.
            assert.deepStrictEqual(ofType(resources, NAMESPACE).length, names.length + ISTIO_NAMESPACES.length + addonNamespaces.length);
        });
    }

    it("staging: the Release values carry the plan of each service's stage", async () => {
        // A first deployment knows nothing of the past: it takes the cautious order and holds a partly sized canary at
        // full size (below). The next update knows what was deployed and applies the plan exactly.
        const first = await runProgram("staging", readStackConfig("staging"));
        const { resources, outputs } = await runProgram("staging", readStackConfig("staging"), first.outputs);
        const releases = serviceReleases(resources);
        const tracks = serviceTracks(resources);
        assert.deepStrictEqual(tracks.checkout, {
            production: { tag: "1.4.2", replicas: 2, weight: 90 },
            canary: { tag: "1.5.0", replicas: 2, weight: 10 },
        });
        // Each release carries only its own part: a track its tag and pods, the routing the weights.
        const byName = Object.fromEntries(ofType(resources, RELEASE).map((r) => [r.name, r.inputs.values]));
        assert.deepStrictEqual(byName["checkout-production"].tracks, { production: { tag: "1.4.2", replicas: 2 }, canary: {} });
        assert.deepStrictEqual(byName["checkout-canary"].tracks, { production: {}, canary: { tag: "1.5.0", replicas: 2 } });
        assert.deepStrictEqual(byName["checkout-routing"].tracks, { production: { weight: 90 }, canary: { weight: 10 } });
        assert.strictEqual(byName["checkout-production"].stagehand, undefined, "no stage on a track's release");
        assert.strictEqual(byName["checkout-routing"].stagehand.stage, 2);
        assert.deepStrictEqual(tracks.catalog, {
            production: { tag: "2.3.1", replicas: 2, weight: 100 },
            canary: { tag: "2.3.1", replicas: 0, weight: 0 },
        });
        assert.deepStrictEqual(tracks.payments, {
            production: { tag: "0.9.7", replicas: 2, weight: 75 },
            canary: { tag: "0.10.0", replicas: 2, weight: 25 },
        });
        assert.deepStrictEqual(releases.catalog.inputs.values.probes, { readiness: { path: "/ready" }, liveness: { path: "/healthz" } });
        assert.deepStrictEqual(releases.payments.inputs.values.env, { LOG_LEVEL: "debug" });
        assert.strictEqual(releases.payments.inputs.values.port, 9000);
        // The revisions the stack records: fingerprints of what each track runs, never a value.
        const revisions = revisionRecords(parseServices("staging", readStackConfig("staging").services).checkout);
        const ref = (r: typeof revisions.stable) => ({ id: r.id, label: r.label });
        assert.deepStrictEqual(first.outputs.serviceStages.checkout, {
            version: 2,
            stage: 2,
            stageCount: 6,
            stageName: "canary 10%",
            strategy: "canary",
            description: "stage 2/6 canary 10%: 90% -> 1.4.2 (production x2), 10% -> 1.5.0 (canary x2); strategy canary",
            tracks: { production: { tag: "1.4.2", revision: ref(revisions.stable), replicas: 2, weight: 90 }, canary: { tag: "1.5.0", revision: ref(revisions.canary), replicas: 2, weight: 10 } },
            mirrorPercent: 0,
            testRoutes: false,
            stable: "1.4.2",
            canary: "1.5.0",
            steps: [10, 90, 100],
            move: "first deployment at stage 2 (canary 10%) (previous stage unknown: cautious order)",
            next: "stay at 2, 3 (canary 90%), or 1 (rollback)",
            allowSkip: false,
            completed: true,
            // The previous state unknown: the settle wait carries this update's identity, so it waits whatever Sleep is deployed.
            settle: { count: 1, seconds: 5, update: first.outputs.serviceStages.checkout.settle.update },
            drain: { count: 0, seconds: 0 },
            namespace: "checkout",
            revisions,
        });
        assert.deepStrictEqual([revisions.stable.label, revisions.canary.label], ["1.4.2", "1.5.0"]);
        assert.strictEqual(outputs.serviceStages.checkout.move, "stay at stage 2 (canary 10%)");
        assert.deepStrictEqual([outputs.serviceStages.checkout.settle, outputs.serviceStages.checkout.drain], [first.outputs.serviceStages.checkout.settle, { count: 0, seconds: 0 }], "a stay waits for nothing");
        assert.match(first.outputs.serviceStages.checkout.settle.update, /^[0-9a-f-]{36}$/);
    });

    it("with the previous stage unknown, holds a partly sized canary at full size, says so, and shrinks it on the next update", async () => {
        const config = { cluster: { kind: "existing" }, services: { checkout: { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 5 } } };
        const first = await runProgram("uat", config);
        const summary = first.outputs.serviceStages.checkout;
        assert.strictEqual(summary.move, "first deployment at stage 2 (canary 10%) (previous stage unknown: cautious order; canary held at x5 (planned x2) until the next update)");
        const { canary: canaryRevision } = revisionRecords(parseServices("uat", config.services).checkout);
        assert.deepStrictEqual(summary.tracks.canary, { tag: "02", revision: { id: canaryRevision.id, label: "02" }, replicas: 5, weight: 10 });
        const canaryRelease = (run: typeof first) => ofType(run.resources, RELEASE).find((r) => r.name === "checkout-canary")!.inputs.values.tracks.canary;
        assert.deepStrictEqual(canaryRelease(first), { tag: "02", replicas: 5 });
        // Known again: the canary shrinks to its plan. Its share of traffic stays, so no route change and no drain.
        const second = await runProgram("uat", config, first.outputs);
        assert.deepStrictEqual(canaryRelease(second), { tag: "02", replicas: 2 });
        assert.strictEqual(second.outputs.serviceStages.checkout.move, "stay at stage 2 (canary 10%)");
        assert.deepStrictEqual(second.outputs.serviceStages.checkout.drain, first.outputs.serviceStages.checkout.drain);
    });

    it("a lean release (production: follows-traffic) shrinks production at the canary's 100%, and a rollback says it grows production back first", async () => {
        const checkout = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 4, replicas: 4 };
        const config = (stage: number) => ({ cluster: { kind: "existing" }, production: "follows-traffic", services: { checkout: { ...checkout, stage } } });
        const productionRelease = (run: { resources: Registered[] }) => ofType(run.resources, RELEASE).find((r) => r.name === "checkout-production")!.inputs.values.tracks.production;
        // Unknown past: production held at full size; known again: it keeps its warm pool (20% of 4, rounded up).
        const first = await runProgram("uat", config(4));
        assert.deepStrictEqual(productionRelease(first), { tag: "01", replicas: 4 });
        const second = await runProgram("uat", config(4), first.outputs);
        assert.deepStrictEqual(productionRelease(second), { tag: "01", replicas: 1 });
        const rollback = await runProgram("uat", config(1), second.outputs);
        assert.deepStrictEqual(productionRelease(rollback), { tag: "01", replicas: 4 });
        assert.strictEqual(
            rollback.outputs.serviceStages.checkout.move,
            "rollback from stage 4 (canary 100%) to stage 1: all traffic to 01 (production grows back first: x1 -> x4, 3 pods start and settle before 100% of traffic moves onto it)",
        );
        // Make before break: the routing waits for production's release and the settle wait.
        const routing = ofType(rollback.resources, RELEASE).find((r) => r.name === "checkout-routing")!;
        assert.ok(dependencyNames(routing).includes("checkout-production"), "the routing waits for production's pods");
    });

    it("refuses to run on outputs it cannot read, naming the service, and registers nothing", async () => {
        const config = { cluster: { kind: "existing" }, services: { checkout: { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 5 } } };
        const first = await runProgram("uat", config);
        const newer = { serviceStages: { checkout: { ...first.outputs.serviceStages.checkout, version: 3 } } };
        await assert.rejects(runProgram("uat", config, newer), (e: any) => {
            assert.match(e.message, /^unreadable deployed state in stack uat:\n {2}- stack uat, service checkout, output serviceStages\.checkout: expected a deployed state of version 2 or 1/);
            assert.deepStrictEqual(e.registered, [], "no resource registered");
            return true;
        });
    });

    it("a stage change in one service changes that service's inputs and no other resource's", async () => {
        const config = readStackConfig("staging") as { services: Record<string, any> };
        // Both from the same deployed state: the stack as deployed once.
        const deployed = (await runProgram("staging", config)).outputs;
        const before = await runProgram("staging", config, deployed);
        const changed = { ...config, services: { ...config.services, checkout: { ...config.services.checkout, stage: 3 } } };
        const after = await runProgram("staging", changed, deployed);

        const key = (r: Registered) => `${r.type}::${r.name}`;
        const beforeByKey = new Map(before.resources.map((r) => [key(r), r]));
        assert.deepStrictEqual(after.resources.map(key).sort(), before.resources.map(key).sort(), "same resources");
        const differing = after.resources.filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(beforeByKey.get(key(r))!.inputs)).map(key);
        assert.ok(differing.length > 0);
        for (const k of differing) assert.match(k, /::checkout(-|$)/, `${k} changed, but only checkout's stage changed`);
        // 2 -> 3 with 2 replicas: the canary already has its 2 pods, so only the routing moves; production, the
        // canary, the namespace and the waits stay as they are.
        assert.deepStrictEqual(differing.sort(), [`${RELEASE}::checkout-routing`]);
        assert.deepStrictEqual(serviceTracks(after.resources).checkout.canary, { tag: "1.5.0", replicas: 2, weight: 90 });
    });

    it("services sharing a namespace create it once, keyed by its name (test/service/namespaces.test.ts)", async () => {
        const svc = { image: "ghcr.io/acme/a", stable: "1", stage: 1, replicas: 2, namespace: "shop" };
        const { resources } = await runProgram("uat", { services: { cart: svc, basket: { ...svc, image: "ghcr.io/acme/b" } }, cluster: { admins: ["arn:aws:iam::123456789012:role/stagehand-deploy"] } });
        const namespaces = ofType(resources, NAMESPACE).filter((n) => !ISTIO_NAMESPACES.includes(n.inputs.metadata.name));
        assert.deepStrictEqual(namespaces.map((n) => [n.name, n.inputs.metadata.name]), [["namespace-shop", "shop"]]);
        const serviceCharts = ofType(resources, RELEASE).filter((r) => r.inputs.chart === "./charts/service");
        assert.deepStrictEqual(serviceCharts.map((r) => r.inputs.namespace), Array(6).fill("shop"));
    });

    const badCases: [string, Record<string, unknown>, RegExp][] = [
        ["stage 7 of 6", { stage: 7 }, /stack prod, service checkout, field stage: expected a stage from 1 to 6.*found 7/],
        ["a latest tag", { canary: "latest" }, /stack prod, service checkout, field canary: expected a fixed image tag or digest, not "latest"/],
        ["an empty tag", { stable: "" }, /stack prod, service checkout, field stable: .*found an empty string/],
        ["no canary at stage 2", { canary: undefined }, /stack prod, service checkout, field canary: expected a canary tag, required at stage 2/],
        ["steps not increasing", { steps: [50, 10, 100] }, /stack prod, service checkout, field steps: expected weights strictly increasing/],
        ["steps not ending at 100", { steps: [10, 90] }, /stack prod, service checkout, field steps: expected weights ending at 100/],
    ];
    for (const [what, change, message] of badCases) {
        it(`refuses ${what} and registers nothing`, async () => {
            const good = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3 };
            const other = { image: "ghcr.io/acme/cart", stable: "7", stage: 1, replicas: 2 };
            await assert.rejects(
                runProgram("prod", { services: { cart: other, checkout: JSON.parse(JSON.stringify({ ...good, ...change })) } }),
                (e: any) => {
                    assert.ok(e instanceof ConfigError, String(e));
                    assert.match(e.message, message);
                    assert.deepStrictEqual((e as { registered?: unknown }).registered, [], "no resource registered");
                    return true;
                },
            );
        });
    }

    it("reads every stagehand:* key of the stack: one it does not know is refused, and nothing is registered", async () => {
        const svc = { image: "ghcr.io/acme/checkout", stable: "01", stage: 1, replicas: 2 };
        await assert.rejects(runProgram("uat", { services: { checkout: svc }, cluster: { kind: "existing" }, observabilty: { prometheus: { enabled: true } }, service: {} }), (e: any) => {
            assert.ok(e instanceof ConfigError, String(e));
            assert.deepStrictEqual(e.problems, [
                "stack uat, stagehand:observabilty: unknown config key (stagehand would ignore it); did you mean stagehand:observability?",
                "stack uat, stagehand:service: unknown config key (stagehand would ignore it); did you mean stagehand:services?",
            ]);
            assert.deepStrictEqual((e as { registered?: unknown }).registered, []);
            return true;
        });
    });

    it("checks zones named in the cluster config against the stack's aws:region, before registering anything", async () => {
        const svc = { image: "ghcr.io/acme/checkout", stable: "01", stage: 1, replicas: 2 };
        await assert.rejects(runProgram("prod", { "aws:region": "us-east-1", services: { checkout: svc }, cluster: { kind: "eks", availabilityZones: ["eu-west-1a", "eu-west-1b"], admins: ["arn:aws:iam::123456789012:role/stagehand-deploy"] } }), (e: any) => {
            assert.ok(e instanceof ConfigError, String(e));
            assert.deepStrictEqual(e.problems.map((p: string) => p.replace(/: expected.*found/, ": … found")), [
                'stack prod, field cluster.availabilityZones[0]: … found "eu-west-1a"',
                'stack prod, field cluster.availabilityZones[1]: … found "eu-west-1b"',
            ]);
            assert.deepStrictEqual((e as { registered?: unknown }).registered, []);
            return true;
        });
    });

    it("refuses a bad service name and registers nothing", async () => {
        await assert.rejects(runProgram("staging", { services: { "Check.out": { image: "ghcr.io/a/b", stable: "1", stage: 1, replicas: 1 } } }), (e: any) => {
            assert.match(e.message, /stack staging, service "Check.out", name: expected a DNS label/);
            assert.deepStrictEqual(e.registered, []);
            return true;
        });
    });

    describe("moves judged against the stack's previous outputs", () => {
        const cluster = { kind: "existing" };
        const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3, ...over });

        it("refuses a pod-shaping change outside the stages against the recorded revisions, registering nothing; a state without revisions is judged by tags once", async () => {
            const idle = svc({ stage: 1, env: { LOG_LEVEL: "info" } });
            const first = await runProgram("uat", { cluster, services: { checkout: idle } });
            const changed = { cluster, services: { checkout: { ...idle, env: { LOG_LEVEL: "debug" } } } };
            await assert.rejects(runProgram("uat", changed, first.outputs), (e: any) => {
                assert.ok(e instanceof MoveError || e.name === "MoveError", e.message);
                assert.match(e.message, /^illegal stage move in stack uat:\n {2}- stack uat, service checkout, field env: cannot apply this change at stage 1: env changed at stage 1: that updates production's pods directly, without a canary/);
                assert.deepStrictEqual(e.registered, [], "no resource registered");
                return true;
            });
            // Released through the stages instead: the canary runs the change, production keeps its revision.
            const released = await runProgram("uat", { cluster, services: { checkout: { ...idle, canary: { tag: "02", env: { LOG_LEVEL: "debug" } }, stage: 2 } } }, first.outputs);
            const summary = released.outputs.serviceStages.checkout;
            assert.strictEqual(summary.move, "forward from stage 1 (idle) to 2 (canary 10%)");
            assert.deepStrictEqual([summary.tracks.production.revision.label, summary.tracks.canary.revision.label], ["01", "02+env"]);
            assert.deepStrictEqual([summary.revisions.stable.label, summary.revisions.canary.label], ["01", "02+env"]);
            const values = (name: string) => ofType(released.resources, "kubernetes:helm.sh/v3:Release").find((r) => r.name === name)!.inputs.values;
            assert.deepStrictEqual([values("checkout-production").env, values("checkout-canary").env], [{ LOG_LEVEL: "info" }, { LOG_LEVEL: "debug" }]);
            // Outputs an older stagehand wrote (version 1, no revisions): the change is judged by tags, once, and recorded.
            const { revisions: _r, ...v1 } = first.outputs.serviceStages.checkout;
            const older = await runProgram("uat", changed, { serviceStages: { checkout: { ...v1, version: 1 } } });
            assert.strictEqual(older.outputs.serviceStages.checkout.move, "stay at stage 1 (idle)");
            assert.strictEqual(older.outputs.serviceStages.checkout.version, 2);
        });

        it("reads the previous stage back and says the move, the previous stage and what comes next", async () => {
            const first = await runProgram("uat", { cluster, services: { checkout: svc() } });
            const second = await runProgram("uat", { cluster, services: { checkout: svc({ stage: 3 }) } }, first.outputs);
            const summary = second.outputs.serviceStages.checkout;
            assert.strictEqual(summary.previousStage, 2);
            assert.strictEqual(summary.move, "forward from stage 2 (canary 10%) to 3 (canary 90%)");
            assert.strictEqual(summary.next, "stay at 3, 4 (canary 100%), or 1 (rollback)");
        });

        it("refuses a skipped stage with what is allowed next, and registers nothing", async () => {
            const first = await runProgram("uat", { cluster, services: { checkout: svc(), cart: svc({ image: "ghcr.io/acme/cart" }) } });
            await assert.rejects(runProgram("uat", { cluster, services: { checkout: svc({ stage: 4 }), cart: svc({ image: "ghcr.io/acme/cart", stage: 1, stable: "03" }) } }, first.outputs), (e: any) => {
                assert.ok(e instanceof MoveError, String(e));
                assert.deepStrictEqual(e.problems, [
                    "stack uat, service cart, field stable: cannot move from stage 2 to 1: `stable` changed from 01 to 03 in the middle of a release (stable changes only by finishing: stage 1 with stable set to the released canary tag after stage 6). Allowed next: stay at 2, 3 (canary 90%), or 1 (rollback).",
                    "stack uat, service checkout, field stage: cannot move from stage 2 to 4: stage 2 (canary 10%) -> 4 (canary 100%) skips stage 3 (move one stage at a time, or set allowSkip). Allowed next: stay at 2, 3 (canary 90%), or 1 (rollback).",
                ]);
                assert.deepStrictEqual((e as { registered?: unknown }).registered, [], "no resource registered");
                return true;
            });
        });

        it("allows the skip with the stack-wide allowSkip, and says so", async () => {
            const first = await runProgram("staging", { cluster, services: { checkout: svc({ stage: 1 }) } });
            const second = await runProgram("staging", { cluster, allowSkip: true, services: { checkout: svc({ stage: 4 }) } }, first.outputs);
            assert.strictEqual(second.outputs.serviceStages.checkout.move, "skip from stage 1 (idle) to 4 (canary 100%) (allowSkip)");
            assert.strictEqual(second.outputs.serviceStages.checkout.allowSkip, true);
        });

        it("refuses going forward from a stage whose rollout did not complete", async () => {
            const first = await runProgram("prod", { cluster, services: { checkout: svc({ stage: 3 }) } });
            first.outputs.serviceStages.checkout.completed = false;
            await assert.rejects(runProgram("prod", { cluster, services: { checkout: svc({ stage: 4 }) } }, first.outputs), /stage 3 \(canary 90%\) did not complete its rollout \(stay at 3 to retry it, or roll back to 1\)/);
            const retry = await runProgram("prod", { cluster, services: { checkout: svc({ stage: 3 }) } }, first.outputs);
            assert.strictEqual(retry.outputs.serviceStages.checkout.move, "stay at stage 3 (canary 90%)");
        });

        it("orders a rollback make-before-break from the previous traffic: canary scaled down after routing and drain", async () => {
            const first = await runProgram("uat", { cluster, services: { checkout: svc({ stage: 3 }) } });
            const rollback = await runProgram("uat", { cluster, services: { checkout: svc({ stage: 1 }) } }, first.outputs);
            const byName = Object.fromEntries(rollback.resources.map((r) => [r.name, r]));
            assert.deepStrictEqual(byName["checkout-drain"].inputs.createDuration, "30s");
            assert.ok(dependencyNames(byName["checkout-drain"]).includes("checkout-routing"));
            assert.ok(dependencyNames(byName["checkout-canary"]).includes("checkout-drain"));
            assert.ok(!dependencyNames(byName["checkout-routing"]).includes("checkout-canary"));
            assert.strictEqual(rollback.outputs.serviceStages.checkout.move, "rollback from stage 3 (canary 90%) to stage 1: all traffic to 01");
        });

        it("rejects a bad stack-wide allowSkip with the usual words", async () => {
            await assert.rejects(runProgram("uat", { cluster, allowSkip: "yes", services: { checkout: svc() } }), /stack uat, stagehand:allowSkip: expected true or false, found "yes"/);
        });
    });
});
