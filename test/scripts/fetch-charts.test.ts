// Where the upstream chart archives come from (scripts/upstream-charts.ts) and `npm run fetch-charts`
// (scripts/fetch-charts.ts): the pinned list is the program's own releases, the archives are pulled by the real helm
// from a chart repository (here a real one served on 127.0.0.1, made by `helm repo index`), and the tests read them
// from $STAGEHAND_CHARTS_DIR, ../shared/charts or the cache, in that order.
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { main, pinnedCharts } from "../../scripts/fetch-charts";
import { helm } from "../../scripts/helm";
import { knownStacks, readStackConfig } from "../../scripts/stack-file";
import { archivesIn, chartCacheDir, chartSource, missingArchives, PinnedChart, pinnedChartsOf, SHARED_CHARTS_DIR } from "../../scripts/upstream-charts";
import { programReleases, VENDORED_CHARTS_DIR } from "../helpers/charts";
import { runProgram } from "../helpers/mocks";
import { ISTIO_SCHEMAS_PATH, SHARED_ISTIO_SCHEMAS_PATH } from "../helpers/schemas";

function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `stagehand-${prefix}-`));
}

function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, options: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

/** A static HTTP server over `dir` on 127.0.0.1, as a chart repository is (index.yaml and the archives). */
async function serve(dir: string): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
        requests.push(req.url ?? "");
        const file = path.join(dir, decodeURIComponent((req.url ?? "/").split("?")[0]));
        if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
            res.writeHead(404).end("not found");
            return;
        }
        res.writeHead(200, { "content-type": file.endsWith(".yaml") ? "text/yaml" : "application/gzip" }).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const pinned = (chart: string, version: string, repo = "https://example.invalid/charts"): PinnedChart => ({ chart, version, repo, stacks: ["staging"] });

