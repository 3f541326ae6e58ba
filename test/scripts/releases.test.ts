// `npm run status` and `npm run promote` (scripts/status.ts, scripts/promote.ts, scripts/releases.ts,
// scripts/stack-edit.ts) on stack files of their own in a temporary directory, written with comments, blank
// lines, quoting styles and flow maps, so that "changes only those lines" is checked byte for byte.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { main as promote } from "../../scripts/promote";
import { main as status } from "../../scripts/status";
import { setServiceFields } from "../../scripts/stack-edit";

const STAGING = `# Staging: each team edits only its own block (docs/releasing.md "How a team releases").
config:
  aws:region: us-east-1 # where the cluster runs
  stagehand:services:
    # The checkout team's service: 1.5.0 released here last week.
    checkout:
      image: ghcr.io/acme/checkout   # built by CI
      stable: "1.5.0"
      canary: "1.5.0" # left from the release; harmless at stage 1
      stage: 1
      replicas: 2
    payments:
      image: ghcr.io/acme/payments
      stable: "0.9.7"
      canary: "0.10.0"
      stage: 3
      replicas: 2
      steps: [10, 25, 50, 75, 100]
    search:
      image: ghcr.io/acme/search
      stable: '3.2.0'
      stage: 1
      replicas: 2
    catalog: { image: ghcr.io/acme/catalog, stable: "2.4.0", stage: 1, replicas: 2 }
    ratings:
      image: ghcr.io/acme/ratings
      stable: "2.1.0"
      stage: 1
      replicas: 2
    reviews:
      image: ghcr.io/acme/reviews
      stable: "5.2.0"
      stage: 1
      replicas: 2
    billing:
      image: ghcr.io/acme/billing
      stable: "4.0.0"
      stage: 1
      replicas: 2
`;

const UAT = `# UAT: production-like.
config:
  aws:region: us-east-1
  stagehand:services:
    checkout:
      image: ghcr.io/acme/checkout
      # production's tag in UAT
      stable: "1.4.2"

      stage: 1   # idle
      replicas: 3
      port: 8080
    payments:
      image: ghcr.io/acme/payments
      stable: "0.9.7"
      stage: 1
      replicas: 3
      steps: [10, 25, 50, 75, 100]
    search:
      image: ghcr.io/acme/search
      stable: '3.1.0'
      stage: 1
      replicas: 3
      shadow: { percent: 20 }
    catalog: { image: ghcr.io/acme/catalog, stable: "2.3.1", stage: 1, replicas: 3 }
    ratings:
      image: ghcr.io/acme/ratings
      stable: "2.0.0"
      canary: "2.0.0"  # left from the last release
      stage: 1
      replicas: 3
    reviews:
      image: ghcr.io/acme/reviews
      stable: "5.0.0"
      canary: "5.1.0"
      stage: 3
      replicas: 3
    billing:
      image: ghcr.io/acme/billing
      stable: "4.0.0"
      stage: 1
      replicas: 3
    inventory:
      image: ghcr.io/acme/inventory
      stable: "7.0.0"
      stage: 1
      replicas: 3
`;

const PROD = `# Production.
config:
  aws:region: us-east-1
  stagehand:services:
    checkout:
      image: ghcr.io/acme/checkout
      stable: "1.4.2"
      stage: 1
      replicas: 6
    catalog:
      image: ghcr.io/acme/catalog
      stable: "2.3.1"
      stage: 1
      replicas: 4
`;

/** `text` with each [from, to] replaced once, where `from` must occur exactly once. */
function edited(text: string, ...replacements: [string, string][]): string {
    for (const [from, to] of replacements) {
        assert.strictEqual(text.split(from).length, 2, `fixture: ${JSON.stringify(from)} must occur once`);
        text = text.replace(from, to);
    }
    return text;
}

/**
 * A temporary project holding the three stack files, fresh for each test of the calling `describe`, and `run` to
 * call a command's `main` in it with its output captured.
 */
function stackFiles(prefix: string, command: (argv: string[], options: { root: string; out: (s: string) => void; err: (s: string) => void }) => number) {
    let dir = "";
    const file = (stack: string) => path.join(dir, `Pulumi.${stack}.yaml`);
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
        fs.writeFileSync(file("staging"), STAGING);
        fs.writeFileSync(file("uat"), UAT);
        fs.writeFileSync(file("prod"), PROD);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const run = (...argv: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = command(argv, { root: dir, out: (s) => out.push(s), err: (s) => err.push(s) });
        return { code, out, err };
    };
    return { file, run, root: () => dir };
}

