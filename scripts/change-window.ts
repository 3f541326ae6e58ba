// `npm run --silent change-window -- <stack> [--diff GIT-REF] [--root DIR]`: the deploy job's check before `pulumi up`
// (docs/fleet.md "Change windows"). It prints the stack's change window now (stagehand.fleet.yaml: its own calendar or its
// wave's); when the window is closed, the moves between GIT-REF (the branch before this push) and the working tree
// decide: a rollback, a stay or a finish may deploy, a forward move or a direct update may not. Without --diff a
// closed window refuses the deploy. The policy pack's rule change-window-open judges the same during `pulumi up`,
// against what the stack actually deployed.
import { describeWindow, windowAt, WINDOWED_MOVES } from "../components/fleet/calendar";
import { calendarOf, waveOf } from "../components/fleet/waves";
import { BREAK_GLASS_LABEL } from "../components/governance/labels";
import { checkStackArgument, parseCommandLine } from "./args";
import { diffStack, stackFileAt } from "./diff";
import { currentTime, loadFleet } from "./fleet";
import { projectRoot, readStackFile, stackConfigFromText } from "./stack-file";

export const WINDOW_EXIT = { open: 0, closed: 1, usage: 2 } as const;

const USAGE = `usage: npm run --silent change-window -- <stack> [--diff GIT-REF] [--root DIR]
  --diff  the revision deployed before (the deploy job: the branch before the push): only forward moves and
          direct updates since it are refused while the window is closed; rollbacks always pass
  --root  the checkout whose stack file, fleet file and git history are read (default: this code's own directory)
environment: STAGEHAND_NOW (an ISO instant) judges at that time instead of the clock
exit codes: 0 may deploy, 1 the window is closed and the change moves forward, 2 usage or config error`;

export function main(argv: string[], env: NodeJS.ProcessEnv = process.env, options: { out?: (s: string) => void; err?: (s: string) => void } = {}): number {
    const out = options.out ?? ((s: string) => console.log(s));
    const err = options.err ?? ((s: string) => console.error(s));
    let stack: string;
    let ref: string | undefined;
    let root = projectRoot;
    try {
        const { values, positionals, help } = parseCommandLine(argv, { options: { diff: { type: "string" }, root: { type: "string" } }, positionals: { min: 1, max: 1, names: "one stack" }, usage: USAGE }, env);
        if (help) {
            out(USAGE);
            return 0;
        }
        checkStackArgument(positionals[0], argv, USAGE);
        [stack] = positionals;
        ref = values.diff;
        if (values.root !== undefined) root = values.root;
    } catch (e: any) {
        err(`change-window: ${e.message}`);
        return WINDOW_EXIT.usage;
    }
    try {
        const fleet = loadFleet(root);
        const calendar = calendarOf(fleet, stack);
        const wave = waveOf(fleet, stack)?.wave;
        const where = `stack ${stack}${wave ? ` (wave ${wave.name})` : ""}`;
        if (!calendar) {
            out(`${where}: no change calendar (${fleet.source}): changes at any time`);
            return WINDOW_EXIT.open;
        }
        const window = windowAt(calendar, currentTime(env));
        out(`${where}: change window ${describeWindow(calendar, window)}`);
        if (window.open) return WINDOW_EXIT.open;
        if (ref === undefined) {
            err(`change-window: ${where}: the window is closed and no --diff revision says what this deploy changes: refused`);
            return WINDOW_EXIT.closed;
        }
        const current = readStackFile(stack, root);
        const text = stackFileAt(stack, ref, root, "--diff <ref>");
        const diffs = diffStack(stack, text === undefined ? undefined : stackConfigFromText(text, `Pulumi.${stack}.yaml at ${ref}`), current.config, { region: current.region });
        const moving = diffs.filter((d) => d.move && WINDOWED_MOVES.includes(d.move.kind));
        for (const d of diffs) out(`  ${d.line}`);
        if (moving.length === 0) {
            out(`${where}: nothing moves forward since ${ref} (rollbacks, stays and finishes are always allowed): may deploy`);
            return WINDOW_EXIT.open;
        }
        err(`change-window: ${where}: refused while the window is closed: ${moving.map((d) => `${d.service} (${d.move!.kind} ${d.move!.from ?? "new"} -> ${d.move!.to})`).join(", ")}; a platform owner who is not the author can break the glass (label ${BREAK_GLASS_LABEL} on the pull request, after its last push)`);
        return WINDOW_EXIT.closed;
    } catch (e: any) {
        err(`change-window: ${e.message}`);
        return WINDOW_EXIT.usage;
    }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
