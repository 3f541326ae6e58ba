// The code map's promises (docs/development.md "Code map"), checked: pure modules load no Pulumi SDK, so `npm run plan`,
// the cost estimate and the policy rules run without the Pulumi engine.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

function tsFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? tsFiles(p) : e.name.endsWith(".ts") ? [p] : [];
    });
}

/**
 * Requires each module in a fresh Node process, in turn, and reports which `@pulumi/*` files each one added to
 * `require.cache`. A fresh process: mocha's own has the SDK loaded by other tests already.
 */
function pulumiLoadedBy(modules: string[], then = ""): Record<string, string[]> {
    const script = `
        const added = {};
        for (const m of ${JSON.stringify(modules)}) {
            const before = new Set(Object.keys(require.cache));
            require(m);
            added[m] = Object.keys(require.cache).filter((k) => !before.has(k) && k.includes(\`\${require("path").sep}@pulumi\${require("path").sep}\`));
        }
        ${then}
        process.stdout.write("\\n" + JSON.stringify(added));`;
    const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return JSON.parse(out.slice(out.lastIndexOf("\n") + 1));
}

describe("code map (README)", () => {
    it("pure modules under components/ import no module that loads the Pulumi SDK", function () {
        this.timeout(120_000);
        // A module is pure when its own source imports no @pulumi package; then nothing it imports may either.
        const pure = tsFiles(path.join(ROOT, "components")).filter((f) => !/from "@pulumi\//.test(fs.readFileSync(f, "utf8")));
        assert.ok(pure.length >= 15, `found ${pure.length} pure modules`);
        for (const expected of ["service/stages.ts", "service/moves.ts", "service/deployed.ts", "service/values.ts", "cost/cost.ts", "observability/values.ts", "config.ts"]) {
            assert.ok(pure.includes(path.join(ROOT, "components", expected)), `components/${expected} is pure`);
        }
        const loaded = pulumiLoadedBy(pure);
        const offenders = Object.entries(loaded).filter(([, files]) => files.length > 0).map(([m, files]) => `${path.relative(ROOT, m)} loads ${path.relative(ROOT, files[0])}`);
        assert.deepStrictEqual(offenders, []);
    });

    it("`npm run plan` and the cost estimate load no @pulumi/* module, even when they run", function () {
        this.timeout(120_000);
        // Run plan for real (table and cost), its output discarded, so lazily required modules count too.
        const loaded = pulumiLoadedBy(
            [path.join(ROOT, "scripts/plan.ts"), path.join(ROOT, "components/cost/cost.ts")],
            `const log = console.log; console.log = () => {}; const code = require(${JSON.stringify(path.join(ROOT, "scripts/plan.ts"))}).main(["staging"]); console.log = log;
             if (code !== 0) throw new Error("plan exited " + code);
             const all = Object.keys(require.cache).filter((k) => k.includes(\`\${require("path").sep}@pulumi\${require("path").sep}\`));
             added["after running plan"] = all;`,
        );
        assert.deepStrictEqual(loaded, {
            [path.join(ROOT, "scripts/plan.ts")]: [],
            [path.join(ROOT, "components/cost/cost.ts")]: [],
            "after running plan": [],
        });
    });

    it("a module that loads the SDK is seen: the check above can fail", function () {
        this.timeout(120_000);
        const loaded = pulumiLoadedBy([path.join(ROOT, "components/service/release.ts")]);
        assert.ok(Object.values(loaded)[0].some((f) => f.includes("@pulumi")), "release.ts loads @pulumi/pulumi");
    });
});
