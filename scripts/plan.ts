// `npm run plan -- <stack> [--manifests] [--service NAME] [--diff [GIT-REF]] [--policies]`: what each service's
// stage means for traffic, versions and replicas, offline — no Pulumi CLI, no cloud credentials. The same config
// validation and stage plan as the Pulumi program. `--policies` adds the policy pack's results over what the
// program registers offline (scripts/policies.ts, the one path that loads the Pulumi SDK, required only then).
import * as path from "path";
import { parseStackConfig } from "../components/config";
import { estimateMonthlyCost, formatCost } from "../components/cost/cost";
import { formatAddonVersions } from "../components/platform/addons";
import { ObservabilityConfig } from "../components/observability/config";
import { tracingWords } from "../components/observability/tracing";
import { receiverWords } from "../components/observability/alertmanager";
import { alertRuleCounts } from "../components/observability/alerts";
import { ClusterConfig } from "../components/platform/config";
import { IstioConfig } from "../components/platform/istio-config";
import { edgeTls } from "../components/platform/ingress";
import { protectedWords } from "../components/platform/protection";
import { formatRevisions, namespaceRevision } from "../components/platform/revisions";
import { overheadWords, releaseOverhead } from "../components/service/overhead";
import { migrationWords, smokeWords } from "../components/service/jobs";
import { revisionChanges } from "../components/service/revision";
import { PlannedService, revisionLabel } from "../components/service/stages";
import { chartSource, serviceReleaseSpecs } from "../components/service/values";
import { changeWords, isSecretValue } from "../components/shared/field-diff";
import { StackProblemsError } from "../components/shared/errors";
import { checkStackArgument, parseCommandLine, UsageError } from "./args";
import { printDiff, stackFileAt } from "./diff";
import { helm, templateArgs } from "./helm";
import type { checkPolicies as CheckPolicies } from "./policies";
import { projectRoot, readStackFile, stackConfigFromText } from "./stack-file";
import { stringify } from "yaml";

