// Every offline command refuses what it does not understand — an unknown flag, a missing or stray argument —
// with its usage and a non-zero exit, instead of doing something else than what was asked.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { main as bench } from "../../scripts/bench";
import { main as changedStacks } from "../../scripts/changed-stacks";
import { npmSwallowedFlags, npmSwallowedMessage, stackArgumentMessage, stackArgumentProblem } from "../../scripts/args";
import { main as plan, parsePlanArgs } from "../../scripts/plan";
import { main as promote } from "../../scripts/promote";
import { main as status } from "../../scripts/status";
import { main as verdict } from "../../scripts/verdict";
import { main as verdictGate } from "../../scripts/verdict-gate";
import { captured } from "../helpers/console";

const ROOT = path.resolve(__dirname, "../..");


describe("commands refuse what they don't understand (scripts/args.ts)", () => {
    it("plan: an unknown flag is refused with the usage, not ignored", async () => {
        const r = await captured(() => plan(["staging", "--policy"]));
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.stdout, "", "no plan is printed");
        assert.strictEqual(r.stderr, "plan: Unknown option '--policy'\nusage: npm run plan -- <stack> [--manifests] [--service NAME] [--diff [GIT-REF]] [--policies] [--root DIR] [--break-glass]\n");
    });

    it("plan: a missing stack, a stray argument, --service without a name, --manifests with --diff", async () => {
        const cases: [string[], RegExp][] = [
            [[], /^plan: expected one stack, found none\nusage: npm run plan/],
            [["staging", "uat"], /^plan: expected one stack, found "staging", "uat"\nusage:/],
            [["staging", "--service"], /^plan: Option '--service <value>' argument missing\nusage:/],
            [["staging", "--diff", "HEAD", "extra"], /^plan: expected a stack and optionally a git revision after --diff, found "staging", "HEAD", "extra"\nusage:/],
            [["staging", "--diff", "--manifests"], /^plan: --manifests and --diff do not go together\nusage:/],
            [["staging", "--break-glass"], /^plan: --break-glass lets moves through a closed change window: it goes with --diff\nusage:/],
        ];
        for (const [argv, expected] of cases) {
            const r = await captured(() => plan(argv));
            assert.strictEqual(r.code, 2, argv.join(" "));
            assert.match(r.stderr, expected, argv.join(" "));
        }
    });

    it("plan: reads what it understands", () => {
        assert.deepStrictEqual(parsePlanArgs(["staging"]), { stack: "staging", manifests: false, service: undefined, diff: undefined, help: false });
        assert.deepStrictEqual(parsePlanArgs(["staging", "--diff"]), { stack: "staging", manifests: false, service: undefined, diff: "HEAD", help: false });
        assert.deepStrictEqual(parsePlanArgs(["uat", "--diff", "origin/main"]), { stack: "uat", manifests: false, service: undefined, diff: "origin/main", help: false });
        assert.deepStrictEqual(parsePlanArgs(["--service", "checkout", "prod", "--manifests"]), { stack: "prod", manifests: true, service: "checkout", diff: undefined, help: false });
    });

    it("plan: --help prints the usage and exits 0", async () => {
        const r = await captured(() => plan(["--help"]));
        assert.deepStrictEqual([r.code, r.stdout], [0, "usage: npm run plan -- <stack> [--manifests] [--service NAME] [--diff [GIT-REF]] [--policies] [--root DIR] [--break-glass]\n"]);
    });

    it("verdict: an unknown flag or a missing service exits 4 with the usage", async () => {
        for (const [argv, expected] of [
            [["staging", "checkout", "--treshold", "1"], /^verdict: Unknown option '--treshold'/],
            [["staging"], /^verdict: expected a stack and a service, found 1 argument/],
        ] as [string[], RegExp][]) {
            let stderr = "";
            const code = await verdict(argv, {}, { out: () => undefined, err: (s) => (stderr += s) });
            assert.strictEqual(code, 4, argv.join(" "));
            assert.match(stderr, expected);
            assert.match(stderr, /usage: npm run verdict -- <stack> <service>/);
        }
    });

    it("bench: takes no arguments, and refuses one before measuring anything", async () => {
        const lines: string[] = [];
        const r = await captured(() => bench(["--quick"], (l) => lines.push(l)));
        assert.strictEqual(r.code, 2);
        assert.strictEqual(lines.length, 0, "nothing measured");
        assert.match(r.stderr, /^bench: Unknown option '--quick'\nusage: npm run bench/);
        const stray = await captured(() => bench(["staging"], (l) => lines.push(l)));
        assert.match(stray.stderr, /^bench: expected no arguments, found "staging"/);
        assert.strictEqual(lines.length, 0, "nothing measured");
    });

    it("changed-stacks: needs a base revision, takes no flag", async () => {
        for (const [argv, expected] of [
            [[], /^changed-stacks: expected a base git revision and optionally a head revision, found none\nusage: npm run --silent changed-stacks/],
            [["origin/main", "--all"], /^changed-stacks: Unknown option '--all'/],
            [["a", "b", "c"], /^changed-stacks: expected a base git revision .*, found "a", "b", "c"/],
        ] as [string[], RegExp][]) {
            const r = await captured(() => changedStacks(argv));
            assert.strictEqual(r.code, 2, argv.join(" "));
            assert.match(r.stderr, expected);
        }
    });

    it("the npm script itself exits non-zero on an unknown flag", function () {
        this.timeout(60_000);
        const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/plan.ts", "staging", "--policy"], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, 2);
        assert.match(r.stderr, /Unknown option '--policy'/);
        assert.strictEqual(r.stdout, "");
    });
});

