import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { Document, parse, parseDocument } from "yaml";
import { parseCluster } from "../components/platform/config";
import { changedStacks, main as changedStacksMain, stacksToDeploy } from "../scripts/changed-stacks";
import { main as gateMain } from "../scripts/verdict-gate";
import { knownStacks, projectRoot, readStackConfig } from "../scripts/stack-file";
import { main as historyMain } from "../scripts/history";
import { Repo, TIME } from "./helpers/git-repo";

const workflowsDir = path.join(projectRoot, ".github", "workflows");
const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8"));

function load(file: string): any {
    return parse(fs.readFileSync(path.join(workflowsDir, file), "utf8"));
}

/** The uses of a pinned action: `owner/name@<40 hex> # v<version>` in the file's text. */
const PINNED = /^\s*(?:- )?uses: ([\w.-]+\/[\w./-]+)@([0-9a-f]{40}) # (v\d+(?:\.\d+){0,2})\s*$/;

/** Whether a step uses the action `name` (whatever its pin). */
const usesAction = (s: any, name: string): boolean => typeof s.uses === "string" && s.uses.startsWith(`${name}@`);

function steps(workflow: any): any[] {
    return Object.values(workflow.jobs).flatMap((job: any) => job.steps ?? []);
}

/** Every `npm run <script>` a workflow's shell steps call. */
function npmScripts(workflow: any): string[] {
    return steps(workflow)
        .filter((s) => typeof s.run === "string")
        .flatMap((s) => [...(s.run as string).matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]));
}

// ---- GitHub Actions expressions, the subset the workflows use: enough to run a job's `if:`s and `runs-on`
// the way GitHub does (a step's `if` without a status function means `success() && (...)`; `==` is loose and
// case-insensitive on strings; `&&` and `||` return an operand; `contains()`, `startsWith()`, `format()`; `a.*.b`
// filters an array's elements).

interface JobStatus {
    failed: boolean;
    cancelled?: boolean;
}

function truthy(v: any): boolean {
    return !(v === false || v === 0 || v === "" || v === null || v === undefined || Number.isNaN(v));
}

function looseEquals(a: any, b: any): boolean {
    if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
    if (typeof a === typeof b && a !== null && b !== null) return a === b;
    const num = (v: any) => (v === null || v === undefined ? 0 : typeof v === "boolean" ? Number(v) : typeof v === "string" ? (v.trim() === "" ? 0 : Number(v)) : Number(v));
    return num(a) === num(b);
}

function evaluate(expression: string, ctx: Record<string, any>, status: JobStatus = { failed: false }): any {
    const tokens: { op?: string; str?: string; num?: number; ident?: string }[] = [];
    const lexer = /\s*(?:(&&|\|\||==|!=|!|\(|\)|,)|'((?:[^']|'')*)'|([A-Za-z_][\w-]*(?:\.(?:[\w-]+|\*))*)|(\d+))\s*/y;
    while (lexer.lastIndex < expression.length) {
        const start = lexer.lastIndex;
        const m = lexer.exec(expression);
        if (!m || lexer.lastIndex === start) throw new Error(`cannot read the expression ${JSON.stringify(expression)} at ${start}`);
        if (m[1]) tokens.push({ op: m[1] });
        else if (m[2] !== undefined) tokens.push({ str: m[2].replace(/''/g, "'") });
        else if (m[3]) tokens.push({ ident: m[3] });
        else if (m[4]) tokens.push({ num: Number(m[4]) });
    }
    let i = 0;
    const peek = () => tokens[i];
    const expect = (op: string) => {
        if (tokens[i]?.op !== op) throw new Error(`expected ${op} in ${JSON.stringify(expression)}`);
        i++;
    };
    const call = (name: string, args: any[]): boolean => {
        if (name === "contains") {
            const [search, item] = args;
            if (Array.isArray(search)) return search.some((e) => looseEquals(e, item));
            return String(search ?? "").toLowerCase().includes(String(item ?? "").toLowerCase());
        }
        if (name === "startsWith") return String(args[0] ?? "").toLowerCase().startsWith(String(args[1] ?? "").toLowerCase());
        if (name === "format") return String(args[0]).replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i) + 1] ?? "")) as any;
        if (args.length > 0) throw new Error(`${name}() takes no arguments here`);
        switch (name) {
            case "always":
                return true;
            case "success":
                return !status.failed && !status.cancelled;
            case "failure":
                return status.failed;
            case "cancelled":
                return !!status.cancelled;
            default:
                throw new Error(`function ${name}() is not supported here`);
        }
    };
    const lookup = (p: string) => {
        let v: any = ctx;
        let filtered = false;
        for (const k of p.split(".")) {
            if (k === "*") {
                v = v === null || typeof v !== "object" ? [] : Array.isArray(v) ? v : Object.values(v);
                filtered = true;
            } else if (filtered) {
                v = (v as any[]).map((e) => (e === null || typeof e !== "object" ? null : e[k] ?? null)).filter((e) => e !== null);
            } else v = v === null || v === undefined ? null : v[k] ?? null;
        }
        return v;
    };
    const primary = (): any => {
        const t = tokens[i++];
        if (!t) throw new Error(`unexpected end of ${JSON.stringify(expression)}`);
        if (t.op === "(") {
            const v = or();
            expect(")");
            return v;
        }
        if (t.str !== undefined) return t.str;
        if (t.num !== undefined) return t.num;
        if (t.ident !== undefined) {
            if (peek()?.op === "(") {
                i++;
                const args: any[] = [];
                if (peek()?.op !== ")") {
                    args.push(or());
                    while (peek()?.op === ",") {
                        i++;
                        args.push(or());
                    }
                }
                expect(")");
                return call(t.ident, args);
            }
            return lookup(t.ident);
        }
        throw new Error(`unexpected ${t.op} in ${JSON.stringify(expression)}`);
    };
    const comparison = (): any => {
        let v = primary();
        while (peek()?.op === "==" || peek()?.op === "!=") {
            const op = tokens[i++].op;
            const r = primary();
            v = op === "==" ? looseEquals(v, r) : !looseEquals(v, r);
        }
        return v;
    };
    const not = (): any => {
        if (peek()?.op === "!") {
            i++;
            return !truthy(not());
        }
        return comparison();
    };
    const and = (): any => {
        let v = not();
        while (peek()?.op === "&&") {
            i++;
            const r = not();
            v = truthy(v) ? r : v;
        }
        return v;
    };
    const or = (): any => {
        let v = and();
        while (peek()?.op === "||") {
            i++;
            const r = and();
            v = truthy(v) ? v : r;
        }
        return v;
    };
    const value = or();
    if (i !== tokens.length) throw new Error(`cannot read the rest of ${JSON.stringify(expression)}`);
    return value;
}

/** A workflow value: `${{ expr }}` alone is the expression's value; otherwise each `${{ }}` is replaced by its text. */
function valueOf(text: any, ctx: Record<string, any>): any {
    if (typeof text !== "string") return text;
    const whole = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(text);
    if (whole && !whole[1].includes("}}")) return evaluate(whole[1], ctx);
    return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e) => String(evaluate(e, ctx) ?? ""));
}

/** Whether a step or job `if:` lets it run. */
function runsIf(condition: string | undefined, ctx: Record<string, any>, status: JobStatus): boolean {
    let expr = (condition ?? "").trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1").trim();
    if (expr === "") expr = "success()";
    if (!/\b(success|failure|always|cancelled)\(\)/.test(expr)) expr = `success() && (${expr})`;
    return truthy(evaluate(expr, ctx, status));
}

interface PullRequest {
    stack: string;
    fork?: boolean;
    vars?: Record<string, string>;
    /** The pull request's labels. */
    labels?: string[];
    /** The outcome (and outputs) of a step, by id, name or command; any other step succeeds, a bare `exit 1` fails. */
    outcomes?: Record<string, { outcome: "success" | "failure"; outputs?: Record<string, string> }>;
    /** The results of the jobs this one needs (default: success). */
    needs?: Record<string, string>;
}

function pullRequestContext(pr: PullRequest): Record<string, any> {
    return {
        github: {
            repository: "acme/stagehand",
            base_ref: "main",
            event: {
                pull_request: {
                    number: 7,
                    head: { repo: { full_name: pr.fork ? "someone/stagehand" : "acme/stagehand" } },
                    labels: (pr.labels ?? []).map((name, i) => ({ id: i + 1, name, color: "ededed" })),
                },
            },
        },
        matrix: { stack: pr.stack },
        vars: pr.vars ?? {},
        secrets: {},
        steps: {},
        env: {},
        needs: {
            stacks: { result: pr.needs?.stacks ?? "success", outputs: { stacks: JSON.stringify([pr.stack]) } },
            ...Object.fromEntries(Object.entries(pr.needs ?? {}).filter(([k]) => k !== "stacks").map(([k, result]) => [k, { result, outputs: {} }])),
        },
    };
}

const stepKey = (s: any): string => s.id ?? s.name ?? s.run ?? s.uses;

/** Runs a job's steps as GitHub would for a pull request: which steps run, where, and whether the job fails. */
function simulate(job: any, pr: PullRequest): { runsOn: string; ran: string[]; failed: boolean } {
    const ctx = pullRequestContext(pr);
    for (const [k, v] of Object.entries<any>(job.env ?? {})) ctx.env[k] = String(valueOf(v, ctx));
    const status: JobStatus = { failed: false };
    const ran: string[] = [];
    for (const step of job.steps) {
        let outcome = "skipped";
        let outputs: Record<string, string> = {};
        if (runsIf(step.if, ctx, status)) {
            ran.push(stepKey(step));
            const given = pr.outcomes?.[stepKey(step)];
            if (given) {
                outcome = given.outcome;
                outputs = given.outputs ?? {};
            } else {
                outcome = typeof step.run === "string" && /^\s*exit 1\s*$/m.test(step.run) ? "failure" : "success";
            }
            if (outcome === "failure" && step["continue-on-error"] !== true) status.failed = true;
        }
        if (step.id) ctx.steps[step.id] = { outcome, outputs };
    }
    return { runsOn: String(valueOf(job["runs-on"], ctx)), ran, failed: status.failed };
}

function configureAws(job: any): any[] {
    return (job.steps ?? []).filter((s: any) => typeof s.uses === "string" && s.uses.startsWith("aws-actions/configure-aws-credentials@"));
}

/** The policy pack and policy config paths a step runs with (pulumi/actions inputs or the CLI's flags), `<stack>` for the stack. */
function policyRefs(step: any): { pack: string; config: string } | undefined {
    if (usesAction(step, "pulumi/actions") && step.with?.policyPacks) return { pack: step.with.policyPacks, config: step.with.policyPackConfigs.replace("${{ matrix.stack }}", "<stack>") };
    const m = typeof step.run === "string" ? /--policy-pack (\S+) --policy-pack-config "?([^"\s]+)"?/.exec(step.run) : null;
    return m ? { pack: m[1], config: m[2].replace("$STACK", "<stack>").replace("${{ matrix.stack }}", "<stack>") } : undefined;
}

