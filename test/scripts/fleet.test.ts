// A fleet of four stacks in three waves (stagehand.fleet.yaml in a git repository of its own): a release moves
// through every stack with `npm run promote`, refused while the wave before has not finished it or not baked it
// (its finish time from git history), and `plan --diff` refuses a forward move while the change window is closed.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as changeWindow } from "../../scripts/change-window";
import { printDiff } from "../../scripts/diff";
import { main as promote } from "../../scripts/promote";
import { readStackFile } from "../../scripts/stack-file";
import { main as status } from "../../scripts/status";

const stackFile = (stable: string) => `config:\n  stagehand:services:\n    checkout:\n      image: ghcr.io/acme/checkout\n      stable: "${stable}"\n      stage: 1\n      replicas: 2\n`;

const FLEET = `waves:
  - name: staging
    stacks: [staging]
  - name: prod-us
    stacks: [prod]
    bake: 24h
  - name: prod-rest
    stacks: [prod-eu-west-1, prod-ap-southeast-2]
    calendar:
      timeZone: Europe/Dublin
      allowed: [{ days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00" }]
`;

describe("a fleet of four stacks in waves (stagehand.fleet.yaml)", () => {
    let root: string;
    const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    const commitAt = (message: string, iso: string) => {
        git("add", ".");
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message], { cwd: root, env: { ...process.env, GIT_COMMITTER_DATE: iso, GIT_AUTHOR_DATE: iso } });
    };
    const edit = (stack: string, from: RegExp, to: string) => {
        const file = path.join(root, `Pulumi.${stack}.yaml`);
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(from, to));
    };
    const finish = (stack: string, tag: string) => {
        const file = path.join(root, `Pulumi.${stack}.yaml`);
        fs.writeFileSync(file, stackFile(tag).replace("stage: 1", `canary: "${tag}"\n      stage: 1`));
    };
    const run = (argv: string[], now: string) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = promote(argv, { root, env: { STAGEHAND_NOW: now }, out: (s) => out.push(s), err: (s) => err.push(s) });
        return { code, out, err };
    };

    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-fleet-"));
        for (const s of ["staging", "prod", "prod-eu-west-1", "prod-ap-southeast-2"]) fs.writeFileSync(path.join(root, `Pulumi.${s}.yaml`), stackFile("1.0.0"));
        fs.writeFileSync(path.join(root, "stagehand.fleet.yaml"), FLEET);
        git("init", "-q");
        commitAt("base", "2026-12-01T10:00:00Z");
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("moves a release through every stack: finish in staging, promote to prod, bake 24h, then to the whole prod-rest wave", () => {
        // staging finished 1.1.0.
        finish("staging", "1.1.0");
        commitAt("staging finishes 1.1.0", "2026-12-01T11:00:00Z");
        // prod-rest cannot start before prod has it.
        const early = run(["checkout", "--to", "prod-rest"], "2026-12-01T12:00:00Z");
        assert.strictEqual(early.code, 1);
        assert.match(early.err.join("\n"), /checkout has not finished|runs 1\.0\.0 as stable|already runs 1\.0\.0/);
        // staging -> prod: no bake after staging.
        const toProd = run(["checkout", "--to", "prod"], "2026-12-01T12:00:00Z");
        assert.strictEqual(toProd.code, 0, toProd.err.join("\n"));
        assert.match(readStackFile("prod", root).config.services ? JSON.stringify(readStackFile("prod", root).config.services) : "", /"canary":"1.1.0","stage":2/);
        // prod finishes it (merged 2026-12-02T10:00Z).
        finish("prod", "1.1.0");
        commitAt("prod finishes 1.1.0", "2026-12-02T10:00:00Z");
        // Exactly at the bake's edge: one second before refused, naming the wave, the stack and when it ends.
        const baking = run(["checkout", "--to", "prod-rest"], "2026-12-03T09:59:59Z");
        assert.strictEqual(baking.code, 1);
        assert.match(
            baking.err[0],
            /^promote: refused \(wave prod-rest: nothing written to any of prod-eu-west-1, prod-ap-southeast-2\): stack prod-eu-west-1, service checkout: cannot start releasing 1\.1\.0 in wave prod-rest: wave prod-us bakes 24h after its last stack finishes it; prod finished 1\.1\.0 at 2026-12-02T10:00:00Z \(commit \w{7}, its merge time standing for the deploy\), so the bake ends at 2026-12-03T10:00:00Z: start it then/,
        );
        assert.match(fs.readFileSync(path.join(root, "Pulumi.prod-eu-west-1.yaml"), "utf8"), /stage: 1/);
        // status says it is baking.
        const lines: string[] = [];
        status([], { root, env: { STAGEHAND_NOW: "2026-12-03T09:59:59Z" }, out: (s) => lines.push(s), err: () => undefined });
        assert.ok(lines.some((l) => /prod-us\s+prod\s+1\/6 idle .*on 1\.1\.0, baking until 2026-12-03T10:00:00Z/.test(l)), lines.join("\n"));
        assert.ok(lines.some((l) => /^wave prod-rest: prod-eu-west-1, prod-ap-southeast-2$/.test(l)), lines.join("\n"));
        // A hand-edited start in plan --diff is refused the same way, judged against HEAD's stack files and history.
        const hand = path.join(root, "Pulumi.prod-ap-southeast-2.yaml");
        fs.writeFileSync(hand, stackFile("1.0.0").replace("stage: 1", 'canary: "1.1.0"\n      stage: 2'));
        const diff: string[] = [];
        const monday = { now: new Date("2026-12-03T09:59:59Z") };
        assert.strictEqual(printDiff("prod-ap-southeast-2", "HEAD", readStackFile("prod-ap-southeast-2", root).config, (l) => diff.push(l), root, {}, monday), 1);
        assert.ok(diff.some((l) => /^REFUSED stack prod-ap-southeast-2, service checkout: cannot start releasing 1\.1\.0 in wave prod-rest: wave prod-us bakes 24h .* the bake ends at 2026-12-03T10:00:00Z/.test(l)), diff.join("\n"));
        assert.strictEqual(printDiff("prod-ap-southeast-2", "HEAD", readStackFile("prod-ap-southeast-2", root).config, () => undefined, root, {}, { now: new Date("2026-12-03T10:00:00Z") }), 0);
        fs.writeFileSync(hand, stackFile("1.0.0"));
        // At the edge: the bake is over, the whole wave starts.
        const rest = run(["checkout", "--to", "prod-rest"], "2026-12-03T10:00:00Z");
        assert.strictEqual(rest.code, 0, rest.err.join("\n"));
        for (const s of ["prod-eu-west-1", "prod-ap-southeast-2"]) assert.match(fs.readFileSync(path.join(root, `Pulumi.${s}.yaml`), "utf8"), /canary: "1\.1\.0"\n\s+stage: 2/);
    });

    it("plan --diff: the forward move refused while prod-rest's window is closed, a rollback allowed, a break-glass lets it through", () => {
        commitAt("prod-rest at stage 1 still (base for the diff)", "2026-12-03T10:00:00Z");
        git("reset", "-q", "--hard", "HEAD"); // the promoted files were committed above
        edit("prod-eu-west-1", /stage: 2/, "stage: 3");
        const log: string[] = [];
        const current = readStackFile("prod-eu-west-1", root);
        // Saturday: closed.
        const saturday = new Date("2026-12-05T12:00:00Z");
        assert.strictEqual(printDiff("prod-eu-west-1", "HEAD", current.config, (s) => log.push(s), root, {}, { now: saturday }), 1);
        assert.ok(log.some((l) => /^REFUSED stack prod-eu-west-1 \(wave prod-rest\), service checkout: forward move while the change window is closed: outside the allowed days and hours .*opens mon 2026-12-07 09:00 Europe\/Dublin/.test(l)), log.join("\n"));
        const glass: string[] = [];
        assert.strictEqual(printDiff("prod-eu-west-1", "HEAD", current.config, (s) => glass.push(s), root, {}, { now: saturday, breakGlass: true }), 0, glass.join("\n"));
        assert.ok(glass.some((l) => /allowed by break-glass/.test(l)));
        // Monday 09:00 Dublin: open.
        assert.strictEqual(printDiff("prod-eu-west-1", "HEAD", current.config, () => undefined, root, {}, { now: new Date("2026-12-07T09:00:00Z") }), 0);
        // A rollback is allowed while closed.
        edit("prod-eu-west-1", /stage: 3/, "stage: 1");
        const back: string[] = [];
        assert.strictEqual(printDiff("prod-eu-west-1", "HEAD", readStackFile("prod-eu-west-1", root).config, (s) => back.push(s), root, {}, { now: saturday }), 0, back.join("\n"));
    });

    it("npm run change-window (the deploy job's check): closed refuses a forward move, passes a rollback; open passes; no calendar passes", () => {
        const check = (argv: string[], now: string) => {
            const out: string[] = [];
            const err: string[] = [];
            const code = changeWindow([...argv, "--root", root], { STAGEHAND_NOW: now }, { out: (s) => out.push(s), err: (s) => err.push(s) });
            return { code, out: out.join("\n"), err: err.join("\n") };
        };
        edit("prod-eu-west-1", /stage: 1/, "stage: 3");
        const closed = check(["prod-eu-west-1", "--diff", "HEAD"], "2026-12-05T12:00:00Z");
        assert.strictEqual(closed.code, 1, closed.out + closed.err);
        assert.match(closed.out, /^stack prod-eu-west-1 \(wave prod-rest\): change window closed: outside the allowed days and hours/);
        assert.match(closed.err, /refused while the window is closed: checkout \(forward 2 -> 3\)/);
        assert.strictEqual(check(["prod-eu-west-1"], "2026-12-05T12:00:00Z").code, 1, "closed, and nothing says what the deploy changes");
        assert.strictEqual(check(["prod-eu-west-1", "--diff", "HEAD"], "2026-12-07T09:00:00Z").code, 0);
        edit("prod-eu-west-1", /stage: 3/, "stage: 1");
        const back = check(["prod-eu-west-1", "--diff", "HEAD"], "2026-12-05T12:00:00Z");
        assert.strictEqual(back.code, 0, back.err);
        assert.match(back.out, /nothing moves forward since HEAD .*: may deploy/);
        const prodUs = check(["prod"], "2026-12-05T12:00:00Z");
        assert.strictEqual(prodUs.code, 0);
        assert.match(prodUs.out, /^stack prod \(wave prod-us\): no change calendar/);
        git("checkout", "-q", "--", ".");
    });

    it("refuses a fleet file that leaves a stack out or names a stack with no file, naming the file", () => {
        fs.writeFileSync(path.join(root, "stagehand.fleet.yaml"), FLEET.replace("[prod-eu-west-1, prod-ap-southeast-2]", "[prod-eu-west-1, prod-sa-east-1]"));
        const r = run(["checkout", "--to", "prod"], "2026-12-07T09:00:00Z");
        assert.strictEqual(r.code, 1);
        assert.match(r.err[0], /stagehand\.fleet\.yaml: stack prod-ap-southeast-2 \(Pulumi\.prod-ap-southeast-2\.yaml\) is in no wave/);
        assert.match(r.err[0], /stagehand\.fleet\.yaml, wave prod-rest: stack prod-sa-east-1 has no stack file/);
        const err: string[] = [];
        assert.strictEqual(status([], { root, env: {}, out: () => undefined, err: (s) => err.push(s) }), 1);
        assert.match(err[0], /^status: invalid stagehand\.fleet\.yaml:\n  - stagehand\.fleet\.yaml: stack prod-ap-southeast-2/);
        fs.writeFileSync(path.join(root, "stagehand.fleet.yaml"), FLEET);
    });
});
