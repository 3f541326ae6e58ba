import * as assert from "assert";
import { DeployedService } from "../../components/service/deployed";
import { allowedNext, checkMove, moveError, ServiceIntent } from "../../components/service/moves";
import { stageNames, stagePlans } from "../../components/service/stages";

function deployed(stage: number, extra: Partial<DeployedService> = {}): DeployedService {
    const steps = extra.steps ?? [10, 90, 100];
    const stable = extra.stable ?? "01";
    const canary = "canary" in extra ? extra.canary : "02";
    const plan = stagePlans({ stable, canary, replicas: 3, steps })[stage - 1];
    return { stage, stable, canary, steps, completed: true, tracks: { production: plan.production, canary: plan.canary }, mirrorPercent: 0, ...extra };
}
const intent = (stage: number, extra: Partial<ServiceIntent> = {}): ServiceIntent => ({ stage, stable: "01", canary: "02", steps: [10, 90, 100], allowSkip: false, ...extra });

function refused(prev: DeployedService, next: ServiceIntent): { reason: string; allowed: string } {
    const check = checkMove(prev, next);
    if (check.ok) assert.fail(`move was allowed: ${check.words}`);
    return check;
}

describe("stage moves (components/service/moves.ts)", () => {
    it("allows the first deployment at any stage", () => {
        assert.deepStrictEqual(checkMove(undefined, intent(1)), { ok: true, kind: "first", words: "first deployment at stage 1 (idle)" });
    });

    it("allows staying, forward by exactly one stage, and rollback to 1 from every stage", () => {
        for (let s = 1; s <= 6; s++) {
            assert.strictEqual((checkMove(deployed(s), intent(s)) as any).kind, "stay", `stay at ${s}`);
            if (s < 6) assert.strictEqual((checkMove(deployed(s), intent(s + 1)) as any).kind, "forward", `${s} -> ${s + 1}`);
            if (s > 1) assert.deepStrictEqual(checkMove(deployed(s), intent(1)), { ok: true, kind: "rollback", words: `rollback from stage ${deployed(s).stage} (${stageNames(intent(1))[s - 1]}) to stage 1: all traffic to 01` });
        }
    });

    it("allows finishing after the last stage: stable set to the released tag, stage 1", () => {
        assert.deepStrictEqual(checkMove(deployed(6), intent(1, { stable: "02", canary: undefined })), {
            ok: true,
            kind: "finish",
            words: "finish the release: stable 01 -> 02, canary scaled to 0",
        });
        assert.strictEqual((checkMove(deployed(8, { steps: [10, 25, 50, 75, 100] }), intent(1, { stable: "02", steps: [10, 25, 50, 75, 100] })) as any).kind, "finish");
    });

    it("refuses skipping stages forward, saying what is allowed next", () => {
        const check = refused(deployed(2), intent(4));
        assert.strictEqual(check.reason, "stage 2 (canary 10%) -> 4 (canary 100%) skips stage 3 (move one stage at a time, or set allowSkip)");
        assert.strictEqual(check.allowed, "stay at 2, 3 (canary 90%), or 1 (rollback)");
        assert.strictEqual(
            moveError("staging", "checkout", 2, 4, check as any),
            "stack staging, service checkout, field stage: cannot move from stage 2 to 4: stage 2 (canary 10%) -> 4 (canary 100%) skips stage 3 (move one stage at a time, or set allowSkip). Allowed next: stay at 2, 3 (canary 90%), or 1 (rollback).",
        );
        assert.match(refused(deployed(1), intent(5)).reason, /skips stages 2 to 4/);
    });

    it("allows skipping with allowSkip", () => {
        assert.deepStrictEqual(checkMove(deployed(1), intent(4, { allowSkip: true })), { ok: true, kind: "skip", words: "skip from stage 1 (idle) to 4 (canary 100%) (allowSkip)" });
    });

    it("refuses going back other than to stage 1", () => {
        assert.match(refused(deployed(3), intent(2)).reason, /stage 3 \(canary 90%\) -> 2 \(canary 10%\) goes back without rolling back \(the way back is stage 1\)/);
    });

    it("refuses changing canary, stable or steps in the middle of a release", () => {
        assert.match(refused(deployed(3), intent(3, { canary: "03" })).reason, /^`canary` changed from 02 to 03 in the middle of a release: a release keeps its revision from its first stage to its end \(roll back first: stage: 1, then start the new revision at stage 2\)$/);
        assert.match(refused(deployed(3), intent(4, { stable: "00" })).reason, /^`stable` changed from 01 to 00 in the middle of a release/);
        assert.match(refused(deployed(4), intent(1, { stable: "02" })).reason, /^`stable` changed from 01 to 02 in the middle of a release \(stable changes only by finishing: stage 1 with stable set to the released canary tag after stage 6\)$/);
        assert.match(refused(deployed(2), intent(2, { steps: [10, 50, 100] })).reason, /^`steps` changed from \[10, 90, 100\] to \[10, 50, 100\] in the middle of a release/);
    });

    it("refuses changing stable at stage 1 without allowSkip (that would deploy without a canary)", () => {
        assert.match(refused(deployed(1), intent(1, { stable: "03", canary: undefined })).reason, /deploys without a canary/);
        assert.strictEqual((checkMove(deployed(1), intent(1, { stable: "03", allowSkip: true })) as any).kind, "direct");
    });

    it("refuses going forward from a stage whose rollout did not complete, but allows retry and rollback", () => {
        const failed = deployed(3, { completed: false });
        const check = refused(failed, intent(4));
        assert.strictEqual(check.reason, "stage 3 (canary 90%) did not complete its rollout (stay at 3 to retry it, or roll back to 1)");
        assert.strictEqual(check.allowed, "stay at 3, or 1 (rollback), (forward only once stage 3 has completed)");
        assert.strictEqual((checkMove(failed, intent(3)) as any).kind, "stay");
        assert.strictEqual((checkMove(failed, intent(1)) as any).kind, "rollback");
        assert.match(refused(deployed(6, { completed: false }), intent(1, { stable: "02" })).reason, /did not complete its rollout, so the release cannot be finished yet/);
    });

    it("lists the finish among the moves allowed after the last stage", () => {
        assert.strictEqual(allowedNext(deployed(6)), 'stay at 6, finish (stage 1 with stable: "02"), or 1 (rollback)');
        assert.strictEqual(allowedNext(deployed(1)), "stay at 1, 2 (canary 10%)");
    });
});
