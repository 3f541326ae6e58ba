// `npm run verdict-gate -- <stack> [GIT-REF] [--list] [--prometheus URL] [--timeout SECONDS]`: the metrics
// verdict a pull request's forward moves must pass (docs/observability.md "Metrics verdict", "Pull-request workflow").
//
// GIT-REF is the base revision (the pull request's base branch, default HEAD): what is deployed. The services
// to judge are those the working tree moves forward (or skips forward) from a stage where the canary serves
// traffic, weighted or mirrored: their canary is judged where it is now, at the base revision's stage, before
// it goes further. Nothing else needs a verdict: a rollback, a stay, a finish, a new service, a direct update,
// and a move from stage 1, whose canary has no traffic yet.
//
// `--list` prints, offline, one JSON object: the services to judge, the others with why not, whether the stack
// (as deployed) has a Prometheus, and its EKS cluster and region. Without it, each canary to judge is judged by
// `npm run verdict` (scripts/verdict.ts) against the base revision's stack file — its stage, namespace and
// thresholds, so a pull request never loosens the gate that judges it — and the reports are printed.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { parseStackConfig, serviceDefaultsOf } from "../components/config";
import { parseObservability, verdictGateHasPrometheus } from "../components/observability/config";
import { parseServices } from "../components/service/config";
import { stagePlan } from "../components/service/stages";
import { EXIT_CODES } from "../components/service/verdict";
import { OVERRIDE_LABEL } from "../components/governance/labels";
import { waveOf } from "../components/fleet/waves";
import { checkStackArgument, parseCommandLine, UsageError } from "./args";
import { fleetAt } from "./fleet";
import { diffStack, ServiceDiff, stackFileAt } from "./diff";
import { parseStackFile, projectRoot, stackConfigFromText, stackFilePath } from "./stack-file";
import { main as verdictMain } from "./verdict";

/**
 * The label that lets a pull request pass with a failing (or unjudged) verdict, when it counts: added after the
 * last push by an owner of the canary who is not the author. The gate never reads labels; the workflow lets the
 * check pass only when `npm run verdict-override` (scripts/verdict-override.ts) says the label counts.
 */
export { OVERRIDE_LABEL };

/**
 * The gate's exit codes: the worst verdict of the canaries it judged. The check fails on 1, 3 and 4 unless the
 * override counts (OVERRIDE_LABEL, judged by `npm run verdict-override`); 2 passes with a warning; 4 is the gate's
 * own usage or config error.
 */
export const GATE_EXIT = {
    /** Every canary judged is healthy, or nothing to judge, or the stack has no Prometheus. */
    pass: 0,
    /** At least one canary is failing. */
    failing: 1,
    /** None failing, none unjudged, at least one with too little traffic for a verdict: no evidence either way. */
    notEnoughTraffic: 2,
    /** None failing, at least one could not be judged: Prometheus unreachable or its answer unusable, or the verdict's error. */
    notJudged: 3,
    /** Bad arguments, unknown stack, invalid config, an unknown revision. */
    usage: 4,
} as const;

/** A canary the pull request moves on from a stage where it serves traffic: judged at `stage`, before the move. */
export interface ServiceToJudge {
    service: string;
    namespace: string;
    /** The base revision's stage: where the canary is now. */
    stage: number;
    stageCount: number;
    /** The stage's name, e.g. "canary 10%". */
    stageName: string;
    /** The stage the pull request moves it to. */
    to: number;
    kind: "forward" | "skip";
    /** The base revision's stage description (what is deployed). */
    description: string;
}

export interface GateList {
    stack: string;
    /** The base revision. */
    base: string;
    /** Whether the stack as deployed (the base revision) runs Prometheus (`stagehand:observability`). */
    prometheus: boolean;
    /** The EKS cluster's name, for `aws eks update-kubeconfig`; null for `kind: existing`. */
    cluster: string | null;
    /** `aws:region` of the stack file; null when it sets none. */
    region: string | null;
    /** The stack's wave in the fleet's chain at the base (stagehand.fleet.yaml), e.g. "prod-eu"; null: in none. */
    wave: string | null;
    judge: ServiceToJudge[];
    /** Every other changed service, and why it needs no verdict. */
    skip: { service: string; why: string }[];
}