function table(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** A service's sticky sessions in words, as `plan` shows them. */
export function stickyWords(sticky: PlannedService["service"]["sticky"]): string | undefined {
    if (!sticky) return undefined;
    if ("cookie" in sticky) return `sticky: cookie ${sticky.cookie} (max age ${sticky.maxAgeSeconds}s) marks each user with the version that served them during the weight steps`;
    return `sticky: header ${sticky.header} marks each user with the version that served them during the weight steps`;
}

/** The plan table of a stack, as printed by `npm run plan`. */
export function formatPlan(stack: string, planned: PlannedService[], stackAutoRollback = false): string {
    const rows = [["SERVICE", "NAMESPACE", "STAGE", "TRAFFIC prod/canary", "PRODUCTION revision x replicas", "CANARY revision x replicas"]];
    for (const { name, service, plan } of planned) {
        rows.push([
            name,
            service.namespace,
            `${plan.stage}/${plan.stageCount} ${plan.name}`,
            `${plan.production.weight} / ${plan.canary.weight}`,
            `${revisionLabel(plan.production)} x${plan.production.replicas}`,
            `${revisionLabel(plan.canary)} x${plan.canary.replicas}`,
        ]);
    }
    const lines = [`stack ${stack}: ${planned.length} service${planned.length === 1 ? "" : "s"}`, "", table(rows), ""];
    for (const { name, service, plan, plans, revisions } of planned) {
        lines.push(`${name}: ${plan.description}`);
        // What the canary revision changes against production's, field by field (secrets as [secret]).
        const overrides = revisionChanges(service);
        if (overrides.length > 0) lines.push(`  canary revision ${revisionLabel(plan.canary)}: ${overrides.map(changeWords).join("; ")}`);
        const secrets = Object.keys(service.env).filter((k) => isSecretValue(service.env[k]));
        if (secrets.length > 0) lines.push(`  secret env: ${secrets.map((k) => `${k}=[secret]`).join(", ")} (to the pods through a Kubernetes Secret)`);
        const sticky = stickyWords(service.sticky);
        if (sticky) lines.push(`  ${sticky}`);
        // The make-before-break waits a move may take (docs/zero-downtime.md "Zero downtime"): each only when the move needs it.
        lines.push(`  waits: settle ${service.settleSeconds}s before weight moves onto new pods, drain ${service.drainSeconds}s before pods that carried traffic go`);
        // How production is sized through a release, what that holds beyond the full size, and what a rollback starts.
        lines.push(`  ${overheadWords(service.production, service.productionHeadroomPercent, releaseOverhead(plans, service.replicas))}`);
        // Who rolls a failing canary back (docs/releasing.md "Automatic rollback"): said only when it is not a person.
        if (service.autoRollback ?? stackAutoRollback) {
            const from = service.autoRollback !== undefined ? "its autoRollback" : "stagehand:autoRollback";
            lines.push(`  auto rollback: on (${from}): when its canary fails the verdict, npm run auto-rollback merges the rollback pull request (stage: 1) once its checks pass`);
        }
        // The Jobs a service turned on (components/service/jobs.ts): its smoke checks, and its migrations.
        const smoke = smokeWords(service.smoke);
        if (smoke) lines.push(`  ${smoke}`);
        const migrations = migrationWords(service, revisions);
        if (migrations) lines.push(`  ${migrations}`);
    }
    return lines.join("\n");
}

/**
 * The chart of a service rendered by the real helm for its stage, as the program installs it: one render per Helm
 * release (production, canary, routing), each with its own values — the canary's release its revision's.
 */
export function renderManifests(planned: PlannedService, istio?: IstioConfig, platform: "eks" | "existing" = "eks"): string {
    const { name, service, plan } = planned;
    const platformContext = istio ? { istioRevision: namespaceRevision(istio, service.namespace), secureCookies: edgeTls(istio, platform) } : {};
    const specs = serviceReleaseSpecs(planned, platformContext);
    const out = [`# ---- ${name}: ${plan.description}\n`];
    for (const spec of Object.values(specs)) {
        const chart = typeof service.chart === "string" ? path.resolve(projectRoot, spec.chart) : spec.chart;
        const result = helm(templateArgs({ name, chart, namespace: service.namespace, version: spec.version, repo: spec.repositoryOpts?.repo }), stringify(spec.values));
        if (result.status !== 0) throw new Error(`helm template of release ${spec.name} (service ${name}) failed:\n${result.stderr.trim()}`);
        out.push(`# -- release ${spec.name}: ${spec.description}\n${result.stdout}`);
    }
    return out.join("");
}

const USAGE = "usage: npm run plan -- <stack> [--manifests] [--service NAME] [--diff [GIT-REF]] [--policies] [--root DIR] [--break-glass]";

/**
 * What `npm run plan` was asked: one stack, and either the table, the manifests or the diff against a ref; with
 * `--policies` (the table or the diff), the policy pack's results too.
 */
export interface PlanArgs {
    stack: string;
    manifests: boolean;
    service?: string;
    /** The git revision to diff against, when `--diff` is given (default HEAD). */
    diff?: string;
    /** Present (true) when `--policies` is given. */
    policies?: true;
    /**
     * `--root DIR`: the checkout whose stack files (and git history, for `--diff`) are read, when not this code's own
     * directory. The code, its charts and its policy configs stay this one's: CI runs the base branch's code over a
     * pull request's stack files, so a pull request cannot loosen the gate that judges it.
     */
    root?: string;
    /**
     * `--break-glass` (with `--diff`): a closed change window does not refuse the moves (docs/fleet.md "Change windows"). CI
     * passes it only when `npm run break-glass` says the label counts: added by a platform owner, not the author.
     */
    breakGlass?: true;
    help: boolean;
}

/** Parses plan's command line; refuses unknown flags and stray arguments with the usage (UsageError). */
export function parsePlanArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): PlanArgs {
    const diff = argv.includes("--diff");
    const { values, positionals, help } = parseCommandLine(argv, {
        options: { manifests: { type: "boolean" }, service: { type: "string" }, diff: { type: "boolean" }, policies: { type: "boolean" }, root: { type: "string" }, "break-glass": { type: "boolean" } },
        // `--diff` takes an optional revision: a second argument, only with --diff.
        positionals: diff ? { min: 1, max: 2, names: "a stack and optionally a git revision after --diff" } : { min: 1, max: 1, names: "one stack" },
        usage: USAGE,
    }, env);
    if (!help) checkStackArgument(positionals[0], argv, USAGE);
    if (values.manifests && diff) throw new UsageError("--manifests and --diff do not go together", USAGE);
    if (values.policies && values.manifests) throw new UsageError("--manifests and --policies do not go together", USAGE);
    // The pack judges the stack as a whole (stack rules: the mesh, the node groups, the traffic of every service).
    if (values.policies && values.service !== undefined) throw new UsageError("--policies judges the whole stack: it does not go with --service", USAGE);
    const args: PlanArgs = { stack: positionals[0], manifests: values.manifests === true, service: values.service, diff: diff ? (positionals[1] ?? "HEAD") : undefined, help };
    if (values.policies) args.policies = true;
    if (values.root !== undefined) args.root = path.resolve(values.root);
    if (values["break-glass"]) {
        if (!diff) throw new UsageError("--break-glass lets moves through a closed change window: it goes with --diff", USAGE);
        args.breakGlass = true;
    }
    return args;
}

