// The stack's config as one whole (components/config.ts): no `stagehand:*` key stagehand does not know, and what
// is checked against the rest of the stack (its `aws:region`).
import * as assert from "assert";
import { parseStackConfig, STACK_CONFIG_KEYS, unknownKeyProblems } from "../components/config";
import { parseCluster, zoneRegionProblems } from "../components/platform/config";
import { problemsOf } from "./helpers/problems";

const service = { image: "ghcr.io/acme/checkout", stable: "1.0.0", stage: 1, replicas: 2 };
const existing = { kind: "existing" };

describe("stack config keys (components/config.ts)", () => {
    it("refuses an unknown stagehand:* key, naming the nearest known one", () => {
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { services: { checkout: service }, cluster: existing, observabilty: { prometheus: { enabled: true } } })), [
            "stack uat, stagehand:observabilty: unknown config key (stagehand would ignore it); did you mean stagehand:observability?",
        ]);
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { service: { checkout: service }, cluster: existing })), [
            "stack uat, stagehand:service: unknown config key (stagehand would ignore it); did you mean stagehand:services?",
            "stack uat, stagehand:services: expected a map of service name to service config, found nothing (add it to Pulumi.uat.yaml)",
        ]);
        assert.deepStrictEqual(unknownKeyProblems("prod", { allowskip: true, settleSecond: 5, clustr: {} }), [
            "stack prod, stagehand:allowskip: unknown config key (stagehand would ignore it); did you mean stagehand:allowSkip?",
            "stack prod, stagehand:clustr: unknown config key (stagehand would ignore it); did you mean stagehand:cluster?",
            "stack prod, stagehand:settleSecond: unknown config key (stagehand would ignore it); did you mean stagehand:settleSeconds?",
        ]);
    });

    it("a key far from every known one lists the keys there are", () => {
        assert.deepStrictEqual(unknownKeyProblems("staging", { tracing: true }), [
            "stack staging, stagehand:tracing: unknown config key (stagehand would ignore it); the keys stagehand reads are stagehand:services, stagehand:cluster, stagehand:allowSkip, stagehand:settleSeconds, stagehand:production, stagehand:observability, stagehand:acknowledge, stagehand:remove, stagehand:owners, stagehand:autoRollback",
        ]);
    });

    it("knows acknowledge and remove, and validates them with the rest of the stack", () => {
        assert.deepStrictEqual([...STACK_CONFIG_KEYS], ["services", "cluster", "allowSkip", "settleSeconds", "production", "observability", "acknowledge", "remove", "owners", "autoRollback"]);
        assert.deepStrictEqual(unknownKeyProblems("uat", { services: {}, cluster: {}, allowSkip: true, settleSeconds: 5, observability: {}, acknowledge: ["x"], remove: ["y"] }), []);
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { services: { checkout: service }, cluster: existing, acknowledge: "anything", remove: 42 })), [
            "stack uat, stagehand:remove: expected a list of the service names this update removes, e.g. [cart], found 42",
            'stack uat, field stagehand:acknowledge: expected a map of changed field to the value it is acknowledged to become, such as { cluster.kind: existing }, found "anything"',
        ]);
        const parsed = parseStackConfig("uat", { services: { checkout: service }, cluster: existing, remove: ["cart"] });
        assert.deepStrictEqual(parsed.remove, ["cart"]);
    });

    it("reports unknown keys together with every other problem of the stack", () => {
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { services: { checkout: { ...service, stage: 9 } }, cluster: existing, alowSkip: true })), [
            "stack uat, stagehand:alowSkip: unknown config key (stagehand would ignore it); did you mean stagehand:allowSkip?",
            "stack uat, service checkout, field stage: expected a stage from 1 to 6 (steps [10, 90, 100] give 6 stages), found 9",
        ]);
    });
});

describe("stagehand:production and a service's production (lean releases)", () => {
    it("is full unless the stack or the service says follows-traffic; the service's own value wins", () => {
        const services = { checkout: service, catalog: { ...service, production: "full" }, payments: { ...service, production: "follows-traffic", productionHeadroomPercent: 50 } };
        const plain = parseStackConfig("uat", { services, cluster: existing });
        assert.strictEqual(plain.production, "full");
        assert.deepStrictEqual(
            Object.fromEntries(Object.entries(plain.services).map(([n, s]) => [n, [s.production, s.productionHeadroomPercent]])),
            { checkout: ["full", 20], catalog: ["full", 20], payments: ["follows-traffic", 50] },
        );
        const lean = parseStackConfig("staging", { services, cluster: existing, production: "follows-traffic" });
        assert.strictEqual(lean.production, "follows-traffic");
        assert.deepStrictEqual(
            Object.fromEntries(Object.entries(lean.services).map(([n, s]) => [n, s.production])),
            { checkout: "follows-traffic", catalog: "full", payments: "follows-traffic" },
        );
        // The plan follows the resolved mode: checkout (2 replicas) keeps a warm pool of 1 at the canary's 100% step.
        const checkout = lean.planned.find((p) => p.name === "checkout")!;
        assert.deepStrictEqual(checkout.plans.map((p) => p.production.replicas), [2, 2, 2, 1, 1, 2]);
    });

    it("refuses a mode it does not know, and a headroom production in full mode would ignore", () => {
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { services: { checkout: service }, cluster: existing, production: "lean" })), [
            'stack uat, stagehand:production: expected "full" (production keeps its full size through a release: instant rollback) or "follows-traffic" (production shrinks as the canary takes its share: lean, slower rollback), found "lean"',
        ]);
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { services: { checkout: { ...service, production: "follow-traffic" } }, cluster: existing })), [
            'stack uat, service checkout, field production: expected "full" (production keeps its full size through a release: instant rollback) or "follows-traffic" (production shrinks as the canary takes its share: lean, slower rollback), found "follow-traffic"',
        ]);
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { services: { checkout: { ...service, production: "follows-traffic", productionHeadroomPercent: 150 } }, cluster: existing })), [
            "stack uat, service checkout, field productionHeadroomPercent: expected production's headroom in percent of its full size, a whole number from 0 to 100, found 150",
        ]);
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { services: { checkout: { ...service, productionHeadroomPercent: 30 } }, cluster: existing })), [
            'stack uat, service checkout, field productionHeadroomPercent: expected no headroom while production is "full" (the default): production keeps its full size through a release, so the headroom applies only with production: follows-traffic, found 30',
        ]);
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("uat", { services: { checkout: { ...service, production: "full", productionHeadroomPercent: 30 } }, cluster: existing, production: "follows-traffic" })), [
            'stack uat, service checkout, field productionHeadroomPercent: expected no headroom while production is "full": production keeps its full size through a release, so the headroom applies only with production: follows-traffic, found 30',
        ]);
    });
});

