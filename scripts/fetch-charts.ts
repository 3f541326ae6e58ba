// `npm run fetch-charts [-- --dir <dir>] [--mirror <url>] [--list] [--check] [--json]`: the upstream chart archives
// the tests render, at the exact versions the program pins.
//
// The pinned list is what the program itself installs: index.ts run offline (under the SDK's mocks, as
// `plan --policies` does) for every stack, keeping each Helm release whose chart comes from a repository. So a version
// bump in the code is fetched (and tested) with no second list to keep in step.
// - default: `helm pull` each pinned chart missing from the directory (`--dir`, else $STAGEHAND_CHARTS_DIR, else the
//   cache `~/.cache/stagehand/charts`; see scripts/upstream-charts.ts) from its repository, or from `--mirror`
//   ($STAGEHAND_CHART_MIRROR): one chart repository holding them all, as an Artifactory, Harbor or Nexus proxy does;
// - `--list`: the pinned charts (chart, version, repository, the stacks that install them), fetching nothing;
// - `--check`: exit 1 naming each pinned chart with no archive where the tests look (scripts/upstream-charts.ts).
// Exit codes: 0 done, 1 a chart is missing (--check) or could not be fetched (each named), 2 usage.
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine, UsageError } from "./args";
import { helmAsync } from "./helm";
import { knownStacks, projectRoot, readStackConfig } from "./stack-file";
import { archiveName, CHARTS_DIR_ENV, chartCacheDir, chartSource, missingArchives, PinnedChart, pinnedChartsOf } from "./upstream-charts";

export const MIRROR_ENV = "STAGEHAND_CHART_MIRROR";
/** How long one `helm pull` may take before it is given up (a repository that does not answer). */
const PULL_TIMEOUT_MS = 120_000;

export const USAGE = `usage: npm run fetch-charts [-- --dir <dir>] [--mirror <url>] [--list] [--check] [--json]
  the upstream chart archives the tests render, at the versions the program pins (every stack's third-party Helm releases)
  --dir     where to put them (default: $${CHARTS_DIR_ENV}, else ${chartCacheDir()})
  --mirror  pull every chart from this chart repository instead of each chart's own ($${MIRROR_ENV})
  --list    print the pinned charts and fetch nothing
  --check   fetch nothing; exit 1 naming each pinned chart with no archive where the tests look
  --json    --list or --check as JSON
exit codes: 0 done, 1 missing or not fetched (each named), 2 usage`;

type ProgramRunner = (stack: string) => Promise<{ resources: { type: string; inputs: Record<string, any> }[] }>;

/**
 * Every chart the program installs from a repository, in every stack of `root`: the program run offline per stack
 * (`run`, default scripts/offline-program.ts, which loads the Pulumi SDK lazily; the tests give their cached runs).
 */
export async function pinnedCharts(root = projectRoot, run?: ProgramRunner): Promise<PinnedChart[]> {
    const runStack: ProgramRunner =
        run ??
        ((stack) => {
            // eslint-disable-next-line @typescript-eslint/no-var-requires
            const { runProgramOffline } = require("./offline-program") as typeof import("./offline-program");
            return runProgramOffline(stack, readStackConfig(stack, root), {}, { stackRoot: root });
        });
    const releases: { stack: string; chart: string; repo: string; version: string }[] = [];
    for (const stack of knownStacks(root)) {
        const { resources } = await runStack(stack);
        for (const r of resources) {
            if (r.type !== "kubernetes:helm.sh/v3:Release" || !r.inputs.repositoryOpts?.repo) continue;
            releases.push({ stack, chart: r.inputs.chart, repo: r.inputs.repositoryOpts.repo, version: r.inputs.version });
        }
    }
    return pinnedChartsOf(releases);
}

/** `helm pull` of one chart at its version into `dir`; the error names the chart, the repository and helm's words. */
export async function pullChart(chart: PinnedChart, dir: string, mirror?: string): Promise<void> {
    const repo = mirror ?? chart.repo;
    const result = await helmAsync(["pull", chart.chart, "--repo", repo, "--version", chart.version, "--destination", dir], { timeoutMs: PULL_TIMEOUT_MS });
    const file = path.join(dir, archiveName(chart.chart, chart.version));
    if (result.status !== 0 || !fs.existsSync(file)) {
        throw new Error(`${chart.chart} ${chart.version} from ${repo}: helm pull exited ${result.status}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ""}`);
    }
}