function printError(e: any): void {
    console.error(e instanceof StackProblemsError ? e.message : `plan: ${e.message}`);
}

/** The plan table of the whole stack, its cost and its cluster's add-on versions (what `npm run plan -- <stack>` prints). */
function printTable(stack: string, config: ReturnType<typeof parseStackConfig>): void {
    console.log(formatPlan(stack, config.planned, config.autoRollback));
    console.log(`\n${formatCost(stack, estimateMonthlyCost(config.cluster, { observability: config.observability, services: config.planned }))}`);
    console.log(`\n${formatAddonVersions(config.cluster).join("\n")}`);
    console.log(`\n${formatRevisions(config.cluster.istio, config.planned.map((p) => p.service.namespace))}`);
    console.log(`\n${protectionLine(stack, config.cluster, config.observability)}`);
    console.log(`\n${alertingLines(stack, config.observability, config.planned).join("\n")}`);
    console.log(`\n${tracingLine(stack, config.observability)}`);
}

/** Whether the stack traces, at what sampling rate and where Jaeger keeps the spans (components/observability/tracing.ts). */
export function tracingLine(stack: string, observability: ObservabilityConfig): string {
    return `tracing in ${stack}: ${tracingWords(observability)}`;
}

/**
 * Whether the stack alerts, to whom (receivers by name and type, never a credential) and how many alert rules each
 * service has at its stage (components/observability/alerts.ts), plus the gateway's.
 */
export function alertingLines(stack: string, observability: ObservabilityConfig, planned: readonly PlannedService[]): string[] {
    const am = observability.alertmanager;
    if (!am.enabled) return [`alerting in ${stack}: off (observability.alertmanager.enabled is false)`];
    const counts = alertRuleCounts(stack, planned);
    const rules = planned.map((p) => (counts[p.name] > 0 ? `${p.name} ${counts[p.name]} (stage ${p.plan.stage} ${p.plan.name})` : `${p.name} 0 (no canary traffic at stage ${p.plan.stage} ${p.plan.name})`));
    return [
        `alerting in ${stack}: on, Alertmanager sends to ${receiverWords(am).join("; ")}; firing after ${am.for}`,
        `  alert rules: ${[...rules, `ingress gateway 1 (5xx above ${Number((am.gatewayMaxErrorRate * 100).toFixed(4))}%)`].join(", ")}`,
    ];
}

