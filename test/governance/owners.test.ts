// Who must approve what a stack file change does (components/governance/owners.ts), without git or GitHub.
import * as assert from "assert";
import { requirements, stackChange } from "../../components/governance/owners";
import { lastPush } from "../../components/governance/labels";

const FILE = (checkoutStage: number, defaultsReplicas = 2, comment = "") => `config:
  aws:region: us-east-1
  stagehand:owners: [acme/platform]${comment}
  stagehand:services:
    checkout:
      <<: &defaults { replicas: ${defaultsReplicas}, port: 8080 }
      image: ghcr.io/acme/checkout
      owners: [acme/checkout]
      stable: "1.0.0"
      stage: ${checkoutStage}
    catalog:
      <<: *defaults
      image: ghcr.io/acme/catalog
      stable: "2.0.0"
      stage: 1
`;

describe("who approves a stack file change (components/governance/owners.ts)", () => {
    it("a changed anchor changes every block that merges it: each needs its owners (a block with none: the platform's)", () => {
        const change = stackChange(FILE(1), FILE(1, 3));
        assert.deepStrictEqual(change, {
            services: [
                { service: "catalog", change: "changed", fields: ["replicas"] },
                { service: "checkout", change: "changed", fields: ["replicas"] },
            ],
            platform: [],
        });
        const reqs = requirements({ files: ["Pulumi.uat.yaml"], baseSha: "b".repeat(40), baseStacks: { uat: FILE(1) }, changedStacks: { uat: { before: FILE(1), after: FILE(1, 3) } } });
        assert.deepStrictEqual(
            reqs.map((r) => [r.what, r.owners]),
            [
                ["Pulumi.uat.yaml: service catalog (changed: replicas), a block that names no owners of its own", ["acme/platform"]],
                ["Pulumi.uat.yaml: service checkout (changed: replicas)", ["acme/checkout"]],
            ],
        );
    });

    it("a comment changes no value: the platform owners approve it; an identical file needs no one", () => {
        assert.deepStrictEqual(stackChange(FILE(1), FILE(1, 2, "  # hello")).platform, ["comments or formatting, no value"]);
        assert.deepStrictEqual(stackChange(FILE(1), FILE(1)), { services: [], platform: [] });
        assert.deepStrictEqual(stackChange(undefined, FILE(1)).platform, ["the stack file is new"]);
    });

    it("a new stack file and code need the platform owners of every stack at the base revision", () => {
        const other = FILE(1).replace("[acme/platform]", "[olivia]");
        const reqs = requirements({ files: ["Pulumi.dev.yaml", "charts/service/values.yaml"], baseSha: "b".repeat(40), baseStacks: { prod: FILE(1), uat: other }, changedStacks: { dev: { after: FILE(1) } } });
        assert.deepStrictEqual(
            reqs.map((r) => [r.what, r.owners]),
            [
                ["Pulumi.dev.yaml: the stack file is new", ["acme/platform"]],
                ["Pulumi.dev.yaml: the stack file is new", ["olivia"]],
                ["code and files outside the stack files: charts/service/values.yaml", ["acme/platform"]],
                ["code and files outside the stack files: charts/service/values.yaml", ["olivia"]],
            ],
        );
    });

    it("the last push: a force push's own time or a commit's committer date, whichever is later", () => {
        assert.strictEqual(lastPush([{ event: "labeled", created_at: "2025-05-01T13:00:00Z" }]), undefined);
        const push = lastPush([
            { event: "committed", sha: "a".repeat(40), committer: { date: "2025-05-01T09:00:00+02:00" } },
            { event: "head_ref_force_pushed", created_at: "2025-05-01T06:30:00Z", actor: { login: "dana" } },
        ]);
        assert.deepStrictEqual(push, { at: Date.parse("2025-05-01T07:00:00Z"), how: "commit aaaaaaa (committed at 2025-05-01T09:00:00+02:00)" });
    });
});
