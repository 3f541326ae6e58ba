// `npm run status [-- --service <name>] [--json]`: every service in every stack, from the stack files alone:
// the stage, the tags production and the canary run, the traffic split, and where the release stands —
// releasing, switched back (finish next), or finished and ready to promote to the next environment.
import { StackConfig } from "../components/config";
import { revisionLabel, TrackPlan } from "../components/service/stages";
import { StackProblemsError } from "../components/shared/errors";
import { parseCommandLine, UsageError } from "./args";
import { describeWindow, windowAt } from "../components/fleet/calendar";
import { calendarOf, chainWords, Fleet, waveOf } from "../components/fleet/waves";
import { currentTime } from "./fleet";
import { loadStack, planPromotion, PromotionContext, promotionContext, ReleaseState, releaseState, stacksInOrder, stageWords } from "./releases";
import { projectRoot } from "./stack-file";

export const USAGE = `usage: npm run status [-- --service <name>] [--json]
  every service in every stack, wave by wave (stagehand.fleet.yaml; default staging -> uat -> prod):
  stage, tags, traffic, where its release stands, and each stack's change window
  --service  one service only
  --json     one JSON object instead of the table
exit codes: 0 shown, 1 a stack file is invalid (the others are shown) or the fleet file is, 2 usage`;

export interface StatusCell {
    stage: number;
    stageCount: number;
    stageName: string;
    stable: string;
    canary?: string;
    /** What each track runs: its tag, revision (label and id), replicas and weight. */
    tracks: { production: TrackPlan; canary: TrackPlan };
    mirrorPercent: number;
    release: ReleaseState;
    /** The next wave's stacks where `npm run promote -- <service> --to <it>` would start the finished tag now. */
    readyFor?: string;
    /** When the release may start in the next wave, when only its bake keeps it from starting now. */
    bakingUntil?: string;
}

/** A wave of the fleet as status shows it: its stacks, its bake, each stack's change window now. */
export interface StatusWave {
    name: string;
    stacks: string[];
    bake?: string;
    /** stack -> its change window in words ("open", "closed: …; opens …"); absent: no calendar. */
    windows: Record<string, { open: boolean; words: string; opensAt?: string }>;
}

export interface Status {
    /** The chain in words, and where it comes from. */
    chain: string;
    /** Whether stagehand.fleet.yaml wrote the chain (else the default, one stack per wave, shown as before). */
    fleetFile: boolean;
    waves: StatusWave[];
    stacks: string[];
    /** service -> stack -> its state there; null when the stack has no such service (or its file is invalid). */
    services: Record<string, Record<string, StatusCell | null>>;
    /** Stacks whose file the program would refuse, with every problem. */
    invalid: Record<string, string[]>;
}

/** The status of every service (or one) across the stacks of `root`. */
export function collectStatus(root = projectRoot, only?: string, now = new Date()): Status {
    const context: PromotionContext = promotionContext(root, now);
    const fleet: Fleet = context.fleet;
    const stacks = stacksInOrder(root);
    const loaded: Record<string, { text: string; config: StackConfig }> = {};
    const invalid: Record<string, string[]> = {};
    for (const stack of stacks) {
        try {
            loaded[stack] = loadStack(stack, root);
        } catch (e: any) {
            invalid[stack] = e instanceof StackProblemsError ? e.problems : [e.message];
        }
    }
    const names = [...new Set(Object.values(loaded).flatMap((s) => s.config.planned.map((p) => p.name)))].sort();
    const services: Status["services"] = {};
    for (const name of names) {
        if (only !== undefined && name !== only) continue;
        services[name] = {};
        for (const stack of stacks) {
            const planned = loaded[stack]?.config.planned.find((p) => p.name === name);
            if (!planned) {
                services[name][stack] = null;
                continue;
            }
            const { service, plan } = planned;
            const cell: StatusCell = {
                stage: plan.stage,
                stageCount: plan.stageCount,
                stageName: plan.name,
                stable: service.stable,
                ...(service.canary !== undefined ? { canary: service.canary } : {}),
                tracks: { production: { ...plan.production }, canary: { ...plan.canary } },
                mirrorPercent: plan.mirrorPercent,
                release: releaseState(planned),
            };
            // Ready for the next wave's stacks where the release could start now; baking when only the bake is left.
            const at = waveOf(fleet, stack);
            const next = at ? fleet.waves[at.index + 1] : undefined;
            if (next && cell.release.state === "idle") {
                const ready: string[] = [];
                for (const target of next.stacks.filter((t) => loaded[t])) {
                    const promotion = planPromotion(name, target, { from: loaded, to: loaded[target] }, context);
                    if (promotion.ok) ready.push(target);
                    else if (promotion.bakeEndsAt) cell.bakingUntil = promotion.bakeEndsAt.toISOString().replace(/\.000Z$/, "Z");
                }
                if (ready.length > 0) cell.readyFor = ready.join(", ");
            }
            services[name][stack] = cell;
        }
    }
    const waves: StatusWave[] = fleet.waves.map((w) => {
        const windows: StatusWave["windows"] = {};
        for (const stack of w.stacks) {
            const calendar = calendarOf(fleet, stack);
            if (!calendar) continue;
            const window = windowAt(calendar, now);
            windows[stack] = { open: window.open, words: describeWindow(calendar, window), ...(!window.open && window.opensAt ? { opensAt: window.opensAt.toISOString() } : {}) };
        }
        return { name: w.name, stacks: w.stacks, ...(w.bake ? { bake: w.bake } : {}), windows };
    });
    return { chain: fleet.fromFile ? `${chainWords(fleet)} (${fleet.source})` : chainWords(fleet), fleetFile: fleet.fromFile, waves, stacks, services, invalid };
}

