// index.ts exports the commit a deploy applies (`deployedCommit`, from STAGEHAND_COMMIT, which deploy.yml's up job
// sets to $GITHUB_SHA): the next deploy judges each stack's changes against it (scripts/changed-stacks.ts).
import * as assert from "assert";
import { deployedCommit } from "../components/shared/deployed-commit";
import { readStackConfig } from "../scripts/stack-file";
import { runProgram } from "./helpers/mocks";

describe("the deployedCommit output (index.ts)", () => {
    const SHA = "0123456789abcdef0123456789abcdef01234567";

    it("a full commit id only: unset, empty, short or anything else records nothing", () => {
        assert.strictEqual(deployedCommit(SHA), SHA);
        assert.strictEqual(deployedCommit(` ${SHA.toUpperCase()}\n`), SHA);
        for (const v of [undefined, "", "0123456", `${SHA}0`, "main", "$(id)"]) assert.strictEqual(deployedCommit(v), undefined, String(v));
    });

    it("exported when the deploy job sets STAGEHAND_COMMIT, absent offline", async () => {
        const config = readStackConfig("staging");
        const deployed = await runProgram("staging", config, {}, { commit: SHA });
        assert.strictEqual(deployed.outputs.deployedCommit, SHA);
        const saved = process.env.STAGEHAND_COMMIT;
        process.env.STAGEHAND_COMMIT = SHA;
        try {
            // The offline commands (plan --policies) never see a deploy's commit, even in the deploy job's environment.
            const offline = await runProgram("staging", config);
            assert.strictEqual(offline.outputs.deployedCommit, undefined);
        } finally {
            if (saved === undefined) delete process.env.STAGEHAND_COMMIT;
            else process.env.STAGEHAND_COMMIT = saved;
        }
        const bogus = await runProgram("staging", config, {}, { commit: "not a commit" });
        assert.strictEqual(bogus.outputs.deployedCommit, undefined);
    });
});
