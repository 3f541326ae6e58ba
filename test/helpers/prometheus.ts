// A real Prometheus server for tests, on 127.0.0.1 only: Debian's `prometheus` package (installed with apt-get
// when the binary is not on PATH, so a fresh machine, CI's included, runs these tests too), started directly —
// never as the package's systemd service — with a temporary config and storage, and stopped by the test.
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

/** The longest each step of an install may take; the mocha hook that installs allows their sum. */
export const APT_UPDATE_TIMEOUT_MS = 180_000;
export const APT_INSTALL_TIMEOUT_MS = 300_000;
export const INSTALL_TIMEOUT_MS = APT_UPDATE_TIMEOUT_MS + APT_INSTALL_TIMEOUT_MS;
/** How long a started Prometheus may take to answer /-/ready. */
export const READY_TIMEOUT_MS = 30_000;

/** The absolute path of `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        if (!dir) continue;
        const file = path.join(dir, name);
        try {
            fs.accessSync(file, fs.constants.X_OK);
            if (fs.statSync(file).isFile()) return file;
        } catch {
            // not here
        }
    }
    return undefined;
}

function run(file: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = execFile(file, args, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024, env }, (error, stdout, stderr) => {
            if (error) {
                const why = (error as any).killed ? `did not finish within ${timeoutMs / 1000} s` : error.message;
                reject(new Error(`${file} ${args.join(" ")}: ${why}\n${String(stderr).slice(-2000)}`));
            } else resolve({ stdout: String(stdout), stderr: String(stderr) });
        });
        child.stdin?.end(); // no standard input, as in CI
    });
}

export interface PrometheusBinaries {
    prometheus: string;
    promtool: string;
    /** Whether this call installed them. */
    installed: boolean;
}

/**
 * `prometheus` and `promtool` from PATH; when absent, installs Debian's `prometheus` package (which ships
 * both) with apt-get, non-interactively and within INSTALL_TIMEOUT_MS. The package's service is not started
 * here (no systemd); tests run the binary themselves.
 */
export async function ensurePrometheus(): Promise<PrometheusBinaries> {
    const found = () => ({ prometheus: onPath("prometheus"), promtool: onPath("promtool") });
    let { prometheus, promtool } = found();
    if (prometheus && promtool) return { prometheus, promtool, installed: false };
    await installDebianPackage("prometheus", "prometheus and promtool are not on PATH", "install Prometheus 2.x");
    ({ prometheus, promtool } = found());
    if (!prometheus || !promtool) throw new Error("apt-get installed the prometheus package, but prometheus and promtool are still not on PATH");
    return { prometheus, promtool, installed: true };
}

/**
 * Installs a Debian package with apt-get, non-interactively and within INSTALL_TIMEOUT_MS, starting none of its
 * services. `missing` says what is absent, `otherwise` what to do without apt-get.
 */
export async function installDebianPackage(pkg: string, missing: string, otherwise: string): Promise<void> {
    const apt = onPath("apt-get");
    if (!apt) throw new Error(`${missing} and there is no apt-get to install Debian's ${pkg} package: ${otherwise}`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const lock = ["-o", "DPkg::Lock::Timeout=60"];
    // The package's init script would start a server on every interface where nothing forbids it:
    // a policy-rc.d answering 101 ("action forbidden") keeps it from starting, for the length of the install.
    const policy = "/usr/sbin/policy-rc.d";
    let placedPolicy = false;
    if (!fs.existsSync(policy)) {
        try {
            fs.writeFileSync(policy, `#!/bin/sh\n# placed by stagehand's tests while they install ${pkg}: start no service\nexit 101\n`, { mode: 0o755 });
            placedPolicy = true;
        } catch {
            // not root: apt-get will say so
        }
    }
    try {
        await run(apt, ["update", "-q", ...lock], APT_UPDATE_TIMEOUT_MS, env);
        await run(apt, ["install", "-y", "-q", "--no-install-recommends", ...lock, pkg], APT_INSTALL_TIMEOUT_MS, env);
    } finally {
        if (placedPolicy) fs.rmSync(policy, { force: true });
    }
}

/** Runs a tool to its end within `timeoutMs`; rejects with its stderr when it fails. */
export function runTool(file: string, args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
    return run(file, args, timeoutMs);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Writes blocks of OpenMetrics history into a TSDB directory, before Prometheus opens it. */
export async function backfill(promtool: string, openMetricsFile: string, tsdbDir: string): Promise<void> {
    await run(promtool, ["tsdb", "create-blocks-from", "openmetrics", openMetricsFile, tsdbDir], 60_000);
}

export interface RunningPrometheus {
    url: string;
    /** Everything it logged so far (for failure messages). */
    log(): string;
    /** One instant query through the HTTP API; the raw `data.result`. */
    query(promql: string): Promise<any[]>;
    stop(): Promise<void>;
}

/**
 * Starts `prometheus` on 127.0.0.1 with this config and storage; resolves once /-/ready answers 200. `extraArgs`:
 * further flags, e.g. a short `--rules.alert.resend-delay` for alerts.
 */
export async function startPrometheus(binary: string, options: { dir: string; config: string; tsdbDir: string; extraArgs?: string[] }): Promise<RunningPrometheus> {
    const configFile = path.join(options.dir, "prometheus.yml");
    fs.writeFileSync(configFile, options.config);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await startLoopbackServer("prometheus", binary, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${options.tsdbDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--storage.tsdb.retention.time=1d",
        "--log.level=warn",
        ...(options.extraArgs ?? []),
    ], url);
    const { stop } = server;

    return {
        url,
        log: server.log,
        query: async (promql: string) => {
            const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(10_000) });
            const body: any = await res.json();
            if (body.status !== "success") throw new Error(`query ${promql} failed: ${JSON.stringify(body)}`);
            return body.data.result;
        },
        stop,
    };
}

/**
 * Starts a server binary on 127.0.0.1 and waits until `${url}/-/ready` answers 200 (Prometheus and Alertmanager both
 * have it), within READY_TIMEOUT_MS. It never outlives the test process: killed on exit, and `stop` ends it (SIGTERM,
 * then SIGKILL after 10 s). `log` is everything it printed.
 */
export async function startLoopbackServer(name: string, binary: string, args: string[], url: string): Promise<{ log: () => string; stop: () => Promise<void> }> {
    let output = "";
    const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    let exited: string | undefined;
    const exitedPromise = new Promise<void>((resolve) =>
        child.once("exit", (code, signal) => {
            exited = `exited with ${signal ?? `code ${code}`}`;
            resolve();
        }),
    );
    // Never leave it running: not when a test fails, nor when mocha exits without running `after`.
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    const stop = async () => {
        process.removeListener("exit", killOnExit);
        if (exited) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exitedPromise;
        clearTimeout(timer);
    };
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
        if (exited) throw new Error(`${name} ${exited} before it was ready:\n${output.slice(-3000)}`);
        try {
            const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
            await res.text();
            if (res.status === 200) break;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline) {
            await stop();
            throw new Error(`${name} at ${url} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${output.slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    return { log: () => output, stop };
}
