// The rule about change windows (docs/fleet.md "Change windows"): while a stack's calendar (stagehand.fleet.yaml, its own or
// its wave's) is closed, no service makes a forward move or a direct update; a rollback, a stay and a finish always
// may. The same pure judgement (components/fleet/calendar.ts `windowAt`) as `plan --diff`, `status` and the deploy
// job's check. The time is the clock's, or the rule's `now` config (a what-if, and the tests); a break-glass counts
// only as the deploy job's check says (`npm run break-glass`), which then sets STAGEHAND_BREAK_GLASS=true for the run.
import * as fs from "fs";
import * as path from "path";
import { describeWindow, windowAt, WINDOWED_MOVES } from "../../components/fleet/calendar";
import { calendarOf, defaultFleet, Fleet, FLEET_FILE, parseFleet, waveOf } from "../../components/fleet/waves";
import { BREAK_GLASS_LABEL } from "../../components/governance/labels";
import { configOf, known, Rule, stackOfUrn } from "./common";
import { SERVICE_RELEASE } from "./services";


/** The project's fleet file, next to the pack's code: the code being deployed or previewed. */
export function projectFleet(root = path.resolve(__dirname, "..", "..")): Fleet {
    const file = path.join(root, FLEET_FILE);
    return fs.existsSync(file) ? parseFleet(fs.readFileSync(file, "utf8"), FLEET_FILE) : defaultFleet();
}

export const changeWindowOpen: Rule = {
    name: "change-window-open",
    description:
        "While the stack's change window is closed (stagehand.fleet.yaml: a freeze, or outside the allowed days and hours), no service moves forward or is updated directly; rollbacks always may. A break-glass approved by a platform owner (STAGEHAND_BREAK_GLASS=true, set by the deploy job's check) lets them through.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            now: { type: "string", description: "Judge the window at this ISO instant instead of the clock (a what-if; the tests)." },
        },
    },
    validateStack: (args, report) => {
        const { now } = configOf(args, { now: undefined as string | undefined });
        const releases = args.resources.filter((r) => r.type === SERVICE_RELEASE);
        const stack = args.resources.map((r) => stackOfUrn(r.urn)).find((s) => s !== undefined);
        if (stack === undefined) args.notApplicable("no resources in this stack");
        const fleet = projectFleet();
        const calendar = calendarOf(fleet, stack!);
        if (!calendar) args.notApplicable(`stack ${stack} has no change calendar in ${FLEET_FILE}`);
        const at = now === undefined ? new Date() : new Date(now);
        if (Number.isNaN(at.getTime())) {
            report(`the rule's config "now" is ${JSON.stringify(now)}: expected an ISO instant such as 2026-12-21T09:00:00Z`);
            return;
        }
        const window = windowAt(calendar!, at);
        if (window.open) args.notApplicable(`the change window of stack ${stack} is ${describeWindow(calendar!, window)}`);
        if (process.env.STAGEHAND_BREAK_GLASS === "true") args.notApplicable(`the change window of stack ${stack} is closed; break-glass approved by a platform owner (STAGEHAND_BREAK_GLASS=true)`);
        const wave = waveOf(fleet, stack!)?.wave;
        for (const r of releases) {
            const kind = known(() => r.props.moveKind);
            if (typeof kind !== "string" || !(WINDOWED_MOVES as readonly string[]).includes(kind)) continue;
            report(
                `service ${r.name}: a ${kind} move in stack ${stack}${wave ? ` (wave ${wave.name})` : ""} while its change window is ${describeWindow(calendar!, window)}. ` +
                    `Roll back (stage: 1 with stable unchanged), which is always allowed, or wait for the window; a platform owner who is not the author can approve a break-glass (label ${BREAK_GLASS_LABEL})`,
            );
        }
    },
};