const WHY_NOT: Partial<Record<string, string>> = {
    first: "new service: no canary has run yet",
    stay: "stays at its stage: nothing moves on",
    rollback: "rollback to stage 1: the way back is never gated",
    finish: "finishes the release: production already runs the released tag",
    direct: "direct update of production without a canary (allowSkip): no canary to judge",
};

/**
 * The services whose canary must be judged before the move `after` makes from `before`, and why each other
 * changed service needs no verdict. `before` is the base revision's `stagehand:*` config (undefined: the stack file
 * is new there); a refused move is listed as skipped (the plan diff refuses it and fails the check).
 */
export function servicesToJudge(
    stack: string,
    before: Record<string, unknown> | undefined,
    after: Record<string, unknown>,
    diffs: ServiceDiff[] = diffStack(stack, before, after),
): Pick<GateList, "judge" | "skip"> {
    const deployed = before?.services === undefined ? {} : parseServices(stack, before.services, serviceDefaultsOf(before));
    const judge: ServiceToJudge[] = [];
    const skip: GateList["skip"] = [];
    for (const d of diffs) {
        if (!d.ok) {
            skip.push({ service: d.service, why: "the plan diff refuses its move" });
            continue;
        }
        if (!d.move) {
            skip.push({ service: d.service, why: "removed" });
            continue;
        }
        const { kind, from, to } = d.move;
        if ((kind !== "forward" && kind !== "skip") || from === undefined) {
            skip.push({ service: d.service, why: WHY_NOT[kind] ?? kind });
            continue;
        }
        const service = deployed[d.service];
        const plan = stagePlan(service);
        if (plan.canary.weight === 0 && plan.mirrorPercent === 0) {
            skip.push({ service: d.service, why: `moves on from stage ${from} (${plan.name}), where its canary serves no traffic: nothing to judge yet` });
            continue;
        }
        judge.push({
            service: d.service,
            namespace: service.namespace,
            stage: from,
            stageCount: plan.stageCount,
            stageName: plan.name,
            to,
            kind,
            description: plan.description,
        });
    }
    return { judge, skip };
}

/** `aws:region` of a stack file's text, or null. */
function regionOf(text: string): string | null {
    try {
        const region = parse(text)?.config?.["aws:region"];
        return typeof region === "string" && region !== "" ? region : null;
    } catch {
        return null;
    }
}

/** The stack's wave in the fleet at the base revision; null when it is in none (or the fleet file is refused: plan --diff says why). */
function waveAt(root: string, base: string, stack: string): string | null {
    try {
        return waveOf(fleetAt(root, base), stack)?.wave.name ?? null;
    } catch {
        return null;
    }
}

/** Everything `--list` prints: the base revision read with git, the working tree's stack file. */
export function gateList(stack: string, base: string, root = projectRoot): GateList {
    const file = stackFilePath(stack, root);
    if (!fs.existsSync(file)) throw new Error(`no stack ${JSON.stringify(stack)}: ${path.basename(file)} does not exist`);
    const currentText = fs.readFileSync(file, "utf8");
    const { config: current, region } = parseStackFile(currentText, path.basename(file));
    const baseText = stackFileAt(stack, base, root, "the base revision argument");
    const before = baseText === undefined ? undefined : stackConfigFromText(baseText, `Pulumi.${stack}.yaml at ${base}`);
    const { cluster } = parseStackConfig(stack, current, { region });
    // What is deployed decides whether there is a Prometheus to ask: turning it on in the same pull request
    // installs it only when that pull request is applied.
    const observability = parseObservability(stack, before?.observability);
    return {
        stack,
        base,
        prometheus: before !== undefined && verdictGateHasPrometheus(observability),
        cluster: cluster.kind === "eks" ? cluster.name : null,
        region: regionOf(currentText),
        wave: waveAt(root, base, stack),
        ...servicesToJudge(stack, before, current),
    };
}

