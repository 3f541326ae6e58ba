// Every offline command refuses what it does not understand — an unknown flag, a missing or stray argument —
// with its usage and a non-zero exit, instead of doing something else than what was asked.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { main as bench } from "../../scripts/bench";
import { main as changedStacks } from "../../scripts/changed-stacks";
import { main as plan, parsePlanArgs } from "../../scripts/plan";
import { main as verdict } from "../../scripts/verdict";
import { captured } from "../helpers/console";

const ROOT = path.resolve(__dirname, "../..");


describe("commands refuse what they don't understand (scripts/args.ts)", () => {
    it("plan: an unknown flag is refused with the usage, not ignored", async () => {
        const r = await captured(() => plan(["staging", "--policy"]));
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.stdout, "", "no plan is printed");
        assert.strictEqual(r.stderr, "plan: Unknown option '--policy'\nusage: npm run plan -- <stack> [--manifests] [--service NAME] [--diff [GIT-REF]] [--policies]\n");
    });

    it("plan: a missing stack, a stray argument, --service without a name, --manifests with --diff", async () => {
        const cases: [string[], RegExp][] = [
            [[], /^plan: expected one stack, found none\nusage: npm run plan/],
            [["staging", "uat"], /^plan: expected one stack, found "staging", "uat"\nusage:/],
            [["staging", "--service"], /^plan: Option '--service <value>' argument missing\nusage:/],
            [["staging", "--diff", "HEAD", "extra"], /^plan: expected a stack and optionally a git revision after --diff, found "staging", "HEAD", "extra"\nusage:/],
            [["staging", "--diff", "--manifests"], /^plan: --manifests and --diff do not go together\nusage:/],
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
        assert.deepStrictEqual([r.code, r.stdout], [0, "usage: npm run plan -- <stack> [--manifests] [--service NAME] [--diff [GIT-REF]] [--policies]\n"]);
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