describe("releases across stacks: npm run promote (scripts/promote.ts)", () => {
    const { file, run } = stackFiles("stagehand-promote-", promote);
    const read = (stack: string) => fs.readFileSync(file(stack), "utf8");

    it("starts in uat the release staging finished: canary and stage 2, every other byte of the file kept", () => {
        const { code, out, err } = run("checkout", "--to", "uat");
        assert.deepStrictEqual(err, []);
        assert.strictEqual(code, 0);
        // canary is added on its own line after stable, quoted as stable is; the stage's comment stays.
        assert.strictEqual(read("uat"), edited(UAT, ['      stable: "1.4.2"\n', '      stable: "1.4.2"\n      canary: "1.5.0"\n'], ["      stage: 1   # idle\n", "      stage: 2   # idle\n"]));
        assert.strictEqual(read("staging"), STAGING);
        assert.strictEqual(read("prod"), PROD);
        assert.deepStrictEqual(out, [
            "promoted checkout 1.5.0 from staging to uat: Pulumi.uat.yaml",
            '  canary: "1.5.0" (added)',
            "  stage: 2 (was 1)",
            "uat: forward from stage 1 (idle) to 2 (canary 10%)",
            "stage 2/6 canary 10%: 90% -> 1.4.2 (production x3), 10% -> 1.5.0 (canary x2); strategy canary",
            "next: open a pull request with Pulumi.uat.yaml; `npm run plan -- uat --diff` shows the same move",
        ]);
    });

    it("replaces a canary left from the last release in place, keeping its comment", () => {
        assert.strictEqual(run("ratings", "--to", "uat").code, 0);
        assert.strictEqual(read("uat"), edited(UAT, ['      canary: "2.0.0"  # left from the last release\n      stage: 1\n', '      canary: "2.1.0"  # left from the last release\n      stage: 2\n']));
    });

    it("edits a flow-map block inside its braces, and keeps single quotes where stable has them", () => {
        assert.strictEqual(run("catalog", "--to", "uat").code, 0);
        assert.strictEqual(run("search", "--to", "uat").code, 0);
        assert.strictEqual(
            read("uat"),
            edited(
                UAT,
                ['catalog: { image: ghcr.io/acme/catalog, stable: "2.3.1", stage: 1, replicas: 3 }', 'catalog: { image: ghcr.io/acme/catalog, stable: "2.3.1", canary: "2.4.0", stage: 2, replicas: 3 }'],
                ["      stable: '3.1.0'\n      stage: 1\n", "      stable: '3.1.0'\n      canary: '3.2.0'\n      stage: 2\n"],
            ),
        );
    });

    it("starts at the target's first stage after idle: the shadow stage where the service has one", () => {
        const { code, out } = run("search", "--to", "uat", "--dry-run");
        assert.strictEqual(code, 0);
        assert.strictEqual(out[3], "uat: forward from stage 1 (idle) to 2 (shadow 20%)");
        assert.match(out[4], /^stage 2\/7 shadow 20%: 100% -> 3\.1\.0 \(production x3\), 0% -> 3\.2\.0 \(canary x1\), 20% mirrored -> 3\.2\.0 \(canary\)/);
    });

    it("with --dry-run says what it would change and writes nothing", () => {
        const { code, out } = run("checkout", "--to", "uat", "--dry-run");
        assert.strictEqual(code, 0);
        assert.strictEqual(out[0], "would promote checkout 1.5.0 from staging to uat: Pulumi.uat.yaml (not written: --dry-run)");
        assert.strictEqual(read("uat"), UAT);
    });

    it("goes on to prod only once uat has finished the release", () => {
        assert.strictEqual(run("checkout", "--to", "uat").code, 0);
        // uat is releasing 1.5.0, and prod's 1.4.2 is what uat finished last: refused, saying why.
        const early = run("checkout", "--to", "prod");
        assert.strictEqual(early.code, 1);
        assert.deepStrictEqual(early.err, [
            'promote: refused: checkout has not finished its release in uat: it is at stage 2/6 (canary 10%) releasing 1.5.0; finish it there: up to stage 6 (switch back), then stable: "1.5.0" and stage: 1, before promoting it to prod',
        ]);
        assert.strictEqual(read("prod"), PROD);
        // At switch back, the message names the one step left.
        fs.writeFileSync(file("uat"), read("uat").replace("      stage: 2   # idle\n", "      stage: 6\n"));
        assert.match(run("checkout", "--to", "prod").err[0], /it is at stage 6\/6 \(switch back\) releasing 1\.5\.0; finish it there: stable: "1\.5\.0" and stage: 1, before/);
        // The team finishes the release in uat: stable 1.5.0, stage 1.
        fs.writeFileSync(file("uat"), read("uat").replace('      stable: "1.4.2"\n', '      stable: "1.5.0"\n').replace("      stage: 6\n", "      stage: 1\n"));
        const { code, out } = run("checkout", "--to", "prod");
        assert.strictEqual(code, 0, out.join("\n"));
        assert.strictEqual(read("prod"), edited(PROD, ['      stable: "1.4.2"\n      stage: 1\n      replicas: 6\n', '      stable: "1.4.2"\n      canary: "1.5.0"\n      stage: 2\n      replicas: 6\n']));
        assert.strictEqual(out[0], "promoted checkout 1.5.0 from uat to prod: Pulumi.prod.yaml");
    });

    it("refuses, writing nothing, when the previous environment is mid-release, the target is, or the tag is already stable there", () => {
        const cases: [string[], string][] = [
            [
                ["payments", "--to", "uat"],
                'payments has not finished its release in staging: it is at stage 3/8 (canary 25%) releasing 0.10.0; finish it there: up to stage 8 (switch back), then stable: "0.10.0" and stage: 1, before promoting it to uat',
            ],
            [
                ["reviews", "--to", "uat"],
                'reviews is in the middle of a release in uat: it is at stage 3/6 (canary 90%) releasing 5.1.0; finish it (up to stage 6, then stable: "5.1.0" and stage: 1) or roll it back (stage: 1) first',
            ],
            [["billing", "--to", "uat"], "billing already runs 4.0.0 as stable in uat: nothing to promote (staging has finished 4.0.0 too)"],
            [["inventory", "--to", "uat"], "service inventory is not in stack staging, so no release of it has finished there"],
            // ratings is idle on 2.0.0 in uat, and prod has no block for it.
            [["ratings", "--to", "prod"], "service ratings is not in stack prod: add its block to Pulumi.prod.yaml (image, stable, stage: 1, replicas …) first"],
            [
                ["checkout", "--to", "staging"],
                "staging is in the first wave (staging -> uat -> prod): releases start in Pulumi.staging.yaml by editing the file (canary and stage: 2), and are promoted from there",
            ],
        ];
        for (const [argv, reason] of cases) {
            const { code, out, err } = run(...argv);
            assert.deepStrictEqual([code, out, err], [1, [], [`promote: refused: ${reason}`]], argv.join(" "));
        }
        fs.writeFileSync(file("dev"), PROD);
        assert.deepStrictEqual(run("checkout", "--to", "dev").err, [
            "promote: refused: dev is in no wave of the fleet (staging -> uat -> prod): releases start in Pulumi.staging.yaml by editing the file (canary and stage: 2), and are promoted from there",
        ]);
        assert.match(run("checkout", "--to", "qa").err[0], /^promote: refused: no stack "qa": Pulumi\.qa\.yaml does not exist \(stacks here: staging, uat, prod, dev\)$/);
        assert.deepStrictEqual([read("staging"), read("uat"), read("prod")], [STAGING, UAT, PROD]);
    });

    it("refuses when a stack file is one the program would refuse, with every problem", () => {
        fs.writeFileSync(file("uat"), UAT.replace("      port: 8080\n", "      port: 80800\n      replica: 2\n"));
        const { code, err } = run("checkout", "--to", "uat");
        assert.strictEqual(code, 1);
        assert.match(err[0], /^promote: refused: invalid stagehand config for stack uat:\n/);
        assert.match(err[0], /service checkout, field port: .*found 80800/);
        assert.match(err[0], /service checkout, field replica: unknown field/);
        assert.ok(read("uat").includes("port: 80800"), "the file is left as it was");
    });

    it("refuses bad usage with its usage (exit 2)", () => {
        for (const argv of [["checkout"], ["checkout", "--to"], ["--to", "uat"], ["checkout", "payments", "--to", "uat"], ["checkout", "--to", "uat", "--force"]]) {
            const { code, err } = run(...argv);
            assert.strictEqual(code, 2, argv.join(" "));
            assert.match(err[0], /^promote: .*\nusage: npm run promote -- <service> --to <stack\|wave> \[--dry-run\]/s, argv.join(" "));
        }
        assert.match(run("checkout", "--to", "uat", "--force").err[0], /Unknown option '--force'/);
        assert.match(run("checkout").err[0], /^promote: expected --to <stack|wave>/);
        const help = run("--help");
        assert.strictEqual(help.code, 0);
        assert.match(help.out[0], /^usage: npm run promote/);
    });
});