/** What one `npm run verdict` said about one canary. */
export interface JudgedCanary {
    target: ServiceToJudge;
    exitCode: number;
    output: string;
}

const VERDICT_WORDS: Record<number, string> = {
    [EXIT_CODES.healthy]: "healthy",
    [EXIT_CODES.failing]: "FAILING",
    [EXIT_CODES["not enough traffic"]]: "not enough traffic",
    [EXIT_CODES.queryFailed]: "NOT JUDGED: Prometheus could not be queried",
    [EXIT_CODES.usage]: "NOT JUDGED: the verdict could not run",
};

/** The gate's exit code from each canary's verdict: failing, then not judged, then not enough traffic. */
export function gateExit(exitCodes: number[]): number {
    if (exitCodes.includes(EXIT_CODES.failing)) return GATE_EXIT.failing;
    if (exitCodes.some((c) => c !== EXIT_CODES.healthy && c !== EXIT_CODES["not enough traffic"])) return GATE_EXIT.notJudged;
    if (exitCodes.includes(EXIT_CODES["not enough traffic"])) return GATE_EXIT.notEnoughTraffic;
    return GATE_EXIT.pass;
}

const GATE_WORDS: Record<number, string> = {
    [GATE_EXIT.pass]: "passes",
    [GATE_EXIT.failing]: `FAILS: a canary is failing; the check fails unless an owner of the canary (not the author) adds the label ${OVERRIDE_LABEL} after the last push`,
    [GATE_EXIT.notEnoughTraffic]: "passes, with a warning: a canary served too little traffic to be judged; no evidence either way, judge it yourself",
    [GATE_EXIT.notJudged]: `FAILS: a canary could not be judged; the check fails unless an owner of the canary (not the author) adds the label ${OVERRIDE_LABEL} after the last push`,
};

const moveWords = (t: ServiceToJudge) => `stage ${t.stage}/${t.stageCount} ${t.stageName} -> ${t.to}${t.kind === "skip" ? " (skip)" : ""}`;

/** The report the pull request's comment shows: one line per canary, the gate's decision, then each verdict. */
export function formatGate(list: GateList, judged: JudgedCanary[]): string {
    const code = gateExit(judged.map((j) => j.exitCode));
    const lines = [
        `metrics verdict of stack ${list.stack}${list.wave && list.wave !== list.stack ? ` (wave ${list.wave})` : ""}: each canary this pull request moves on, judged at the stage deployed now (${list.base}), with that revision's thresholds`,
        ...judged.map((j) => `${j.target.service}: ${moveWords(j.target)}: ${VERDICT_WORDS[j.exitCode] ?? `exit ${j.exitCode}`}`),
        `gate: ${GATE_WORDS[code]}`,
    ];
    for (const j of judged) lines.push("", `---- ${j.target.service} (npm run verdict -- ${list.stack} ${j.target.service}, at ${list.base})`, j.output.trimEnd());
    return lines.join("\n");
}

const USAGE = `usage: npm run verdict-gate -- <stack> [GIT-REF] [--list] [--prometheus URL] [--timeout SECONDS] [--root DIR]
  GIT-REF       the base revision, what is deployed (default HEAD)
  --root        the checkout whose stack file and git history are read (default: this code's own directory)
  --list        print the canaries to judge as JSON, offline, and judge none
  --prometheus  Prometheus base URL (default: $PROMETHEUS_URL, else http://127.0.0.1:9090)
  --timeout     seconds to wait for each Prometheus query (default: npm run verdict's)
exit codes: 0 passes, 1 a canary failing, 2 a canary with too little traffic (passes), 3 a canary not judged, 4 usage or config error`;

