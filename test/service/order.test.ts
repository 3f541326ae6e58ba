import * as assert from "assert";
import { growsBackWords, heldWords, holdForUnknownPast, nextWait, operationOrder, trackChange, waitTrigger } from "../../components/service/order";
import { stagePlans } from "../../components/service/stages";

const timing = { drainSeconds: 30, settleSeconds: 5 };

describe("make before break (operationOrder)", () => {
    const plans = stagePlans({ stable: "01", canary: "02", replicas: 3, steps: [10, 90, 100] });
    const tracks = (s: number) => ({ production: plans[s - 1].production, canary: plans[s - 1].canary });

    it("scales the canary up before routing moves forward, and lets it settle before weight moves onto it", () => {
        assert.deepStrictEqual(operationOrder(tracks(1), tracks(2), timing), {
            make: ["production", "canary"],
            break: [],
            drainSeconds: 0,
            settleSeconds: 5,
            changes: { production: "keeps", canary: "grows" },
            cautious: false,
        });
    });
    it("rolls production to the new tag before routing at promote; no settle, production gains no traffic", () => {
        assert.deepStrictEqual(operationOrder(tracks(4), tracks(5), timing), {
            make: ["production", "canary"],
            break: [],
            drainSeconds: 0,
            settleSeconds: 0,
            changes: { production: "grows", canary: "keeps" },
            cautious: false,
        });
    });
    it("on rollback, scales the canary down after routing and a drain delay", () => {
        const order = operationOrder(tracks(3), tracks(1), timing);
        assert.deepStrictEqual([order.make, order.break, order.drainSeconds, order.settleSeconds], [["production"], ["canary"], 30, 0]);
        assert.deepStrictEqual(order.changes, { production: "keeps", canary: "shrinks" });
    });
    it("needs no drain when the pods scaled down carried no traffic", () => {
        const order = operationOrder(tracks(6), tracks(1), timing);
        assert.deepStrictEqual([order.make, order.break, order.drainSeconds], [["production"], ["canary"], 0]);
    });
    it("a track that changes tag and loses pods while losing traffic shrinks: after routing and drain", () => {
        const prev = { production: { tag: "01", replicas: 4, weight: 10 }, canary: { tag: "02", replicas: 4, weight: 90 } };
        const next = { production: { tag: "03", replicas: 2, weight: 100 }, canary: { tag: "03", replicas: 0, weight: 0 } };
        // production: fewer pods but more traffic — the plan sizes its 2 pods for 100%: ready before the routing.
        const order = operationOrder(prev, next, timing);
        assert.deepStrictEqual(order.changes, { production: "shrinks", canary: "shrinks" });
        assert.deepStrictEqual([order.make, order.break, order.drainSeconds], [["production"], ["canary"], 30]);
        const lose = operationOrder(
            { production: { tag: "01", replicas: 4, weight: 90 }, canary: { tag: "02", replicas: 1, weight: 10 } },
            { production: { tag: "02", replicas: 2, weight: 10 }, canary: { tag: "02", replicas: 4, weight: 90 } },
            timing,
        );
        assert.deepStrictEqual([lose.changes.production, lose.break, lose.drainSeconds], ["shrinks", ["production"], 30], "a new tag with fewer pods is no growth");
    });
    it("a stay that lowers replicas on a track keeping its traffic needs no route change and no drain", () => {
        const prev = { production: { tag: "01", replicas: 5, weight: 100 }, canary: { tag: "01", replicas: 0, weight: 0 } };
        const next = { production: { tag: "01", replicas: 3, weight: 100 }, canary: { tag: "01", replicas: 0, weight: 0 } };
        const order = operationOrder(prev, next, timing);
        assert.deepStrictEqual([order.changes.production, order.make, order.break, order.drainSeconds, order.settleSeconds], ["shrinks", ["production", "canary"], [], 0, 0]);
    });
    it("with the previous state unknown, takes the cautious order: grow and settle, route, drain, shrink", () => {
        const first = operationOrder(undefined, tracks(2), timing);
        assert.deepStrictEqual(first, {
            make: ["production", "canary"],
            break: [],
            drainSeconds: 0,
            settleSeconds: 5,
            changes: { production: "grows", canary: "grows" },
            cautious: true,
        });
        const idle = operationOrder(undefined, tracks(1), timing);
        // The canary might have carried traffic: it goes after the routing and a full drain.
        assert.deepStrictEqual([idle.make, idle.break, idle.drainSeconds, idle.cautious], [["production"], ["canary"], 30, true]);
    });
    it("holds a partly sized track at full size when the past is unknown, and says so", () => {
        const plan = stagePlans({ stable: "01", canary: "02", replicas: 5, steps: [10, 90, 100] })[1];
        const held = holdForUnknownPast(plan, 5);
        assert.deepStrictEqual([held.production.replicas, held.canary.replicas, held.canary.weight], [5, 5, 10]);
        assert.deepStrictEqual(heldWords(plan, held), ["canary held at x5 (planned x2) until the next update"]);
        assert.deepStrictEqual(holdForUnknownPast(stagePlans({ stable: "01", replicas: 5, steps: [10, 90, 100] })[0], 5).canary.replicas, 0, "an idle canary stays at 0");
    });
    it("classifies each track by what it really does", () => {
        const t = (tag: string, replicas: number) => ({ tag, replicas, weight: 0 });
        assert.deepStrictEqual(
            [trackChange(t("1", 2), t("1", 3)), trackChange(t("1", 2), t("2", 2)), trackChange(t("1", 2), t("1", 2)), trackChange(t("1", 3), t("2", 2)), trackChange(undefined, t("1", 2)), trackChange(t("1", 0), t("2", 0))],
            ["grows", "grows", "keeps", "shrinks", "grows", "keeps"],
        );
    });
    it("waits are replaced only when needed, and two in a row both wait", () => {
        const first = nextWait(undefined, 30);
        const second = nextWait(first, 30);
        assert.deepStrictEqual([first, second, nextWait(second, 0), nextWait(undefined, 0)], [
            { count: 1, seconds: 30 },
            { count: 2, seconds: 30 },
            { count: 2, seconds: 30 },
            { count: 0, seconds: 0 },
        ]);
    });
    it("with the previous state unknown, a wait carries the update's identity in its trigger", () => {
        const cautious = nextWait(undefined, 30, "u-1");
        assert.deepStrictEqual(cautious, { count: 1, seconds: 30, update: "u-1" });
        assert.strictEqual(waitTrigger(cautious), "1 (update u-1)");
        assert.strictEqual(waitTrigger(nextWait(undefined, 30)), "1");
        // A later move that does not wait keeps it (and its trigger); one that waits counts on from it.
        assert.strictEqual(waitTrigger(nextWait(cautious, 0)), "1 (update u-1)");
        assert.strictEqual(waitTrigger(nextWait(cautious, 30)), "2");
    });
});

