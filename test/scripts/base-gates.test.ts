// CI's gates run the base branch's code over a pull request's checkout (`--root`): the stack files and the git
// history come from the pull request, the program, the policy pack and its levels (policies/config.<stack>.json)
// from the code that runs. A pull request that loosens the policy config, or the code, in its own tree is still
// judged by the base's.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";
import { main as plan } from "../../scripts/plan";
import { checkPolicies } from "../../scripts/policies";
import { main as gate } from "../../scripts/verdict-gate";
import { projectRoot, readStackConfig } from "../../scripts/stack-file";
import { captured } from "../helpers/console";

describe("the gates judge a pull request's stack files with the base branch's code (--root)", () => {
    let repo: string;
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const commit = (message: string) => {
        git("add", ".");
        git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message);
    };

    before(() => {
        // The base commit: the project's prod stack file and policy config, as the base branch has them.
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-base-gates-"));
        git("init", "-q");
        fs.mkdirSync(path.join(repo, "policies"));
        fs.mkdirSync(path.join(repo, "scripts"));
        fs.copyFileSync(path.join(projectRoot, "Pulumi.prod.yaml"), path.join(repo, "Pulumi.prod.yaml"));
        fs.copyFileSync(path.join(projectRoot, "policies", "config.prod.json"), path.join(repo, "policies", "config.prod.json"));
        commit("base");
        // The pull request: a plain-text password in prod, the rule that refuses it switched off in its own policy
        // config, and a plan command of its own that passes everything.
        const doc = parseDocument(fs.readFileSync(path.join(repo, "Pulumi.prod.yaml"), "utf8"));
        doc.setIn(["config", "stagehand:services", "checkout", "env", "DB_PASSWORD"], "hunter2-s3cr3t");
        fs.writeFileSync(path.join(repo, "Pulumi.prod.yaml"), doc.toString());
        const config = JSON.parse(fs.readFileSync(path.join(repo, "policies", "config.prod.json"), "utf8"));
        config["no-plaintext-secrets"] = "disabled";
        fs.writeFileSync(path.join(repo, "policies", "config.prod.json"), JSON.stringify(config, null, 2));
        fs.writeFileSync(path.join(repo, "scripts", "plan.ts"), "process.exit(0);\n");
        commit("pr: loosen the gate");
    });
    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("plan --policies --root: the PR's stack file, the base code's policy levels: the mandatory violation stands", async () => {
        const r = await captured(() => plan(["prod", "--policies", "--root", repo]));
        assert.strictEqual(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /levels from policies\/config\.prod\.json\)/);
        assert.match(r.stdout, /^mandatory  no-plaintext-secrets  kubernetes:helm\.sh\/v3:Release checkout-production: .*DB_PASSWORD is passed in plain text/m);
        assert.ok(!/disabled: [^)]*no-plaintext-secrets/.test(r.stdout), "the PR's own config, which disables the rule, is not read");
    });

    it("the same stack file judged with the PR's policy config would pass: what --root keeps out", async () => {
        const lines: string[] = [];
        const pr = readStackConfig("prod", repo);
        const code = await checkPolicies("prod", pr, { packDir: path.join(repo, "policies"), stackRoot: repo, log: (l) => lines.push(l) });
        assert.strictEqual(code, 0, lines.join("\n"));
        assert.match(lines.at(-1)!, /disabled: [^)]*no-plaintext-secrets/);
    });

    it("plan --diff --root and verdict-gate --root read the PR's history: the base revision of its own repository", async () => {
        const diff = await captured(() => plan(["prod", "--diff", "HEAD~1", "--root", repo]));
        assert.match(diff.stdout + diff.stderr, /DB_PASSWORD/);
        let list = "";
        const code = await gate(["prod", "HEAD~1", "--list", "--root", repo], {}, { out: (t) => (list += t), err: (t) => assert.fail(t) });
        assert.strictEqual(code, 0);
        assert.strictEqual(JSON.parse(list).stack, "prod");
        // A revision only the PR's repository holds: read there, not in this code's checkout.
        const only = git("rev-parse", "HEAD~1").trim();
        const there = await captured(() => plan(["prod", "--diff", only, "--root", repo]));
        assert.doesNotMatch(there.stderr, /unknown revision|not a git/i, there.stderr);
    });
});
