// Runs Pulumi programs and components under the SDK's own mocks (pulumi.runtime.setMocks), recording every
// registered resource with its inputs. One mock engine for the tests and `npm run plan -- --policies`: the
// program's offline mode (scripts/offline-program.ts).
import * as fs from "fs";
import * as path from "path";
import { RegisteredResource, resolveOutputs, runMocked, runProgramOffline, stackConfig } from "../../scripts/offline-program";

export { resolveOutputs, runMocked, stackConfig };

/**
 * A registered resource: its type, name, inputs, provider and parent, and `dependencies` — the URNs it waits
 * for, as the SDK sends them to the engine: explicit `dependsOn` (a component expands to its custom children)
 * plus the resources its inputs come from.
 */
export type Registered = RegisteredResource;

/** The resource name in a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function urnName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Names of the resources `r` waits for (see `Registered.dependencies`). */
export function dependencyNames(r: Registered): string[] {
    return r.dependencies.map(urnName);
}

export interface ProgramRun {
    resources: Registered[];
    outputs: Record<string, any>;
}

/**
 * Runs index.ts (fresh) as stack `stack` with the given `stagehand:*` config; resolves its exports.
 * `previousOutputs` are the stack's outputs from its last update, as the program reads them back; `commit` is what
 * the deploy job sets in STAGEHAND_COMMIT, `stackRoot` where the program reads the stack file (STAGEHAND_ROOT).
 */
export function runProgram(
    stack: string,
    config: Record<string, unknown>,
    previousOutputs: Record<string, unknown> = {},
    options: { commit?: string; stackRoot?: string } = {},
): Promise<ProgramRun> {
    // The same program over the same inputs registers the same resources: many test files run the shipped stacks, so
    // a run is kept per worker and each caller gets its own copy. Everything the program reads is in the key: its
    // arguments, the environment it reads (STAGEHAND_COMMIT, STAGEHAND_ROOT) and the stack file it reads secrets from.
    const stackFile = path.join(options.stackRoot ?? process.env.STAGEHAND_ROOT ?? PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    const key = JSON.stringify([stack, config, previousOutputs, options, process.env.STAGEHAND_COMMIT, process.env.STAGEHAND_ROOT, fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : null]);
    let run = programRuns.get(key);
    if (!run) {
        run = runProgramOffline(stack, config, previousOutputs, options);
        programRuns.set(key, run);
        // A run that stops is not kept: its error carries what it registered, for the caller that asked.
        run.catch(() => programRuns.delete(key));
    }
    return run.then((r) => structuredClone(r));
}

const PROJECT_ROOT = path.resolve(__dirname, "../..");
const programRuns = new Map<string, Promise<ProgramRun>>();

export function ofType(resources: Registered[], type: string): Registered[] {
    return resources.filter((r) => r.type === type);
}
