// `npm run history [-- --service <name>] [--since <date>] [--until <date>] [--json] [--svg <dir>] [--moved-since <ref>]`:
// the release ledger, from the git history of the stack files alone: every move of every service in every stack
// (stage, revisions, commit, pull request, author, when, time spent in the stage it left), the releases across the
// chain, and their DORA figures per service and per stack. `--svg` draws each release's timeline.
import * as fs from "fs";
import * as path from "path";
import { DoraFigures, DoraReport, doraReport } from "../components/ledger/dora";
import { LedgerMove, stackMoves, UnreadableCommit } from "../components/ledger/moves";
import { Release, releasesOf } from "../components/ledger/releases";
import { durationWords, releaseTimelineSvg, timelineFileName } from "../components/ledger/timeline-svg";
import { parseCommandLine, UsageError } from "./args";
import { commitsSince, stackHistories } from "./history-git";
import { byFleetOrder, chainWords, defaultFleet, Fleet, stackOrder } from "../components/fleet/waves";
import { loadFleet } from "./fleet";
import { projectRoot } from "./stack-file";

export const USAGE = `usage: npm run history [-- --service <name>] [--since <date>] [--until <date>] [--json] [--svg <dir>] [--moved-since <git-ref>] [--root <dir>]
  the release ledger from the git history of the stack files (in the fleet's order, e.g. ${chainWords(defaultFleet())}): every move per stack,
  the releases across the stacks, and their DORA figures per service and per stack
  --service      one service only
  --since        from this date (2026-03-01 or 2026-03-01T12:00:00Z, UTC); default: the first commit of a stack file
  --until        to this date; default: now
  --json         one JSON object instead of the tables
  --svg          write one SVG timeline per release shown into this directory
  --moved-since  only the releases (and moves) the commits after this git revision move: what a pull request touches
  --root         the checkout whose git history is read (default: this project)
exit codes: 0 shown, 2 usage`;

/** The stacks a release goes through, in order: the fleet's chain (components/fleet/waves.ts), among the stacks the history holds. */
export function releaseChain(stacks: string[], fleet: Fleet = defaultFleet()): string[] {
    return stackOrder(fleet).filter((s) => stacks.includes(s));
}

export interface Ledger {
    /** Every stack the history holds, in promotion order. */
    stacks: string[];
    /** The stacks a release goes through, in order. */
    chain: string[];
    window: { since: number; until: number };
    moves: LedgerMove[];
    unreadable: UnreadableCommit[];
    releases: Release[];
    dora: DoraReport;
}

export interface LedgerOptions {
    service?: string;
    since?: number;
    until: number;
    /** Keep only the releases (and moves) of these commits. */
    commits?: Set<string>;
}

/** The ledger of the repository at `root`. */
export function collectLedger(root: string, options: LedgerOptions): Ledger {
    const histories = stackHistories(root);
    // The fleet as the checkout at `root` defines it (its stagehand.fleet.yaml, else staging -> uat -> prod).
    const fleet = loadFleet(root);
    const byPromotionOrder = byFleetOrder(fleet);
    const stacks = Object.keys(histories).sort(byPromotionOrder);
    const chain = releaseChain(stacks, fleet);
    let moves: LedgerMove[] = [];
    let unreadable: UnreadableCommit[] = [];
    for (const stack of stacks) {
        const found = stackMoves(stack, histories[stack]);
        moves.push(...found.moves);
        unreadable.push(...found.unreadable);
    }
    const byTime = (a: { commit: { time: number } }, b: { commit: { time: number } }) => a.commit.time - b.commit.time;
    moves.sort((a, b) => byTime(a, b) || byPromotionOrder(a.stack, b.stack) || a.service.localeCompare(b.service));
    unreadable.sort((a, b) => byTime(a, b) || byPromotionOrder(a.stack, b.stack));
    const first = Math.min(...moves.map((m) => m.commit.time), ...unreadable.map((u) => u.commit.time), options.until);
    const window = { since: options.since ?? first, until: options.until };
    if (options.service !== undefined) moves = moves.filter((m) => m.service === options.service);
    let releases = releasesOf(moves, chain, byPromotionOrder);
    const dora = doraReport(releases, stacks, chain, window);
    const inWindow = (t: number) => t >= window.since && t <= window.until;
    moves = moves.filter((m) => inWindow(m.commit.time));
    unreadable = unreadable.filter((u) => inWindow(u.commit.time));
    releases = releases.filter((r) => r.attempts.some((a) => a.moves.some((m) => inWindow(m.commit.time))));
    if (options.commits) {
        const touched = options.commits;
        releases = releases.filter((r) => r.attempts.some((a) => a.moves.some((m) => touched.has(m.commit.sha))));
        moves = moves.filter((m) => touched.has(m.commit.sha));
        unreadable = unreadable.filter((u) => touched.has(u.commit.sha));
    }
    return { stacks, chain, window, moves, unreadable, releases, dora };
}

