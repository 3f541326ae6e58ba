// change-window-open: while a stack's change window (stagehand.fleet.yaml) is closed, no forward move or direct update;
// rollbacks always. The moves are the program's own (ServiceRelease's `moveKind`), judged against the base as deployed.
import * as assert from "assert";
import { levelOf, readPackConfig } from "../../policies/offline";
import { changeWindowOpen, projectFleet } from "../../policies/rules/change-window";
import { SERVICE_RELEASE } from "../../policies/rules/services";
import { deployedOutputs } from "../../scripts/policies";
import { runProgram } from "../helpers/mocks";
import { checkStack, passes, PACK } from "./harness";

const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "1.4.2", stage: 1, replicas: 2, ...over });
// prod's calendar (stagehand.fleet.yaml): America/New_York, mon-thu 09:00-17:00, fri 09:00-12:00, a year-end freeze.
const SATURDAY = "2026-12-05T15:00:00Z";
const MONDAY_10AM = "2026-12-07T15:00:00Z";
const IN_FREEZE = "2026-12-22T15:00:00Z"; // a Tuesday at 10:00 New York, in the year-end freeze

/** The ServiceReleases the program registers for prod moving from `before` to `after`, as the rule sees them. */
async function releases(before: Record<string, unknown>, after: Record<string, unknown>) {
    const base = { cluster: { kind: "existing" }, services: before };
    const { resources } = await runProgram("prod", { cluster: { kind: "existing" }, services: after }, deployedOutputs("prod", base));
    return resources.filter((r) => r.type === SERVICE_RELEASE).map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
}

describe("policy change-window-open", () => {
    const forward = () => releases({ checkout: svc() }, { checkout: svc({ canary: "1.5.0", stage: 2 }) });

    it("is mandatory in every stack's config, and reads the shipped fleet file", () => {
        for (const stack of ["staging", "uat", "prod", "prod-eu-west-1"]) assert.strictEqual(levelOf(changeWindowOpen, readPackConfig(stack, PACK)), "mandatory", stack);
        assert.deepStrictEqual(projectFleet().waves.map((w) => w.name), ["staging", "uat", "prod", "prod-eu"]);
    });

    it("refuses a forward move in a closed window, naming the service, the wave, why and when it opens", async () => {
        const rs = await forward();
        assert.deepStrictEqual(rs.map((r) => r.props.moveKind), ["forward"], "the program's own judgement of the move");
        const out = await checkStack(changeWindowOpen, "prod", rs, { now: SATURDAY });
        assert.strictEqual(out.messages.length, 1);
        assert.match(out.messages[0], /^service checkout: a forward move in stack prod \(wave prod\) while its change window is closed: outside the allowed days and hours .*America\/New_York\); opens mon 2026-12-07 09:00 America\/New_York \(2026-12-07T14:00:00Z\)\. Roll back/);
        const frozen = await checkStack(changeWindowOpen, "prod", rs, { now: IN_FREEZE });
        assert.match(frozen.messages[0], /frozen from 2026-12-18T17:00 to 2027-01-04 \(America\/New_York\): year-end freeze: reduced on-call cover; opens tue 2027-01-05 09:00/);
    });

    it("passes in an open window, a rollback in a closed one, and a stack with no calendar", async () => {
        const open = await checkStack(changeWindowOpen, "prod", await forward(), { now: MONDAY_10AM });
        assert.match(open.notApplicable ?? "", /change window of stack prod is open until mon 2026-12-07 17:00/);
        const back = await releases({ checkout: svc({ canary: "1.5.0", stage: 3 }) }, { checkout: svc({ canary: "1.5.0", stage: 1 }) });
        assert.deepStrictEqual(back.map((r) => r.props.moveKind), [undefined], "a rollback is never judged by a window: it carries no moveKind");
        passes(await checkStack(changeWindowOpen, "prod", back, { now: SATURDAY }));
        const staging = await checkStack(changeWindowOpen, "staging", (await forward()).map((r) => ({ ...r })), { now: SATURDAY });
        assert.match(staging.notApplicable ?? "", /stack staging has no change calendar/);
    });

    it("lets a break-glass through (STAGEHAND_BREAK_GLASS=true, set by the deploy job's check)", async () => {
        process.env.STAGEHAND_BREAK_GLASS = "true";
        try {
            const out = await checkStack(changeWindowOpen, "prod", await forward(), { now: SATURDAY });
            assert.deepStrictEqual(out.messages, []);
            assert.match(out.notApplicable ?? "", /break-glass approved by a platform owner/);
        } finally {
            delete process.env.STAGEHAND_BREAK_GLASS;
        }
    });
});
