import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diffStack, printDiff, stackFileAt } from "../../scripts/diff";
import { stackConfigFromText } from "../../scripts/stack-file";

const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3, ...over });

describe("npm run plan -- <stack> --diff (scripts/diff.ts)", () => {
    it("says each changed service's move in words", () => {
        const diffs = diffStack(
            "staging",
            { services: { checkout: svc(), cart: svc({ stage: 3 }), same: svc(), gone: svc() } },
            { services: { checkout: svc({ stage: 3 }), cart: svc({ stage: 1 }), same: svc(), added: svc({ stage: 1 }) } },
        );
        assert.deepStrictEqual(
            diffs.map((d) => d.line),
            [
                "added: new service, stage 1/6 idle: 100% -> 01 (production x3), 0% -> 02 (canary x0); strategy canary",
                "cart: stage 3 -> 1 (rollback), canary 90% -> 0%, canary replicas 3 -> 0",
                "checkout: stage 2 -> 3, canary 10% -> 90%, canary replicas 2 -> 3",
                "gone: removed (its Helm releases are deleted; the namespace too if it owns it)",
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
            line: "checkout: stage 2 -> 4 (skip, allowSkip), canary 10% -> 100%, canary replicas 2 -> 3",
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
                "checkout: stage 2 -> 3, canary 10% -> 90%, canary replicas 2 -> 3",
                "platform: unchanged (cluster, Istio, observability, allowSkip, settleSeconds and aws:region as at HEAD; monthly cost $130.28); the services are listed above, on their own",
            ]);
            write({ checkout: svc({ stage: 5 }) });
            const refused: string[] = [];
            const skipped = stackConfigFromText(fs.readFileSync(path.join(repo, "Pulumi.staging.yaml"), "utf8"), "x");
            assert.strictEqual(printDiff("staging", "HEAD", skipped, (l) => refused.push(l), repo), 1);
            assert.match(refused[1], /^REFUSED stack staging, service checkout, field stage: cannot move from stage 2 to 5/);
        });

        it("fails clearly on an unknown revision", () => {
            assert.throws(() => stackFileAt("staging", "no-such-ref", repo), /git show no-such-ref:Pulumi.staging.yaml failed/);
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
                    "platform: unchanged (cluster, Istio, observability, allowSkip, settleSeconds and aws:region as at HEAD; monthly cost $693.39); the services are listed above, on their own",
                ],
            });
        });

        it("lists ten times the nodes field by field with the cost before and after, and passes", () => {
            const { code, lines } = diff(prodFile.replace("maxSize: 12", "maxSize: 100").replace("desiredSize: 6", "desiredSize: 60"));
            assert.strictEqual(code, 0);
            assert.deepStrictEqual(lines.slice(1), [
                "no service changes",
                "platform: 2 fields changed against HEAD",
                "  cluster.nodePools[general].desiredSize 6 -> 60",
                "  cluster.nodePools[general].maxSize 12 -> 100",
                "  monthly cost $693.39 -> $4693.71 (+$4000.32); ceiling with every pool at maxSize $1137.87 -> $7656.91 (estimate: components/cost/cost.ts)",
            ]);
        });

        it("refuses an Istio downgrade and a move to another region with exit 1, and lets the acknowledged one through", () => {
            const risky = prodFile.replace('version: "1.30.3"', 'version: "1.29.6"').replace("aws:region: us-east-1", "aws:region: eu-west-1");
            const refused = diff(risky);
            assert.strictEqual(refused.code, 1);
            assert.deepStrictEqual(refused.lines.slice(2, 5), ["platform: 2 fields changed against HEAD", "  cluster.istio.version 1.30.3 -> 1.29.6", "  aws:region us-east-1 -> eu-west-1"]);
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