describe("setServiceFields (scripts/stack-edit.ts)", () => {
    it("quotes a tag that would read back as a number, even where stable is plain", () => {
        const text = "config:\n  stagehand:services:\n    api:\n      image: ghcr.io/acme/api\n      stable: v1\n      stage: 1\n      replicas: 2\n";
        const out = setServiceFields(text, "api", [{ key: "canary", value: "1.10" }, { key: "stage", value: 2 }], "test.yaml");
        assert.strictEqual(out, text.replace("      stable: v1\n      stage: 1\n", '      stable: v1\n      canary: "1.10"\n      stage: 2\n'));
        assert.strictEqual(parse(out).config["stagehand:services"].api.canary, "1.10");
        assert.strictEqual(setServiceFields(text, "api", [{ key: "canary", value: "v2" }], "test.yaml"), text.replace("      stable: v1\n", "      stable: v1\n      canary: v2\n"));
    });

    it("appends after a last line without a newline, and refuses a service that is not there", () => {
        const text = '# api\nconfig:\n  stagehand:services:\n    api:\n      image: ghcr.io/acme/api\n      stage: 1\n      stable: "1.0.0"';
        assert.strictEqual(setServiceFields(text, "api", [{ key: "canary", value: "1.1.0" }], "t.yaml"), `${text}\n      canary: "1.1.0"\n`);
        assert.throws(() => setServiceFields(text, "web", [{ key: "stage", value: 2 }], "t.yaml"), /^Error: t\.yaml has no block for service web under stagehand:services$/);
    });
});