describe("availability zones and the stack's region (aws:region)", () => {
    const eks = (availabilityZones: unknown) => ({ kind: "eks", availabilityZones, admins: ["arn:aws:iam::123456789012:role/stagehand-deploy"] });

    it("refuses zones named outside the region, saying what to write", () => {
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("prod", { services: { checkout: service }, cluster: eks(["eu-west-1a", "us-east-1b"]) }, { region: "us-east-1" })), [
            'stack prod, field cluster.availabilityZones[0]: expected a zone of the stack\'s region us-east-1 (aws:region), such as us-east-1a; write [us-east-1a, us-east-1b], or a count such as 2 to take the region\'s first zones, found "eu-west-1a"',
        ]);
        assert.deepStrictEqual(zoneRegionProblems("prod", parseCluster("prod", eks(["us-east-1a", "us-east-2b", "eu-west-1c"])), "us-east-1"), [
            'stack prod, field cluster.availabilityZones[1]: expected a zone of the stack\'s region us-east-1 (aws:region), such as us-east-1a; write [us-east-1a, us-east-1b, us-east-1c], or a count such as 3 to take the region\'s first zones, found "us-east-2b"',
            'stack prod, field cluster.availabilityZones[2]: expected a zone of the stack\'s region us-east-1 (aws:region), such as us-east-1a; write [us-east-1a, us-east-1b, us-east-1c], or a count such as 3 to take the region\'s first zones, found "eu-west-1c"',
        ]);
    });

    it("accepts zones of the region, a count, an existing cluster, and skips the check when no region is known", () => {
        assert.doesNotThrow(() => parseStackConfig("prod", { services: { checkout: service }, cluster: eks(["us-east-1a", "us-east-1c"]) }, { region: "us-east-1" }));
        assert.doesNotThrow(() => parseStackConfig("prod", { services: { checkout: service }, cluster: eks(3) }, { region: "eu-west-1" }));
        assert.doesNotThrow(() => parseStackConfig("prod", { services: { checkout: service }, cluster: existing }, { region: "eu-west-1" }));
        assert.doesNotThrow(() => parseStackConfig("prod", { services: { checkout: service }, cluster: eks(["eu-west-1a", "eu-west-1b"]) }));
    });
});

describe("owners: who approves a change (stagehand:owners, services.<svc>.owners)", () => {
    const cluster = { kind: "existing" };
    const service = { image: "ghcr.io/acme/checkout", stable: "1.0.0", stage: 1, replicas: 2 };
    it("takes GitHub users and org/teams, for the platform and per service block", () => {
        const config = parseStackConfig("prod", { cluster, owners: ["acme/platform", "alice"], services: { checkout: { ...service, owners: ["acme/checkout", "bob-1"] } } });
        assert.deepStrictEqual(config.owners, ["acme/platform", "alice"]);
        assert.deepStrictEqual(config.services.checkout.owners, ["acme/checkout", "bob-1"]);
        assert.deepStrictEqual(parseStackConfig("prod", { cluster, services: { checkout: service } }).owners, [], "no platform owners named");
    });
    it("refuses what GitHub would not know, saying what to write", () => {
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("prod", { cluster, owners: ["@alice", "Alice"], services: { checkout: { ...service, owners: [] } } })), [
            "stack prod, service checkout, field owners: expected at least one owner, e.g. [acme/payments], found []",
            "stack prod, stagehand:owners, field [0]: expected a GitHub user's login (e.g. alice) or an organization's team as org/team-slug (e.g. acme/payments), without @; write it without the @, found \"@alice\"",
        ]);
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("prod", { cluster, owners: ["alice", "ALICE"], services: { checkout: { ...service, owners: "acme/checkout" } } })), [
            'stack prod, service checkout, field owners: expected a list of GitHub users and org/team slugs, e.g. [alice, acme/payments], found "acme/checkout"',
            'stack prod, stagehand:owners: expected each owner once (GitHub names are case-insensitive), found ["alice","ALICE"]',
        ]);
    });
});

describe("a base revision, read to compare with (plan --diff)", () => {
    it("is not held to what a later stagehand asks a stack to name (admins); the revision under review is", () => {
        const raw = { cluster: { kind: "eks" }, services: { checkout: { image: "ghcr.io/acme/checkout", stable: "1.0.0", stage: 1, replicas: 2 } } };
        assert.deepStrictEqual(parseStackConfig("prod", raw, { base: true }).cluster.kind, "eks");
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("prod", raw)), [
            'stack prod, field cluster.admins: expected at least one IAM role or user ARN given cluster admin, such as the deploy role that runs `pulumi up` (the cluster\'s creator gets no admin access of its own); write admins: ["arn:aws:iam::<account>:role/stagehand-deploy-prod"], found []',
        ]);
    });
});
