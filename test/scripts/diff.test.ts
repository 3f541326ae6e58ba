import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LiveServiceError } from "../../components/service/removal";
import { diffStack, printDiff, stackFileAt, unknownRevisionMessage } from "../../scripts/diff";
import { main as plan } from "../../scripts/plan";
import { captured } from "../helpers/console";
import { stackConfigFromText } from "../../scripts/stack-file";
import { runProgram } from "../helpers/mocks";

const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3, ...over });

describe("npm run plan -- <stack> --diff (scripts/diff.ts)", () => {
    it("says each changed service's move in words", () => {
        const diffs = diffStack(
            "staging",
            { services: { checkout: svc(), cart: svc({ stage: 3 }), same: svc(), gone: svc() } },
            { services: { checkout: svc({ stage: 3 }), cart: svc({ stage: 1 }), same: svc(), added: svc({ stage: 1 }) }, remove: ["gone"] },
        );
        assert.deepStrictEqual(
            diffs.map((d) => d.line),
            [
                "added: new service, stage 1/6 idle: 100% -> 01 (production x3), 0% -> 02 (canary x0); strategy canary",
                "cart: stage 3 -> 1 (rollback), production 10% -> 100%, canary 90% -> 0%, canary replicas 3 -> 0",
                "checkout: stage 2 -> 3, production 90% -> 10%, canary 10% -> 90%, canary replicas 2 -> 3",
                "gone: removed (listed in stagehand:remove): deletes the Helm releases gone-production, gone-canary and gone-routing and the pods they run (production x3 of 01, canary x2 of 02), and namespace gone with everything else in it (no service of the stack is left there)",
            ],
        );
        assert.ok(diffs.every((d) => d.ok));
    });

    it("describes promote and finishing", () => {
        const promote = diffStack("uat", { services: { checkout: svc({ stage: 4 }) } }, { services: { checkout: svc({ stage: 5 }) } });
        assert.deepStrictEqual(promote.map((d) => d.line), ["checkout: stage 4 -> 5, production tag 01 -> 02"]);
        const finish = diffStack("uat", { services: { checkout: svc({ stage: 6 }) } }, { services: { checkout: svc({ stage: 1, stable: "02", canary: undefined }) } });
        assert.deepStrictEqual(finish.map((d) => d.line), ["checkout: stage 6 -> 1 (finish the release), canary replicas 3 -> 0"]);
    });

    describe("removing and moving services (components/service/removal.ts)", () => {
        const cluster = { kind: "existing" };
        const shop = (over: Record<string, unknown> = {}) => svc({ stage: 1, canary: undefined, namespace: "shop", ...over });
        /** The program's refusal for the same change, its previous outputs being the base revision deployed. */
        async function programSays(base: Record<string, unknown>, head: Record<string, unknown>): Promise<string[]> {
            const deployed = await runProgram("uat", { cluster, ...base });
            const settled = await runProgram("uat", { cluster, ...base }, deployed.outputs);
            let problems: string[] = [];
            await assert.rejects(runProgram("uat", { cluster, ...head }, settled.outputs), (e: any) => {
                assert.ok(e instanceof LiveServiceError, String(e));
                problems = e.problems;
                return true;
            });
            return problems;
        }

        it("refuses a removal stagehand:remove does not list, in the program's words", async () => {
            const base = { services: { cart: shop(), checkout: shop() } };
            const head = { services: { checkout: shop() } };
            const diffs = diffStack("uat", base, head);
            assert.deepStrictEqual(diffs, [
                {
                    service: "cart",
                    ok: false,
                    line:
                        "stack uat, service cart, field stagehand:remove: cannot remove a running service unless the stack says so: its block is gone from stagehand:services, " +
                        "but it is deployed at stage 1, and this update would delete the Helm releases cart-production, cart-canary and cart-routing and the pods they run " +
                        "(production x3 of 01, canary x0 of 01); namespace shop stays (checkout still in it). To remove it, add it to stagehand:remove for this update " +
                        "(stagehand:remove: [cart]); to keep it, restore its block.",
                    fields: [],
                },
            ]);
            assert.deepStrictEqual(await programSays(base, head), [diffs[0].line]);
        });

        it("says exactly what an allowed removal deletes: releases, pods, and the namespace with its last service", () => {
            const base = { services: { cart: shop({ canary: "02", stage: 3 }), checkout: shop(), search: shop({ namespace: "find" }) } };
            assert.deepStrictEqual(diffStack("uat", base, { remove: ["cart", "search"], services: { checkout: shop() } }), [
                {
                    service: "cart",
                    ok: true,
                    line: "cart: removed (listed in stagehand:remove): deletes the Helm releases cart-production, cart-canary and cart-routing and the pods they run (production x3 of 01, canary x3 of 02); namespace shop stays (checkout still in it)",
                    fields: [],
                },
                {
                    service: "search",
                    ok: true,
                    line: "search: removed (listed in stagehand:remove): deletes the Helm releases search-production, search-canary and search-routing and the pods they run (production x3 of 01, canary x0 of 01), and namespace find with everything else in it (no service of the stack is left there)",
                    fields: [],
                },
            ]);
        });

        it("refuses a namespace change in the program's words", async () => {
            const base = { services: { cart: shop() } };
            const head = { services: { cart: shop({ namespace: "basket" }) } };
            const diffs = diffStack("uat", base, head);
            assert.deepStrictEqual(diffs, [
                {
                    service: "cart",
                    ok: false,
                    line:
                        "stack uat, service cart, field namespace: cannot move a running service from namespace shop to basket: that deletes its Helm releases and their pods in shop " +
                        "and creates them anew in basket, with nothing serving in between. Keep namespace shop. To move the service, add a new service block (another name) with " +
                        "namespace basket, move its callers and traffic to it, then remove cart explicitly (delete its block and list it under stagehand:remove).",
                    fields: ["namespace: shop -> basket (reaches where everything of the service runs)"],
                },
            ]);
            assert.deepStrictEqual(await programSays(base, head), [diffs[0].line]);
        });
    });

    it("refuses an illegal move with the program's message", () => {
        const [d] = diffStack("prod", { services: { checkout: svc() } }, { services: { checkout: svc({ stage: 4 }) } });
        assert.strictEqual(d.ok, false);
        assert.strictEqual(
            d.line,
            "stack prod, service checkout, field stage: cannot move from stage 2 to 4: stage 2 (canary 10%) -> 4 (canary 100%) skips stage 3 (move one stage at a time, or set allowSkip). Allowed next: stay at 2, 3 (canary 90%), or 1 (rollback).",
        );
    });

    it("honours the stack-wide allowSkip", () => {
        const [d] = diffStack("staging", { services: { checkout: svc() } }, { allowSkip: true, services: { checkout: svc({ stage: 4 }) } });
        assert.deepStrictEqual(d, {
            service: "checkout",
            ok: true,
            line: "checkout: stage 2 -> 4 (skip, allowSkip), production 90% -> 0%, canary 10% -> 100%, canary replicas 2 -> 3",
            fields: [],
            move: { kind: "skip", from: 2, to: 4 },
        });
    });

    describe("against a git revision", () => {
        let repo: string;
        const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
        const write = (services: object) => fs.writeFileSync(path.join(repo, "Pulumi.staging.yaml"), `config:\n  stagehand:services: ${JSON.stringify(services)}\n`);
        before(() => {
            repo = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-diff-"));
            git("init", "-q");
            write({ checkout: svc() });
            git("add", ".");
            git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base");
        });
        after(() => fs.rmSync(repo, { recursive: true, force: true }));

        it("compares the working tree with HEAD and exits 1 on an illegal move", () => {
            assert.strictEqual(stackFileAt("uat", "HEAD", repo), undefined);
            write({ checkout: svc({ stage: 3 }) });
            const lines: string[] = [];
            const current = stackConfigFromText(fs.readFileSync(path.join(repo, "Pulumi.staging.yaml"), "utf8"), "x");
            assert.strictEqual(printDiff("staging", "HEAD", current, (l) => lines.push(l), repo), 0);
            assert.deepStrictEqual(lines, [
                "stack staging: changes against HEAD",
                "checkout: stage 2 -> 3, production 90% -> 10%, canary 10% -> 90%, canary replicas 2 -> 3",
                "platform: unchanged (cluster, Istio, observability, allowSkip, autoRollback, settleSeconds, production, owners and aws:region as at HEAD; monthly cost $130.28); the services are listed above, on their own",
            ]);
            write({ checkout: svc({ stage: 5 }) });
            const refused: string[] = [];
            const skipped = stackConfigFromText(fs.readFileSync(path.join(repo, "Pulumi.staging.yaml"), "utf8"), "x");
            assert.strictEqual(printDiff("staging", "HEAD", skipped, (l) => refused.push(l), repo), 1);
            assert.match(refused[1], /^REFUSED stack staging, service checkout, field stage: cannot move from stage 2 to 5/);
        });

        it("an unknown base revision: it is the base (--diff <ref>) git cannot find, not the working tree, and how to list refs", async () => {
            const words = (ref: string, given = "--diff <ref>") =>
                `git cannot find the base revision ${JSON.stringify(ref)} (given as ${given}) in this repository; the working tree is not the problem. Give a branch, tag or commit that exists: list them with \`git branch -a\`, \`git tag\` or \`git log --oneline\` (after \`git fetch\` for a remote branch such as origin/main)`;
            assert.strictEqual(unknownRevisionMessage("nosuchref"), words("nosuchref"));
            assert.throws(() => stackFileAt("staging", "no-such-ref", repo), (e: any) => e.message === words("no-such-ref"));
            assert.throws(() => stackFileAt("staging", "HEAD~5", repo, "the base revision argument"), (e: any) => e.message === words("HEAD~5", "the base revision argument"));
            const r = await captured(() => plan(["staging", "--diff", "nosuchref"], repo, {}));
            assert.strictEqual(r.code, 1);
            assert.strictEqual(r.stdout, "");
            assert.strictEqual(r.stderr, `plan: ${words("nosuchref")}\n`);
        });
    });

    describe("the platform section", () => {
        let repo: string;
        const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
        const prodFile = fs.readFileSync(path.join(__dirname, "../../Pulumi.prod.yaml"), "utf8");
        const write = (text: string) => fs.writeFileSync(path.join(repo, "Pulumi.prod.yaml"), text);
        const diff = (text: string) => {
            write(text);
            const lines: string[] = [];
            const code = printDiff("prod", "HEAD", stackConfigFromText(text, "x"), (l) => lines.push(l), repo);
            return { code, lines };
        };
        before(() => {
            repo = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-platform-diff-"));
            git("init", "-q");
            write(prodFile);
            git("add", ".");
            git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base");
        });
        after(() => fs.rmSync(repo, { recursive: true, force: true }));

        it("says the platform is unchanged in words apart from the services", () => {
            assert.deepStrictEqual(diff(prodFile), {
                code: 0,
                lines: [
                    "stack prod: changes against HEAD",
                    "no service changes",
                    "platform: unchanged (cluster, Istio, observability, allowSkip, autoRollback, settleSeconds, production, owners and aws:region as at HEAD; monthly cost $698.16); the services are listed above, on their own",
                ],
            });
        });

        it("lists ten times the nodes field by field with the cost before and after, and passes", () => {
            const { code, lines } = diff(prodFile.replace("maxSize: 12", "maxSize: 100").replace("desiredSize: 6", "desiredSize: 60"));
            assert.strictEqual(code, 0);
            assert.deepStrictEqual(lines.slice(1), [
                "no service changes",
                "platform: 2 fields changed against HEAD",
                "  cluster.nodePools[general].desiredSize: 6 -> 60",
                "  cluster.nodePools[general].maxSize: 12 -> 100",
                "  monthly cost $698.16 -> $4698.48 (+$4000.32); ceiling with every pool at maxSize $1142.64 -> $7661.68 (estimate: components/cost/cost.ts)",
            ]);
        });

        it("names a change of tracing field by field, with Jaeger's volume in the cost", () => {
            const { code, lines } = diff(prodFile.replace("samplingPercent: 1, storageGi: 20", "samplingPercent: 2.5, storageGi: 40"));
            assert.strictEqual(code, 0);
            assert.deepStrictEqual(lines.slice(1), [
                "no service changes",
                "platform: 2 fields changed against HEAD",
                "  observability.tracing.samplingPercent: 1 -> 2.5",
                "  observability.tracing.storageGi: 20 -> 40",
                "  monthly cost $698.16 -> $699.76 (+$1.60); ceiling with every pool at maxSize $1142.64 -> $1144.24 (estimate: components/cost/cost.ts)",
            ]);
        });

        it("refuses an Istio downgrade and a move to another region with exit 1, and lets the acknowledged one through", () => {
            const risky = prodFile.replace('version: "1.30.3"', 'version: "1.29.6"').replace("aws:region: us-east-1", "aws:region: eu-west-1");
            const refused = diff(risky);
            assert.strictEqual(refused.code, 1);
            assert.deepStrictEqual(refused.lines.slice(2, 5), ["platform: 2 fields changed against HEAD", "  cluster.istio.version: 1.30.3 -> 1.29.6", "  aws:region: us-east-1 -> eu-west-1"]);
            assert.deepStrictEqual(
                refused.lines.filter((l) => l.startsWith("REFUSED")).map((l) => /^REFUSED stack prod, field (\S+):/.exec(l)?.[1]),
                ["aws:region", "cluster.istio.version"],
            );
            assert.match(refused.lines.at(-2)!, /^REFUSED stack prod, field aws:region: "us-east-1" -> "eu-west-1" is a move to another AWS region: every AWS resource of the stack is created anew in the new region/);
            assert.match(refused.lines.at(-1)!, /To do it on purpose, add to Pulumi\.prod\.yaml: stagehand:acknowledge: \{ cluster\.istio\.version: "1\.29\.6" \}$/);
            const acknowledged = diff(risky.replace("  stagehand:services:", '  stagehand:acknowledge: { cluster.istio.version: "1.29.6", aws:region: eu-west-1 }\n  stagehand:services:'));
            assert.strictEqual(acknowledged.code, 0, acknowledged.lines.join("\n"));
            assert.ok(acknowledged.lines.includes('  cluster.istio.version "1.30.3" -> "1.29.6": an Istio downgrade, acknowledged in stagehand:acknowledge'), acknowledged.lines.join("\n"));
        });

        it("refuses a platform change even when the service moves are legal", () => {
            const { code, lines } = diff(prodFile.replace("    kind: eks", "    kind: eks\n    name: prod-blue").replace("stage: 6", "stage: 1\n      allowSkip: true"));
            assert.strictEqual(code, 1);
            assert.match(lines[1], /^payments: stage 6 -> 1/);
            assert.match(lines.at(-1)!, /^REFUSED stack prod, field cluster\.name: "stagehand-prod" -> "prod-blue" is a new EKS cluster name/);
        });
    });
});