describe("make before break in a lean release (production: follows-traffic)", () => {
    const plans = stagePlans({ stable: "01", canary: "02", replicas: 4, steps: [10, 90, 100], production: "follows-traffic" });
    const tracks = (s: number) => ({ production: plans[s - 1].production, canary: plans[s - 1].canary });

    it("shrinks production only after the routing took its share away and the drain ran", () => {
        const order = operationOrder(tracks(2), tracks(3), timing);
        assert.deepStrictEqual([order.make, order.break, order.drainSeconds, order.settleSeconds], [["canary"], ["production"], 30, 5]);
        assert.deepStrictEqual(growsBackWords(tracks(2), tracks(3), order), []);
    });

    it("on rollback from the canary's 100%, grows production back first: made, settled, then routed, then the canary drains", () => {
        const order = operationOrder(tracks(4), tracks(1), timing);
        assert.deepStrictEqual([order.make, order.break, order.drainSeconds, order.settleSeconds], [["production"], ["canary"], 30, 5]);
        assert.deepStrictEqual(order.changes, { production: "grows", canary: "shrinks" });
        assert.deepStrictEqual(growsBackWords(tracks(4), tracks(1), order), ["production grows back first: x1 -> x4, 3 pods start and settle before 100% of traffic moves onto it"]);
    });

    it("at switch back, grows production to full size before it takes the traffic back", () => {
        const order = operationOrder(tracks(5), tracks(6), timing);
        assert.deepStrictEqual([order.make, order.break, order.drainSeconds, order.settleSeconds], [["production"], ["canary"], 30, 5]);
        assert.deepStrictEqual(growsBackWords(tracks(5), tracks(6), order), ["production grows back first: x1 -> x4, 3 pods start and settle before 100% of traffic moves onto it"]);
        assert.deepStrictEqual(growsBackWords(tracks(3), tracks(1), operationOrder(tracks(3), tracks(1), timing)), [
            "production grows back first: x2 -> x4, 2 pods start and settle before 100% of traffic moves onto it",
        ]);
    });

    it("says nothing of growing back when production keeps its full size, or when the previous state is unknown", () => {
        const full = stagePlans({ stable: "01", canary: "02", replicas: 4, steps: [10, 90, 100] });
        const f = (s: number) => ({ production: full[s - 1].production, canary: full[s - 1].canary });
        for (const from of [2, 3, 4, 5]) assert.deepStrictEqual(growsBackWords(f(from), f(1), operationOrder(f(from), f(1), timing)), [], `rollback from ${from}`);
        assert.deepStrictEqual(growsBackWords(undefined, tracks(1), operationOrder(undefined, tracks(1), timing)), []);
    });

    it("holds a lean production at full size when the previous state is unknown, as any partly sized track", () => {
        assert.deepStrictEqual(holdForUnknownPast(tracks(4), 4).production, { ...tracks(4).production, replicas: 4 });
        assert.deepStrictEqual(holdForUnknownPast(tracks(3), 4).production, { ...tracks(3).production, replicas: 4 });
        // The switch back's drained canary stays at 0: it carries nothing whatever was deployed.
        assert.deepStrictEqual(holdForUnknownPast(tracks(6), 4).canary, tracks(6).canary);
    });
});