describe("upstream chart archives: where the tests read them", () => {
    it("$STAGEHAND_CHARTS_DIR first, then ../shared/charts, then the fetch cache", () => {
        const named = tempDir("charts-env");
        assert.deepStrictEqual(chartSource({ STAGEHAND_CHARTS_DIR: named }, SHARED_CHARTS_DIR), { dir: named, from: "env" });
        const shared = tempDir("charts-shared");
        assert.deepStrictEqual(chartSource({ HOME: "/home/someone" }, shared), { dir: shared, from: "shared" });
        assert.deepStrictEqual(chartSource({ HOME: "/home/someone" }, path.join(shared, "absent")), { dir: "/home/someone/.cache/stagehand/charts", from: "cache" });
        assert.strictEqual(chartCacheDir({ XDG_CACHE_HOME: "/var/cache/ci", HOME: "/home/someone" }), "/var/cache/ci/stagehand/charts");
        // A relative XDG_CACHE_HOME is invalid by the XDG spec and ignored.
        assert.strictEqual(chartCacheDir({ XDG_CACHE_HOME: "cache", HOME: "/home/someone" }), "/home/someone/.cache/stagehand/charts");
    });

    it("a $STAGEHAND_CHARTS_DIR that is not a directory is an error, not a silent fallback", () => {
        assert.throws(() => chartSource({ STAGEHAND_CHARTS_DIR: "/no/such/dir" }), /STAGEHAND_CHARTS_DIR=\/no\/such\/dir: expected a directory of chart archives \(<chart>-<version>\.tgz\), found nothing there/);
        const file = path.join(tempDir("charts-file"), "x.tgz");
        fs.writeFileSync(file, "");
        assert.throws(() => chartSource({ STAGEHAND_CHARTS_DIR: file }), /found a file/);
    });

    it("archives are named <chart>-<version>.tgz, chart names with dashes read whole; missing ones are named", () => {
        const dir = tempDir("charts-names");
        for (const f of ["karpenter-crd-1.14.1.tgz", "base-1.30.3.tgz", "README.md", "notes-1.0.tgz.txt"]) fs.writeFileSync(path.join(dir, f), "");
        assert.deepStrictEqual(
            archivesIn(dir).map((a) => [a.chart, a.version]).sort(),
            [["base", "1.30.3"], ["karpenter-crd", "1.14.1"]],
        );
        assert.deepStrictEqual(missingArchives([pinned("base", "1.30.3"), pinned("base", "1.29.6"), pinned("karpenter", "1.14.1")], dir).map((p) => `${p.chart} ${p.version}`), ["base 1.29.6", "karpenter 1.14.1"]);
    });

    it("the pinned list: one entry per chart and version with the stacks installing it; one chart from two repositories is refused", () => {
        const list = pinnedChartsOf([
            { stack: "uat", chart: "istiod", repo: "https://r/istio", version: "1.30.3" },
            { stack: "prod", chart: "istiod", repo: "https://r/istio", version: "1.30.3" },
            { stack: "prod", chart: "istiod", repo: "https://r/istio", version: "1.29.6" },
            { stack: "prod", chart: "grafana", repo: "https://r/grafana", version: "9.2.2" },
        ]);
        assert.deepStrictEqual(list, [
            { chart: "grafana", repo: "https://r/grafana", version: "9.2.2", stacks: ["prod"] },
            { chart: "istiod", repo: "https://r/istio", version: "1.29.6", stacks: ["prod"] },
            { chart: "istiod", repo: "https://r/istio", version: "1.30.3", stacks: ["uat", "prod"] },
        ]);
        assert.throws(
            () => pinnedChartsOf([{ stack: "uat", chart: "grafana", repo: "https://a", version: "9.2.2" }, { stack: "prod", chart: "grafana", repo: "https://b", version: "9.2.2" }]),
            /chart grafana 9\.2\.2 is installed from two repositories: https:\/\/a and https:\/\/b/,
        );
    });

    it("the pinned list is every third-party release of every stack, and each has its archive where the tests read them", async function () {
        this.timeout(180_000);
        const list = await pinnedCharts(undefined, (stack) => runProgram(stack, readStackConfig(stack)));
        const expected = new Set<string>();
        for (const stack of knownStacks()) for (const r of (await programReleases(stack)).releases) expected.add(`${r.chart} ${r.version} ${r.repo}`);
        assert.deepStrictEqual(new Set(list.map((p) => `${p.chart} ${p.version} ${p.repo}`)), expected);
        assert.ok(list.some((p) => p.chart === "istiod") && list.some((p) => p.chart === "prometheus"), `the list names Istio and the addons: ${list.map((p) => p.chart).join(", ")}`);
        assert.deepStrictEqual(missingArchives(list, VENDORED_CHARTS_DIR), []);
    });

    it("the Istio schemas kept in the repository are the shared ones", function () {
        if (!fs.existsSync(SHARED_ISTIO_SCHEMAS_PATH)) this.skip();
        assert.ok(fs.readFileSync(ISTIO_SCHEMAS_PATH).equals(fs.readFileSync(SHARED_ISTIO_SCHEMAS_PATH)), `${ISTIO_SCHEMAS_PATH} differs from ${SHARED_ISTIO_SCHEMAS_PATH}`);
    });
});

