// The fleet file (components/fleet/waves.ts) and the bake rule (components/fleet/bake.ts): the chain of waves, its
// errors naming the file and the field, and when a release may start in a wave.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { checkReleaseStart } from "../../components/fleet/bake";
import { byFleetOrder, calendarOf, chainWords, defaultFleet, FleetError, fleetStackProblems, findWave, parseDuration, parseFleet, previousWave, stackOrder } from "../../components/fleet/waves";
import { knownStacks } from "../../scripts/stack-file";

const FLEET = `waves:
  - { name: staging, stacks: [staging] }
  - { name: uat, stacks: [uat], bake: 2h }
  - name: prod-us
    stacks: [prod-us-east-1]
    bake: 1d12h
    calendar: { timeZone: America/New_York }
  - name: prod-rest
    stacks: [prod-eu-west-1, { name: prod-ap-southeast-2, calendar: { timeZone: Australia/Sydney } }]
    calendar: { timeZone: Europe/Dublin }
`;

function problems(text: string): string[] {
    try {
        parseFleet(text);
    } catch (e) {
        assert.ok(e instanceof FleetError, String(e));
        return e.problems;
    }
    assert.fail("expected a FleetError");
}

describe("the fleet: stagehand.fleet.yaml (components/fleet/waves.ts)", () => {
    const fleet = parseFleet(FLEET);

    it("reads the chain in order, wave by wave, each wave's stacks as listed", () => {
        assert.deepStrictEqual(stackOrder(fleet), ["staging", "uat", "prod-us-east-1", "prod-eu-west-1", "prod-ap-southeast-2"]);
        assert.strictEqual(chainWords(fleet), "staging -> uat -> prod-us[prod-us-east-1] -> prod-rest[prod-eu-west-1, prod-ap-southeast-2]");
        assert.deepStrictEqual(["zeta", "prod-ap-southeast-2", "staging", "alpha", "prod-us-east-1"].sort(byFleetOrder(fleet)), ["staging", "prod-us-east-1", "prod-ap-southeast-2", "alpha", "zeta"]);
        assert.deepStrictEqual(previousWave(fleet, "prod-ap-southeast-2")?.stacks, ["prod-us-east-1"]);
        assert.strictEqual(previousWave(fleet, "staging"), undefined);
        assert.strictEqual(findWave(fleet, "prod-rest")?.index, 3);
        assert.strictEqual(findWave(fleet, "prod-eu-west-1")?.wave.name, "prod-rest");
        assert.strictEqual(fleet.waves[2].bakeMs, 36 * 3600_000);
    });

    it("a stack's calendar is its own, else its wave's, else none", () => {
        assert.strictEqual(calendarOf(fleet, "prod-ap-southeast-2")?.timeZone, "Australia/Sydney");
        assert.strictEqual(calendarOf(fleet, "prod-eu-west-1")?.timeZone, "Europe/Dublin");
        assert.strictEqual(calendarOf(fleet, "uat"), undefined);
    });

    it("without a file: staging -> uat -> prod, a stack per wave, not held to the project's stack files", () => {
        const d = defaultFleet();
        assert.deepStrictEqual(stackOrder(d), ["staging", "uat", "prod"]);
        assert.deepStrictEqual(fleetStackProblems(d, ["staging", "eu-prod-2"]), []);
    });

    it("the shipped fleet file holds every stack file of the project, each in one wave", () => {
        const shipped = parseFleet(fs.readFileSync(path.resolve(__dirname, "../../stagehand.fleet.yaml"), "utf8"));
        assert.deepStrictEqual(fleetStackProblems(shipped, knownStacks()), []);
        assert.deepStrictEqual(stackOrder(shipped), ["staging", "uat", "prod", "prod-eu-west-1"]);
    });

    it("durations: days, hours, minutes in that order", () => {
        assert.deepStrictEqual(["24h", "90m", "1d12h", "2d", "1h30m", "", "h", "12", "1.5h", "30m2h"].map(parseDuration), [86_400_000, 5_400_000, 129_600_000, 172_800_000, 5_400_000, undefined, undefined, undefined, undefined, undefined]);
    });

    it("refuses a bad file, naming the file and each field: unknown fields, bad bakes, calendars, duplicate stacks and waves", () => {
        assert.deepStrictEqual(problems("waves: []\n"), ["stagehand.fleet.yaml, field waves: expected at least one wave, found []"]);
        const found = problems(`waves:
  - { name: staging, stacks: [staging], bak: 2h }
  - { name: uat, stacks: [uat], bake: "2 hours" }
  - { name: Prod, stacks: [prod], calendar: { timeZone: Moon/Base } }
`);
        assert.deepStrictEqual(found, [
            "stagehand.fleet.yaml, field waves[0].bak: unknown field; did you mean bake?",
            'stagehand.fleet.yaml, field waves[1].bake: expected a duration such as "24h", "90m" or "1d12h" (days d, hours h, minutes m, in that order), found "2 hours"',
            'stagehand.fleet.yaml, field waves[2].name: expected a name of lower-case letters, digits and hyphens, e.g. prod-eu, found "Prod"',
            'stagehand.fleet.yaml, field waves[2].calendar.timeZone: expected an IANA time zone this Node knows, e.g. "Europe/Berlin", "America/New_York" or "UTC", found "Moon/Base"',
        ]);
        assert.deepStrictEqual(problems("waves:\n  - { name: a, stacks: [staging, uat] }\n  - { name: a, stacks: [uat] }\n"), [
            'stagehand.fleet.yaml, field waves[1].name: expected a name no other wave has, found "a" again',
            "stagehand.fleet.yaml, field waves[1].stacks[0]: stack uat is already in wave a; a stack is in exactly one wave",
        ]);
        assert.match(problems("waves: [\n")[0], /^stagehand\.fleet\.yaml is not valid YAML/);
    });

    it("every stack file in exactly one wave, every wave's stack a file", () => {
        assert.deepStrictEqual(fleetStackProblems(fleet, ["staging", "uat", "prod-us-east-1", "prod-eu-west-1", "prod-ap-southeast-2", "dev"]), [
            "stagehand.fleet.yaml: stack dev (Pulumi.dev.yaml) is in no wave; add it to the wave it belongs to",
        ]);
        assert.deepStrictEqual(fleetStackProblems(fleet, ["staging", "uat", "prod-us-east-1", "prod-eu-west-1"]), [
            "stagehand.fleet.yaml, wave prod-rest: stack prod-ap-southeast-2 has no stack file Pulumi.prod-ap-southeast-2.yaml; remove it from the wave or add the file",
        ]);
    });
});

