// The pack's files and per-stack config, checked the way the Pulumi CLI reads them: every rule registered once,
// the manifest and package.json, config.<stack>.json against each rule's config schema, the README's rule
// table; and the rule that keeps one stack's config file from judging another stack.
import Ajv from "ajv";
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { rules } from "../../policies/rules";
import { stackOfUrn } from "../../policies/rules/common";
import { policyConfigMatchesStack } from "../../policies/rules/policy-config";
import { release, valuesAt } from "./fixtures";
import { checkStack, PACK, passes, ROOT, STACKS } from "./harness";
import { manualText } from "../helpers/manual";

const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

describe("policy pack (policies/): it loads", () => {
    it("registers every rule once, each with a name, a description and a valid enforcement level", () => {
        const names = rules.map((r) => r.name);
        assert.strictEqual(new Set(names).size, names.length, `duplicate rule names in ${names.join(", ")}`);
        assert.ok(rules.length >= 10);
        for (const r of rules) {
            assert.match(r.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, `${r.name}: a kebab-case name`);
            assert.notStrictEqual(r.name, "all", "`all` is reserved by Pulumi");
            assert.ok(r.description.length >= 60 && r.description.endsWith("."), `${r.name}: a description a reviewer understands`);
            assert.ok(LEVELS.includes(r.enforcementLevel), `${r.name}: enforcement level ${r.enforcementLevel}`);
            const kinds = ["validateResource" in r, "validateStack" in r].filter(Boolean).length;
            assert.strictEqual(kinds, 1, `${r.name}: exactly one of validateResource / validateStack`);
            assert.ok(!r.configSchema?.properties?.enforcementLevel, `${r.name}: enforcementLevel may not be a config property`);
        }
    });

    it("has a PulumiPolicy.yaml naming the nodejs runtime, and a package.json whose main is the pack", () => {
        const manifest = parseYaml(fs.readFileSync(path.join(PACK, "PulumiPolicy.yaml"), "utf8"));
        assert.strictEqual(manifest.runtime, "nodejs");
        assert.ok(typeof manifest.description === "string" && manifest.description.length > 20);
        const pkg = JSON.parse(fs.readFileSync(path.join(PACK, "package.json"), "utf8"));
        assert.ok(fs.existsSync(path.join(PACK, pkg.main)), `main ${pkg.main} exists`);
        const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        // The pack resolves its modules from the root node_modules: its declared ranges must be the root's.
        assert.strictEqual(pkg.dependencies["@pulumi/policy"], root.devDependencies["@pulumi/policy"] ?? root.dependencies["@pulumi/policy"]);
        assert.strictEqual(pkg.dependencies["@pulumi/pulumi"], root.dependencies["@pulumi/pulumi"]);
        const index = fs.readFileSync(path.join(PACK, pkg.main), "utf8");
        assert.match(index, /new PolicyPack\("stagehand", \{[\s\S]*policies: rules,/);
    });

    it("its package.json lists every package the pack loads, at the root's ranges", function () {
        this.timeout(60_000);
        // Load what policies/index.ts imports (the rules; constructing the pack would start its server) in a fresh
        // process, and name the packages that the pack's own files (policies/, components/) require.
        const script = `require(${JSON.stringify(path.join(PACK, "rules"))});
            const sep = require("path").sep;
            const packageOf = (file) => {
                const parts = file.split(sep);
                const i = parts.indexOf("node_modules");
                return i < 0 ? undefined : parts[i + 1].startsWith("@") ? parts[i + 1] + "/" + parts[i + 2] : parts[i + 1];
            };
            const names = new Set();
            for (const m of Object.values(require.cache)) {
                if (packageOf(m.filename)) continue;
                for (const child of m.children) if (packageOf(child.filename)) names.add(packageOf(child.filename));
            }
            process.stdout.write(JSON.stringify([...names].sort()));`;
        const loaded: string[] = JSON.parse(execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, encoding: "utf8" }));
        const pkg = JSON.parse(fs.readFileSync(path.join(PACK, "package.json"), "utf8"));
        const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.ok(loaded.includes("zod") && loaded.includes("@pulumi/policy"), `loaded: ${loaded.join(", ")}`);
        for (const name of loaded) {
            assert.ok(pkg.dependencies[name], `the pack loads ${name}: policies/package.json lists it`);
            assert.strictEqual(pkg.dependencies[name], root.dependencies[name] ?? root.devDependencies[name], `${name}: the root's range`);
        }
    });

    for (const stack of STACKS) {
        it(`config.${stack}.json sets a level for every rule, names only real rules, and fits each rule's config schema`, () => {
            const config = JSON.parse(fs.readFileSync(path.join(PACK, `config.${stack}.json`), "utf8"));
            assert.deepStrictEqual(Object.keys(config).sort(), rules.map((r) => r.name).sort());
            const ajv = new Ajv({ strict: false });
            for (const r of rules) {
                const entry = config[r.name];
                const { enforcementLevel, ...props } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
                assert.ok(LEVELS.includes(enforcementLevel), `${stack}: ${r.name} level ${enforcementLevel}`);
                const validate = ajv.compile({ type: "object", properties: r.configSchema?.properties ?? {}, additionalProperties: false });
                assert.ok(validate(props), `${stack}: ${r.name} config ${JSON.stringify(props)}: ${ajv.errorsText(validate.errors)}`);
            }
            assert.deepStrictEqual(config["policy-config-matches-stack"].stacks, [stack]);
        });
    }

    it("config schema defaults are valid against their own schemas", () => {
        const ajv = new Ajv({ strict: false, useDefaults: true });
        for (const r of rules) {
            const validate = ajv.compile({ type: "object", properties: r.configSchema?.properties ?? {} });
            const filled: Record<string, unknown> = {};
            assert.ok(validate(filled), `${r.name}: ${ajv.errorsText(validate.errors)}`);
        }
    });

    it("README's rule table lists every rule with the levels of config.<stack>.json", () => {
        const readme = manualText();
        const section = readme.split(/^## /m).find((s) => s.startsWith("Policy pack"));
        assert.ok(section, "README has a `## Policy pack` section");
        const rows = new Map<string, string[]>();
        for (const line of section!.split("\n")) {
            const cells = line.split("|").map((c) => c.trim());
            const name = /^`([a-z0-9-]+)`$/.exec(cells[1] ?? "")?.[1];
            if (name) rows.set(name, cells.slice(3, 6));
        }
        assert.deepStrictEqual([...rows.keys()], rules.map((r) => r.name), "one row per rule, in the pack's order");
        for (const stack of STACKS) {
            const config = JSON.parse(fs.readFileSync(path.join(PACK, `config.${stack}.json`), "utf8"));
            for (const r of rules) {
                const entry = config[r.name];
                const level = typeof entry === "string" ? entry : entry.enforcementLevel;
                assert.strictEqual(rows.get(r.name)![STACKS.indexOf(stack)], level, `README level of ${r.name} in ${stack}`);
            }
        }
    });
});

describe("policy policy-config-matches-stack", () => {
    const checkout = release("checkout", valuesAt(2));

    it("passes the config file written for the stack", async () => {
        passes(await checkStack(policyConfigMatchesStack, "prod", [checkout], { stacks: ["prod"] }));
    });

    it("refuses another stack's config file", async () => {
        assert.deepStrictEqual((await checkStack(policyConfigMatchesStack, "prod", [checkout], { stacks: ["staging"] })).messages, [
            "stack prod is being checked with the policy config written for staging; use --policy-pack-config policies/config.prod.json",
        ]);
    });

    it("does not apply without a config file", async () => {
        assert.match((await checkStack(policyConfigMatchesStack, "prod", [checkout])).notApplicable ?? "", /^no policy config file names its stacks/);
        assert.strictEqual(stackOfUrn("urn:pulumi:prod::stagehand::kubernetes:helm.sh/v3:Release::checkout"), "prod");
    });
});
