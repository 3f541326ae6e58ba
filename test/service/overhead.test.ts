// What a release holds beyond a service's full size, and what a rollback starts (components/service/overhead.ts),
// in both production modes.
import * as assert from "assert";
import { overheadWords, releaseOverhead } from "../../components/service/overhead";
import { stagePlans } from "../../components/service/stages";

const checkout = { stable: "01", canary: "02", steps: [10, 90, 100] };

describe("release overhead (components/service/overhead.ts)", () => {
    it("full mode holds twice the pods from the canary's 90% step to the end, and rolls back instantly", () => {
        const o = releaseOverhead(stagePlans({ ...checkout, replicas: 4 }), 4);
        assert.deepStrictEqual(o, { fullReplicas: 4, heldExtra: 4, heldAt: ["canary 90%", "canary 100%", "promote", "switch back"], movingExtra: 4, rollbackStarts: 0 });
        assert.strictEqual(
            overheadWords("full", 20, o),
            "release: production keeps its full size: holds up to 4 pods beyond x4 (at canary 90%, canary 100%, promote, switch back); a rollback from a weight step is instant (production is at full size)",
        );
    });

    it("follows-traffic holds about the headroom, needs both tracks at full size only for the minutes of a switch back or rollback, and a rollback starts production's pods", () => {
        const o = releaseOverhead(stagePlans({ ...checkout, replicas: 20, production: "follows-traffic" }), 20);
        // canary 10%: 20 + 2; canary 90%: 6 + 18; canary 100% and promote: 4 + 20.
        assert.deepStrictEqual(o, { fullReplicas: 20, heldExtra: 4, heldAt: ["canary 90%", "canary 100%", "promote"], movingExtra: 20, rollbackStarts: 16, rollbackFrom: "canary 100%" });
        assert.strictEqual(
            overheadWords("follows-traffic", 20, o),
            "release: production follows traffic (headroom 20%): holds up to 4 pods beyond x20 (at canary 90%, canary 100%, promote), 20 pods for the minutes of a switch back or rollback (make before break); a rollback from canary 100% starts 16 pods of production before traffic returns",
        );
    });

    it("a smaller headroom holds fewer pods and makes the rollback start more", () => {
        const [none, some] = [0, 20].map((h) => releaseOverhead(stagePlans({ ...checkout, replicas: 20, production: "follows-traffic", productionHeadroomPercent: h }), 20));
        assert.ok(none.heldExtra < some.heldExtra, `${none.heldExtra} < ${some.heldExtra}`);
        assert.strictEqual(none.rollbackStarts, 20, "no warm pool: every production pod starts");
    });

    it("a service of one replica keeps it: nothing to save, nothing to wait for", () => {
        const o = releaseOverhead(stagePlans({ ...checkout, replicas: 1, production: "follows-traffic" }), 1);
        assert.deepStrictEqual([o.heldExtra, o.movingExtra, o.rollbackStarts], [1, 1, 0]);
    });

    it("blue/green in lean mode: production keeps only its warm pool while the canary carries everything", () => {
        const o = releaseOverhead(stagePlans({ ...checkout, replicas: 3, steps: [100], production: "follows-traffic" }), 3);
        assert.deepStrictEqual([o.heldExtra, o.rollbackStarts, o.rollbackFrom], [1, 2, "canary 100%"]);
    });
});