describe("the bake: when a release may start in a wave (components/fleet/bake.ts)", () => {
    const fleet = parseFleet(FLEET);
    const finished = (at: string) => ({ kind: "idle" as const, stable: "1.5.0", since: { at: new Date(at), commit: "0123456789abcdef0123456789abcdef01234567" } });
    const now = (iso: string) => new Date(iso);

    it("needs every stack of the wave before that runs the service to have finished the tag", () => {
        const r = checkReleaseStart(fleet, "prod-eu-west-1", "checkout", "1.5.0", { "prod-us-east-1": { kind: "releasing", words: "stage 3/6 (canary 90%) releasing 1.5.0" } }, now("2026-12-10T00:00:00Z"));
        assert.ok(!r.ok);
        assert.strictEqual(r.reason, 'stack prod-eu-west-1, service checkout: cannot start releasing 1.5.0 in wave prod-rest: wave prod-us must finish it first (stage 1 with stable: "1.5.0" in prod-us-east-1): prod-us-east-1 is at stage 3/6 (canary 90%) releasing 1.5.0');
        const other = checkReleaseStart(fleet, "prod-eu-west-1", "checkout", "1.5.0", { "prod-us-east-1": { kind: "idle", stable: "1.4.2" } }, now("2026-12-10T00:00:00Z"));
        assert.match(other.reason ?? "", /prod-us-east-1 runs 1\.4\.2 as stable, not 1\.5\.0/);
    });

    it("and the wave before's bake to have passed since the last of them finished: refused one second before, allowed at the edge", () => {
        const prev = { "prod-us-east-1": finished("2026-12-01T12:00:00Z") };
        const early = checkReleaseStart(fleet, "prod-eu-west-1", "checkout", "1.5.0", prev, now("2026-12-02T23:59:59Z"));
        assert.ok(!early.ok && early.bakeEndsAt?.toISOString() === "2026-12-03T00:00:00.000Z");
        assert.match(early.reason, /wave prod-us bakes 1d12h after its last stack finishes it; prod-us-east-1 finished 1\.5\.0 at 2026-12-01T12:00:00Z \(commit 0123456, its merge time standing for the deploy\), so the bake ends at 2026-12-03T00:00:00Z/);
        assert.ok(checkReleaseStart(fleet, "prod-eu-west-1", "checkout", "1.5.0", prev, now("2026-12-03T00:00:00Z")).ok);
    });

    it("the last finish of a multi-stack wave counts; a stack without the service is not waited for; the first wave starts freely", () => {
        const two = parseFleet("waves:\n  - { name: a, stacks: [x, y], bake: 1h }\n  - { name: b, stacks: [z] }\n");
        const prev = { x: finished("2026-12-01T10:00:00Z"), y: finished("2026-12-01T11:00:00Z") };
        assert.ok(!checkReleaseStart(two, "z", "checkout", "1.5.0", prev, now("2026-12-01T11:59:00Z")).ok);
        assert.ok(checkReleaseStart(two, "z", "checkout", "1.5.0", prev, now("2026-12-01T12:00:00Z")).ok);
        assert.ok(checkReleaseStart(two, "z", "checkout", "1.5.0", { x: finished("2026-12-01T10:00:00Z"), y: { kind: "absent" } }, now("2026-12-01T11:00:00Z")).ok);
        assert.ok(checkReleaseStart(two, "x", "checkout", "1.5.0", {}, now("2026-12-01T00:00:00Z")).ok);
        const unknown = checkReleaseStart(two, "z", "checkout", "1.5.0", { x: { kind: "idle", stable: "1.5.0" } }, now("2026-12-02T00:00:00Z"));
        assert.match(unknown.reason ?? "", /the history does not say when x finished 1\.5\.0/);
    });
});
