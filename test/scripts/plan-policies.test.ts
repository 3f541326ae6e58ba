// `npm run plan -- <stack> --policies` and `--diff <ref> --policies` (scripts/policies.ts, policies/offline.ts): the
// pack's rules over what index.ts registers under mocks, at the levels of policies/config.<stack>.json; one line
// per violation with level, policy and resource; exit 1 on a mandatory violation or a program that stops.
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { PackRun, runPack } from "../../policies/offline";
import { Rule, rules } from "../../policies/rules";
import { nodeGroupCapacityType } from "../../policies/rules/eks";
import { main as plan, parsePlanArgs } from "../../scripts/plan";
import { checkPolicies, formatPackRun } from "../../scripts/policies";
import { readStackConfig } from "../../scripts/stack-file";
import { NODE_GROUP, UNKNOWN, urnOf } from "../policies/harness";
import { captured } from "../helpers/console";

const ROOT = path.resolve(__dirname, "../..");


/** The policy section of plan's output: from its header line to the summary. */
function policySection(stdout: string): string[] {
    const lines = stdout.trimEnd().split("\n");
    const start = lines.findIndex((l) => l.startsWith("policy pack on stack "));
    assert.ok(start >= 0, `a policy section in:\n${stdout}`);
    return lines.slice(start);
}

/** `<level> <policy> <resource>` of each violation line. */
function violations(section: string[]): string[] {
    return section.filter((l) => /^(mandatory|advisory|error) /.test(l)).map((l) => /^(\S+) +(\S+)  (\S+ \S+): /.exec(l)!.slice(1, 4).join(" "));
}

/** Staging ships without an edge certificate: its gateway serves plain HTTP, which ingress-tls reports. */
const GATEWAY = "kubernetes:helm.sh/v3:Release istio-gateway";
const CLUSTER = "aws:eks/cluster:Cluster cluster-eks";

/** A project directory holding the given stack files (the program's charts still resolve from the repository). */
function projectWith(files: Record<string, Record<string, unknown>>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-plan-policies-"));
    for (const [stack, config] of Object.entries(files)) writeStack(dir, stack, config);
    return dir;
}

function writeStack(dir: string, stack: string, config: Record<string, unknown>): void {
    const doc = { config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`stagehand:${k}`, v])) };
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify(doc));
}