const when = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");

function table(rows: string[][]): string[] {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
}

const stageText = (s: LedgerMove["from"]) => (s ? `${s.stage}/${s.stageCount} ${s.name}` : "-");

function attemptWords(release: Release, stack: string): string {
    const attempts = release.attempts.filter((a) => a.stack === stack);
    if (attempts.length === 0) return "-";
    return attempts
        .map((a) => {
            if (a.outcome === "finished") return `finished in ${durationWords(a.endedAt! - a.startedAt)}`;
            if (a.outcome === "rolled back") return `rolled back from ${a.moves[a.moves.length - 1].from?.name} after ${durationWords(a.endedAt! - a.startedAt)}`;
            if (a.outcome === "removed") return "removed";
            const at = a.moves[a.moves.length - 1].to;
            return at ? `at ${at.stage}/${at.stageCount} ${at.name}` : "open";
        })
        .join(", then ");
}

function figureRow(scope: string, f: DoraFigures): string[] {
    return [
        scope,
        String(f.releases),
        String(f.finished),
        f.deploymentsPerWeek === undefined ? "-" : f.deploymentsPerWeek.toFixed(2),
        f.leadTimeSeconds === undefined ? "-" : durationWords(f.leadTimeSeconds),
        f.changeFailureRate === undefined ? "-" : `${Math.round(f.changeFailureRate * 100)}% (${f.failedReleases}/${f.releases})`,
        f.timeToRestoreSeconds === undefined ? "-" : durationWords(f.timeToRestoreSeconds),
    ];
}

/** The ledger as tables: the moves per stack, the releases across the stacks, the DORA figures. */
export function formatLedger(ledger: Ledger): string[] {
    const lines = [
        `release ledger ${when(ledger.window.since)} .. ${when(ledger.window.until)} UTC; releases go ${ledger.chain.join(" -> ") || "(no stack of the chain)"}; stacks: ${ledger.stacks.join(", ") || "none"}`,
    ];
    for (const stack of ledger.stacks) {
        const moves = ledger.moves.filter((m) => m.stack === stack);
        const unreadable = ledger.unreadable.filter((u) => u.stack === stack);
        if (moves.length === 0 && unreadable.length === 0) continue;
        lines.push("", `stack ${stack}: ${moves.length} move${moves.length === 1 ? "" : "s"}`);
        const rows = [["WHEN (UTC)", "SERVICE", "MOVE", "STAGE", "PRODUCTION / CANARY", "TIME IN PREVIOUS STAGE", "COMMIT", "PR", "AUTHOR"]];
        for (const m of moves) {
            const canary = m.canary.after ?? m.canary.before;
            rows.push([
                when(m.commit.time),
                m.service,
                m.kind,
                `${stageText(m.from)} -> ${stageText(m.to)}`,
                `${m.production.after ?? m.production.before} / ${m.to && m.to.stage > 1 ? canary : "-"}`,
                m.secondsInFrom === undefined ? "-" : durationWords(m.secondsInFrom),
                m.commit.sha.slice(0, 7),
                m.commit.pr === undefined ? "-" : `#${m.commit.pr}`,
                m.commit.author,
            ]);
        }
        if (moves.length > 0) lines.push(...table(rows));
        for (const u of unreadable) lines.push(`unreadable at ${u.commit.sha.slice(0, 7)} (${when(u.commit.time)}): ${u.problem.split("\n").join(" ")}`);
    }
    lines.push("", `releases: ${ledger.releases.length}`);
    if (ledger.releases.length > 0) {
        const rows = [["SERVICE", "REVISION", "STARTED (UTC)", ...ledger.stacks, "LEAD TIME", "ROLLBACKS"]];
        for (const r of ledger.releases) {
            rows.push([r.service, r.revision, when(r.startedAt), ...ledger.stacks.map((s) => attemptWords(r, s)), r.leadTimeSeconds === undefined ? "-" : durationWords(r.leadTimeSeconds), String(r.rollbacks)]);
        }
        lines.push(...table(rows));
    }
    const { dora } = ledger;
    lines.push(
        "",
        `DORA figures over ${dora.window.weeks.toFixed(1)} weeks: a deployment is a finish, a failure a release rolled back, time to restore the time users spent on the stage rolled back (medians)`,
    );
    const rows = [["SCOPE", "RELEASES", "FINISHED", "DEPLOYS/WEEK", "LEAD TIME", "CHANGE FAILURE", "TIME TO RESTORE"]];
    const chainName = ledger.chain.join(" -> ");
    for (const [name, figures] of Object.entries(dora.services)) {
        rows.push(figureRow(`${name}: ${chainName}`, figures.chain));
        for (const stack of ledger.stacks) rows.push(figureRow(`${name}: ${stack}`, figures.stacks[stack]));
    }
    rows.push(figureRow(`all services: ${chainName}`, dora.chain));
    for (const stack of ledger.stacks) rows.push(figureRow(`all services: ${stack}`, dora.stacks[stack]));
    lines.push(...table(rows));
    return lines;
}