/** What `cluster.protect` protects in the stack, on one line (components/platform/protection.ts). */
export function protectionLine(stack: string, cluster: ClusterConfig, observability: ObservabilityConfig): string {
    const words = protectedWords(cluster, observability);
    if (cluster.kind !== "eks") return `protected in ${stack}: nothing (an existing cluster: the stack creates no AWS resources)`;
    return words.length > 0 ? `protected in ${stack}: ${words.join(", ")}` : `protected in ${stack}: nothing (cluster.protect: false)`;
}

/**
 * `--policies`: the table (or the diff), then the policy pack over what the program registers offline. The exit
 * code is the worse of the two: 1 when the diff refuses a move, a mandatory rule is violated or the program stops.
 */
async function mainWithPolicies(args: PlanArgs, root: string): Promise<number> {
    const { stack } = args;
    try {
        const { config: current, region } = readStackFile(stack, root);
        let code: number;
        let base: { ref: string; config: Record<string, unknown> | undefined } | undefined;
        if (args.diff !== undefined) {
            code = printDiff(stack, args.diff, current, console.log, root, { region }, { breakGlass: args.breakGlass });
            const text = stackFileAt(stack, args.diff, root);
            base = { ref: args.diff, config: text === undefined ? undefined : stackConfigFromText(text, `Pulumi.${stack}.yaml at ${args.diff}`) };
        } else {
            printTable(stack, parseStackConfig(stack, current, { region }));
            code = 0;
        }
        console.log("");
        // A break-glass the caller judged (npm run break-glass) lets the change-window-open rule pass too.
        if (args.breakGlass) process.env.STAGEHAND_BREAK_GLASS = "true";
        // Loaded only here: the Pulumi SDK, the program and the pack stay out of plain `npm run plan`.
        const { checkPolicies } = require("./policies") as { checkPolicies: typeof CheckPolicies };
        return Math.max(code, await checkPolicies(stack, current, { base, stackRoot: root }));
    } catch (e: any) {
        printError(e);
        return 1;
    }
}

/**
 * Runs `npm run plan`; `root` is where the stack files (and the git repository for `--diff`) are, `env` the
 * environment npm ran it in (flags npm kept for itself are there).
 */
export function main(argv: string[], root = projectRoot, env: NodeJS.ProcessEnv = process.env): number | Promise<number> {
    let args: PlanArgs;
    try {
        args = parsePlanArgs(argv, env);
    } catch (e: any) {
        console.error(`plan: ${e.message}`);
        return 2;
    }
    if (args.help) {
        console.log(USAGE);
        return 0;
    }
    if (args.root !== undefined) root = args.root;
    if (args.policies) return mainWithPolicies(args, root);
    const { stack, service: only } = args;
    try {
        const file = readStackFile(stack, root);
        if (args.diff !== undefined) return printDiff(stack, args.diff, file.config, console.log, root, { region: file.region }, { breakGlass: args.breakGlass });
        const config = parseStackConfig(stack, file.config, { region: file.region });
        let planned = config.planned;
        if (only) {
            planned = planned.filter((p) => p.name === only);
            if (planned.length === 0) throw new Error(`stack ${stack} has no service ${JSON.stringify(only)}`);
        }
        if (args.manifests) {
            for (const p of planned) process.stdout.write(renderManifests(p, config.cluster.istio, config.cluster.kind));
        } else if (only) {
            console.log(formatPlan(stack, planned, config.autoRollback));
        } else {
            // The whole stack's cluster and its addons, so not for a single service.
            printTable(stack, config);
        }
        return 0;
    } catch (e: any) {
        printError(e);
        return 1;
    }
}

if (require.main === module) {
    Promise.resolve(main(process.argv.slice(2))).then(
        (code) => process.exit(code),
        (e) => {
            console.error(`plan: ${e?.stack ?? e}`);
            process.exit(1);
        },
    );
}
