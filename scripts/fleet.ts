// The fleet as the offline commands read it (components/fleet/waves.ts): `stagehand.fleet.yaml` from a directory or
// from a git revision, checked against the stack files there; and, from git history, when a stack finished a release
// (components/fleet/bake.ts). `STAGEHAND_NOW` (an ISO instant) stands for the clock, for a what-if and for tests.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PreviousState } from "../components/fleet/bake";
import { defaultFleet, Fleet, FleetError, FLEET_FILE, fleetStackProblems, parseFleet, previousWave } from "../components/fleet/waves";
import { parseServices } from "../components/service/config";
import { stagePlan } from "../components/service/stages";
import { knownStacks, projectRoot, stackConfigFromText, stackOfFileName } from "./stack-file";

/** The instant the commands judge windows and bakes at: STAGEHAND_NOW when set, else the clock. */
export function currentTime(env: NodeJS.ProcessEnv = process.env): Date {
    const set = env.STAGEHAND_NOW;
    if (set === undefined || set === "") return new Date();
    const at = new Date(set);
    if (Number.isNaN(at.getTime())) throw new Error(`STAGEHAND_NOW is ${JSON.stringify(set)}: expected an ISO instant such as 2026-12-21T09:00:00Z, or leave it unset for the clock`);
    return at;
}

/** The fleet of the project at `root` (its fleet file, or the default chain), checked against its stack files. */
export function loadFleet(root = projectRoot): Fleet {
    const file = path.join(root, FLEET_FILE);
    if (!fs.existsSync(file)) return defaultFleet();
    const fleet = parseFleet(fs.readFileSync(file, "utf8"), FLEET_FILE);
    const problems = fleetStackProblems(fleet, knownStacks(root));
    if (problems.length > 0) throw new FleetError(problems);
    return fleet;
}

/** A file's text at a git revision, or undefined when it does not exist there. */
export function fileAt(root: string, ref: string, file: string): string | undefined {
    try {
        return execFileSync("git", ["show", `${ref}:${file}`], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e: any) {
        const stderr = String(e.stderr ?? "");
        if (/does not exist|exists on disk, but not in/.test(stderr)) return undefined;
        throw new Error(`git show ${ref}:${file} failed: ${stderr.trim() || e.message}`);
    }
}

/** The stacks whose files a revision holds. */
export function stacksAt(root: string, ref: string): string[] {
    const names = execFileSync("git", ["ls-tree", "--name-only", ref], { cwd: root, encoding: "utf8" }).split("\n");
    return names.map((f) => stackOfFileName(f)).filter((s): s is string => s !== undefined).sort();
}

/**
 * The fleet as it is at `ref` (the base a pull request is judged against: a pull request never loosens the bake or
 * the calendar that judge it), checked against the stack files there.
 */
export function fleetAt(root: string, ref: string): Fleet {
    const text = fileAt(root, ref, FLEET_FILE);
    if (text === undefined) return defaultFleet();
    const fleet = parseFleet(text, `${FLEET_FILE} at ${ref}`);
    const problems = fleetStackProblems(fleet, stacksAt(root, ref));
    if (problems.length > 0) throw new FleetError(problems);
    return fleet;
}

/** Where a service stands in a stack file's text: absent, idle on a stable tag, or releasing. */
export function stateInText(stack: string, service: string, text: string | undefined): PreviousState {
    if (text === undefined) return { kind: "absent" };
    const config = stackConfigFromText(text, `Pulumi.${stack}.yaml`);
    const services = config.services === undefined ? {} : parseServices(stack, config.services);
    const svc = services[service];
    if (!svc) return { kind: "absent" };
    const plan = stagePlan(svc);
    if (plan.stage === 1) return { kind: "idle", stable: svc.stable };
    return { kind: "releasing", words: `stage ${plan.stage}/${plan.stageCount} (${plan.name}) releasing ${svc.canary ?? svc.stable}` };
}

/** How far back the history is read for when a stack finished a release. */
const HISTORY_LIMIT = 500;

/**
 * When `stack` first ran `tag` as stable at stage 1 in the run of commits ending at `ref`: the committer time of the
 * earliest commit of the newest unbroken run of commits (touching the stack file) in which it does. On main that is
 * the merge time (a merge or squash commit is committed when it is merged): it stands for the deploy's time, which
 * follows the merge by the deploy job's run. Undefined when `ref` itself does not show it finished.
 */
export function finishedSince(root: string, ref: string, stack: string, service: string, tag: string): { at: Date; commit: string } | undefined {
    const file = `Pulumi.${stack}.yaml`;
    let log: string;
    try {
        log = execFileSync("git", ["log", `--max-count=${HISTORY_LIMIT}`, "--format=%H %ct", ref, "--", file], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch {
        return undefined;
    }
    let since: { at: Date; commit: string } | undefined;
    for (const line of log.split("\n").filter(Boolean)) {
        const [commit, seconds] = line.split(" ");
        let state: PreviousState;
        try {
            state = stateInText(stack, service, fileAt(root, commit, file));
        } catch {
            break; // a revision the program refuses does not run the release
        }
        if (state.kind !== "idle" || state.stable !== tag) break;
        since = { at: new Date(Number(seconds) * 1000), commit };
    }
    return since;
}

/**
 * Where `service` stands at `ref` in each stack of the wave before `stack`'s, with when each finished `tag`: the
 * input of components/fleet/bake.ts `checkReleaseStart`.
 */
export function previousStatesAt(root: string, ref: string, fleet: Fleet, stack: string, service: string, tag: string): Record<string, PreviousState> {
    const prev = previousWave(fleet, stack);
    const out: Record<string, PreviousState> = {};
    for (const s of prev?.stacks ?? []) {
        const state = stateInText(s, service, fileAt(root, ref, `Pulumi.${s}.yaml`));
        if (state.kind === "idle" && state.stable === tag) {
            const since = finishedSince(root, ref, s, service, tag);
            out[s] = since ? { ...state, since } : state;
        } else out[s] = state;
    }
    return out;
}