describe("releases across stacks: npm run status (scripts/status.ts)", () => {
    const { file, run, root } = stackFiles("stagehand-status-", status);

    it("prints every service in every stack: stage, tags, traffic, and where its release stands", () => {
        const { code, out, err } = run();
        assert.deepStrictEqual(err, []);
        assert.strictEqual(code, 0);
        assert.deepStrictEqual(out, [
            "releases go staging -> uat -> prod; stacks here: staging, uat, prod",
            "",
            "SERVICE    STACK    STAGE           REVISIONS production / canary  TRAFFIC production / canary  RELEASE",
            "billing    staging  1/6 idle        4.0.0 / -                      100 / 0                      on 4.0.0",
            "           uat      1/6 idle        4.0.0 / -                      100 / 0                      on 4.0.0",
            "           prod     -               -                              -                            not in this stack",
            "catalog    staging  1/6 idle        2.4.0 / -                      100 / 0                      finished 2.4.0, ready for uat",
            "           uat      1/6 idle        2.3.1 / -                      100 / 0                      on 2.3.1",
            "           prod     1/6 idle        2.3.1 / -                      100 / 0                      on 2.3.1",
            "checkout   staging  1/6 idle        1.5.0 / -                      100 / 0                      finished 1.5.0, ready for uat",
            "           uat      1/6 idle        1.4.2 / -                      100 / 0                      on 1.4.2",
            "           prod     1/6 idle        1.4.2 / -                      100 / 0                      on 1.4.2",
            "inventory  staging  -               -                              -                            not in this stack",
            "           uat      1/6 idle        7.0.0 / -                      100 / 0                      on 7.0.0",
            "           prod     -               -                              -                            not in this stack",
            "payments   staging  3/8 canary 25%  0.9.7 / 0.10.0                 75 / 25                      releasing 0.10.0",
            "           uat      1/8 idle        0.9.7 / -                      100 / 0                      on 0.9.7",
            "           prod     -               -                              -                            not in this stack",
            "ratings    staging  1/6 idle        2.1.0 / -                      100 / 0                      finished 2.1.0, ready for uat",
            "           uat      1/6 idle        2.0.0 / -                      100 / 0                      on 2.0.0",
            "           prod     -               -                              -                            not in this stack",
            "reviews    staging  1/6 idle        5.2.0 / -                      100 / 0                      on 5.2.0",
            "           uat      3/6 canary 90%  5.0.0 / 5.1.0                  10 / 90                      releasing 5.1.0",
            "           prod     -               -                              -                            not in this stack",
            "search     staging  1/6 idle        3.2.0 / -                      100 / 0                      finished 3.2.0, ready for uat",
            "           uat      1/7 idle        3.1.0 / -                      100 / 0                      on 3.1.0",
            "           prod     -               -                              -                            not in this stack",
        ]);
    });

    it("follows a promotion: releasing in uat, then switched back with finishing next, shadow mirroring shown", () => {
        assert.strictEqual(promote(["checkout", "--to", "uat"], { root: root(), out: () => {}, err: () => {} }), 0);
        assert.strictEqual(promote(["search", "--to", "uat"], { root: root(), out: () => {}, err: () => {} }), 0);
        const rows = run().out;
        assert.ok(rows.includes("           uat      2/6 canary 10%  1.4.2 / 1.5.0                  90 / 10                      releasing 1.5.0"), rows.join("\n"));
        assert.ok(rows.includes("checkout   staging  1/6 idle        1.5.0 / -                      100 / 0                      on 1.5.0"), rows.join("\n"));
        assert.ok(rows.includes("           uat      2/7 shadow 20%  3.1.0 / 3.2.0                  100 / 0, 20% mirrored        releasing 3.2.0"), rows.join("\n"));
        fs.writeFileSync(file("uat"), fs.readFileSync(file("uat"), "utf8").replace("      stage: 2   # idle\n", "      stage: 6\n"));
        const json = JSON.parse(run("--service", "checkout", "--json").out.join("\n"));
        assert.deepStrictEqual(Object.keys(json.services), ["checkout"]);
        const released = json.services.checkout.uat.tracks.canary.revision;
        assert.deepStrictEqual(released.label, "1.5.0", "the canary's revision, by the tag it releases");
        assert.deepStrictEqual(json.services.checkout.uat, {
            stage: 6,
            stageCount: 6,
            stageName: "switch back",
            stable: "1.4.2",
            canary: "1.5.0",
            tracks: { production: { tag: "1.5.0", revision: released, replicas: 3, weight: 100 }, canary: { tag: "1.5.0", revision: released, replicas: 3, weight: 0 } },
            mirrorPercent: 0,
            release: { state: "switched back", tag: "1.5.0" },
        });
        assert.strictEqual(json.services.checkout.staging.release.state, "idle");
        assert.strictEqual(json.services.checkout.staging.readyFor, undefined);
        assert.match(run("--service", "checkout").out.join("\n"), /uat {6}6\/6 switch back +1\.5\.0 \/ 1\.5\.0 +100 \/ 0 +releasing 1\.5\.0, finish next/);
    });

    it("after a rollback, shows a canary that still has a tag: at 0 pods, not started or rolled back", () => {
        // uat's reviews rolls back from stage 3 to stage 1 with stable unchanged: its canary keeps naming 5.1.0.
        fs.writeFileSync(file("uat"), fs.readFileSync(file("uat"), "utf8").replace(/(reviews:[\s\S]*?stage: )3/, "$11"));
        const rows = run("--service", "reviews").out;
        assert.ok(rows.includes("         uat      1/6 idle  5.0.0 / (5.1.0 x0)             100 / 0                      on 5.0.0; canary 5.1.0 at 0 pods (rolled back or not started)"), rows.join("\n"));
        // A canary left equal to stable after a finished release is no such canary (staging's checkout).
        assert.ok(run("--service", "checkout").out.some((r) => /^checkout +staging +1\/6 idle +1\.5\.0 \/ - +100 \/ 0 +finished 1\.5\.0, ready for uat$/.test(r)));
    });

    it("shows the valid stacks and every problem of an invalid one (exit 1)", () => {
        fs.writeFileSync(file("prod"), PROD.replace("      replicas: 6\n", "      replicas: 0\n"));
        const { code, out } = run("--service", "checkout");
        assert.strictEqual(code, 1);
        assert.deepStrictEqual(out.slice(2, 5), [
            "SERVICE   STACK    STAGE     REVISIONS production / canary  TRAFFIC production / canary  RELEASE",
            "checkout  staging  1/6 idle  1.5.0 / -                      100 / 0                      finished 1.5.0, ready for uat",
            "          uat      1/6 idle  1.4.2 / -                      100 / 0                      on 1.4.2",
        ]);
        assert.strictEqual(out[5], "          prod     -         -                              -                            invalid stack file");
        assert.strictEqual(out[7], "stack prod: Pulumi.prod.yaml is not valid:");
        assert.match(out[8], /^ {2}- stack prod, service checkout, field replicas: .*found 0$/);
    });

    it("refuses bad usage and an unknown service (exit 2)", () => {
        for (const argv of [["--stack", "uat"], ["uat"], ["--service"]]) {
            const { code, err } = run(...argv);
            assert.strictEqual(code, 2, argv.join(" "));
            assert.match(err[0], /^status: .*\nusage: npm run status/s, argv.join(" "));
        }
        assert.deepStrictEqual(run("--service", "nope").err, ["status: no service \"nope\" in any stack (services: billing, catalog, checkout, inventory, payments, ratings, reviews, search)"]);
        assert.strictEqual(run("--service", "nope").code, 2);
    });
});
