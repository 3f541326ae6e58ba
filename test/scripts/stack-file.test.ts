// Stack files read offline as Pulumi reads them (scripts/stack-file.ts): anchors and merge keys resolved, and
// every file Pulumi would read differently — or not at all — refused with what to write instead.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { main as plan } from "../../scripts/plan";
import { parseStackFile, StackFileError, stackConfigFromText } from "../../scripts/stack-file";
import { captured } from "../helpers/console";
import { problemsOf } from "../helpers/problems";

const EXAMPLE = "config:\n  aws:region: us-east-1\n  stagehand:services:\n    checkout: {...}";

/** The message `parseStackFile` refuses `text` with (a StackFileError). */
function refusedWith(text: string, where = "Pulumi.uat.yaml"): string {
    try {
        parseStackFile(text, where);
    } catch (e) {
        assert.ok(e instanceof StackFileError, String(e));
        return e.message;
    }
    return assert.fail("accepted without complaint");
}

describe("stack files read as Pulumi reads them (scripts/stack-file.ts)", () => {
    it("resolves anchors and merge keys, and reads aws:region", () => {
        const text = `defaults: &defaults
  image: ghcr.io/acme/checkout
  replicas: 2
  stage: 1
more: &more { steps: [10, 50, 100] }
config:
  aws:region: eu-west-1
  stagehand:services:
    checkout:
      <<: *defaults
      stable: "1.4.2"
    cart:
      <<: [*defaults, *more]
      image: ghcr.io/acme/cart
      stable: "2.0.0"
      replicas: 3
`;
        assert.deepStrictEqual(parseStackFile(text, "Pulumi.uat.yaml"), {
            config: {
                services: {
                    checkout: { image: "ghcr.io/acme/checkout", replicas: 2, stage: 1, stable: "1.4.2" },
                    cart: { image: "ghcr.io/acme/cart", replicas: 3, stage: 1, steps: [10, 50, 100], stable: "2.0.0" },
                },
            },
            region: "eu-west-1",
        });
        assert.deepStrictEqual(parseStackFile("config:\n  stagehand:allowSkip: true\n", "x"), { config: { allowSkip: true } });
        // A trailing `---` starts no document.
        assert.deepStrictEqual(stackConfigFromText("config:\n  stagehand:allowSkip: true\n---\n", "x"), { allowSkip: true });
    });

    it("a merge key pointing at a scalar or a list, or at no anchor, says where and what to write", () => {
        const fix = "a merge key takes a map anchor, e.g. `defaults: &defaults {replicas: 2}` then `<<: *defaults`, or a list of them (`<<: [*a, *b]`)";
        assert.strictEqual(
            refusedWith("replicas: &replicas 2\nconfig:\n  stagehand:services:\n    checkout:\n      <<: *replicas\n"),
            `Pulumi.uat.yaml, line 5: \`<<:\` merges the value 2 (*replicas) into a map; ${fix}; write a list or a value out under its own key instead`,
        );
        assert.strictEqual(
            refusedWith("steps: &steps [10, 100]\nconfig:\n  stagehand:services:\n    checkout:\n      <<: *steps\n"),
            `Pulumi.uat.yaml, line 5: \`<<:\` merges a list (*steps) into a map; ${fix}; write a list or a value out under its own key instead`,
        );
        assert.strictEqual(
            refusedWith("a: &a {x: 1}\nb: &b [1]\nconfig:\n  stagehand:services:\n    checkout:\n      <<: [*a, *b]\n"),
            `Pulumi.uat.yaml, line 6: \`<<:\` merges a list (*b) into a map; ${fix}; write a list or a value out under its own key instead`,
        );
        assert.strictEqual(
            refusedWith("config:\n  stagehand:services:\n    checkout:\n      <<: *defaults\n"),
            `Pulumi.uat.yaml, line 4: \`<<: *defaults\` names no anchor; define \`&defaults\` on a map above it (${fix})`,
        );
    });

    it("a file that is a scalar, a list, empty, without a config: map, or with several documents", () => {
        assert.strictEqual(refusedWith("stagehand:services\n"), `Pulumi.uat.yaml is a single value ("stagehand:services"), not a map; a stack file is a map with a config: key, e.g.\n${EXAMPLE}`);
        assert.strictEqual(refusedWith("- config: {}\n"), `Pulumi.uat.yaml is a list, not a map; a stack file is a map with a config: key, e.g.\n${EXAMPLE}`);
        assert.strictEqual(refusedWith("# nothing yet\n"), `Pulumi.uat.yaml is empty; a stack file is a map with a config: key, e.g.\n${EXAMPLE}`);
        assert.strictEqual(refusedWith("stagehand:services:\n  checkout: {}\n"), `Pulumi.uat.yaml has no config: map; Pulumi reads a stack's settings from one, e.g.\n${EXAMPLE}`);
        assert.strictEqual(refusedWith("config:\n  - stagehand:services\n"), `Pulumi.uat.yaml: config: is a list, not a map of settings; write them under it, e.g.\n${EXAMPLE}`);
        assert.strictEqual(
            refusedWith("config:\n  stagehand:allowSkip: true\n---\nconfig:\n  stagehand:settleSeconds: 5\n"),
            "Pulumi.uat.yaml holds 2 YAML documents (separated by ---); Pulumi reads a stack file as one: remove the --- lines and keep everything under one config: map",
        );
        assert.match(refusedWith("config:\n  a: [1\n"), /^Pulumi\.uat\.yaml is not valid YAML: Flow sequence in block collection must be sufficiently indented/);
    });

    it("tags YAML reads as numbers are refused with the hint to quote them", () => {
        const config = stackConfigFromText(
            `config:
  stagehand:cluster: { kind: existing }
  stagehand:services:
    checkout: { image: ghcr.io/acme/checkout, stable: 1.10, canary: 2.0, stage: 2, replicas: 2 }
`,
            "Pulumi.uat.yaml",
        );
        const quote = "expected an image tag in quotes (YAML reads an unquoted number as a number: 1.10 as 1.1, 2.0 as 2, so the tag would not be the one written); write the tag in quotes exactly as it is released";
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", config)), [
            `stack uat, service checkout, field stable: ${quote}, e.g. "1.10" or "1.1", found 1.1`,
            `stack uat, service checkout, field canary: ${quote}, e.g. "1.10" or "2", found 2`,
        ]);
    });

    describe("npm run plan on such files", () => {
        let root: string;
        const write = (stack: string, text: string) => fs.writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), text);
        before(() => {
            root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-stack-file-"));
        });
        after(() => fs.rmSync(root, { recursive: true, force: true }));

        it("plans a stack written with anchors and merge keys", async () => {
            write("uat", `defaults: &defaults { image: ghcr.io/acme/checkout, replicas: 2, stage: 1 }
config:
  aws:region: us-east-1
  stagehand:cluster: { kind: existing }
  stagehand:services:
    checkout: { <<: *defaults, stable: "1.4.2" }
`);
            const r = await captured(() => plan(["uat", "--service", "checkout"], root));
            assert.strictEqual(r.stderr, "");
            assert.strictEqual(r.code, 0);
            assert.match(r.stdout, /^stack uat: 1 service\n[\s\S]*checkout: stage 1\/6 idle: 100% -> 1\.4\.2 \(production x2\)/);
        });

        it("refuses a misused merge key, an unknown key, and zones outside the file's aws:region, exiting 1", async () => {
            write("bad", "replicas: &r 2\nconfig:\n  stagehand:services:\n    checkout:\n      <<: *r\n");
            const merge = await captured(() => plan(["bad"], root));
            assert.strictEqual(merge.code, 1);
            assert.match(merge.stderr, /^plan: Pulumi\.bad\.yaml, line 5: `<<:` merges the value 2 \(\*r\) into a map; a merge key takes a map anchor/);
            write("typo", `config:
  aws:region: us-east-1
  stagehand:cluster: { kind: eks, availabilityZones: [eu-west-1a, us-east-1b], admins: ["arn:aws:iam::123456789012:role/stagehand-deploy-typo"] }
  stagehand:service:
    checkout: { image: ghcr.io/acme/checkout, replicas: 2, stage: 1, stable: "1.4.2" }
`);
            const typo = await captured(() => plan(["typo"], root));
            assert.strictEqual(typo.code, 1);
            assert.strictEqual(typo.stdout, "");
            assert.strictEqual(
                typo.stderr,
                [
                    "invalid stagehand config for stack typo:",
                    "  - stack typo, stagehand:service: unknown config key (stagehand would ignore it); did you mean stagehand:services?",
                    "  - stack typo, stagehand:services: expected a map of service name to service config, found nothing (add it to Pulumi.typo.yaml)",
                    "  - stack typo, field cluster.availabilityZones[0]: expected a zone of the stack's region us-east-1 (aws:region), such as us-east-1a; write [us-east-1a, us-east-1b], or a count such as 2 to take the region's first zones, found \"eu-west-1a\"",
                    "",
                ].join("\n"),
            );
        });
    });
});