describe("npm run plan -- <stack> --policies (scripts/policies.ts)", () => {
    describe("the stacks as configured, every service a first deployment", () => {
        // The same expectations as test/policies/stacks.test.ts: staging and uat knowingly keep an open API endpoint
        // and no control-plane logs, advisory there; staging also serves plain HTTP (no edge certificate), advisory
        // there; prod passes every rule.
        it("staging: the plan table, then three advisory violations, node-groups-multi-az disabled; exit 0", async () => {
            const r = await captured(() => plan(["staging", "--policies"]));
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /^stack staging: 3 services\n/, "the plan table comes first");
            assert.match(r.stdout, /estimated monthly cost of stack staging/);
            const section = policySection(r.stdout);
            assert.strictEqual(
                section[0],
                "policy pack on stack staging, offline (the program under mocks, every service a first deployment; levels from policies/config.staging.json)",
            );
            assert.deepStrictEqual(violations(section), [`advisory eks-control-plane-logging ${CLUSTER}`, `advisory eks-api-endpoint-restricted ${CLUSTER}`, `advisory ingress-tls ${GATEWAY}`]);
            assert.match(section[1], /^advisory   eks-control-plane-logging  aws:eks\/cluster:Cluster cluster-eks: EKS cluster cluster-eks: control-plane logging is missing api, audit, authenticator/);
            assert.strictEqual(section.at(-1), `policies: 0 mandatory, 3 advisory violation(s) (${rules.length - 1} rules; disabled: node-groups-multi-az)`);
        });

        it("uat: the public endpoint's advisory violation only (it keeps its audit log), every rule enabled; exit 0", async () => {
            const r = await captured(() => plan(["uat", "--policies"]));
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            const section = policySection(r.stdout);
            assert.deepStrictEqual(violations(section), [`advisory eks-api-endpoint-restricted ${CLUSTER}`]);
            assert.strictEqual(section.at(-1), `policies: 0 mandatory, 1 advisory violation(s) (${rules.length} rules)`);
        });

        it("prod: no violations; exit 0", async () => {
            const r = await captured(() => plan(["prod", "--policies"]));
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.deepStrictEqual(policySection(r.stdout).slice(1), [`policies: no violations (${rules.length} rules)`]);
        });
    });

    describe("a stack file with violations", () => {
        const dirs: string[] = [];
        after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
        const prod = readStackConfig("prod");
        const services = prod.services as Record<string, Record<string, unknown>>;

        it("mandatory (prod): each violation with its level, policy and resource, mandatory in prod; exit 1", async () => {
            const dir = projectWith({
                prod: {
                    ...prod,
                    cluster: { ...(prod.cluster as object), apiEndpoint: { public: true }, logging: [] },
                    services: { ...services, checkout: { ...services.checkout, env: { DB_PASSWORD: "hunter2-s3cr3t" } } },
                },
            });
            dirs.push(dir);
            const r = await captured(() => plan(["prod", "--policies"], dir));
            assert.strictEqual(r.code, 1, r.stdout + r.stderr);
            const section = policySection(r.stdout);
            // Mandatory first, in the pack's rule order, then by resource.
            assert.deepStrictEqual(violations(section), [
                "mandatory no-plaintext-secrets kubernetes:helm.sh/v3:Release checkout-canary",
                "mandatory no-plaintext-secrets kubernetes:helm.sh/v3:Release checkout-production",
                "mandatory no-plaintext-secrets kubernetes:helm.sh/v3:Release checkout-routing",
                `mandatory eks-control-plane-logging ${CLUSTER}`,
                `mandatory eks-api-endpoint-restricted ${CLUSTER}`,
            ]);
            assert.ok(
                section.includes(
                    "mandatory  eks-api-endpoint-restricted  aws:eks/cluster:Cluster cluster-eks: EKS cluster cluster-eks: the public API endpoint is open to 0.0.0.0/0. Set vpcConfig.endpointPublicAccess to false (with endpointPrivateAccess), or list the allowed CIDR blocks in vpcConfig.publicAccessCidrs, or opt in explicitly with allowPublicApiEndpoint: true in this stack's policy config",
                ),
                section.join("\n"),
            );
            assert.match(section[1], /^mandatory  no-plaintext-secrets  kubernetes:helm.sh\/v3:Release checkout-canary: release checkout-canary: values.env.DB_PASSWORD is passed in plain text/);
            assert.ok(!r.stdout.includes("hunter2-s3cr3t"), "the secret itself is never printed");
            assert.strictEqual(section.at(-1), `policies: 5 mandatory, 0 advisory violation(s) (${rules.length} rules)`);
        });

        it("a service whose chart comes from an unlisted registry, and one whose chart renders what the pack refuses (prod): exit 1", async () => {
            const teamChart = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-team-chart-"));
            dirs.push(teamChart);
            fs.mkdirSync(path.join(teamChart, "templates"));
            fs.writeFileSync(path.join(teamChart, "Chart.yaml"), "apiVersion: v2\nname: team\nversion: 0.1.0\n");
            fs.writeFileSync(
                path.join(teamChart, "templates", "service.yaml"),
                "apiVersion: v1\nkind: Service\nmetadata: {name: {{ .Values.fullnameOverride }}}\nspec: {type: {{ .Values.service.type }}, ports: [{port: 80}]}\n",
            );
            const dir = projectWith({
                prod: {
                    ...prod,
                    services: {
                        ...services,
                        checkout: { ...services.checkout, chart: { repo: "oci://127.0.0.1:1/acme", name: "checkout", version: "1.0.0" } },
                        catalog: { ...services.catalog, chart: teamChart, values: { service: { type: "LoadBalancer" } } },
                    },
                },
            });
            dirs.push(dir);
            const r = await captured(() => plan(["prod", "--policies"], dir));
            assert.strictEqual(r.code, 1, r.stdout + r.stderr);
            const section = policySection(r.stdout);
            const lines = violations(section);
            for (const part of ["canary", "production", "routing"]) {
                assert.ok(lines.includes(`mandatory service-chart-source-allowed kubernetes:helm.sh/v3:Release checkout-${part}`), lines.join("\n"));
                assert.ok(lines.includes(`mandatory service-chart-source-allowed kubernetes:helm.sh/v3:Release catalog-${part}`), lines.join("\n"));
                assert.ok(lines.includes(`mandatory service-rendered-restricted kubernetes:helm.sh/v3:Release checkout-${part}`), lines.join("\n"));
            }
            assert.ok(
                section.includes(
                    `mandatory  service-chart-source-allowed  kubernetes:helm.sh/v3:Release checkout-canary: release checkout-canary: chart oci://127.0.0.1:1/acme/checkout 1.0.0 is not from a source stack prod allows (charts/): a chart from elsewhere installs what no reviewer of this repository has read. Use a chart under charts/ or from an allowed source, or add its source to "allowedSources" of service-chart-source-allowed in policies/config.prod.json (reviewed by the platform owners)`,
                ),
                section.join("\n"),
            );
            assert.ok(section.some((l) => l.startsWith("mandatory  service-rendered-restricted  kubernetes:helm.sh/v3:Release checkout-canary: release checkout-canary: chart oci://127.0.0.1:1/acme/checkout 1.0.0 could not be rendered (")), section.join("\n"));
            // The team chart ignores `parts`: each of the three releases renders the Service; one line shown.
            assert.ok(
                section.includes(
                    'mandatory  service-rendered-restricted  kubernetes:helm.sh/v3:Release catalog-routing: release catalog-routing: Service catalog: spec.type: found "LoadBalancer"; it opens the service outside the mesh (on every node, or through a cloud load balancer), around the gateway\'s TLS and mTLS. To fix: use type ClusterIP (service.type in the reference chart) and reach the service through the Istio gateway (istio.gateways/hosts)',
                ),
                section.join("\n"),
            );
        });

        it("advisory only (the same cluster in staging, advisory there): printed, exit 0", async () => {
            const staging = readStackConfig("staging");
            const dir = projectWith({ staging: { ...staging, cluster: { ...(staging.cluster as object), apiEndpoint: { public: true }, logging: [] } } });
            dirs.push(dir);
            const r = await captured(() => plan(["staging", "--policies"], dir));
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.deepStrictEqual(violations(policySection(r.stdout)), [`advisory eks-control-plane-logging ${CLUSTER}`, `advisory eks-api-endpoint-restricted ${CLUSTER}`, `advisory ingress-tls ${GATEWAY}`]);
        });

        it("a stack without a policy config: every rule at its own level (mandatory, or advisory where the rule says so), as a preview without --policy-pack-config", async () => {
            const staging = readStackConfig("staging");
            const dir = projectWith({ dev: staging });
            dirs.push(dir);
            const r = await captured(() => plan(["dev", "--policies"], dir));
            assert.strictEqual(r.code, 1, r.stdout + r.stderr);
            const section = policySection(r.stdout);
            assert.match(section[0], /no policies\/config.dev.json: every rule at its own level\)$/);
            // staging's services follow traffic (stagehand:production): service-production-full, advisory by its own level.
            const lean = ["catalog", "checkout", "payments"].map((s) => `advisory service-production-full stagehand:index:ServiceRelease ${s}`);
            assert.deepStrictEqual(violations(section), [`mandatory eks-control-plane-logging ${CLUSTER}`, `mandatory eks-api-endpoint-restricted ${CLUSTER}`, `mandatory ingress-tls ${GATEWAY}`, ...lean]);
        });

        it("a config error: printed as the program prints it, no policy run, exit 1", async () => {
            const dir = projectWith({ prod: { ...prod, services: { ...services, checkout: { ...services.checkout, stage: 9 } } } });
            dirs.push(dir);
            const r = await captured(() => plan(["prod", "--policies"], dir));
            assert.strictEqual(r.code, 1);
            assert.match(r.stderr, /^invalid stagehand config for stack prod:\n  - stack prod, service checkout, field stage: expected a stage from 1 to /);
            assert.ok(!r.stdout.includes("policy pack on stack"), "no rule ran");
            // The program itself refuses the same config the same way, before registering anything.
            const lines: string[] = [];
            const code = await checkPolicies("prod", { ...prod, services: { ...services, checkout: { ...services.checkout, stage: 9 } } }, { log: (l) => lines.push(l) });
            assert.strictEqual(code, 1);
            assert.match(lines[1], /^policies: not run: the program stops before registering anything:\ninvalid stagehand config for stack prod:\n  - stack prod, service checkout, field stage: /);
        });
    });

    describe("--diff <ref> --policies: moves judged against the base revision as deployed", () => {
        let repo: string;
        const staging = readStackConfig("staging");
        const services = staging.services as Record<string, Record<string, unknown>>;
        const withCheckout = (over: Record<string, unknown>) => ({ ...staging, services: { ...services, checkout: { ...services.checkout, ...over } } });
        const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
        before(() => {
            repo = projectWith({ staging: withCheckout({ stage: 2 }) });
            git("init", "-q");
            git("add", ".");
            git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base");
        });
        after(() => fs.rmSync(repo, { recursive: true, force: true }));

        it("a legal move: the diff, then the policies of the stack after the move; exit 0", async () => {
            writeStack(repo, "staging", withCheckout({ stage: 3 }));
            const r = await captured(() => plan(["staging", "--diff", "HEAD", "--policies"], repo));
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /^stack staging: changes against HEAD\ncheckout: stage 2 -> 3, production 90% -> 10%, canary 10% -> 90%/);
            const section = policySection(r.stdout);
            assert.match(section[0], /^policy pack on stack staging, offline \(the program under mocks, moves judged against HEAD as deployed; /);
            assert.strictEqual(section.at(-1), `policies: 0 mandatory, 3 advisory violation(s) (${rules.length - 1} rules; disabled: node-groups-multi-az)`);
        });

        it("a refused move: the diff's REFUSED line and the program's refusal instead of policy results; exit 1", async () => {
            writeStack(repo, "staging", withCheckout({ stage: 4 }));
            const r = await captured(() => plan(["staging", "--diff", "HEAD", "--policies"], repo));
            assert.strictEqual(r.code, 1, r.stdout + r.stderr);
            assert.match(r.stdout, /^REFUSED stack staging, service checkout, field stage: cannot move from stage 2 to 4/m);
            const section = policySection(r.stdout);
            assert.deepStrictEqual(section.slice(1, 4), [
                "policies: not run: the program stops before registering anything:",
                "illegal stage move in stack staging:",
                "  - stack staging, service checkout, field stage: cannot move from stage 2 to 4: stage 2 (canary 10%) -> 4 (canary 100%) skips stage 3 (move one stage at a time, or set allowSkip). Allowed next: stay at 2, 3 (canary 90%), or 1 (rollback).",
            ]);
            // Without --diff there is no deployed stage to move from: a first deployment may start at stage 4.
            const first = await captured(() => plan(["staging", "--policies"], repo));
            assert.strictEqual(first.code, 0, first.stdout + first.stderr);
            assert.match(policySection(first.stdout).at(-1)!, /^policies: 0 mandatory, 3 advisory violation\(s\)/);
        });

        it("a revision without the stack file: every service a first deployment", async () => {
            writeStack(repo, "uat", readStackConfig("uat"));
            const r = await captured(() => plan(["uat", "--diff", "HEAD", "--policies"], repo));
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.match(policySection(r.stdout)[0], /no Pulumi.uat.yaml at HEAD: every service a first deployment/);
        });
    });

    describe("how the pack is run (policies/offline.ts)", () => {
        const group = (props: Record<string, unknown>) => ({ type: NODE_GROUP, name: "ng", urn: urnOf("staging", NODE_GROUP, "ng"), props });
        const config = { "node-group-capacity-type": { enforcementLevel: "mandatory" as const } };

        it("a rule that reads a value unknown at preview is reported as the server does: advisory, whatever its level", async () => {
            const run = await runPack([group({ capacityType: UNKNOWN })], config, [nodeGroupCapacityType]);
            assert.deepStrictEqual(run.violations, [
                {
                    policy: "node-group-capacity-type",
                    level: "advisory",
                    message: "can't run policy 'node-group-capacity-type' during preview: string value at .capacityType can't be known during preview",
                    urn: urnOf("staging", NODE_GROUP, "ng"),
                },
            ]);
            assert.deepStrictEqual(formatPackRun("staging", run), [
                "advisory   node-group-capacity-type  aws:eks/nodeGroup:NodeGroup ng: can't run policy 'node-group-capacity-type' during preview: string value at .capacityType can't be known during preview",
                "policies: 0 mandatory, 1 advisory violation(s) (1 rule)",
            ]);
        });

        it("levels and parameters come from the config; a disabled rule does not run", async () => {
            const onDemand = group({ capacityType: "ON_DEMAND" });
            const mandatory = await runPack([onDemand], config, [nodeGroupCapacityType]);
            assert.deepStrictEqual(mandatory.violations.map((v) => [v.level, v.message]), [["mandatory", "node group ng in stack staging has capacityType ON_DEMAND; node groups of stack staging must be SPOT"]]);
            const advisory = await runPack([onDemand], { "node-group-capacity-type": { enforcementLevel: "advisory" } }, [nodeGroupCapacityType]);
            assert.deepStrictEqual(advisory.violations.map((v) => v.level), ["advisory"]);
            const relaxed = await runPack([onDemand], { "node-group-capacity-type": { enforcementLevel: "mandatory", capacityTypeByStack: { staging: "ON_DEMAND" } } }, [nodeGroupCapacityType]);
            assert.deepStrictEqual(relaxed.violations, [], "the rule's parameters from the config");
            const disabled = await runPack([onDemand], { "node-group-capacity-type": { enforcementLevel: "disabled" } }, [nodeGroupCapacityType]);
            assert.deepStrictEqual([disabled.ran, disabled.disabled, disabled.violations], [[], ["node-group-capacity-type"], []]);
            assert.deepStrictEqual(formatPackRun("staging", disabled), ["policies: no violations (0 rules; disabled: node-group-capacity-type)"]);
            const unconfigured = await runPack([onDemand], {}, [nodeGroupCapacityType]);
            assert.deepStrictEqual(unconfigured.violations.map((v) => v.level), ["mandatory"], "no config: the rule's own level");
        });

        it("a rule that throws is an error line and fails the run, as it fails the analyzer", async () => {
            const broken: Rule = { name: "broken-rule", description: "A rule that throws.", enforcementLevel: "advisory", validateResource: () => { throw new Error("boom"); } };
            const run: PackRun = await runPack([group({})], {}, [broken]);
            assert.deepStrictEqual(run.failures, [{ policy: "broken-rule", urn: urnOf("staging", NODE_GROUP, "ng"), message: "boom" }]);
            assert.deepStrictEqual(formatPackRun("staging", run), [
                "error      broken-rule  aws:eks/nodeGroup:NodeGroup ng: the rule failed: boom",
                "policies: 0 mandatory, 0 advisory violation(s), 1 rule error(s) (1 rule)",
            ]);
        });
    });

    describe("the command line", () => {
        it("--policies goes with the table and with --diff, not with --manifests or --service", async () => {
            assert.strictEqual(parsePlanArgs(["staging", "--policies"]).policies, true);
            assert.deepStrictEqual(parsePlanArgs(["staging", "--diff", "origin/main", "--policies"]), { stack: "staging", manifests: false, service: undefined, diff: "origin/main", policies: true, help: false });
            assert.strictEqual(parsePlanArgs(["staging"]).policies, undefined);
            for (const [argv, expected] of [
                [["staging", "--policies", "--manifests"], /^plan: --manifests and --policies do not go together\nusage: npm run plan -- <stack> \[--manifests\] \[--service NAME\] \[--diff \[GIT-REF\]\] \[--policies\] \[--root DIR\]\n$/],
                [["staging", "--policies", "--service", "checkout"], /^plan: --policies judges the whole stack: it does not go with --service\nusage:/],
            ] as [string[], RegExp][]) {
                const r = await captured(() => plan(argv));
                assert.strictEqual(r.code, 2, argv.join(" "));
                assert.match(r.stderr, expected);
                assert.strictEqual(r.stdout, "");
            }
        });

        it("the npm script: exits with the policies' code once the program under mocks has run", function () {
            this.timeout(120_000);
            const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/plan.ts", "prod", "--policies"], { cwd: ROOT, encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.ok(r.stdout.endsWith(`\npolicies: no violations (${rules.length} rules)\n`), r.stdout);
        });
    });
});