describe("npm run fetch-charts", () => {
    const wanted = [pinned("metrics-server", "3.13.1", "https://kubernetes-sigs.github.io/metrics-server/"), pinned("kiali-server", "2.24.0", "https://kiali.org/helm-charts")];
    let repo: { url: string; requests: string[]; close: () => Promise<void> };
    let repoDir: string;

    before(async function () {
        this.timeout(60_000);
        // A real chart repository: two real archives and the index.yaml `helm repo index` writes for them.
        repoDir = tempDir("chart-repo");
        for (const p of wanted) fs.copyFileSync(path.join(SHARED_CHARTS_DIR, `${p.chart}-${p.version}.tgz`), path.join(repoDir, `${p.chart}-${p.version}.tgz`));
        const indexed = helm(["repo", "index", repoDir]);
        assert.strictEqual(indexed.status, 0, indexed.stderr);
        repo = await serve(repoDir);
    });
    after(async () => repo && (await repo.close()));

    it("pulls each missing pinned chart from the mirror with the real helm; a second run fetches nothing", async function () {
        this.timeout(120_000);
        const dir = tempDir("fetched");
        const first = capture();
        assert.strictEqual(await main(["--dir", dir, "--mirror", repo.url], { ...first.options, pinned: wanted, env: {} }), 0, first.err.join("\n"));
        for (const p of wanted) {
            const file = path.join(dir, `${p.chart}-${p.version}.tgz`);
            assert.ok(fs.readFileSync(file).equals(fs.readFileSync(path.join(SHARED_CHARTS_DIR, `${p.chart}-${p.version}.tgz`))), `${file} is the repository's archive, byte for byte`);
            assert.ok(first.out.includes(`fetched ${p.chart}-${p.version}.tgz from ${repo.url}`), first.out.join("\n"));
        }
        assert.ok(repo.requests.includes("/index.yaml"), `helm read the repository's index: ${repo.requests.join(", ")}`);
        const served = repo.requests.length;
        const second = capture();
        assert.strictEqual(await main(["--dir", dir, "--mirror", repo.url], { ...second.options, pinned: wanted, env: {} }), 0);
        assert.deepStrictEqual(second.out, [`every pinned chart (2) is already in ${dir}`]);
        assert.strictEqual(repo.requests.length, served, "nothing was asked of the repository");
    });

    it("a chart the repository does not have: exit 1, naming it and the repository; the others are still fetched", async function () {
        this.timeout(120_000);
        const dir = tempDir("fetched-partly");
        const run = capture();
        const code = await main(["--dir", dir], { ...run.options, pinned: [...wanted, pinned("grafana", "9.2.2", repo.url)], env: { STAGEHAND_CHART_MIRROR: repo.url } });
        assert.strictEqual(code, 1);
        assert.match(run.err.join("\n"), new RegExp(`not fetched: grafana 9\\.2\\.2 from ${repo.url.replace(/\./g, "\\.")}: helm pull exited 1`));
        assert.match(run.err.join("\n"), /1 of 3 charts could not be fetched/);
        assert.deepStrictEqual(archivesIn(dir).map((a) => a.chart).sort(), ["kiali-server", "metrics-server"]);
    });

    it("--check names each pinned chart with no archive where the tests look; --list prints the list", async () => {
        const dir = tempDir("checked");
        fs.copyFileSync(path.join(SHARED_CHARTS_DIR, "metrics-server-3.13.1.tgz"), path.join(dir, "metrics-server-3.13.1.tgz"));
        const check = capture();
        assert.strictEqual(await main(["--check"], { ...check.options, pinned: wanted, env: { STAGEHAND_CHARTS_DIR: dir } }), 1);
        assert.deepStrictEqual(check.err, [
            `missing: kiali-server-2.24.0.tgz in ${dir} (https://kiali.org/helm-charts, installed by staging)`,
            "fetch-charts: 1 of 2 pinned charts have no archive: run `npm run fetch-charts` online, or set STAGEHAND_CHARTS_DIR",
        ]);
        const ok = capture();
        assert.strictEqual(await main(["--check", "--json"], { ...ok.options, pinned: wanted.slice(0, 1), env: { STAGEHAND_CHARTS_DIR: dir } }), 0);
        assert.deepStrictEqual(JSON.parse(ok.out.join("\n")), { dir, from: "env", missing: [] });
        const list = capture();
        assert.strictEqual(await main(["--list"], { ...list.options, pinned: wanted, env: {} }), 0);
        assert.deepStrictEqual(list.out, ["metrics-server 3.13.1  https://kubernetes-sigs.github.io/metrics-server/  (staging)", "kiali-server 2.24.0  https://kiali.org/helm-charts  (staging)"]);
    });

    it("bad arguments: exit 2 with the usage", async () => {
        for (const [argv, message] of [
            [["--list", "--check"], /--list and --check are two different questions/],
            [["--mirror", "charts.example.com"], /--mirror: expected a chart repository URL \(http:\/\/, https:\/\/ or oci:\/\/\), found "charts\.example\.com"/],
            [["--dirr", "x"], /Unknown option '--dirr'/],
            [["stray"], /expected no arguments \(flags only\), found "stray"/],
        ] as const) {
            const run = capture();
            assert.strictEqual(await main([...argv], { ...run.options, pinned: wanted, env: {} }), 2, argv.join(" "));
            assert.match(run.err.join("\n"), message);
        }
    });
});