describe("commands say what to run instead (scripts/args.ts)", () => {
    const PLAN_USAGE = "usage: npm run plan -- <stack> [--manifests] [--service NAME] [--diff [GIT-REF]] [--policies] [--root DIR] [--break-glass]";
    /** A command's main run with console captured and lines collected, whichever way it prints. */
    async function run(fn: (out: (s: string) => void, err: (s: string) => void) => number | Promise<number>) {
        let out = "";
        let err = "";
        const r = await captured(() => fn((s) => void (out += s.endsWith("\n") ? s : `${s}\n`), (s) => void (err += s.endsWith("\n") ? s : `${s}\n`)));
        return { code: r.code, stdout: r.stdout + out, stderr: r.stderr + err };
    }

    it("npm run plan uat --diff (no --): npm kept the flag, the command says the command line that passes it", async () => {
        const r = await captured(() => plan(["uat"], ROOT, { npm_config_diff: "true" }));
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.stdout, "");
        assert.strictEqual(
            r.stderr,
            `plan: npm kept --diff for itself (it set npm_config_diff): without "--" after the script name, npm reads the flags and does not pass them on. Run: npm run plan -- uat --diff\n${PLAN_USAGE}\n`,
        );
        const both = await captured(() => plan(["uat"], ROOT, { npm_config_policies: "true", npm_config_manifests: "true" }));
        assert.match(both.stderr, /^plan: npm kept --manifests, --policies for itself \(it set npm_config_manifests, npm_config_policies\): .* Run: npm run plan -- uat --manifests --policies\n/);
        // npm reads `--service checkout` as a boolean flag and passes "checkout" on: the value goes after the flag.
        const service = await captured(() => plan(["uat", "checkout"], ROOT, { npm_config_service: "true" }));
        assert.match(service.stderr, /^plan: npm kept --service for itself \(it set npm_config_service\): .* Run: npm run plan -- uat checkout --service <SERVICE> \(each value right after its flag, not among the other arguments\)\n/);
        // With `--` the flag reaches the command, and npm's variable (from elsewhere) is not taken for it.
        assert.deepStrictEqual(parsePlanArgs(["uat", "--diff"], { npm_config_diff: "true" }).diff, "HEAD");
        assert.deepStrictEqual(parsePlanArgs(["uat"], { npm_config_cache: "/tmp/npm", npm_config_yes: "true" }).stack, "uat");
    });

    it("status, promote, verdict-gate and verdict detect the flags npm kept, too", async () => {
        const st = await run((out, err) => status([], { env: { npm_config_json: "true", npm_config_service: "checkout" }, out, err }));
        assert.strictEqual(st.code, 2);
        assert.match(st.stderr, /^status: npm kept --service, --json for itself \(it set npm_config_service, npm_config_json\): .* Run: npm run status -- --service checkout --json\n/);
        const pr = await run((out, err) => promote(["checkout", "uat"], { env: { npm_config_to: "true", npm_config_dry_run: "true" }, out, err }));
        assert.strictEqual(pr.code, 2);
        assert.match(pr.stderr, /^promote: npm kept --to, --dry-run for itself \(it set npm_config_to, npm_config_dry_run\): .* Run: npm run promote -- checkout uat --to <TO> --dry-run/);
        const gate = await run((out, err) => verdictGate(["uat"], { npm_config_list: "true" }, { out, err }));
        assert.strictEqual(gate.code, 4);
        assert.match(gate.stderr, /^verdict-gate: npm kept --list for itself \(it set npm_config_list\): .* Run: npm run verdict-gate -- uat --list\n/);
        const v = await run((out, err) => verdict(["uat", "checkout"], { npm_config_window: "30m" }, { out, err }));
        assert.strictEqual(v.code, 4);
        assert.match(v.stderr, /^verdict: npm kept --window for itself \(it set npm_config_window\): .* Run: npm run verdict -- uat checkout --window 30m\n/);
    });

    it("the flags npm kept and the words, as pure functions", () => {
        const options = { diff: { type: "boolean" as const }, service: { type: "string" as const }, "dry-run": { type: "boolean" as const } };
        assert.deepStrictEqual(npmSwallowedFlags(["uat"], options, { npm_config_diff: "true", npm_config_service: "cart", npm_config_dry_run: "true" }), ["--diff", "--service cart", "--dry-run"]);
        assert.deepStrictEqual(npmSwallowedFlags(["uat", "--service=cart"], options, { npm_config_service: "cart", npm_config_diff: "" }), []);
        assert.strictEqual(
            npmSwallowedMessage("plan", ["uat"], ["--diff"]),
            'npm kept --diff for itself (it set npm_config_diff): without "--" after the script name, npm reads the flags and does not pass them on. Run: npm run plan -- uat --diff',
        );
    });

    it("a stack given as a path or a file name: give the stack's name, with the command line", async () => {
        for (const [arg, name] of [["Pulumi.staging.yaml", "staging"], ["./Pulumi.uat.yaml", "uat"], ["stacks/prod", "prod"], ["/work/x/Pulumi.prod.yml", "prod"], ["stacks/prod/", "prod"]]) {
            assert.deepStrictEqual(stackArgumentProblem(arg), { problem: `expected a stack name, not a path or a file name (Pulumi.<stack>.yaml is the stack's file), found ${JSON.stringify(arg)}`, name }, arg);
        }
        for (const name of ["staging", "uat", "prod", "my-stack"]) assert.strictEqual(stackArgumentProblem(name), undefined);
        const r = await captured(() => plan(["Pulumi.staging.yaml"], ROOT, {}));
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.stderr, `plan: expected a stack name, not a path or a file name (Pulumi.<stack>.yaml is the stack's file), found "Pulumi.staging.yaml"; give the stack's name: npm run plan -- staging\n${PLAN_USAGE}\n`);
        const diff = await captured(() => plan(["./Pulumi.uat.yaml", "--diff", "origin/main"], ROOT, {}));
        assert.match(diff.stderr, /found "\.\/Pulumi\.uat\.yaml"; give the stack's name: npm run plan -- uat --diff origin\/main\n/);
        const dir = await captured(() => plan(["stacks/prod"], ROOT, {}));
        assert.match(dir.stderr, /found "stacks\/prod"; give the stack's name: npm run plan -- prod\n/);
        const gate = await run((out, err) => verdictGate(["Pulumi.uat.yaml", "--list"], {}, { out, err }));
        assert.strictEqual(gate.code, 4);
        assert.match(gate.stderr, /^verdict-gate: expected a stack name, .*found "Pulumi\.uat\.yaml"; give the stack's name: npm run verdict-gate -- uat --list\n/);
        const pr = await run((out, err) => promote(["checkout", "--to", "Pulumi.uat.yaml"], { env: {}, out, err }));
        assert.strictEqual(pr.code, 2);
        assert.match(pr.stderr, /^promote: expected a stack name, .*found "Pulumi\.uat\.yaml"; give the stack's name: npm run promote -- checkout --to uat\n/);
        const v = await run((out, err) => verdict(["stacks/uat", "checkout"], {}, { out, err }));
        assert.strictEqual(v.code, 4);
        assert.match(v.stderr, /^verdict: expected a stack name, .*found "stacks\/uat"; give the stack's name: npm run verdict -- uat checkout\n/);
        assert.strictEqual(stackArgumentMessage("x/", ["x/"], PLAN_USAGE), 'expected a stack name, not a path or a file name (Pulumi.<stack>.yaml is the stack\'s file), found "x/"; give the stack\'s name: npm run plan -- x');
    });
});