export interface GateOptions {
    out?: (text: string) => void;
    err?: (text: string) => void;
    /** The project: its stack files and git repository. */
    root?: string;
}

/** Runs the command; resolves to its exit code (GATE_EXIT). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, options: GateOptions = {}): Promise<number> {
    const out = options.out ?? ((s: string) => void process.stdout.write(s));
    const err = options.err ?? ((s: string) => void process.stderr.write(s));
    let args: ReturnType<typeof parseGateArgs>;
    try {
        args = parseGateArgs(argv, env);
    } catch (e: any) {
        err(`verdict-gate: ${e.message}\n`);
        return GATE_EXIT.usage;
    }
    const root = args.root ?? options.root ?? projectRoot;
    if (args.help) {
        out(`${USAGE}\n`);
        return 0;
    }
    let list: GateList;
    try {
        list = gateList(args.stack, args.base, root);
    } catch (e: any) {
        err(`verdict-gate: ${e.message}\n`);
        return GATE_EXIT.usage;
    }
    if (args.list) {
        out(`${JSON.stringify(list)}\n`);
        return 0;
    }
    if (list.judge.length === 0) {
        out(`metrics verdict of stack ${list.stack}: no canary to judge: no service moves on from a stage where its canary serves traffic\n`);
        return GATE_EXIT.pass;
    }
    if (!list.prometheus) {
        const names = list.judge.map((t) => `${t.service} (${moveWords(t)})`).join(", ");
        out(
            `metrics verdict of stack ${list.stack}: not run: the stack has no Prometheus (stagehand:observability.prometheus is off at ${list.base}); ` +
                `judge these canaries yourself: ${names}\n`,
        );
        return GATE_EXIT.pass;
    }
    // `npm run verdict` reads the stack file from a directory: the base revision's, alone in a temporary one.
    const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-verdict-gate-"));
    const judged: JudgedCanary[] = [];
    try {
        fs.writeFileSync(stackFilePath(list.stack, baseDir), stackFileAt(list.stack, args.base, root, "the base revision argument")!);
        for (const target of list.judge) {
            let output = "";
            const flags = [...(args.prometheus ? ["--prometheus", args.prometheus] : []), ...(args.timeout ? ["--timeout", args.timeout] : [])];
            const exitCode = await verdictMain([list.stack, target.service, ...flags], env, {
                root: baseDir,
                out: (s) => (output += s),
                err: (s) => (output += s),
            });
            judged.push({ target, exitCode, output });
        }
    } finally {
        fs.rmSync(baseDir, { recursive: true, force: true });
    }
    out(`${formatGate(list, judged)}\n`);
    return gateExit(judged.map((j) => j.exitCode));
}

/** What verdict-gate was asked. */
export interface GateArgs {
    stack: string;
    base: string;
    list: boolean;
    prometheus?: string;
    timeout?: string;
    /** `--root DIR`: where the stack file and the git history are (CI: the pull request's checkout, this code the base's). */
    root?: string;
    help: boolean;
}

export function parseGateArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): GateArgs {
    const { values, positionals, help } = parseCommandLine(argv, {
        options: { list: { type: "boolean" }, prometheus: { type: "string" }, timeout: { type: "string" }, root: { type: "string" } },
        positionals: { min: 1, max: 2, names: "a stack and optionally the base git revision" },
        usage: USAGE,
    }, env);
    if (!help) checkStackArgument(positionals[0], argv, USAGE);
    if (values.list && (values.prometheus !== undefined || values.timeout !== undefined)) {
        throw new UsageError("--list judges nothing: it does not go with --prometheus or --timeout", USAGE);
    }
    const args: GateArgs = { stack: positionals[0], base: positionals[1] ?? "HEAD", list: values.list === true, prometheus: values.prometheus, timeout: values.timeout, help };
    if (values.root !== undefined) args.root = path.resolve(values.root);
    return args;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(`verdict-gate: ${e?.stack ?? e}`);
            process.exit(GATE_EXIT.usage);
        },
    );
}