/** Runs the PR comment job's github-script as actions/github-script does, against fake GitHub APIs. */
async function runCommentScript(opts: { sameRepo: boolean; dir: string; comments?: any[]; ledgerUrl?: string }) {
    const wf = load("pull-request.yml");
    const step = wf.jobs.comment.steps.find((s: any) => usesAction(s, "actions/github-script"));
    const calls: { create: any[]; update: any[]; list: number } = { create: [], update: [], list: 0 };
    let summary = "";
    const notices: string[] = [];
    const github = {
        rest: {
            issues: {
                listComments: "listComments",
                createComment: async (p: any) => void calls.create.push(p),
                updateComment: async (p: any) => void calls.update.push(p),
            },
        },
        paginate: async (fn: any, p: any) => {
            assert.strictEqual(fn, "listComments");
            assert.strictEqual(p.issue_number, 7);
            calls.list++;
            return opts.comments ?? [];
        },
    };
    const context = { repo: { owner: "acme", repo: "stagehand" }, issue: { number: 7 }, serverUrl: "https://github.com", runId: 42 };
    const core = {
        summary: {
            addRaw(text: string) {
                summary += text;
                return this;
            },
            async write() {
                return this;
            },
        },
        notice: (m: string) => void notices.push(m),
        warning: (m: string) => void notices.push(m),
        info: () => undefined,
    };
    const saved = { SAME_REPO: process.env.SAME_REPO, PREVIEWS_DIR: process.env.PREVIEWS_DIR, LEDGER_URL: process.env.LEDGER_URL };
    process.env.SAME_REPO = String(opts.sameRepo);
    process.env.PREVIEWS_DIR = opts.dir;
    // As the comment job's env gives it: empty when the ledger job uploaded nothing.
    process.env.LEDGER_URL = opts.ledgerUrl ?? "";
    try {
        const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
        await new AsyncFunction("require", "github", "context", "core", step.with.script)(require, github, context, core);
    } finally {
        for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    return { calls, summary, notices };
}

/** The job that uploads each output file (its artifact `<job>-<stack>`); `result.json` stands for the three results. */
const JOB_OF: Record<string, string> = {
    "plan-diff.txt": "gates",
    "policies.txt": "gates",
    "result.json": "gates",
    "preview.txt": "preview",
    "verdict-gate.json": "verdict",
    "verdict.txt": "verdict",
};

/** The artifact directories the gates, preview and verdict jobs upload for one stack. */
function artifact(root: string, stack: string, files: Record<string, string>) {
    for (const [name, text] of Object.entries(files)) {
        const job = JOB_OF[name];
        assert.ok(job, name);
        const dir = path.join(root, `${job}-${stack}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, name === "result.json" ? "result-gates.json" : name), text);
    }
}

describe("GitHub workflows (.github/workflows)", () => {
    const files = fs.readdirSync(workflowsDir).filter((f) => f.endsWith(".yml"));

    it("parse, and every job has steps or a reusable workflow", () => {
        assert.deepStrictEqual(files.sort(), ["auto-rollback.yml", "deploy.yml", "owners.yml", "pull-request.yml"]);
        for (const f of files) {
            const wf = load(f);
            assert.ok(wf.on && wf.jobs, f);
            for (const [name, job] of Object.entries<any>(wf.jobs)) assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${f}: job ${name}`);
        }
    });

    it("call only npm scripts that exist", () => {
        for (const f of files) {
            const used = npmScripts(load(f));
            assert.ok(used.length > 0, f);
            for (const s of used) assert.ok(pkg.scripts[s], `${f} runs npm run ${s}, which package.json does not define`);
        }
    });

    it("run on every pull request: tests, then per changed stack the plan diff and the offline policies (base code), pulumi preview with the policy pack", () => {
        const wf = load("pull-request.yml");
        assert.strictEqual(wf.on.pull_request.paths, undefined, "no paths filter: the required checks must report on every pull request");
        assert.ok(steps(wf).some((s) => s.run === "npm test"));
        // A clone from GitHub has no ../shared/charts: the archives the tests render are fetched first, into the cache
        // the tests read (scripts/upstream-charts.ts), and that cache is kept between runs.
        const test = wf.jobs.test.steps;
        const fetch = test.findIndex((s: any) => s.run === "npm run fetch-charts");
        const cache = test.findIndex((s: any) => usesAction(s, "actions/cache"));
        assert.ok(cache >= 0 && cache < fetch && fetch < test.findIndex((s: any) => s.run === "npm test"), "cache, fetch-charts, then npm test");
        assert.strictEqual(test[cache].with.path, "~/.cache/stagehand/charts");
        const gates = wf.jobs.gates;
        const plan = gates.steps.find((s: any) => s.id === "plan");
        assert.match(plan.run, /npm run --silent plan -- "\$STACK" --diff "origin\/\$BASE_REF" --root "\$PR_DIR" \$glass > "\$OUT\/plan-diff.txt" 2>&1\n/);
        // (`$glass`: --break-glass, only when `npm run break-glass` counted the label: "change windows" below.)
        // The pack offline over what the program registers, its moves judged against the base revision.
        const policies = gates.steps.find((s: any) => s.id === "policies");
        assert.match(policies.run, /npm run --silent plan -- "\$STACK" --diff "origin\/\$BASE_REF" --policies --root "\$PR_DIR" \$glass > "\$OUT\/policies.txt" 2>&1\n/);
        assert.match(policies.run, /^set \+e\n[\s\S]*echo "exit=\$\?" >> "\$GITHUB_OUTPUT"/, "its exit status is recorded, not fatal before the upload");
        const job = wf.jobs.preview;
        assert.strictEqual(job.env.STACK, "${{ matrix.stack }}");
        const preview = job.steps.find((s: any) => s.id === "preview");
        assert.match(preview.run, /pulumi preview --stack "\$STACK" --diff --non-interactive/);
        assert.deepStrictEqual(policyRefs(preview), { pack: "policies", config: "policies/config.<stack>.json" });
        // The Pulumi CLI is installed before the preview (pulumi/actions without a command installs it only).
        const install = job.steps.findIndex((s: any) => usesAction(s, "pulumi/actions"));
        assert.ok(install >= 0 && install < job.steps.indexOf(preview));
        assert.strictEqual(job.steps[install].with?.command, undefined);
    });

    it("deploy merges to main with pulumi up, one stack at a time, each in its own environment", () => {
        const wf = load("deploy.yml");
        assert.deepStrictEqual(wf.on.push.branches, ["main"]);
        const up = wf.jobs.up;
        assert.strictEqual(up.environment, "${{ matrix.stack }}");
        assert.strictEqual(up.strategy["max-parallel"], 1);
        const action = up.steps.find((s: any) => usesAction(s, "pulumi/actions") && s.with?.command);
        assert.strictEqual(action.with.command, "up");
    });

    it("reference the policy pack and a policy config that exists for every stack", () => {
        for (const f of ["deploy.yml", "pull-request.yml"]) {
            const refs = steps(load(f)).map(policyRefs).filter((r) => r !== undefined);
            assert.ok(refs.length > 0, `${f} runs pulumi with the policy pack`);
            for (const { pack, config } of refs) {
                assert.ok(fs.existsSync(path.join(projectRoot, pack, "PulumiPolicy.yaml")), `${f}: ${pack}/PulumiPolicy.yaml`);
                for (const stack of knownStacks()) {
                    const file = config.replace("<stack>", stack);
                    assert.ok(fs.existsSync(path.join(projectRoot, file)), `${f}: ${file}`);
                }
            }
        }
    });

    describe("runners: prod's private API is reached from its VPC, pull requests never from the deploy runner", () => {
        const VARS = { PROD_RUNNER: "prod-deploy", PROD_PREVIEW_RUNNER: "prod-preview" };
        const runsOn = (job: any, pr: PullRequest) => String(valueOf(job["runs-on"], pullRequestContext(pr)));

        it("the prod stacks' Kubernetes APIs are private to their VPCs: only they (named prod, prod-<region>) need a runner there", () => {
            const privateOnly = knownStacks().filter((stack) => {
                const cluster = parseCluster(stack, readStackConfig(stack).cluster);
                return cluster.kind === "eks" && !cluster.apiEndpoint.public;
            });
            assert.deepStrictEqual(privateOnly, ["prod", "prod-eu-west-1"], "the stacks whose API endpoint is private only (each needs a runner in its VPC)");
            // The workflows pick a VPC runner for a stack by its name: exactly these stacks.
            assert.deepStrictEqual(knownStacks().filter((s) => s.startsWith("prod")), privateOnly);
        });

        it("every job's runner: deploy's up on the deploy runner for prod; the PR's preview and verdict on the preview runner for prod; everything else on GitHub's", () => {
            const expected: Record<string, Record<string, (pr: PullRequest) => string>> = {
                "deploy.yml": { stacks: () => "ubuntu-latest", window: () => "ubuntu-latest", up: (pr) => (pr.stack === "prod" ? "prod-deploy" : pr.stack.startsWith("prod-") ? `prod-deploy-${pr.stack}` : "ubuntu-latest") },
                "pull-request.yml": {
                    test: () => "ubuntu-latest",
                    stacks: () => "ubuntu-latest",
                    gates: () => "ubuntu-latest",
                    preview: (pr) => (pr.fork ? "ubuntu-latest" : pr.stack === "prod" ? "prod-preview" : pr.stack.startsWith("prod-") ? `prod-preview-${pr.stack}` : "ubuntu-latest"),
                    verdict: (pr) => (pr.fork ? "ubuntu-latest" : pr.stack === "prod" ? "prod-preview" : pr.stack.startsWith("prod-") ? `prod-preview-${pr.stack}` : "ubuntu-latest"),
                    ledger: () => "ubuntu-latest",
                    comment: () => "ubuntu-latest",
                    "plan-gate": () => "ubuntu-latest",
                    "verdict-gate": () => "ubuntu-latest",
                },
                "owners.yml": { owners: () => "ubuntu-latest" },
                // The automatic rollback judges each prod stack from its preview runner; the jobs holding the write token run on GitHub's.
                "auto-rollback.yml": {
                    stacks: () => "ubuntu-latest",
                    judge: (pr) => (pr.stack === "prod" ? "prod-preview" : pr.stack.startsWith("prod-") ? `prod-preview-${pr.stack}` : "ubuntu-latest"),
                    rollback: () => "ubuntu-latest",
                    merge: () => "ubuntu-latest",
                },
            };
            for (const [file, jobs] of Object.entries(expected)) {
                const wf = load(file);
                assert.deepStrictEqual(Object.keys(wf.jobs).sort(), Object.keys(jobs).sort(), file);
                for (const [name, want] of Object.entries(jobs)) {
                    for (const stack of ["staging", "uat", "prod", "prod-eu-west-1"]) {
                        for (const fork of [false, true]) {
                            const pr = { stack, fork, vars: VARS };
                            assert.strictEqual(runsOn(wf.jobs[name], pr), want(pr), `${file}: job ${name}, ${stack}${fork ? ", fork" : ""}`);
                        }
                    }
                }
            }
        });

        it("no pull-request job can reach the deploy runner, whatever the variables, the stack or the fork", () => {
            for (const file of ["pull-request.yml", "owners.yml", "auto-rollback.yml"]) {
                const wf = load(file);
                for (const [name, job] of Object.entries<any>(wf.jobs)) {
                    assert.ok(!String(job["runs-on"]).includes("PROD_RUNNER"), `${file}: job ${name} names the deploy runner's variable in runs-on`);
                    for (const vars of [VARS, {}, { PROD_RUNNER: "prod-deploy" }, { PROD_PREVIEW_RUNNER: "prod-preview" }] as Record<string, string>[])
                        for (const stack of ["staging", "uat", "prod", "prod-eu-west-1"])
                            for (const fork of [false, true]) assert.ok(!runsOn(job, { stack, fork, vars }).startsWith("prod-deploy"), `${file}: job ${name}`);
                }
            }
            // deploy.yml alone names the deploy runner in a runs-on.
            assert.match(load("deploy.yml").jobs.up["runs-on"], /vars\.PROD_RUNNER/);
        });

        it("prod's preview and verdict stop at once without a preview runner, or when it is the deploy runner; deploy's up without the deploy runner", () => {
            const pr = load("pull-request.yml");
            for (const name of ["preview", "verdict"]) {
                const job = pr.jobs[name];
                const firstCheckout = job.steps.findIndex((s: any) => usesAction(s, "actions/checkout"));
                const stops = (vars: Record<string, string>, stack = "prod", fork = false) => simulate(job, { stack, fork, vars, outcomes: { gate: { outcome: "success", outputs: { judge: "", prometheus: "false" } } } });
                const none = stops({});
                assert.ok(none.failed && none.ran.some((r) => r.startsWith("Refuse to")), `${name}: ${none.ran.join(", ")}`);
                const same = stops({ PROD_RUNNER: "prod-vpc", PROD_PREVIEW_RUNNER: "prod-vpc" });
                assert.ok(same.failed && same.ran.includes("Refuse the deploy runner"), `${name}: ${same.ran.join(", ")}`);
                for (const guard of ["Refuse the deploy runner", job.steps.find((s: any) => s.name?.startsWith("Refuse to")).name]) {
                    const i = job.steps.findIndex((s: any) => s.name === guard);
                    assert.ok(i >= 0 && i < firstCheckout, `${name}: ${guard} before anything is checked out`);
                    assert.match(job.steps[i].run, /::error::[\s\S]*exit 1/);
                }
                const ok = stops(VARS);
                assert.ok(!ok.failed && ok.runsOn === "prod-preview", `${name}: ${ok.ran.join(", ")}`);
                assert.ok(!stops({}, "uat").failed, `${name}: uat needs no preview runner`);
                // Another prod stack: its own VPC's preview runner, and the same guards.
                const eu = stops(VARS, "prod-eu-west-1");
                assert.ok(!eu.failed && eu.runsOn === "prod-preview-prod-eu-west-1", `${name}: ${eu.ran.join(", ")}`);
                assert.ok(stops({}, "prod-eu-west-1").failed, `${name}: prod-eu-west-1 without a preview runner stops`);
            }
            const up = load("deploy.yml").jobs.up;
            const guard = up.steps.findIndex((s: any) => typeof s.if === "string" && s.if.includes("!vars.PROD_RUNNER"));
            const pulumi = up.steps.findIndex((s: any) => usesAction(s, "pulumi/actions") && s.with?.command);
            assert.ok(guard >= 0 && guard < pulumi, "deploy.yml stops before pulumi when PROD_RUNNER is unset");
            assert.match(up.steps[guard].run, /::error::.*PROD_RUNNER[\s\S]*exit 1/);
        });
    });

    describe("supply chain and shell safety", () => {
        const all = (["deploy.yml", "owners.yml", "pull-request.yml"] as const).map((f) => [f, load(f), fs.readFileSync(path.join(workflowsDir, f), "utf8")] as const);

        it("every action is pinned by a full commit SHA with its version in a comment, the same pin everywhere", () => {
            const pins = new Map<string, string>();
            for (const [f, wf, text] of all) {
                for (const s of steps(wf).filter((s) => typeof s.uses === "string")) {
                    assert.match(s.uses, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${f}: ${s.uses} is not pinned by a full commit SHA`);
                }
                const lines = text.split("\n").filter((l) => /^\s*(- )?uses: /.test(l));
                assert.ok(lines.length > 0, f);
                for (const line of lines) {
                    const m = PINNED.exec(line);
                    assert.ok(m, `${f}: ${line.trim()} (expected uses: owner/name@<40-hex SHA> # vX.Y.Z)`);
                    const [, action, sha, version] = m;
                    const pin = `${sha} ${version}`;
                    assert.strictEqual(pins.get(action) ?? pin, pin, `${f}: ${action} pinned differently elsewhere`);
                    pins.set(action, pin);
                }
            }
            assert.deepStrictEqual([...pins.keys()].sort(), [
                "actions/cache",
                "actions/checkout",
                "actions/download-artifact",
                "actions/github-script",
                "actions/setup-node",
                "actions/upload-artifact",
                "aws-actions/configure-aws-credentials",
                "pulumi/actions",
            ]);
        });

        it("Dependabot keeps the pinned actions and the npm dependencies current", () => {
            const config = parse(fs.readFileSync(path.join(projectRoot, ".github", "dependabot.yml"), "utf8"));
            assert.strictEqual(config.version, 2);
            const ecosystems = config.updates.map((u: any) => `${u.ecosystem ?? u["package-ecosystem"]} ${u.directory}`);
            for (const want of ["github-actions /", "npm /"]) assert.ok(ecosystems.includes(want), want);
            for (const u of config.updates) assert.ok(u.schedule?.interval, u["package-ecosystem"]);
        });

        it("no `${{ }}` inside a run: script; values reach the shell through env", () => {
            for (const [f, wf] of all) {
                for (const s of steps(wf).filter((s) => typeof s.run === "string")) assert.ok(!s.run.includes("${{"), `${f}: ${s.name ?? s.id ?? s.run.split("\n")[0]} has \${{ in its run:`);
            }
            // The values the scripts read: each from env, set from its expression.
            const pr = load("pull-request.yml");
            for (const job of ["gates", "verdict"]) {
                assert.strictEqual(pr.jobs[job].env.STACK, "${{ matrix.stack }}", job);
                assert.strictEqual(pr.jobs[job].env.BASE_REF, "${{ github.base_ref }}", job);
                assert.strictEqual(pr.jobs[job].env.PR_DIR, "${{ github.workspace }}/pr", job);
            }
            assert.strictEqual(pr.jobs.stacks.env.BASE_REF, "${{ github.base_ref }}");
            const verdict = pr.jobs.verdict.steps.find((s: any) => s.name === "Fail on a failing verdict");
            assert.strictEqual(verdict.env.VERDICT_EXIT, "${{ steps.verdict.outputs.exit }}");
            assert.match(verdict.run, /exit \$VERDICT_EXIT/);
            const override = pr.jobs.verdict.steps.find((s: any) => s.id === "override");
            assert.strictEqual(override.env.JUDGE, "${{ steps.gate.outputs.judge }}");
            assert.strictEqual(override.env.PR_NUMBER, "${{ github.event.pull_request.number }}");
            const up = load("deploy.yml").jobs.up.steps.find((s: any) => usesAction(s, "pulumi/actions") && s.with?.command);
            assert.strictEqual(up.env.STAGEHAND_COMMIT, "${{ github.sha }}");
        });

        it("a shell script reading a hostile value through env runs it as data, not as code", () => {
            const step = load("pull-request.yml").jobs.stacks.steps.find((s: any) => s.id === "changed");
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-env-"));
            try {
                // npm stands in for the real command: it prints its arguments, one a line.
                fs.writeFileSync(path.join(dir, "npm"), '#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS"\necho \'["uat"]\'\n', { mode: 0o755 });
                const hostile = 'main"; touch pwned; echo "';
                execFileSync("bash", ["-e", "-c", step.run], { cwd: dir, stdio: "pipe", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ARGS: path.join(dir, "args"), BASE_REF: hostile, PR_DIR: "/x", GITHUB_OUTPUT: path.join(dir, "out") } });
                assert.ok(!fs.existsSync(path.join(dir, "pwned")));
                assert.ok(fs.readFileSync(path.join(dir, "args"), "utf8").split("\n").includes(`origin/${hostile}`));
                assert.strictEqual(fs.readFileSync(path.join(dir, "out"), "utf8"), 'stacks=["uat"]\n');
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("automatic rollback (auto-rollback.yml): judged with the read-only role, written with the rollback token, applied by deploy", () => {
        const wf = load("auto-rollback.yml");
        const run = (job: string) => wf.jobs[job].steps.filter((s: any) => typeof s.run === "string").map((s: any) => s.run).join("\n");

        it("runs every 5 minutes, on the alert relay's repository_dispatch, by hand, and when a pull request's checks complete", () => {
            assert.deepStrictEqual(wf.on.schedule, [{ cron: "*/5 * * * *" }]);
            assert.deepStrictEqual(wf.on.repository_dispatch, { types: ["stagehand-canary-failing"] });
            assert.deepStrictEqual(Object.keys(wf.on.workflow_dispatch.inputs), ["stack", "service"]);
            // workflow_run names workflows: the ones that report the checks a rollback pull request waits for.
            assert.deepStrictEqual(wf.on.workflow_run, { workflows: [load("pull-request.yml").name, load("owners.yml").name], types: ["completed"] });
        });

        it("one run at a time, never cancelled half-way", () => {
            assert.deepStrictEqual(wf.concurrency, { group: "auto-rollback", "cancel-in-progress": false });
        });

        it("least privilege: nothing by default; the write token only in the jobs without cloud credentials; the judge can write nothing", () => {
            assert.deepStrictEqual(wf.permissions, {});
            for (const [name, job] of Object.entries<any>(wf.jobs)) {
                const writes = Object.entries<any>(job.permissions ?? {}).filter(([scope, level]) => level === "write" && scope !== "id-token");
                assert.deepStrictEqual(writes, [], `job ${name} asks GITHUB_TOKEN for write access; the rollback token writes`);
                for (const s of job.steps.filter((s: any) => usesAction(s, "actions/checkout"))) assert.strictEqual(s.with?.["persist-credentials"], false, `job ${name}`);
                const text = JSON.stringify(job);
                const token = text.includes("secrets.STAGEHAND_ROLLBACK_TOKEN");
                assert.strictEqual(token, name === "rollback" || name === "merge", `job ${name} and the rollback token`);
                if (token) assert.deepStrictEqual(configureAws(job), [], `job ${name} holds the write token and cloud credentials`);
                for (const secret of ["AWS_DEPLOY_ROLE_ARN", "PULUMI_ACCESS_TOKEN", "OWNERS_TOKEN", "PROD_RUNNER }}"]) assert.ok(!text.includes(secret), `job ${name} references ${secret}`);
            }
            assert.deepStrictEqual(configureAws(wf.jobs.judge).map((s) => s.with["role-to-assume"]), ["${{ vars.AWS_PREVIEW_ROLE_ARN }}"]);
            assert.ok(!JSON.stringify(wf.jobs.judge).includes("secrets."), "the judge holds no secret");
        });

        it("the judge reports with --dry-run (no GitHub request); the rollback job opens from that report; merge judges nothing", () => {
            assert.match(run("stacks"), /npm run --silent auto-rollback -- --list "\$\{args\[@\]\}"/);
            assert.match(run("judge"), /npm run --silent auto-rollback -- "\$\{args\[@\]\}" --dry-run --json > "\$OUT\/verdicts-\$STACK\.json"/);
            assert.match(run("rollback"), /npm run --silent auto-rollback -- "\$\{args\[@\]\}" --verdicts verdicts/);
            assert.strictEqual(run("merge"), "npm ci\nnpm run --silent auto-rollback -- --merge-only");
            const download = wf.jobs.rollback.steps.find((s: any) => usesAction(s, "actions/download-artifact"));
            const upload = wf.jobs.judge.steps.find((s: any) => usesAction(s, "actions/upload-artifact"));
            assert.strictEqual(download.with.pattern, "verdicts-*");
            assert.strictEqual(upload.with.name, "verdicts-${{ matrix.stack }}");
            // The merge checks ancestry of merged rollbacks against the checkout: the whole history.
            assert.strictEqual(wf.jobs.rollback.steps.find((s: any) => usesAction(s, "actions/checkout")).with["fetch-depth"], 0);
        });

        it("the rollback job runs when nothing was judged, to merge what an earlier run opened, but not when the run is cancelled", () => {
            const ctx = (stacks: string, judge: string) => ({ ...pullRequestContext({ stack: "prod", fork: false }), needs: { stacks: { result: stacks, outputs: { stacks: "[]" } }, judge: { result: judge } } });
            const cond = wf.jobs.rollback.if;
            assert.strictEqual(truthy(evaluate(String(cond).replace(/^\$\{\{|\}\}$/g, ""), ctx("success", "skipped"))), true);
            assert.strictEqual(truthy(evaluate(String(cond).replace(/^\$\{\{|\}\}$/g, ""), ctx("success", "failure"))), true);
            assert.strictEqual(truthy(evaluate(String(cond).replace(/^\$\{\{|\}\}$/g, ""), ctx("failure", "skipped"))), false);
            assert.strictEqual(truthy(evaluate(String(cond).replace(/^\$\{\{|\}\}$/g, ""), ctx("success", "success"), { failed: false, cancelled: true })), false);
        });

        it("deploy can be dispatched (a merge with a workflow's token starts no push-triggered run), on main only", () => {
            const deploy = load("deploy.yml");
            assert.ok("workflow_dispatch" in deploy.on);
            assert.strictEqual(deploy.jobs.stacks.if, "github.ref == 'refs/heads/main'");
            assert.ok(!/--deploy-workflow/.test(JSON.stringify(wf)), "the script's default, deploy.yml, is dispatched");
            assert.ok(fs.existsSync(path.join(workflowsDir, "deploy.yml")));
        });
    });

    it("the stacks are the project's stacks", () => {
        assert.deepStrictEqual(knownStacks(), ["prod", "prod-eu-west-1", "staging", "uat"]);
    });

    describe("credentials: pull requests preview with the read-only role, only deploy environments get the deploy role", () => {
        const pr = load("pull-request.yml");
        const deploy = load("deploy.yml");

        it("no workflow uses long-lived AWS keys: every role is assumed through OIDC", () => {
            for (const f of files) {
                for (const s of steps(load(f)).filter((s) => usesAction(s, "aws-actions/configure-aws-credentials"))) {
                    assert.ok(s.with["role-to-assume"], `${f}: ${s.name}`);
                    for (const key of ["aws-access-key-id", "aws-secret-access-key", "aws-session-token"]) assert.strictEqual(s.with[key], undefined, `${f}: ${key}`);
                }
            }
        });

        it("the pull-request workflows assume the preview role only, never the deploy role or the deploy token, and enter no environment", () => {
            const assumed = Object.entries<any>(pr.jobs).flatMap(([name, job]) => configureAws(job).map((s) => [name, s.with["role-to-assume"]]));
            assert.deepStrictEqual(assumed, [["preview", "${{ vars.AWS_PREVIEW_ROLE_ARN }}"], ["verdict", "${{ vars.AWS_PREVIEW_ROLE_ARN }}"]]);
            for (const wf of [pr, load("owners.yml")]) {
                // Parsed, so comments do not count: what the jobs can reference.
                const text = JSON.stringify(wf);
                for (const name of ["AWS_DEPLOY_ROLE_ARN", "AWS_ROLE_ARN", "secrets.PULUMI_ACCESS_TOKEN", "PULUMI_STATE_READ_TOKEN"]) assert.ok(!text.includes(name), `${wf.name} references ${name}`);
                // A job in an environment would get that environment's secrets and the OIDC subject the deploy role trusts.
                for (const [name, job] of Object.entries<any>(wf.jobs)) assert.strictEqual(job.environment, undefined, `${wf.name}: job ${name} runs in an environment`);
            }
            assert.deepStrictEqual(configureAws({ steps: steps(load("owners.yml")) }), [], "the owners check needs no cloud credentials");
            const preview = pr.jobs.preview.steps.find((s: any) => s.id === "preview");
            assert.strictEqual(preview.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_PREVIEW_ACCESS_TOKEN }}");
            const role = pr.jobs.preview.steps.findIndex((s: any) => configureAws({ steps: [s] }).length > 0);
            assert.ok(role >= 0 && role < pr.jobs.preview.steps.indexOf(preview), "the role is assumed before the preview");
        });

        it("the deploy workflow assumes the deploy role only in jobs that run in an environment", () => {
            const jobs = Object.entries<any>(deploy.jobs).filter(([, job]) => configureAws(job).length > 0);
            assert.deepStrictEqual(jobs.map(([name]) => name), ["up"]);
            for (const [name, job] of jobs) {
                assert.strictEqual(job.environment, "${{ matrix.stack }}", `deploy.yml: job ${name}`);
                for (const s of configureAws(job)) assert.strictEqual(s.with["role-to-assume"], "${{ vars.AWS_DEPLOY_ROLE_ARN }}", `deploy.yml: job ${name}`);
            }
            const text = JSON.stringify(deploy);
            for (const name of ["AWS_PREVIEW_ROLE_ARN", "PULUMI_PREVIEW_ACCESS_TOKEN", "secrets.AWS_ROLE_ARN", "PROD_PREVIEW_RUNNER"]) assert.ok(!text.includes(name), `deploy.yml references ${name}`);
            // The read-only owners token only in the change-window job (the break-glass's judge), which runs in no
            // environment, assumes no role and holds no Pulumi token.
            for (const [name, job] of Object.entries<any>(deploy.jobs)) {
                const uses = JSON.stringify(job).includes("OWNERS_TOKEN");
                assert.strictEqual(uses, name === "window", `deploy.yml: job ${name} ${uses ? "references" : "does not reference"} OWNERS_TOKEN`);
            }
            const window = deploy.jobs.window;
            assert.ok(window.environment === undefined && configureAws(window).length === 0 && !JSON.stringify(window).includes("PULUMI_ACCESS_TOKEN") && window.permissions["id-token"] === undefined);
            // The job that lists the stacks reads their outputs only, with the read token, outside any environment.
            const changed = deploy.jobs.stacks.steps.find((s: any) => s.id === "changed");
            assert.strictEqual(changed.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_STATE_READ_TOKEN }}");
            assert.strictEqual(deploy.jobs.stacks.environment, undefined);
        });

        it("only the jobs that assume a role can request an OIDC token", () => {
            for (const [f, wf] of [["pull-request.yml", pr], ["deploy.yml", deploy], ["owners.yml", load("owners.yml")], ["auto-rollback.yml", load("auto-rollback.yml")]] as const) {
                assert.notStrictEqual(wf.permissions?.["id-token"], "write", `${f}: id-token: write for every job`);
                for (const [name, job] of Object.entries<any>(wf.jobs)) {
                    const wantsToken = configureAws(job).length > 0;
                    assert.strictEqual(job.permissions?.["id-token"] === "write", wantsToken, `${f}: job ${name} id-token`);
                }
            }
        });

        it("the jobs that run the pull request's code cannot write; only the comment job, which runs none of it, writes on the PR", () => {
            assert.deepStrictEqual(pr.permissions, {}, "pull-request.yml grants nothing by default");
            for (const [name, job] of Object.entries<any>(pr.jobs)) {
                const writes = Object.entries<any>(job.permissions ?? {}).filter(([scope, level]) => level === "write" && scope !== "id-token").map(([scope]) => scope);
                const runsCode = job.steps.some((s: any) => usesAction(s, "actions/checkout"));
                if (runsCode) {
                    assert.deepStrictEqual(writes, [], `pull-request.yml: job ${name} runs the PR's code with write access`);
                    for (const s of job.steps.filter((s: any) => usesAction(s, "actions/checkout")))
                        assert.strictEqual(s.with?.["persist-credentials"], false, `pull-request.yml: job ${name} leaves the token in .git/config`);
                }
            }
            const comment = pr.jobs.comment;
            assert.deepStrictEqual(comment.permissions, { "pull-requests": "write" });
            assert.ok(!comment.steps.some((s: any) => s.run !== undefined || usesAction(s, "actions/checkout") || usesAction(s, "actions/setup-node")), "the comment job runs no code from the PR");
        });
    });

    describe("the outputs are on the PR in every case, then the job fails", () => {
        const pr = load("pull-request.yml");
        const preview = pr.jobs.preview;
        const gates = pr.jobs.gates;
        const planOk = { plan: { outcome: "success" as const, outputs: { exit: "0" } } };
        const planRefused = { plan: { outcome: "success" as const, outputs: { exit: "1" } } };
        const upload = "Upload the outputs for the comment";

        it("pulumi preview keeps its output and its exit status: tee with pipefail, continue-on-error, then a step fails the job", () => {
            const step = preview.steps.find((s: any) => s.id === "preview");
            assert.strictEqual(step["continue-on-error"], true);
            assert.match(step.run, /set -o pipefail[\s\S]*pulumi preview[^\n]*(\\\n[^\n]*)*2>&1 \| tee preview\.txt/);
            const i = preview.steps.indexOf(step);
            const up = preview.steps.findIndex((s: any) => s.name === upload);
            assert.ok(up > i, "the outputs are uploaded after the preview");
            const paths = (job: any) => job.steps.find((s: any) => s.name === upload).with.path.trim().split("\n").map((l: string) => l.trim());
            assert.deepStrictEqual(paths(preview), ["preview.txt", "result-preview.json"]);
            assert.deepStrictEqual(paths(gates), ["out/plan-diff.txt", "out/policies.txt", "out/result-gates.json"]);
            assert.deepStrictEqual(paths(pr.jobs.verdict), ["out/verdict-gate.json", "out/verdict.txt", "out/result-verdict.json"]);
            assert.strictEqual(preview.steps[up].with.name, "preview-${{ matrix.stack }}");
        });

        it("a failed preview (a refused move in the program, a policy violation): uploaded for the comment, then the job fails", () => {
            const run = simulate(preview, { stack: "staging", outcomes: { preview: { outcome: "failure" } } });
            assert.ok(run.ran.includes("preview") && run.ran.includes(upload) && run.ran.includes("Fail on a failed preview"), run.ran.join(", "));
            assert.ok(run.ran.indexOf(upload) < run.ran.indexOf("Fail on a failed preview"));
            assert.strictEqual(run.failed, true);
        });

        it("a passing preview: uploaded, the job passes", () => {
            const run = simulate(preview, { stack: "uat", outcomes: { preview: { outcome: "success" } } });
            assert.ok(run.ran.includes("preview") && run.ran.includes(upload));
            assert.ok(!run.ran.includes("Fail on a failed preview"));
            assert.strictEqual(run.failed, false);
        });

        const policiesFail = "Fail on a mandatory policy violation";
        const policiesFound = (exit: string) => ({ policies: { outcome: "success" as const, outputs: { exit } } });

        it("a mandatory violation of the offline policies: everything is uploaded, then the gates job fails", () => {
            const run = simulate(gates, { stack: "prod", outcomes: { ...planOk, ...policiesFound("1") } });
            assert.ok(run.ran.includes("policies") && run.ran.includes(upload) && run.ran.includes(policiesFail), run.ran.join(", "));
            assert.ok(run.ran.indexOf(upload) < run.ran.indexOf(policiesFail), "uploaded first, then the job fails");
            assert.strictEqual(run.failed, true);
        });

        it("advisory violations only (exit 0): uploaded, the job passes", () => {
            const run = simulate(gates, { stack: "staging", outcomes: { ...planOk, ...policiesFound("0") } });
            assert.ok(run.ran.includes("policies") && run.ran.includes(upload) && !run.ran.includes(policiesFail));
            assert.strictEqual(run.failed, false);
        });

        it("a move the plan diff refuses: the plan diff uploaded, the gates job fails, and no verdict is asked for", () => {
            const run = simulate(gates, { stack: "staging", outcomes: planRefused });
            assert.ok(run.ran.includes(upload) && run.ran.includes("Refuse an illegal move"));
            assert.strictEqual(run.failed, true);
            assert.deepStrictEqual([pr.jobs.verdict.needs].flat(), ["stacks", "gates"], "the verdict waits for the gates, and is skipped when they fail");
        });

        it("a step before the gates fails (npm ci): what there is is uploaded, and the job fails, refusing nothing it did not judge", () => {
            const noDeps = simulate(gates, { stack: "staging", outcomes: { "npm ci (base)": { outcome: "failure" } } });
            assert.ok(!noDeps.ran.includes("plan") && !noDeps.ran.includes("policies") && noDeps.ran.includes(upload) && noDeps.failed);
            assert.ok(!noDeps.ran.includes("Refuse an illegal move"), "a plan diff that did not run refuses nothing");
            assert.ok(!noDeps.ran.includes(policiesFail), "policies that did not run report nothing");
            const noRole = simulate(preview, { stack: "staging", outcomes: { "Assume the read-only preview role": { outcome: "failure" } } });
            assert.ok(!noRole.ran.includes("preview") && noRole.ran.includes(upload) && noRole.failed);
        });

        it("a pull request from a fork: the gates and the verdict's list on GitHub's runners, no preview job at all, never the prod runner", () => {
            const ctx = (fork: boolean) => pullRequestContext({ stack: "prod", fork });
            assert.strictEqual(runsIf(preview.if, ctx(true), { failed: false }), false, "no preview for a fork");
            assert.strictEqual(runsIf(preview.if, ctx(false), { failed: false }), true);
            assert.strictEqual(runsIf(gates.if, ctx(true), { failed: false }), true, "the gates for a fork too");
            for (const [stack, vars] of [["staging", {}], ["prod", {}], ["prod", { PROD_PREVIEW_RUNNER: "prod-preview" }]] as const) {
                const run = simulate(gates, { stack, fork: true, vars, outcomes: planOk });
                assert.strictEqual(run.runsOn, "ubuntu-latest", stack);
                assert.ok(run.ran.includes("plan") && run.ran.includes("policies") && run.ran.includes(upload), stack);
                assert.strictEqual(run.failed, false, stack);
                const verdict = simulate(pr.jobs.verdict, { stack, fork: true, vars, outcomes: { gate: { outcome: "success", outputs: { judge: "checkout", prometheus: "true" } } } });
                assert.strictEqual(verdict.runsOn, "ubuntu-latest", stack);
                assert.ok(verdict.ran.includes("gate") && !verdict.ran.includes("verdict") && !verdict.ran.includes("Assume the read-only preview role") && !verdict.failed, verdict.ran.join(", "));
            }
            const refused = simulate(gates, { stack: "staging", fork: true, outcomes: planRefused });
            assert.ok(refused.failed && refused.ran.includes("Refuse an illegal move"));
            const violation = simulate(gates, { stack: "prod", fork: true, outcomes: { ...planOk, policies: { outcome: "success", outputs: { exit: "1" } } } });
            assert.ok(violation.failed && violation.ran.includes(policiesFail) && violation.ran.includes(upload));
        });

        it("the comment job runs after every preview, passed or failed, but not when cancelled or when no stack changed", () => {
            const comment = pr.jobs.comment;
            assert.deepStrictEqual([comment.needs].flat(), ["gates", "preview", "verdict", "ledger"]);
            const runs = (result: string, cancelled = false) => runsIf(comment.if, { needs: { gates: { result } } }, { failed: result === "failure", cancelled });
            assert.strictEqual(runs("failure"), true);
            assert.strictEqual(runs("success"), true);
            assert.strictEqual(runs("skipped"), false);
            assert.strictEqual(runs("cancelled", true), false);
            const download = comment.steps.find((s: any) => usesAction(s, "actions/download-artifact"));
            assert.strictEqual(download.with.pattern, "*-*");
            for (const job of ["gates", "preview", "verdict"]) {
                const upload = pr.jobs[job].steps.find((s: any) => usesAction(s, "actions/upload-artifact"));
                assert.strictEqual(upload.with.name, `${job}-\${{ matrix.stack }}`, job);
            }
            assert.strictEqual(download.with.path, comment.env.PREVIEWS_DIR);
            assert.strictEqual(comment.env.SAME_REPO, pr.jobs.verdict.env.SAME_REPO);
        });

        it("the comment: one per stack, updated in place, with the plan diff, the offline policies, the preview's failures and policy violations", async () => {
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-comment-"));
            try {
                const diff = "stack staging: changes against origin/main\ncheckout: stage 2 -> 3, canary 10% -> 90%\n";
                artifact(root, "staging", {
                    "plan-diff.txt": diff,
                    // What `plan --diff --policies` prints: the diff again, then the policy results.
                    "policies.txt":
                        diff +
                        "\npolicy pack on stack staging, offline (the program under mocks, moves judged against origin/main as deployed; levels from policies/config.staging.json)\n" +
                        "mandatory  no-plaintext-secrets  kubernetes:helm.sh/v3:Release checkout-production: release checkout-production: values.env.DB_PASSWORD is passed in plain text\n" +
                        "advisory   eks-control-plane-logging  aws:eks/cluster:Cluster cluster-eks: EKS cluster cluster-eks: control-plane logging is missing api\n" +
                        "policies: 1 mandatory, 1 advisory violation(s) (10 rules; disabled: node-groups-multi-az)\n",
                    "preview.txt": "Previewing update (staging)\n~ serviceStages\nPolicies:\n    \x1b[31mstagehand-guardrails@v0.0.1\x1b[0m\n        - [mandatory]  no-latest-tag  (kubernetes:helm.sh/v3:Release: checkout-canary)\n          image tag \"latest\" cannot be reviewed or rolled back\nerror: preview failed\n",
                    "result.json": '{"stack":"staging","plan":"0","policies":"1","preview":"failure"}\n',
                });
                artifact(root, "uat", {
                    "plan-diff.txt": "REFUSED stack uat, service payments, field stage: cannot move from stage 3 to 5\n",
                    "policies.txt":
                        "stack uat: changes against origin/main\nREFUSED stack uat, service payments, field stage: cannot move from stage 3 to 5\n\n" +
                        "policy pack on stack uat, offline (the program under mocks, moves judged against origin/main as deployed; levels from policies/config.uat.json)\n" +
                        "policies: not run: the program stops before registering anything:\nillegal stage move in stack uat:\n  - stack uat, service payments, field stage: cannot move from stage 3 to 5\n",
                    "result.json": '{"stack":"uat","plan":"1","policies":"1","preview":""}\n',
                });
                const ours = { id: 11, user: { login: "github-actions[bot]" }, body: "<!-- stagehand preview: staging -->\nold" };
                const someoneElses = { id: 12, user: { login: "octocat" }, body: "<!-- stagehand preview: uat -->\nquoted" };
                const { calls, summary } = await runCommentScript({ sameRepo: true, dir: root, comments: [ours, someoneElses] });

                assert.deepStrictEqual(calls.update.map((c) => c.comment_id), [11], "the bot's own staging comment is updated in place");
                const staging = calls.update[0].body as string;
                assert.ok(staging.startsWith("<!-- stagehand preview: staging -->"));
                assert.match(staging, /checkout: stage 2 -> 3/);
                assert.match(staging, /\*\*failed\*\*/);
                assert.match(staging, /no-latest-tag[\s\S]*error: preview failed/);
                assert.ok(!staging.includes("\x1b["), "colour codes are stripped");
                assert.match(staging, /\*\*Policy pack, offline\*\* \(the program under mocks, `policies\/config.staging.json`\): \*\*1 mandatory violation\(s\)\*\*/);
                assert.match(staging, /^mandatory  no-plaintext-secrets  kubernetes:helm.sh\/v3:Release checkout-production: /m);
                assert.match(staging, /^policies: 1 mandatory, 1 advisory violation\(s\)/m);
                assert.strictEqual(staging.split("checkout: stage 2 -> 3").length - 1, 1, "the plan diff is shown once, not again above the policy results");
                assert.ok(staging.indexOf("Plan diff") < staging.indexOf("Policy pack, offline") && staging.indexOf("Policy pack, offline") < staging.indexOf("pulumi preview"));

                assert.strictEqual(calls.create.length, 1, "uat gets a new comment: the matching one is not the bot's");
                const uat = calls.create[0].body as string;
                assert.strictEqual(calls.create[0].issue_number, 7);
                assert.ok(uat.startsWith("<!-- stagehand preview: uat -->"));
                assert.match(uat, /refused a move/);
                assert.match(uat, /REFUSED stack uat, service payments/);
                assert.match(uat, /not run: the plan diff refused a move/);
                assert.match(uat, /\*\*Policy pack, offline\*\* [^\n]*\*\*failed\*\* \(exit 1\): the program did not run/);
                assert.match(uat, /policies: not run: the program stops before registering anything:\nillegal stage move in stack uat/);
                assert.ok(summary.includes(staging) && summary.includes(uat), "both are in the run's summary too");
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });

        it("the comment fits GitHub's 65536 characters: the plan diff, the start and the end of a long preview", async () => {
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-comment-"));
            try {
                const long = "FIRST-LINE\n" + "  ~ kubernetes:helm.sh/v3:Release checkout-canary ```values```\n".repeat(6000) + "Policies:\n    - [mandatory] canary-weights\nLAST-LINE\n";
                assert.ok(long.length > 300000);
                const policies = "policy pack on stack prod, offline (...)\nmandatory  POLICY-LINE\npolicies: 1 mandatory, 0 advisory violation(s) (11 rules)\n";
                const verdict = "VERDICT-FIRST\n" + "  - canary p95 latency 900 ms is above 500 ms\n".repeat(2000) + "VERDICT-LAST\n";
                artifact(root, "prod", {
                    "plan-diff.txt": "PLAN-DIFF-TEXT\n",
                    "policies.txt": policies,
                    "preview.txt": long,
                    "verdict-gate.json": JSON.stringify({ stack: "prod", prometheus: true, judge: [{ service: "checkout", stage: 2, stageCount: 6, stageName: "canary 10%" }], skip: [] }),
                    "verdict.txt": verdict,
                    "result.json": '{"stack":"prod","plan":"0","policies":"1","preview":"failure","verdict":"1","override":"false"}',
                });
                const { calls } = await runCommentScript({ sameRepo: true, dir: root });
                const body = calls.create[0].body as string;
                assert.ok(body.length <= 65536, `${body.length} characters`);
                assert.ok(body.length > 60000, "uses the room it has");
                for (const part of ["PLAN-DIFF-TEXT", "POLICY-LINE", "policies: 1 mandatory", "FIRST-LINE", "canary-weights", "LAST-LINE", "characters cut", "VERDICT-FIRST", "VERDICT-LAST"])
                    assert.ok(body.includes(part), part);
                assert.ok(verdict.length > 65536 / 4 && body.split("characters cut").length - 1 === 2, "a long verdict is cut too, to a quarter of the room");
                assert.match(body, /^````text$/m, "a fence longer than the backticks in the output");
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });

        it("a pull request from a fork: nothing posted with its read-only token, the plan diff and the offline policies in the run's summary", async () => {
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-comment-"));
            try {
                artifact(root, "staging", {
                    "plan-diff.txt": "checkout: stage 2 -> 3\n",
                    "policies.txt": "checkout: stage 2 -> 3\n\npolicy pack on stack staging, offline (...)\nadvisory   eks-api-endpoint-restricted  aws:eks/cluster:Cluster cluster-eks: open\npolicies: 0 mandatory, 1 advisory violation(s) (10 rules)\n",
                    "result.json": '{"stack":"staging","plan":"0","policies":"0","preview":""}',
                });
                const { calls, summary, notices } = await runCommentScript({ sameRepo: false, dir: root });
                assert.deepStrictEqual([calls.list, calls.create.length, calls.update.length], [0, 0, 0]);
                assert.match(summary, /checkout: stage 2 -> 3/);
                assert.match(summary, /\*\*Policy pack, offline\*\* [^\n]*: passed, with 1 advisory violation\(s\)/);
                assert.match(summary, /^advisory   eks-api-endpoint-restricted  aws:eks\/cluster:Cluster cluster-eks: open$/m);
                assert.match(summary, /not run: this pull request comes from a fork/);
                assert.ok(notices.some((n) => /fork/.test(n)));
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });
    });

    describe("the metrics verdict on the PR: the canaries a pull request moves on are judged where they are now", () => {
        const pr = load("pull-request.yml");
        const preview = pr.jobs.verdict;
        const LABEL = "stagehand/override-verdict";
        const planOk = {};
        /** What `npm run verdict-override` said: 0 the label counts, 1 it does not. */
        const overrideSays = (exit: string) => ({ override: { outcome: "success" as const, outputs: { exit } } });
        const upload = "Upload the outputs for the comment";
        const failVerdict = "Fail on a failing verdict";
        const warnVerdict = "Warn on an inconclusive or overridden verdict";
        const gate = (judge: string, prometheus = "true") => ({ gate: { outcome: "success" as const, outputs: { judge, prometheus, cluster: "stagehand-uat", region: "us-east-1" } } });
        const judged = (exit: string, override = "1") => ({ ...gate("checkout"), verdict: { outcome: "success" as const, outputs: { exit } }, ...overrideSays(override) });
        const step = (id: string) => preview.steps.find((s: any) => s.id === id || s.name === id);
        const at = (id: string) => preview.steps.indexOf(step(id));

        /**
         * What the gate step hands the verdict step for `stack`: the real Pulumi.<stack>.yaml committed as the base
         * revision, `edit` applied to the working tree, the gate's real `--list`, then the step's own node snippet.
         */
        async function gateOutputs(stack: string, edit: (doc: Document) => void): Promise<Record<string, string>> {
            const repo = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-gate-step-"));
            try {
                const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
                const file = path.join(repo, `Pulumi.${stack}.yaml`);
                const text = fs.readFileSync(path.join(projectRoot, `Pulumi.${stack}.yaml`), "utf8");
                fs.writeFileSync(file, text);
                git("init", "-q");
                git("add", ".");
                git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base");
                const doc = parseDocument(text);
                edit(doc);
                fs.writeFileSync(file, doc.toString());
                let list = "";
                // As the step runs it: this code, the stack file and its history from another directory (--root).
                const code = await gateMain([stack, "HEAD", "--list", "--root", repo], {}, { out: (t) => (list += t), err: (t) => assert.fail(t) });
                assert.strictEqual(code, 0);
                fs.writeFileSync(path.join(repo, "verdict-gate.json"), list);
                const snippet = /node -e '\n([\s\S]*?)\n\s*' >> "\$GITHUB_OUTPUT"/.exec(step("gate").run)?.[1];
                assert.ok(snippet, "the gate step turns the list into step outputs with node");
                const printed = execFileSync(process.execPath, ["-e", snippet], { cwd: os.tmpdir(), encoding: "utf8", env: { ...process.env, OUT: repo } });
                return Object.fromEntries(printed.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
            } finally {
                fs.rmSync(repo, { recursive: true, force: true });
            }
        }
        const setStage = (service: string, stage: number) => (doc: Document) => doc.setIn(["config", "stagehand:services", service, "stage"], stage);

        it("a change of the override label runs the checks again; whether it counts is the owners command's to say, not the label's presence", () => {
            assert.deepStrictEqual([...pr.on.pull_request.types].sort(), ["labeled", "opened", "reopened", "synchronize", "unlabeled"]);
            assert.ok(!JSON.stringify(pr).includes(`contains(github.event.pull_request.labels.*.name, '${LABEL}')`), "the label's mere presence overrides nothing");
            const override = step("override");
            assert.match(
                override.run,
                /npm run --silent verdict-override -- "\$REPO" "\$PR_NUMBER" --root "\$PR_DIR" --stack "\$STACK" --services "\$\{JUDGE\/\/ \/,\}" > "\$OUT\/override.txt" 2>&1\necho "exit=\$\?" >> "\$GITHUB_OUTPUT"/,
            );
            assert.deepStrictEqual(override.env, {
                GITHUB_TOKEN: "${{ secrets.OWNERS_TOKEN }}",
                GITHUB_API_URL: "${{ github.api_url }}",
                REPO: "${{ github.repository }}",
                PR_NUMBER: "${{ github.event.pull_request.number }}",
                JUDGE: "${{ steps.gate.outputs.judge }}",
            });
            assert.strictEqual(override["working-directory"], "base", "the base branch's owners logic");
            // Asked only when the verdict fails, could not judge or could not run.
            for (const [exit, asked] of [["0", false], ["2", false], ["1", true], ["3", true], ["4", true]] as const) {
                const run = simulate(preview, { stack: "uat", outcomes: { ...gate("checkout"), verdict: { outcome: "success", outputs: { exit } } } });
                assert.strictEqual(run.ran.includes("override"), asked, `exit ${exit}`);
            }
            // The services judged go to it comma-separated.
            const bash = execFileSync("bash", ["-c", 'printf "%s" "${JUDGE// /,}"'], { env: { JUDGE: "checkout payments" }, encoding: "utf8" });
            assert.strictEqual(bash, "checkout,payments");
        });

        it("in the verdict job, base code over the PR's stack file: the gate lists the canaries offline, the verdict judges them through a port-forward", () => {
            assert.ok(at("npm ci (base)") < at("gate") && at("gate") < at("verdict") && at("verdict") < at("override"), "list, judge, then the override");
            assert.ok(at("override") < at("Record the outcome for the comment") && at("Record the outcome for the comment") < at(upload) && at(upload) < at(failVerdict));
            assert.ok(at("Assume the read-only preview role") < at("verdict"), "with the preview role's credentials");
            for (const id of ["gate", "verdict"]) assert.strictEqual(step(id)["working-directory"], "base", id);
            assert.ok(!preview.steps.some((s: any) => s.run === "npm ci"), "no npm ci of the pull request's code in the verdict job");
            assert.match(step("gate").run, /^npm run --silent verdict-gate -- "\$STACK" "origin\/\$BASE_REF" --list --root "\$PR_DIR" > "\$OUT\/verdict-gate.json"\n/);
            const run: string = step("verdict").run;
            assert.match(run, /^set \+e\n/, "its exit status is recorded, not fatal before the upload");
            assert.match(run, /aws eks update-kubeconfig --name "\$CLUSTER" --region "\$\{REGION:-\$AWS_REGION\}"/);
            const forward = run.indexOf('kubectl -n prometheus port-forward svc/prometheus 9090:9090 > "$OUT/port-forward.log" 2>&1 &\nforward=$!');
            const ready = run.indexOf("http://127.0.0.1:9090/-/ready");
            const judge = run.indexOf('npm run --silent verdict-gate -- "$STACK" "origin/$BASE_REF" --root "$PR_DIR" > "$OUT/verdict.txt" 2>&1\ncode=$?\necho "exit=$code" >> "$GITHUB_OUTPUT"');
            const kill = run.indexOf('kill "$forward"');
            assert.ok(forward >= 0 && forward < ready && ready < judge && judge < kill, "port-forward, wait until Prometheus answers, judge, then stop the port-forward");
            assert.match(run, /kill -0 "\$forward" 2> \/dev\/null \|\| break/, "stops waiting when the port-forward ends (no access, no Prometheus)");
            assert.strictEqual(step("verdict").env.CLUSTER, "${{ steps.gate.outputs.cluster }}");
        });

        it("runs only when the pull request moves a canary on, from the real stack files: uat judges payments 2 -> 3; a rollback or 1 -> 2 needs none", async () => {
            const forward = await gateOutputs("uat", setStage("payments", 3));
            assert.deepStrictEqual(forward, { judge: "payments", prometheus: "true", cluster: "stagehand-uat", region: "us-east-1" });
            const run = simulate(preview, { stack: "uat", outcomes: { ...planOk, gate: { outcome: "success", outputs: forward } } });
            assert.ok(run.ran.includes("gate") && run.ran.includes("verdict"), run.ran.join(", "));
            assert.strictEqual(run.failed, false);

            const startRelease = (doc: Document) => {
                doc.setIn(["config", "stagehand:services", "checkout", "canary"], "1.5.0");
                setStage("checkout", 2)(doc);
            };
            for (const edit of [setStage("payments", 1), startRelease]) {
                const none = await gateOutputs("uat", edit);
                assert.strictEqual(none.judge, "");
                const quiet = simulate(preview, { stack: "uat", outcomes: { ...planOk, gate: { outcome: "success", outputs: none } } });
                assert.ok(quiet.ran.includes("gate") && !quiet.ran.includes("verdict"), quiet.ran.join(", "));
                assert.strictEqual(quiet.failed, false);
            }
        });

        it("staging has no Prometheus: the canary is listed, no verdict runs, and nothing fails", async () => {
            const outputs = await gateOutputs("staging", setStage("checkout", 3));
            assert.deepStrictEqual([outputs.judge, outputs.prometheus], ["checkout", "false"]);
            const run = simulate(preview, { stack: "staging", outcomes: { ...planOk, gate: { outcome: "success", outputs } } });
            assert.ok(run.ran.includes("gate") && !run.ran.includes("verdict") && run.ran.includes(upload), run.ran.join(", "));
            assert.ok(!run.ran.includes(failVerdict) && !run.ran.includes(warnVerdict));
            assert.strictEqual(run.failed, false);
        });

        it("a failing verdict: uploaded for the comment, then the job fails", () => {
            const run = simulate(preview, { stack: "uat", outcomes: judged("1") });
            assert.ok(run.ran.includes("verdict") && run.ran.includes(upload) && run.ran.includes(failVerdict), run.ran.join(", "));
            assert.ok(run.ran.indexOf(upload) < run.ran.indexOf(failVerdict), "uploaded first, then the job fails");
            assert.strictEqual(run.failed, true);
            const labelled = simulate(preview, { stack: "uat", labels: [LABEL], outcomes: judged("1", "1") });
            assert.ok(labelled.failed && labelled.ran.includes(failVerdict), "a label the owners command does not count overrides nothing");
            const unreadable = simulate(preview, { stack: "uat", labels: [LABEL], outcomes: judged("1", "3") });
            assert.ok(unreadable.failed && unreadable.ran.includes(failVerdict), "nor one it could not check");
        });

        it("an override that counts (the owners command exits 0) lets a failing or unjudged verdict pass, with a warning", () => {
            for (const exit of ["1", "3", "4"]) {
                const run = simulate(preview, { stack: "uat", labels: [LABEL], outcomes: judged(exit, "0") });
                assert.ok(!run.ran.includes(failVerdict) && run.ran.includes(warnVerdict) && run.ran.includes(upload), `exit ${exit}: ${run.ran.join(", ")}`);
                assert.strictEqual(run.failed, false, `exit ${exit}`);
            }
        });

        it("Prometheus not reached (3) or the gate unable to run (4) fails like a failing verdict; not enough traffic (2) passes with a warning; healthy (0) passes", () => {
            for (const exit of ["3", "4"]) {
                const run = simulate(preview, { stack: "prod", vars: { PROD_PREVIEW_RUNNER: "prod-preview" }, outcomes: judged(exit) });
                assert.ok(run.failed && run.ran.includes(failVerdict), `exit ${exit}`);
            }
            const quiet = simulate(preview, { stack: "uat", outcomes: judged("2") });
            assert.ok(!quiet.failed && quiet.ran.includes(warnVerdict) && !quiet.ran.includes(failVerdict), quiet.ran.join(", "));
            const healthy = simulate(preview, { stack: "uat", outcomes: judged("0") });
            assert.ok(!healthy.failed && !healthy.ran.includes(warnVerdict) && !healthy.ran.includes(failVerdict), healthy.ran.join(", "));
        });

        it("no verdict for a fork (no credentials), after a refused move, or when a step before it failed", () => {
            const fork = simulate(preview, { stack: "uat", fork: true, outcomes: { ...planOk, ...gate("checkout") } });
            assert.ok(fork.ran.includes("gate") && !fork.ran.includes("verdict") && !fork.failed, fork.ran.join(", "));
            // After a refused move the gates job fails, and the verdict job, which needs it, does not run.
            assert.strictEqual(runsIf(preview.if, { ...pullRequestContext({ stack: "uat" }), needs: { stacks: { result: "success", outputs: { stacks: '["uat"]' } }, gates: { result: "failure" } } }, { failed: true }), false);
            const noRole = simulate(preview, { stack: "uat", outcomes: { ...planOk, ...gate("checkout"), "Assume the read-only preview role": { outcome: "failure" } } });
            assert.ok(!noRole.ran.includes("verdict") && !noRole.ran.includes(failVerdict) && noRole.ran.includes(upload) && noRole.failed);
        });

        describe("the comment carries the verdict", () => {
            /**
             * The results as the three record steps write them (gates, preview, verdict): their own shell lines, run with
             * their environment, merged as the comment merges them.
             */
            function recordResult(dir: string, env: Record<string, string>): string {
                const record = step("Record the outcome for the comment");
                assert.strictEqual(record.env.VERDICT_EXIT, "${{ steps.verdict.outputs.exit }}");
                assert.strictEqual(record.env.OVERRIDE_EXIT, "${{ steps.override.outputs.exit }}");
                const merged: Record<string, string> = {};
                for (const [job, file] of [["gates", "result-gates.json"], ["preview", "result-preview.json"], ["verdict", "result-verdict.json"]]) {
                    const run = pr.jobs[job].steps.find((s: any) => s.name === "Record the outcome for the comment").run;
                    execFileSync("bash", ["-e", "-c", run], { cwd: dir, stdio: "pipe", env: { ...process.env, OUT: dir, STACK: "uat", PLAN_EXIT: "0", POLICIES_EXIT: "0", PREVIEW_OUTCOME: "success", OVERRIDE_EXIT: "", ...env } });
                    Object.assign(merged, JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")));
                }
                return JSON.stringify(merged);
            }
            const list = (stack: string, prometheus: boolean) =>
                JSON.stringify({
                    stack,
                    base: "origin/main",
                    prometheus,
                    cluster: `stagehand-${stack}`,
                    region: "us-east-1",
                    judge: [{ service: "checkout", namespace: "checkout", stage: 2, stageCount: 6, stageName: "canary 10%", to: 3, kind: "forward", description: "..." }],
                    skip: [],
                });
            const VERDICT =
                "metrics verdict of stack uat: ...\ncheckout: stage 2/6 canary 10% -> 3: FAILING\ngate: FAILS: a canary is failing\n\n---- checkout\nverdict: failing\n  - canary error rate 5.00% (50 of 1000 requests) is above 1.00%\n";
            async function comment(stack: string, files: Record<string, string>, sameRepo = true): Promise<string> {
                const root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-comment-"));
                try {
                    artifact(root, stack, { "plan-diff.txt": "checkout: stage 2 -> 3, canary 10% -> 90%\n", "policies.txt": "policy pack on stack x\npolicies: 0 mandatory, 0 advisory violation(s) (10 rules)\n", ...files });
                    const { calls, summary } = await runCommentScript({ sameRepo, dir: root });
                    return sameRepo ? (calls.create[0].body as string) : summary;
                } finally {
                    fs.rmSync(root, { recursive: true, force: true });
                }
            }
            const verdictLine = (body: string) => body.split("\n").find((l) => l.startsWith("**Metrics verdict**")) ?? "";

            it("the verdict's output, between the plan diff and the policies, and what it does to the check", async () => {
                const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-result-"));
                try {
                    const failing = await comment("uat", { "verdict-gate.json": list("uat", true), "verdict.txt": VERDICT, "result.json": recordResult(dir, { VERDICT_EXIT: "1", OVERRIDE_EXIT: "1" }) });
                    assert.strictEqual(
                        verdictLine(failing),
                        "**Metrics verdict** of the canaries this pull request moves on, at the stage deployed now: **failing** (exit 1): this pull request cannot be merged as it is, unless an owner of the service who is not its author, having judged the canary, adds the label `stagehand/override-verdict` after the last push",
                    );
                    assert.match(failing, /^checkout: stage 2\/6 canary 10% -> 3: FAILING$/m);
                    assert.match(failing, /^  - canary error rate 5\.00% \(50 of 1000 requests\) is above 1\.00%$/m);
                    assert.ok(failing.indexOf("Plan diff") < failing.indexOf("Metrics verdict") && failing.indexOf("Metrics verdict") < failing.indexOf("Policy pack, offline"));

                    const overridden = await comment("uat", { "verdict-gate.json": list("uat", true), "verdict.txt": VERDICT, "result.json": recordResult(dir, { VERDICT_EXIT: "1", OVERRIDE_EXIT: "0" }) });
                    assert.match(verdictLine(overridden), /: \*\*failing\*\* \(exit 1\), \*\*overridden\*\* by the label `stagehand\/override-verdict`, added after the last push by an owner of the service who is not the author: the check passes$/);
                    assert.match(overridden, /gate: FAILS: a canary is failing/, "the verdict is shown all the same");

                    const down = await comment("uat", {
                        "verdict-gate.json": list("uat", true),
                        "verdict.txt": "checkout: ...: NOT JUDGED\n\nkubectl port-forward said:\nerror: pods/portforward is forbidden\n",
                        "result.json": recordResult(dir, { VERDICT_EXIT: "3", OVERRIDE_EXIT: "1" }),
                    });
                    assert.match(verdictLine(down), /: \*\*not judged\*\* \(exit 3\): Prometheus could not be queried, the output below says why: this pull request cannot be merged as it is, unless/);
                    assert.match(down, /^error: pods\/portforward is forbidden$/m);

                    const quiet = await comment("uat", { "verdict-gate.json": list("uat", true), "verdict.txt": "checkout: ...: not enough traffic\n", "result.json": recordResult(dir, { VERDICT_EXIT: "2", OVERRIDE_EXIT: "1" }) });
                    assert.match(verdictLine(quiet), /: \*\*not enough traffic\*\* to judge checkout \(stage 2\/6 canary 10%\) \(exit 2\): no evidence either way, so judge the canary yourself before approving\. The check passes$/);

                    const healthy = await comment("uat", { "verdict-gate.json": list("uat", true), "verdict.txt": "checkout: ...: healthy\n", "result.json": recordResult(dir, { VERDICT_EXIT: "0", OVERRIDE_EXIT: "1" }) });
                    assert.match(verdictLine(healthy), /: passed: checkout \(stage 2\/6 canary 10%\) healthy$/);
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                }
            });

            it("staging (no Prometheus), a fork, and a pull request that moves no canary on: the comment says why there is no verdict", async () => {
                const unjudged = '{"stack":"uat","plan":"0","policies":"0","preview":"success","verdict":"","override":"false"}';
                const staging = await comment("staging", { "verdict-gate.json": list("staging", false), "result.json": unjudged });
                assert.match(
                    verdictLine(staging),
                    /: not run for checkout \(stage 2\/6 canary 10%\): stack `staging` has no Prometheus \(`stagehand:observability` leaves it off\), so there is no verdict to ask for: judge the canary yourself before approving\. The check does not fail for it$/,
                );
                const fork = await comment("uat", { "verdict-gate.json": list("uat", true), "result.json": unjudged }, false);
                assert.match(verdictLine(fork), /: not run for checkout \(stage 2\/6 canary 10%\): this pull request comes from a fork, and GitHub gives a fork's workflow no credentials/);
                const none = await comment("uat", { "verdict-gate.json": JSON.stringify({ stack: "uat", prometheus: true, judge: [], skip: [{ service: "checkout", why: "rollback" }] }), "result.json": unjudged });
                assert.match(verdictLine(none), /: none needed: no service moves on from a stage where its canary serves traffic/);
                const refused = await comment("uat", { "result.json": '{"stack":"uat","plan":"1","policies":"1","preview":""}' });
                assert.match(verdictLine(refused), /: not run: the plan diff refused a move$/);
                const failedBefore = await comment("uat", { "verdict-gate.json": list("uat", true), "result.json": unjudged });
                assert.match(verdictLine(failedBefore), /: did not run: a step before it failed/);
            });
        });
    });

    describe("the required checks: plan-gate, verdict-gate (pull-request.yml) and owners (owners.yml)", () => {
        const pr = load("pull-request.yml");
        /** Runs an aggregate check as GitHub would: its `if`, then its shell script with its env. */
        function check(name: string, needs: Record<string, string>, stackList = '["uat"]', fork = false, cancelled = false): { ran: boolean; passed: boolean; log: string } {
            const job = pr.jobs[name];
            const ctx = { ...pullRequestContext({ stack: "uat", fork }), needs: Object.fromEntries(Object.entries(needs).map(([k, result]) => [k, { result, outputs: k === "stacks" ? { stacks: stackList } : {} }])) };
            const failed = Object.values(needs).some((r) => r === "failure");
            if (!runsIf(job.if, ctx, { failed, cancelled })) return { ran: false, passed: false, log: "" };
            const env: Record<string, string> = {};
            for (const [k, v] of Object.entries<any>(job.env ?? {})) env[k] = String(valueOf(v, ctx) ?? "");
            try {
                const log = execFileSync("bash", ["-e", "-c", job.steps[0].run], { env: { ...process.env, ...env }, encoding: "utf8", stdio: "pipe" });
                return { ran: true, passed: true, log };
            } catch (e: any) {
                return { ran: true, passed: false, log: String(e.stdout) };
            }
        }
        const ok = { stacks: "success", gates: "success", preview: "success", verdict: "success" };

        it("run whatever happened before them, even when cancelled: a skipped required check would count as passed", () => {
            for (const name of ["plan-gate", "verdict-gate"]) {
                assert.strictEqual(pr.jobs[name].if, "always()", name);
                assert.strictEqual(pr.jobs[name]["runs-on"], "ubuntu-latest");
                assert.deepStrictEqual(pr.jobs[name].permissions, {});
                const cancelled = check(name, { ...ok, gates: "cancelled", verdict: "cancelled", preview: "cancelled" }, '["uat"]', false, true);
                assert.ok(cancelled.ran && !cancelled.passed, `${name}: a cancelled run fails its check`);
            }
            assert.deepStrictEqual(pr.jobs["plan-gate"].needs, ["stacks", "gates", "preview"]);
            assert.deepStrictEqual(pr.jobs["verdict-gate"].needs, ["stacks", "verdict"]);
        });

        it("plan-gate: passes when no stack changed, or when every changed stack's gates and (same repository) preview passed", () => {
            assert.ok(check("plan-gate", { ...ok, gates: "skipped", preview: "skipped" }, "[]").passed, "no stack changed");
            assert.ok(check("plan-gate", ok).passed);
            assert.ok(!check("plan-gate", { ...ok, stacks: "failure", gates: "skipped", preview: "skipped" }, "").passed, "the stacks could not be listed (a refused stack name)");
            assert.ok(!check("plan-gate", { ...ok, gates: "failure" }).passed, "a refused move or a mandatory violation");
            assert.ok(!check("plan-gate", { ...ok, preview: "failure" }).passed, "a failed preview");
            assert.ok(!check("plan-gate", { ...ok, preview: "skipped" }).passed, "a preview that did not run, for this repository's pull request");
            assert.ok(check("plan-gate", { ...ok, preview: "skipped" }, '["uat"]', true).passed, "a fork gets no preview: its gates decide");
            assert.ok(!check("plan-gate", { ...ok, gates: "failure", preview: "skipped" }, '["uat"]', true).passed);
        });

        it("verdict-gate: passes when no stack changed, or when the verdict job passed (healthy, not needed, or overridden as the owners command allows)", () => {
            assert.ok(check("verdict-gate", { stacks: "success", verdict: "skipped" }, "[]").passed);
            assert.ok(check("verdict-gate", { stacks: "success", verdict: "success" }).passed);
            assert.ok(!check("verdict-gate", { stacks: "success", verdict: "failure" }).passed);
            assert.ok(!check("verdict-gate", { stacks: "success", verdict: "skipped" }).passed, "skipped because the gates failed: not judged, not passed");
            assert.ok(!check("verdict-gate", { stacks: "failure", verdict: "skipped" }, "").passed);
        });

        it("the jobs that judge run the base branch's code, with its own npm ci, over the pull request's checkout read as data", () => {
            const owners = load("owners.yml").jobs.owners;
            for (const [name, job] of [["stacks", pr.jobs.stacks], ["gates", pr.jobs.gates], ["verdict", pr.jobs.verdict], ["ledger", pr.jobs.ledger], ["owners", owners]] as const) {
                const checkouts = job.steps.filter((s: any) => usesAction(s, "actions/checkout"));
                const base = checkouts.find((s: any) => s.with?.path === "base");
                const head = checkouts.find((s: any) => s.with?.path === "pr");
                assert.ok(base && head && checkouts.length === 2, `${name}: a base checkout and a PR checkout`);
                assert.strictEqual(base.with.ref, "${{ github.event.pull_request.base.sha }}", name);
                assert.strictEqual(head.with.ref, undefined, `${name}: the pull request's merge commit`);
                assert.strictEqual(head.with["fetch-depth"], 0, `${name}: the history, for the diff against the base`);
                for (const c of checkouts) assert.strictEqual(c.with["persist-credentials"], false, name);
                // Every npm command runs in base/; nothing installs or runs the pull request's code.
                const npm = job.steps.filter((s: any) => typeof s.run === "string" && /\bnpm /.test(s.run));
                assert.ok(npm.length >= 2, name);
                for (const s of npm) assert.strictEqual(s["working-directory"], "base", `${name}: ${s.name ?? s.id}`);
                for (const s of npm.filter((s: any) => /npm run --silent (plan|verdict-gate|changed-stacks|owners|history)/.test(s.run))) assert.match(s.run, /--root "\$PR_DIR"/, `${name}: ${s.name ?? s.id}`);
                // No npm cache either: a cache a pull request's job saved is not the base's.
                const setup = job.steps.find((s: any) => usesAction(s, "actions/setup-node"));
                assert.strictEqual(setup.with.cache, undefined, name);
            }
            assert.match(pr.jobs.stacks.steps.find((s: any) => s.id === "changed").run, /npm run --silent changed-stacks -- --root "\$PR_DIR" "origin\/\$BASE_REF" HEAD/);
        });

        it("owners: its own workflow, on pushes, label changes and reviews; base code, the owners token, never deploy credentials", () => {
            const wf = load("owners.yml");
            assert.deepStrictEqual([...wf.on.pull_request.types].sort(), ["labeled", "opened", "ready_for_review", "reopened", "synchronize", "unlabeled"]);
            assert.deepStrictEqual([...wf.on.pull_request_review.types].sort(), ["dismissed", "submitted"]);
            assert.strictEqual(wf.on.pull_request.paths, undefined, "a required check runs on every pull request");
            assert.deepStrictEqual(wf.permissions, {});
            assert.strictEqual(wf.concurrency.group, "owners-${{ github.event.pull_request.number }}", "a review does not cancel the previews (pr-<number>)");
            assert.notStrictEqual(wf.concurrency.group, pr.concurrency.group);
            assert.strictEqual(pr.on.pull_request_review, undefined, "a review does not re-run (nor skip) the gates");
            const job = wf.jobs.owners;
            assert.deepStrictEqual(job.permissions, { contents: "read", "pull-requests": "read" });
            const run = job.steps.find((s: any) => typeof s.run === "string" && s.run.includes("owners"));
            assert.strictEqual(run.run, 'npm run --silent owners -- "$REPO" "$PR_NUMBER" --root "$PR_DIR"');
            assert.deepStrictEqual(run.env, { GITHUB_TOKEN: "${{ secrets.OWNERS_TOKEN }}", GITHUB_API_URL: "${{ github.api_url }}", REPO: "${{ github.repository }}", PR_NUMBER: "${{ github.event.pull_request.number }}" });
            const text = JSON.stringify(wf);
            for (const name of ["id-token", "AWS_", "PULUMI_", "PROD_RUNNER", "PROD_PREVIEW_RUNNER", "environment"]) assert.ok(!text.includes(name), `owners.yml references ${name}`);
            assert.ok(pkg.scripts.owners, "package.json runs the owners command");
        });
    });

    describe("the release timelines on the PR: the releases a pull request moves, drawn across the stacks (npm run history)", () => {
        const pr = load("pull-request.yml");
        const ledger = pr.jobs.ledger;

        it("the ledger job: base code over the PR's history, the releases its commits move, their SVGs uploaded as one artifact whose URL the comment gets", () => {
            assert.strictEqual(ledger.needs, "stacks");
            assert.strictEqual(ledger.if, "needs.stacks.outputs.stacks != '[]'");
            assert.deepStrictEqual(ledger.permissions, { contents: "read" });
            const history = ledger.steps.find((s: any) => s.id === "history");
            assert.match(history.run, /npm run --silent history -- --root "\$PR_DIR" --moved-since "origin\/\$BASE_REF" --json --svg "\$OUT\/timelines" > "\$OUT\/history.json"\n/);
            const upload = ledger.steps.find((s: any) => s.id === "upload");
            assert.ok(usesAction(upload, "actions/upload-artifact"));
            assert.strictEqual(upload.with.name, "ledger-timelines");
            assert.deepStrictEqual(upload.with.path.trim().split("\n").map((l: string) => l.trim()), ["out/history.json", "out/timelines/"]);
            assert.strictEqual(ledger.outputs.url, "${{ steps.upload.outputs.artifact-url }}");
            assert.strictEqual(pr.jobs.comment.env.LEDGER_URL, "${{ needs.ledger.outputs.url }}");
            assert.ok("ledger-timelines".match(new RegExp(`^${pr.jobs.comment.steps[0].with.pattern.replace("*", ".*").replace("*", ".*")}$`)), "the comment job downloads it");
            // It judges nothing: no required check waits for it, and its failure only leaves the link out.
            for (const gate of ["plan-gate", "verdict-gate"]) assert.ok(![pr.jobs[gate].needs].flat().includes("ledger"), gate);
            const ok = simulate(ledger, { stack: "uat" });
            assert.ok(ok.ran.includes("history") && ok.ran.includes("upload") && !ok.failed, ok.ran.join(", "));
            const failed = simulate(ledger, { stack: "uat", outcomes: { history: { outcome: "failure" } } });
            assert.ok(!failed.ran.includes("upload") && failed.failed);
            assert.strictEqual(simulate(ledger, { stack: "prod", fork: true }).runsOn, "ubuntu-latest", "a fork's pull request gets its timelines too: no credentials needed");
        });

        it("the comment links the timelines of the releases the pull request moves in each stack, from the ledger's real output", async () => {
            const { T0, HOUR, DAY } = TIME;
            const repo = new Repo();
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-comment-"));
            try {
                const checkout = (stack: string, block: object) => (s: any) => Object.assign(s[stack].checkout, block);
                repo.commit("Platform", T0, "initial stacks", (s) => {
                    s.staging = { checkout: { stable: "1.4.2", stage: 1 } };
                    s.uat = { checkout: { stable: "1.4.2", stage: 1 } };
                    s.prod = { checkout: { stable: "1.4.2", stage: 1 } };
                });
                repo.merge(11, "Alice", T0 + DAY, checkout("staging", { canary: "1.5.0", stage: 2 }));
                repo.merge(12, "Alice", T0 + DAY + HOUR, checkout("staging", { stage: 3 }));
                repo.merge(13, "Alice", T0 + DAY + 2 * HOUR, checkout("staging", { stage: 4 }));
                repo.merge(14, "Alice", T0 + DAY + 3 * HOUR, checkout("staging", { stable: "1.5.0", stage: 1 }));
                repo.merge(15, "Alice", T0 + 2 * DAY, checkout("uat", { canary: "1.5.0", stage: 2 }));
                const base = repo.git([], "rev-parse", "HEAD").trim();
                // The pull request: uat's checkout on to promote.
                repo.merge(16, "Bob", T0 + 2 * DAY + 2 * HOUR, checkout("uat", { stage: 3 }));
                const out = path.join(root, "ledger-timelines");
                const printed: string[] = [];
                const code = historyMain(["--root", repo.dir, "--moved-since", base, "--json", "--svg", path.join(out, "timelines")], { env: {}, out: (l) => printed.push(l), err: (l) => printed.push(l), now: T0 + 3 * DAY });
                assert.strictEqual(code, 0, printed.join("\n"));
                fs.writeFileSync(path.join(out, "history.json"), printed.join("\n"));
                assert.ok(fs.statSync(path.join(out, "timelines", "checkout-1.5.0.svg")).size > 0);
                for (const stack of ["staging", "uat"]) artifact(root, stack, { "plan-diff.txt": `stack ${stack}\n`, "result.json": `{"stack":"${stack}","plan":"0","policies":"0"}` });
                const url = "https://github.com/acme/stagehand/actions/runs/42/artifacts/99";
                const { calls } = await runCommentScript({ sameRepo: true, dir: root, ledgerUrl: url });
                const [staging, uat] = calls.create.map((c) => c.body as string);
                assert.ok(uat.includes(
                    `**Release timelines** (\`npm run history\`): 1 release(s) this pull request moves; their timelines across staging -> uat -> prod are SVG files in the artifact [ledger-timelines](${url}) of this run (GitHub cannot show an artifact inline: download it and open the SVG)\n` +
                        "- `checkout 1.5.0`: staging finished, uat at 3/4 promote, prod not started (`checkout-1.5.0.svg`)\n",
                ), uat);
                assert.ok(uat.indexOf("**pulumi preview**") < uat.indexOf("**Release timelines**") && uat.indexOf("**Release timelines**") < uat.indexOf("[Run 42]"));
                assert.match(staging, /^\*\*Release timelines\*\* \(`npm run history`\): none: this pull request moves no release in this stack$/m);
                // Without the ledger's output (its job failed): said so, and the rest of the comment as before.
                fs.rmSync(out, { recursive: true });
                const without = await runCommentScript({ sameRepo: true, dir: root });
                assert.match(without.calls.create[1].body, /^\*\*Release timelines\*\* \(`npm run history`\): not drawn: the ledger job did not run or failed \(see its log\)$/m);
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
                fs.rmSync(repo.dir, { recursive: true, force: true });
            }
        });
    });

    describe("deploys: each stack against the last commit deployed to it", () => {
        const deploy = load("deploy.yml");

        it("the stacks job asks changed-stacks --since-deployed, with the Pulumi CLI and the read token; up exports the commit it deploys", () => {
            const steps = deploy.jobs.stacks.steps;
            const changed = steps.find((s: any) => s.id === "changed");
            assert.match(changed.run, /^stacks=\$\(npm run --silent changed-stacks -- --since-deployed HEAD\)\necho "stacks=\$stacks" >> "\$GITHUB_OUTPUT"/, "a failure of changed-stacks fails the step");
            const install = steps.findIndex((s: any) => usesAction(s, "pulumi/actions"));
            assert.ok(install >= 0 && install < steps.indexOf(changed) && steps[install].with?.command === undefined);
            assert.strictEqual(steps.find((s: any) => usesAction(s, "actions/checkout")).with["fetch-depth"], 0, "the history back to each deployed commit");
            const up = deploy.jobs.up.steps.find((s: any) => usesAction(s, "pulumi/actions") && s.with?.command === "up");
            assert.strictEqual(up.env.STAGEHAND_COMMIT, "${{ github.sha }}");
        });

        it("one pulumi up per stack at a time, never cancelled while it runs; a newer pending job may replace an older one, which loses nothing", () => {
            const up = deploy.jobs.up;
            assert.deepStrictEqual(up.concurrency, { group: "pulumi-up-${{ matrix.stack }}", "cancel-in-progress": false });
            assert.strictEqual(deploy.concurrency, undefined, "no workflow-wide group: a stacks job never waits behind a deploy");
        });
    });

    describe("change windows: the deploy's window job decides, up refuses a closed window before pulumi; the PR's gates take a break-glass only when it counts", () => {
        const deploy = load("deploy.yml");
        /** Runs a step's script with bash -e as GitHub does, `npm` standing in as `fake` (a shell script body). */
        function runStep(step: any, env: Record<string, string>, fake = "exit 0") {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-window-"));
            try {
                fs.writeFileSync(path.join(dir, "npm"), `#!/bin/bash\necho "npm $*" >> "$CALLS"\n${fake}\n`, { mode: 0o755 });
                let code = 0;
                try {
                    execFileSync("bash", ["-e", "-c", step.run], { cwd: dir, stdio: "pipe", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, CALLS: path.join(dir, "calls"), GITHUB_OUTPUT: path.join(dir, "out"), ...env } });
                } catch (e: any) {
                    code = e.status;
                }
                const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
                return { code, out: read("out"), calls: read("calls") };
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }

        it("up needs the window job and stops for a closed stack before the deploy role or pulumi; a break-glass reaches the pack", () => {
            const up = deploy.jobs.up;
            assert.deepStrictEqual(up.needs, ["stacks", "window"]);
            const names = up.steps.map((s: any) => s.name ?? s.uses ?? s.run);
            const window = up.steps.findIndex((s: any) => s.id === "window");
            assert.ok(window >= 0 && window < names.indexOf("Assume the deploy role of the environment"));
            const step = up.steps[window];
            assert.strictEqual(step.env.DECISIONS, "${{ needs.window.outputs.decisions }}");
            const decisions = JSON.stringify({ prod: "open", uat: "break-glass", "prod-eu-west-1": "closed" });
            assert.deepStrictEqual([runStep(step, { STACK: "prod", DECISIONS: decisions }).code, runStep(step, { STACK: "prod", DECISIONS: decisions }).out], [0, ""]);
            assert.deepStrictEqual([runStep(step, { STACK: "uat", DECISIONS: decisions }).code, runStep(step, { STACK: "uat", DECISIONS: decisions }).out], [0, "break_glass=true\n"]);
            assert.strictEqual(runStep(step, { STACK: "prod-eu-west-1", DECISIONS: decisions }).code, 1);
            assert.strictEqual(runStep(step, { STACK: "staging", DECISIONS: decisions }).code, 1, "a stack the window job did not judge does not deploy");
            const pulumi = up.steps.find((s: any) => usesAction(s, "pulumi/actions") && s.with?.command);
            assert.strictEqual(pulumi.env.STAGEHAND_BREAK_GLASS, "${{ steps.window.outputs.break_glass }}");
        });

        it("the window job: change-window per stack with the branch before the push; break-glass asked only when the window refuses", () => {
            const step = deploy.jobs.window.steps.find((s: any) => s.id === "judge");
            assert.strictEqual(step.env.BEFORE, "${{ github.event.before }}");
            assert.strictEqual(deploy.jobs.window.steps.find((s: any) => usesAction(s, "actions/checkout")).with["fetch-depth"], 0);
            // change-window exits 1 for prod-eu-west-1 only; break-glass counts (exit 0).
            const fake = 'if [ "$3" = change-window ] && [ "$5" = prod-eu-west-1 ]; then exit 1; fi; exit 0';
            const env = { STACKS: '["uat","prod","prod-eu-west-1"]', BEFORE: "abc", REPO: "acme/stagehand", SHA: "0".repeat(40) };
            const glass = runStep(step, env, fake);
            assert.strictEqual(glass.code, 0);
            assert.strictEqual(glass.out, 'decisions={"uat":"open","prod":"open","prod-eu-west-1":"break-glass"}\n');
            assert.deepStrictEqual(glass.calls.trim().split("\n"), [
                "npm run --silent change-window -- uat --diff abc",
                "npm run --silent change-window -- prod --diff abc",
                "npm run --silent change-window -- prod-eu-west-1 --diff abc",
                `npm run --silent break-glass -- acme/stagehand --commit ${"0".repeat(40)} --stack prod-eu-west-1`,
            ]);
            const refused = runStep(step, env, 'if [ "$3" = change-window ] && [ "$5" = prod-eu-west-1 ]; then exit 1; fi; if [ "$3" = break-glass ]; then exit 1; fi; exit 0');
            assert.strictEqual(refused.out, 'decisions={"uat":"open","prod":"open","prod-eu-west-1":"closed"}\n');
        });

        it("the gates job: the break-glass step only for a labelled pull request from this repository; --break-glass only on its exit 0", () => {
            const gates = load("pull-request.yml").jobs.gates;
            const glass = gates.steps.find((s: any) => s.id === "glass");
            assert.strictEqual(glass.env.GITHUB_TOKEN, "${{ secrets.OWNERS_TOKEN }}");
            const ctx = (labels: string[], fork = false) => pullRequestContext({ stack: "prod", fork, labels });
            assert.strictEqual(!!evaluate(glass.if, ctx(["stagehand/break-glass"])), true);
            assert.strictEqual(!!evaluate(glass.if, ctx(["stagehand/override-verdict"])), false);
            assert.strictEqual(!!evaluate(glass.if, ctx(["stagehand/break-glass"], true)), false, "a fork's job gets no token");
            for (const id of ["plan", "policies"]) {
                const step = gates.steps.find((s: any) => s.id === id);
                assert.strictEqual(step.env.BREAK_GLASS_EXIT, "${{ steps.glass.outputs.exit }}");
                const env = { STACK: "prod", BASE_REF: "main", PR_DIR: "/pr", OUT: os.tmpdir() };
                assert.match(runStep(step, { ...env, BREAK_GLASS_EXIT: "0" }).calls, /--root \/pr --break-glass$/m, id);
                assert.doesNotMatch(runStep(step, { ...env, BREAK_GLASS_EXIT: "1" }).calls, /--break-glass/, id);
                assert.doesNotMatch(runStep(step, { ...env, BREAK_GLASS_EXIT: "" }).calls, /--break-glass/, id);
            }
        });
    });

    describe("the expression reader the tests above rely on", () => {
        it("reads GitHub's operators, defaults and coercions", () => {
            const ctx = { a: "x", n: null, steps: { s: { outputs: { exit: "1" } } } };
            assert.strictEqual(evaluate("a == 'X'", ctx), true);
            assert.strictEqual(evaluate("a != 'x' || 'fallback'", ctx), "fallback");
            assert.strictEqual(evaluate("a == 'x' && 'label' || 'other'", ctx), "label");
            assert.strictEqual(evaluate("!n && steps.s.outputs.exit != '0'", ctx), true);
            assert.strictEqual(evaluate("steps.missing.outputs.exit == ''", ctx), true);
            assert.strictEqual(runsIf("a == 'x'", ctx, { failed: true }), false, "no status function: success() && (...)");
            assert.strictEqual(runsIf("${{ !cancelled() && a == 'x' }}", ctx, { failed: true }), true);
            assert.strictEqual(runsIf(undefined, ctx, { failed: false }), true);
            assert.throws(() => evaluate("a[0]", ctx));
            const labelled = { pr: { labels: [{ name: "docs" }, { name: "Stagehand/Override-Verdict" }], none: [] } };
            assert.deepStrictEqual(evaluate("pr.labels.*.name", labelled), ["docs", "Stagehand/Override-Verdict"]);
            assert.strictEqual(evaluate("contains(pr.labels.*.name, 'stagehand/override-verdict')", labelled), true, "case-insensitive, as GitHub compares");
            assert.strictEqual(evaluate("contains(pr.labels.*.name, 'stagehand/override')", labelled), false, "an element, not a substring of one");
            assert.strictEqual(evaluate("contains(pr.none.*.name, 'docs')", labelled), false);
            assert.strictEqual(evaluate("contains(pr.missing.*.name, 'docs')", labelled), false);
            assert.strictEqual(evaluate("contains('Hello', 'ell')", labelled), true, "a string: a substring");
            assert.throws(() => evaluate("success('x')", ctx));
        });
    });
});

describe("changed stacks (scripts/changed-stacks.ts)", () => {
    const stacks = ["prod", "staging", "uat"];
    it("a stack file change touches that stack only", () => {
        assert.deepStrictEqual(changedStacks(["Pulumi.uat.yaml", "README.md"], stacks), ["uat"]);
        assert.deepStrictEqual(changedStacks(["Pulumi.prod.yaml", "Pulumi.staging.yaml"], stacks), ["staging", "prod"]);
    });
    it("a change to the program, chart, policies or dependencies touches every stack, staging first", () => {
        for (const f of ["components/service/stages.ts", "charts/service/values.yaml", "policies/rules/services.ts", "package-lock.json", "index.ts"]) {
            assert.deepStrictEqual(changedStacks([f], stacks), ["staging", "uat", "prod"], f);
        }
    });
    it("documentation alone touches none", () => {
        assert.deepStrictEqual(changedStacks(["README.md", "test/stages.test.ts"], stacks), []);
    });
});

describe("stack names: [a-z0-9-] only, refused with a clear error, never skipped", () => {
    const BAD = ["prod$(id)", "a;b", "x`id`", "my stack", "Prod", "UAT", "a.b", "-x", "x-", "a/b".replace("/", "_")];
    function project(files: string[]): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-names-"));
        for (const f of files) fs.writeFileSync(path.join(dir, f), "config: {}\n");
        return dir;
    }

    it("knownStacks refuses a stack file named outside [a-z0-9-], naming it and the rule", () => {
        for (const name of BAD) {
            const dir = project(["Pulumi.yaml", "Pulumi.staging.yaml", `Pulumi.${name}.yaml`]);
            try {
                assert.throws(
                    () => knownStacks(dir),
                    (e: any) => e.name === "StackNameError" && e.message.includes(`Pulumi.${name}.yaml`) && /lower-case letters, digits and hyphens/.test(e.message),
                    name,
                );
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
        const good = project(["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.eu-prod-2.yaml", "README.md"]);
        try {
            assert.deepStrictEqual(knownStacks(good), ["eu-prod-2", "staging"]);
        } finally {
            fs.rmSync(good, { recursive: true, force: true });
        }
    });

    it("changedStacks refuses a changed stack file with such a name (added, renamed or deleted) rather than leaving it out", () => {
        for (const name of BAD) assert.throws(() => changedStacks([`Pulumi.${name}.yaml`], ["prod", "staging", "uat"]), /not a stack name/, name);
        assert.deepStrictEqual(changedStacks(["docs/Pulumi.Example.yaml"], ["uat"]), [], "only the project's own stack files are stack files");
    });

    it("npm run changed-stacks: exit 1 and the reason on stderr, nothing on stdout for the matrix", () => {
        const repo = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-names-git-"));
        try {
            const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
            git("init", "-q");
            fs.writeFileSync(path.join(repo, "Pulumi.uat.yaml"), "config: {}\n");
            git("add", ".");
            git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base");
            fs.writeFileSync(path.join(repo, "Pulumi.x;touch pwned.yaml"), "config: {}\n");
            git("add", ".");
            git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "pr");
            let out = "";
            let err = "";
            const code = changedStacksMain(["--root", repo, "HEAD~1", "HEAD"], {}, { out: (t) => (out += t), err: (t) => (err += t) });
            assert.strictEqual(code, 1);
            assert.strictEqual(out, "");
            assert.match(err, /Pulumi\.x;touch pwned\.yaml: "x;touch pwned" is not a stack name/);
        } finally {
            fs.rmSync(repo, { recursive: true, force: true });
        }
    });
});

describe("changed-stacks --since-deployed: each stack against the last commit deployed to it", () => {
    let repo: string;
    const commits: Record<string, string> = {};
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    function commit(name: string, files: Record<string, string>) {
        for (const [f, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
            fs.writeFileSync(path.join(repo, f), text);
        }
        git("add", ".");
        git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", name);
        commits[name] = git("rev-parse", "HEAD");
    }
    before(() => {
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-deployed-"));
        git("init", "-q");
        commit("A", { "Pulumi.staging.yaml": "config: {}\n", "Pulumi.uat.yaml": "config: {}\n", "Pulumi.prod.yaml": "config: {}\n", "index.ts": "// 1\n" });
        commit("B", { "Pulumi.prod.yaml": "config: {a: 1}\n" }); // its deploy run was cancelled: prod still at A
        commit("C", { "Pulumi.staging.yaml": "config: {a: 1}\n" }); // this push touches staging only
        commit("D", { "README.md": "docs\n" });
    });
    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    function run(deployed: Record<string, string | undefined>, head = "HEAD") {
        let out = "";
        let err = "";
        const code = changedStacksMain(["--root", repo, "--since-deployed", head], {}, { out: (t) => (out += t), err: (t) => (err += t), deployedCommit: (s) => deployed[s] });
        assert.strictEqual(code, 0, err);
        return { stacks: JSON.parse(out), err };
    }

    it("a cancelled or superseded prod deploy loses nothing: a later push that touches staging only deploys prod too", () => {
        const r = run({ staging: commits.B, uat: commits.C, prod: commits.A }, commits.C);
        assert.deepStrictEqual(r.stacks, ["staging", "prod"]);
        assert.match(r.err, /^prod: deploy: changed since [0-9a-f]{40}, its last deployed commit$/m);
        assert.match(r.err, /^uat: skip: nothing changed for it since/m);
    });

    it("a stack deployed at the head, or with only documentation since, is skipped; a change to the program deploys every stack behind it", () => {
        assert.deepStrictEqual(run({ staging: commits.C, uat: commits.C, prod: commits.B }, commits.D).stacks, []);
        commit("E", { "index.ts": "// 2\n" });
        assert.deepStrictEqual(run({ staging: commits.D, uat: commits.E, prod: commits.D }).stacks, ["staging", "prod"]);
    });

    it("never deployed, output missing, not a commit id, or a commit this history does not hold: deployed", () => {
        const r = run({ staging: undefined, uat: "not-a-sha", prod: "0123456789abcdef0123456789abcdef01234567" });
        assert.deepStrictEqual(r.stacks, ["staging", "uat", "prod"]);
        assert.match(r.err, /^staging: deploy: no deployedCommit output/m);
        assert.match(r.err, /^prod: deploy: deployedCommit 0123456789abcdef0123456789abcdef01234567 is not an ancestor/m);
    });

    it("the pure rule, and the GitHub concurrency case: a newer run replacing an older pending one deploys what the older would have", () => {
        const since: Record<string, string[]> = { a: ["Pulumi.prod.yaml", "Pulumi.staging.yaml"], b: ["Pulumi.staging.yaml"] };
        const decide = (deployed: Record<string, string | undefined>) =>
            stacksToDeploy(["prod", "staging"], deployed, (c) => since[c.slice(0, 1)]).filter((d) => d.deploy).map((d) => d.stack);
        const a = "a".repeat(40);
        const b = "b".repeat(40);
        // Run 1 (push B) lists prod; its prod job waits; run 2 (push C) lists prod too, prod's deployed commit being
        // still A: when GitHub cancels run 1's pending job in favour of run 2's, prod still gets B's change, at C.
        assert.deepStrictEqual(decide({ prod: a, staging: a }), ["staging", "prod"]);
        assert.deepStrictEqual(decide({ prod: b, staging: b }), ["staging"]);
    });
});