/** Whether the canary track holds a revision other than production's: a canary that still has a tag. */
function idleCanary(cell: StatusCell): boolean {
    const { production, canary } = cell.tracks;
    return cell.canary !== undefined && canary.replicas === 0 && (production.revision && canary.revision ? production.revision.id !== canary.revision.id : production.tag !== canary.tag);
}

function releaseWords(cell: StatusCell): string {
    const r = cell.release;
    if (r.state === "releasing") return `releasing ${revisionLabel(cell.tracks.canary)}`;
    if (r.state === "switched back") return `releasing ${revisionLabel(cell.tracks.canary)}, finish next`;
    // At stage 1 a canary that still names another revision was rolled back (or not started): say so.
    const canary = idleCanary(cell) ? `; canary ${revisionLabel(cell.tracks.canary)} at 0 pods (rolled back or not started)` : "";
    const baking = cell.bakingUntil ? `, baking until ${cell.bakingUntil}` : "";
    return `${cell.readyFor ? `finished ${r.finished}, ready for ${cell.readyFor}` : `on ${r.finished}`}${baking}${canary}`;
}

function table(rows: string[][]): string[] {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
}

/** The table: one row per service and stack, the service named on its first row. */
export function formatStatus(status: Status): string[] {
    // The wave column when a fleet file groups the stacks; the default chain is a stack per wave of its name.
    const withWave = status.fleetFile;
    const rows: string[][] = [["SERVICE", ...(withWave ? ["WAVE"] : []), "STACK", "STAGE", "REVISIONS production / canary", "TRAFFIC production / canary", "RELEASE"]];
    const waveName = (stack: string) => (withWave ? [status.waves.find((w) => w.stacks.includes(stack))?.name ?? "-"] : []);
    for (const [name, byStack] of Object.entries(status.services)) {
        status.stacks.forEach((stack, i) => {
            const cell = byStack[stack];
            const first = i === 0 ? name : "";
            if (!cell) {
                rows.push([first, ...waveName(stack), stack, "-", "-", "-", status.invalid[stack] ? "invalid stack file" : "not in this stack"]);
                return;
            }
            const canaryTag = cell.tracks.canary.replicas > 0 ? revisionLabel(cell.tracks.canary) : idleCanary(cell) ? `(${revisionLabel(cell.tracks.canary)} x0)` : "-";
            const mirror = cell.mirrorPercent > 0 ? `, ${cell.mirrorPercent}% mirrored` : "";
            rows.push([
                first,
                ...waveName(stack),
                stack,
                stageWords({ stage: cell.stage, stageCount: cell.stageCount, name: cell.stageName }),
                `${revisionLabel(cell.tracks.production)} / ${canaryTag}`,
                `${cell.tracks.production.weight} / ${cell.tracks.canary.weight}${mirror}`,
                releaseWords(cell),
            ]);
        });
    }
    const lines = [`releases go ${status.chain}; stacks here: ${status.stacks.join(", ") || "none"}`];
    for (const w of status.fleetFile ? status.waves : []) {
        const windows = w.stacks.filter((s) => w.windows[s]).map((s) => `  ${s}: change window ${w.windows[s].words}`);
        lines.push(`wave ${w.name}: ${w.stacks.join(", ")}${w.bake ? `; a release bakes ${w.bake} here before the next wave` : ""}`, ...windows);
    }
    lines.push("");
    if (Object.keys(status.services).length > 0) lines.push(...table(rows));
    else lines.push("no services");
    for (const [stack, problems] of Object.entries(status.invalid)) {
        lines.push("", `stack ${stack}: Pulumi.${stack}.yaml is not valid:`, ...problems.map((p) => `  - ${p}`));
    }
    return lines;
}

export interface StatusOptions {
    /** The environment npm ran the command in (default process.env): flags npm kept for itself are there. */
    env?: NodeJS.ProcessEnv;
    out?: (line: string) => void;
    err?: (line: string) => void;
    root?: string;
}

export function main(argv: string[], options: StatusOptions = {}): number {
    const out = options.out ?? ((s: string) => console.log(s));
    const err = options.err ?? ((s: string) => console.error(s));
    const root = options.root ?? projectRoot;
    let parsed;
    try {
        parsed = parseCommandLine(argv, {
            options: { service: { type: "string" }, json: { type: "boolean" } },
            positionals: { min: 0, max: 0, names: "no arguments (flags only)" },
            usage: USAGE,
        }, options.env);
    } catch (e: any) {
        if (!(e instanceof UsageError)) throw e;
        err(`status: ${e.message}`);
        return 2;
    }
    if (parsed.help) {
        out(USAGE);
        return 0;
    }
    const only = parsed.values.service;
    let now: Date;
    try {
        now = currentTime(options.env ?? process.env);
    } catch (e: any) {
        err(`status: ${e.message}`);
        return 2;
    }
    let status: Status;
    try {
        status = collectStatus(root, only, now);
    } catch (e: any) {
        // A fleet file the commands refuse (every problem, naming the file and field), or a stack file's name.
        err(`status: ${e.message}`);
        return 1;
    }
    if (only !== undefined && !status.services[only]) {
        const all = Object.keys(collectStatus(root, undefined, now).services);
        err(`status: no service ${JSON.stringify(only)} in any stack (services: ${all.join(", ") || "none"})`);
        return 2;
    }
    if (parsed.values.json) out(JSON.stringify(status, null, 2));
    else for (const line of formatStatus(status)) out(line);
    return Object.keys(status.invalid).length > 0 ? 1 : 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