/** Writes one SVG per release into `dir`; returns the files written, relative to `dir`. */
export function writeTimelines(ledger: Ledger, dir: string): { service: string; revision: string; file: string }[] {
    fs.mkdirSync(dir, { recursive: true });
    return ledger.releases.map((r) => {
        const file = timelineFileName(r);
        fs.writeFileSync(path.join(dir, file), releaseTimelineSvg(r, ledger.stacks, ledger.window.until));
        return { service: r.service, revision: r.revision, file };
    });
}

/** A date flag's value in seconds, or a UsageError saying what a date looks like. */
export function parseDate(flag: string, value: string): number {
    const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) throw new UsageError(`--${flag}: expected a date such as 2026-03-01 or 2026-03-01T12:00:00Z (UTC), found ${JSON.stringify(value)}`, USAGE);
    return Math.floor(ms / 1000);
}

export interface HistoryOptions {
    /** The environment npm ran the command in (default process.env): flags npm kept for itself are there. */
    env?: NodeJS.ProcessEnv;
    out?: (line: string) => void;
    err?: (line: string) => void;
    root?: string;
    /** Now, in seconds (default the clock): the end of the window without --until. */
    now?: number;
}

export function main(argv: string[], options: HistoryOptions = {}): number {
    const out = options.out ?? ((s: string) => console.log(s));
    const err = options.err ?? ((s: string) => console.error(s));
    let values: { service?: string; since?: string; until?: string; json?: boolean; svg?: string; "moved-since"?: string; root?: string };
    let since: number | undefined;
    let until: number;
    try {
        const parsed = parseCommandLine(argv, {
            options: {
                service: { type: "string" },
                since: { type: "string" },
                until: { type: "string" },
                json: { type: "boolean" },
                svg: { type: "string" },
                "moved-since": { type: "string" },
                root: { type: "string" },
            },
            positionals: { min: 0, max: 0, names: "no arguments (flags only)" },
            usage: USAGE,
        }, options.env);
        if (parsed.help) {
            out(USAGE);
            return 0;
        }
        values = parsed.values;
        since = values.since === undefined ? undefined : parseDate("since", values.since);
        until = values.until === undefined ? (options.now ?? Math.floor(Date.now() / 1000)) : parseDate("until", values.until);
        if (since !== undefined && since > until) throw new UsageError(`--since ${values.since} is after --until ${values.until ?? "(now)"}`, USAGE);
    } catch (e: any) {
        if (!(e instanceof UsageError)) throw e;
        err(`history: ${e.message}`);
        return 2;
    }
    const root = values.root === undefined ? (options.root ?? projectRoot) : path.resolve(values.root);
    let ledger: Ledger;
    try {
        const commits = values["moved-since"] === undefined ? undefined : commitsSince(root, values["moved-since"]);
        ledger = collectLedger(root, { service: values.service, since, until, commits });
        if (values.service !== undefined && !ledger.moves.some((m) => m.service === values.service) && ledger.releases.length === 0) {
            const all = [...new Set(collectLedger(root, { until }).moves.map((m) => m.service))].sort();
            if (!all.includes(values.service)) {
                err(`history: no service ${JSON.stringify(values.service)} in the history of any stack file (services: ${all.join(", ") || "none"})`);
                return 2;
            }
        }
    } catch (e: any) {
        err(`history: ${e.message}`);
        return 1;
    }
    const timelines = values.svg === undefined ? undefined : writeTimelines(ledger, path.resolve(values.svg));
    if (values.json) {
        const at = (t: number) => new Date(t * 1000).toISOString();
        const json = {
            ...ledger,
            window: { since: at(ledger.window.since), until: at(ledger.window.until) },
            moves: ledger.moves.map((m) => ({ ...m, commit: { ...m.commit, at: at(m.commit.time) } })),
            ...(timelines ? { timelines } : {}),
        };
        out(JSON.stringify(json, null, 2));
    } else {
        for (const line of formatLedger(ledger)) out(line);
        if (timelines) for (const t of timelines) out(`timeline of ${t.service} ${t.revision}: ${path.join(values.svg!, t.file)}`);
    }
    return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
