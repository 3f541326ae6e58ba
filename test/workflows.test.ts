import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseCluster } from "../components/config";
import { changedStacks } from "../scripts/changed-stacks";
import { knownStacks, projectRoot, readStackConfig } from "../scripts/stack-file";

const workflowsDir = path.join(projectRoot, ".github", "workflows");
const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8"));

function load(file: string): any {
    return parse(fs.readFileSync(path.join(workflowsDir, file), "utf8"));
}

function steps(workflow: any): any[] {
    return Object.values(workflow.jobs).flatMap((job: any) => job.steps ?? []);
}

/** Every `npm run <script>` a workflow's shell steps call. */
function npmScripts(workflow: any): string[] {
    return steps(workflow)
        .filter((s) => typeof s.run === "string")
        .flatMap((s) => [...(s.run as string).matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]));
}

describe("GitHub workflows (.github/workflows)", () => {
    const files = fs.readdirSync(workflowsDir).filter((f) => f.endsWith(".yml"));

    it("parse, and every job has steps or a reusable workflow", () => {
        assert.deepStrictEqual(files.sort(), ["deploy.yml", "pull-request.yml"]);
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

    it("run on pull requests touching a stack file: tests, the plan diff and pulumi preview with the policy pack", () => {
        const wf = load("pull-request.yml");
        assert.ok(wf.on.pull_request.paths.includes("Pulumi.*.yaml"));
        assert.ok(steps(wf).some((s) => s.run === "npm test"));
        assert.ok(steps(wf).some((s) => typeof s.run === "string" && /npm run --silent plan -- \$\{\{ matrix.stack \}\} --diff origin\/\$\{\{ github.base_ref \}\}/.test(s.run)));
        const preview = steps(wf).find((s) => s.uses === "pulumi/actions@v7");
        assert.ok(preview, "pulumi/actions@v7");
        assert.strictEqual(preview.with.command, "preview");
        assert.strictEqual(preview.with["comment-on-pr"], true);
        assert.strictEqual(preview.with.policyPacks, "policies");
    });

    it("deploy merges to main with pulumi up, one stack at a time, each in its own environment", () => {
        const wf = load("deploy.yml");
        assert.deepStrictEqual(wf.on.push.branches, ["main"]);
        const up = wf.jobs.up;
        assert.strictEqual(up.environment, "${{ matrix.stack }}");
        assert.strictEqual(up.strategy["max-parallel"], 1);
        const action = up.steps.find((s: any) => s.uses === "pulumi/actions@v7");
        assert.strictEqual(action.with.command, "up");
    });

    it("reference the policy pack and a policy config that exists for every stack", () => {
        for (const f of files) {
            for (const s of steps(load(f)).filter((s) => s.uses === "pulumi/actions@v7")) {
                assert.ok(fs.existsSync(path.join(projectRoot, s.with.policyPacks, "PulumiPolicy.yaml")), `${f}: ${s.with.policyPacks}/PulumiPolicy.yaml`);
                for (const stack of knownStacks()) {
                    const config = s.with.policyPackConfigs.replace("${{ matrix.stack }}", stack);
                    assert.ok(fs.existsSync(path.join(projectRoot, config)), `${f}: ${config}`);
                }
            }
        }
    });

    it("talk to prod, whose Kubernetes API is private to its VPC, from the runner in PROD_RUNNER, and stop at once without it", () => {
        const privateOnly = knownStacks().filter((stack) => {
            const cluster = parseCluster(stack, readStackConfig(stack).cluster);
            return cluster.kind === "eks" && !cluster.apiEndpoint.public;
        });
        assert.deepStrictEqual(privateOnly, ["prod"], "the stacks whose API endpoint is private only (each needs a runner in its VPC)");
        for (const [file, jobName] of [["deploy.yml", "up"], ["pull-request.yml", "preview"]]) {
            const wf = load(file);
            const job = wf.jobs[jobName];
            assert.strictEqual(job["runs-on"], "${{ matrix.stack == 'prod' && vars.PROD_RUNNER || 'ubuntu-latest' }}", `${file}: job ${jobName}`);
            const guard = job.steps.findIndex((s: any) => s.if === "matrix.stack == 'prod' && !vars.PROD_RUNNER");
            const pulumi = job.steps.findIndex((s: any) => s.uses === "pulumi/actions@v7");
            assert.ok(guard >= 0 && guard < pulumi, `${file}: job ${jobName} stops before pulumi when PROD_RUNNER is unset`);
            assert.match(job.steps[guard].run, /::error::.*PROD_RUNNER[\s\S]*exit 1/);
            // Jobs that do not talk to a cluster stay on GitHub's runners.
            for (const [other, j] of Object.entries<any>(wf.jobs)) if (other !== jobName) assert.strictEqual(j["runs-on"], "ubuntu-latest", `${file}: job ${other}`);
        }
    });

    it("the stacks are the project's stacks", () => {
        assert.deepStrictEqual(knownStacks(), ["prod", "staging", "uat"]);
    });
});

describe("changed stacks (scripts/changed-stacks.ts)", () => {
    const stacks = ["prod", "staging", "uat"];
    it("a stack file change touches that stack only", () => {
        assert.deepStrictEqual(changedStacks(["Pulumi.uat.yaml", "README.md"], stacks), ["uat"]);
        assert.deepStrictEqual(changedStacks(["Pulumi.prod.yaml", "Pulumi.staging.yaml"], stacks), ["staging", "prod"]);
    });
    it("a change to the program, chart, policies or dependencies touches every stack, staging first", () => {
        for (const f of ["components/stages.ts", "charts/service/values.yaml", "policies/rules.ts", "package-lock.json", "index.ts"]) {
            assert.deepStrictEqual(changedStacks([f], stacks), ["staging", "uat", "prod"], f);
        }
    });
    it("documentation alone touches none", () => {
        assert.deepStrictEqual(changedStacks(["README.md", "test/stages.test.ts"], stacks), []);
    });
});