describe("the diff names every change, field by field (components/service/field-changes.ts)", () => {
    const block = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/catalog", stable: "2.3.1", stage: 1, replicas: 2, ...over });
    const one = (before: Record<string, unknown>, after: Record<string, unknown>, stack: Record<string, unknown> = {}) => {
        const diffs = diffStack("staging", { services: { catalog: before } }, { ...stack, services: { catalog: after } });
        assert.strictEqual(diffs.length, 1, JSON.stringify(diffs));
        return diffs[0];
    };

    it("the issue's two silent changes: an image swapped at stage 1 and env changed mid-release are named and refused", () => {
        const swapped = one(block(), block({ image: "docker.io/someone/catalog" }));
        assert.strictEqual(swapped.ok, false);
        assert.match(swapped.line, /^stack staging, service catalog, field image: cannot apply this change at stage 1: image changed at stage 1: that updates production's pods directly, without a canary/);
        assert.deepStrictEqual(swapped.fields, ["image: ghcr.io/acme/catalog -> docker.io/someone/catalog (reaches production pods, the canary's Deployment (0 pods))"]);

        const mid = block({ canary: "0.10.0", stage: 3, env: { LOG_LEVEL: "debug" }, steps: [10, 25, 50, 75, 100] });
        const env = one(mid, { ...mid, env: { LOG_LEVEL: "trace" } });
        assert.strictEqual(env.ok, false);
        assert.match(env.line, /field env: cannot apply this change at stage 3: production's revision cannot change in the middle of a release, and env changed in the block/);
        assert.deepStrictEqual(env.fields, ["env.LOG_LEVEL: debug -> trace (reaches production pods, canary pods)"]);
    });

    it("routing, waits, verdict and move rules: allowed, each named with what it reaches; never 'no change'", () => {
        const base = block({ canary: "2.4.0", stage: 2 });
        const d = one(base, {
            ...base,
            mesh: { timeout: "30s" },
            sticky: { cookie: "catalog-track" },
            testRoutes: [{ header: "x-canary", exact: "1" }],
            drainSeconds: 60,
            verdict: { maxErrorRate: 0.05 },
            allowSkip: false,
        });
        assert.strictEqual(d.ok, true);
        assert.strictEqual(d.line, "catalog: stage 2 (unchanged), test routes to canary off -> on");
        assert.deepStrictEqual(d.fields, [
            "allowSkip: (not set) -> false (reaches which moves are allowed)",
            "drainSeconds: 30 -> 60 (reaches waits between moves)",
            "mesh.timeout: 15s -> 30s (reaches routing (timeouts, retries, outlier detection))",
            "sticky.cookie: (not set) -> catalog-track (reaches routing (sticky sessions))",
            "sticky.maxAgeSeconds: (not set) -> 604800 (reaches routing (sticky sessions))",
            "testRoutes[0].exact: (not set) -> 1 (reaches routing (test users))",
            "testRoutes[0].header: (not set) -> x-canary (reaches routing (test users))",
            "verdict.maxErrorRate: (not set) -> 0.05 (reaches the metrics verdict's thresholds)",
            "verdict.maxP95LatencyMs: (not set) -> 500 (reaches the metrics verdict's thresholds)",
            "verdict.minRequests: (not set) -> 100 (reaches the metrics verdict's thresholds)",
            "verdict.window: (not set) -> 10m (reaches the metrics verdict's thresholds)",
        ]);
        const waits = one(base, { ...base, settleSeconds: 20 });
        assert.strictEqual(waits.line, "catalog: stage 2 (unchanged), traffic, tags and replicas unchanged; 1 field changed");
        assert.deepStrictEqual(waits.fields, ["settleSeconds: 5 -> 20 (reaches waits between moves)"]);
        const shadow = one(block({ canary: "2.4.0", shadow: { percent: 10 } }), block({ canary: "2.4.0", shadow: { percent: 20 } }));
        assert.deepStrictEqual(shadow.fields, ["shadow.percent: 10 -> 20 (reaches routing (mirrored requests))"]);
    });

    it("production's sizing (lean releases) is named with the pods it reaches, from the block or the stack's stagehand:production", () => {
        const base = block({ canary: "2.4.0", stage: 4, replicas: 4 });
        const lean = one(base, { ...base, production: "follows-traffic", productionHeadroomPercent: 50 });
        assert.strictEqual(lean.ok, true);
        assert.strictEqual(lean.line, "catalog: stage 4 (unchanged), production replicas 4 -> 2");
        assert.deepStrictEqual(lean.fields, [
            "production: full -> follows-traffic (reaches production pods (its size at each stage of a release))",
            "productionHeadroomPercent: 20 -> 50 (reaches production pods (its size at each stage of a release))",
        ]);
        // The stack-wide default reaches every service that does not name its own: each says so.
        const stackWide = one(base, base, { production: "follows-traffic" });
        assert.strictEqual(stackWide.line, "catalog: stage 4 (unchanged), production replicas 4 -> 1");
        assert.deepStrictEqual(stackWide.fields, ["production: full -> follows-traffic (reaches production pods (its size at each stage of a release))"]);
        // The base revision's services are read with its own stack-wide defaults: a default both sides share is no change.
        const both = diffStack("staging", { production: "follows-traffic", settleSeconds: 8, services: { catalog: base } }, { production: "follows-traffic", settleSeconds: 8, services: { catalog: { ...base, stage: 1 } } });
        assert.deepStrictEqual(both.map((d) => [d.line, d.fields]), [["catalog: stage 4 -> 1 (rollback), production 0% -> 100%, canary 100% -> 0%, production replicas 1 -> 4, canary replicas 4 -> 0", []]]);
    });

    it("a strategy change at stage 1 is named: strategy and steps", () => {
        const d = one(block(), block({ steps: [10, 25, 50, 75, 100] }));
        assert.strictEqual(d.ok, true);
        assert.deepStrictEqual(d.fields, [
            "steps[1]: 90 -> 25 (reaches the stages (routing))",
            "steps[2]: 100 -> 50 (reaches the stages (routing))",
            "steps[3]: (not set) -> 75 (reaches the stages (routing))",
            "steps[4]: (not set) -> 100 (reaches the stages (routing))",
            "strategy: canary -> custom (reaches the stages (routing))",
        ]);
    });

    it("5 -> 6 reads as production taking 100% again", () => {
        const d = one(block({ canary: "2.4.0", stage: 5 }), block({ canary: "2.4.0", stage: 6 }));
        assert.strictEqual(d.line, "catalog: stage 5 -> 6, production 0% -> 100%, canary 100% -> 0%");
    });

    it("starting a release with a canary revision names its overrides and the canary's new revision", () => {
        const d = one(block(), block({ canary: { tag: "2.4.0", env: { CACHE: "on" } }, stage: 2 }));
        assert.strictEqual(d.ok, true);
        assert.strictEqual(d.line, "catalog: stage 1 -> 2, production 100% -> 90%, canary 0% -> 10%, canary tag 2.3.1 -> 2.4.0+env, canary replicas 0 -> 2");
        assert.deepStrictEqual(d.fields, ["canary.env.CACHE: (not set) -> on (reaches canary pods)", "canary.tag: (not set) -> 2.4.0 (reaches canary pods)"]);
    });
});

describe("a base revision a later rule refuses", () => {
    it("is named as the base, not as the change", () => {
        const old = { image: "ghcr.io/acme/catalog", stable: "2.3.1", stage: 1, replicas: 2, resources: { requests: { cpu: "100m", memory: 128 }, limits: { cpu: "500m", memory: "256Mi" } } };
        const now = { ...old, resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } } };
        assert.throws(
            () => diffStack("staging", { services: { catalog: old } }, { services: { catalog: now } }),
            (e: any) => e.problems.length === 1 && /^stack staging, service catalog, field resources\.requests\.memory: .* \(in the base revision this diff compares with, not in the change: compare with a later revision, or fix the base first\)$/.test(e.problems[0]),
        );
    });
});
