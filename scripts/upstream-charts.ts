// Where the upstream chart archives the tests render come from, and which ones the program pins.
//
// The tests render every third-party chart the program installs with its real archive at the exact pinned version
// (test/platform/upstream-charts.test.ts, test/observability/upstream-charts.test.ts). Those archives are not in this
// repository (they are other projects' releases); they are found, in this order:
// 1. `$STAGEHAND_CHARTS_DIR`, when set: a directory of `<chart>-<version>.tgz` (a mirror an air-gapped CI keeps);
// 2. `../shared/charts` beside the project, when it exists (this workplace's vendored, provenance-checked copies);
// 3. the cache `npm run fetch-charts` fills with `helm pull` of the pinned versions when online
//    (`$XDG_CACHE_HOME/stagehand/charts`, default `~/.cache/stagehand/charts`).
// Pure but for reading the file system: no Pulumi SDK (the pinned list comes from scripts/fetch-charts.ts).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The environment variable naming a directory of chart archives. */
export const CHARTS_DIR_ENV = "STAGEHAND_CHARTS_DIR";
/** The vendored archives of this workplace: shared/ sits beside the project. */
export const SHARED_CHARTS_DIR = path.resolve(__dirname, "../../shared/charts");

/** The cache `npm run fetch-charts` writes to by default. */
export function chartCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME || os.homedir(), ".cache");
    return path.join(base, "stagehand", "charts");
}

/** Where the archives are looked for, and why that directory. */
export interface ChartSource {
    dir: string;
    from: "env" | "shared" | "cache";
}

/**
 * The directory the tests read archives from. `$STAGEHAND_CHARTS_DIR` must exist when set (a typo must not fall back
 * silently to another set of archives); otherwise ../shared/charts when there, else the fetch cache (which may not
 * exist yet: reading it then says to run `npm run fetch-charts`).
 */
export function chartSource(env: NodeJS.ProcessEnv = process.env, sharedDir = SHARED_CHARTS_DIR): ChartSource {
    const named = env[CHARTS_DIR_ENV];
    if (named !== undefined && named !== "") {
        const dir = path.resolve(named);
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${CHARTS_DIR_ENV}=${named}: expected a directory of chart archives (<chart>-<version>.tgz), found ${fs.existsSync(dir) ? "a file" : "nothing there"}`);
        return { dir, from: "env" };
    }
    if (fs.existsSync(sharedDir)) return { dir: sharedDir, from: "shared" };
    return { dir: chartCacheDir(env), from: "cache" };
}

export interface ChartArchive {
    chart: string;
    version: string;
    file: string;
}

/** The archive file name of a chart at a version, as `helm pull` and `helm package` write it. */
export const archiveName = (chart: string, version: string) => `${chart}-${version}.tgz`;

/** Every archive in `dir`, by its file name `<chart>-<version>.tgz` (chart names may hold dashes). */
export function archivesIn(dir: string): ChartArchive[] {
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .map((f) => /^(.+)-(\d+\.\d+\.\d+[^/]*)\.tgz$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ chart: m[1], version: m[2], file: path.join(dir, m[0]) }));
}

/** How to get the archives when they are missing, in words for an error. */
export function howToGetCharts(source: ChartSource): string {
    return `run \`npm run fetch-charts\` (online: helm pull of every pinned version into ${chartCacheDir()}), or set ${CHARTS_DIR_ENV} to a directory holding them`;
}

/** A chart the program installs from a chart repository, at an exact version. */
export interface PinnedChart {
    chart: string;
    repo: string;
    version: string;
    /** The stacks that install it. */
    stacks: string[];
}

/** The pinned charts of several stacks' releases, one entry per chart and version, sorted. */
export function pinnedChartsOf(releases: { stack: string; chart: string; repo: string; version: string }[]): PinnedChart[] {
    const byKey = new Map<string, PinnedChart>();
    for (const r of releases) {
        const key = `${r.chart}@${r.version}`;
        const known = byKey.get(key);
        if (known && known.repo !== r.repo) throw new Error(`chart ${r.chart} ${r.version} is installed from two repositories: ${known.repo} and ${r.repo}`);
        const entry = known ?? { chart: r.chart, repo: r.repo, version: r.version, stacks: [] };
        if (!entry.stacks.includes(r.stack)) entry.stacks.push(r.stack);
        byKey.set(key, entry);
    }
    return [...byKey.values()].sort((a, b) => a.chart.localeCompare(b.chart) || a.version.localeCompare(b.version, undefined, { numeric: true }));
}

/** The pinned charts that have no archive in `dir`. */
export function missingArchives(pinned: PinnedChart[], dir: string): PinnedChart[] {
    const have = new Set(archivesIn(dir).map((a) => `${a.chart}@${a.version}`));
    return pinned.filter((p) => !have.has(`${p.chart}@${p.version}`));
}