export interface FetchOptions {
    out?: (s: string) => void;
    err?: (s: string) => void;
    env?: NodeJS.ProcessEnv;
    root?: string;
    /** The pinned charts (default: the program's, `pinnedCharts`): tests give a list to skip the program runs. */
    pinned?: PinnedChart[];
}

export async function main(argv: string[], options: FetchOptions = {}): Promise<number> {
    const out = options.out ?? ((s: string) => console.log(s));
    const err = options.err ?? ((s: string) => console.error(s));
    const env = options.env ?? process.env;
    let parsed;
    try {
        parsed = parseCommandLine(
            argv,
            {
                options: { dir: { type: "string" }, mirror: { type: "string" }, list: { type: "boolean" }, check: { type: "boolean" }, json: { type: "boolean" } },
                positionals: { min: 0, max: 0, names: "no arguments (flags only)" },
                usage: USAGE,
            },
            env,
        );
        if (parsed.values.list && parsed.values.check) throw new UsageError("--list and --check are two different questions: give one", USAGE);
        const mirror = parsed.values.mirror ?? env[MIRROR_ENV];
        if (mirror !== undefined && !/^(https?|oci):\/\/\S+$/.test(mirror)) throw new UsageError(`--mirror: expected a chart repository URL (http://, https:// or oci://), found ${JSON.stringify(mirror)}`, USAGE);
    } catch (e: any) {
        if (!(e instanceof UsageError)) throw e;
        err(`fetch-charts: ${e.message}`);
        return 2;
    }
    if (parsed.help) {
        out(USAGE);
        return 0;
    }
    const { values } = parsed;
    const pinned = options.pinned ?? (await pinnedCharts(options.root ?? projectRoot));

    if (values.list) {
        if (values.json) out(JSON.stringify(pinned, null, 2));
        else for (const p of pinned) out(`${p.chart} ${p.version}  ${p.repo}  (${p.stacks.join(", ")})`);
        return 0;
    }

    if (values.check) {
        let source;
        try {
            source = chartSource(env);
        } catch (e: any) {
            err(`fetch-charts: ${e.message}`);
            return 1;
        }
        const missing = missingArchives(pinned, source.dir);
        if (values.json) out(JSON.stringify({ dir: source.dir, from: source.from, missing }, null, 2));
        else if (missing.length === 0) out(`every pinned chart (${pinned.length}) has its archive in ${source.dir}`);
        for (const m of missing) err(`missing: ${archiveName(m.chart, m.version)} in ${source.dir} (${m.repo}, installed by ${m.stacks.join(", ")})`);
        if (missing.length > 0) err(`fetch-charts: ${missing.length} of ${pinned.length} pinned charts have no archive: run \`npm run fetch-charts\` online, or set ${CHARTS_DIR_ENV}`);
        return missing.length > 0 ? 1 : 0;
    }

    const dir = path.resolve(values.dir ?? (env[CHARTS_DIR_ENV] || chartCacheDir(env)));
    fs.mkdirSync(dir, { recursive: true });
    const mirror = values.mirror ?? env[MIRROR_ENV];
    const missing = missingArchives(pinned, dir);
    if (missing.length === 0) {
        out(`every pinned chart (${pinned.length}) is already in ${dir}`);
        return 0;
    }
    const failed: string[] = [];
    for (const chart of missing) {
        try {
            await pullChart(chart, dir, mirror);
            out(`fetched ${archiveName(chart.chart, chart.version)} from ${mirror ?? chart.repo}`);
        } catch (e: any) {
            failed.push(e.message);
            err(`not fetched: ${e.message}`);
        }
    }
    if (failed.length > 0) {
        err(`fetch-charts: ${failed.length} of ${missing.length} charts could not be fetched into ${dir}`);
        return 1;
    }
    out(`${missing.length} chart${missing.length === 1 ? "" : "s"} fetched into ${dir}${dir === chartCacheDir(env) || env[CHARTS_DIR_ENV] ? "" : ` (the tests read it when ${CHARTS_DIR_ENV}=${dir})`}`);
    return 0;
}

if (require.main === module) main(process.argv.slice(2)).then((code) => process.exit(code));
