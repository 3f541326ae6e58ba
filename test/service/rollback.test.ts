// The automatic rollback's pure core (components/service/rollback.ts) and its config: which canaries serve traffic,
// that the rollback is a legal move from every stage, the pull request's evidence, the checks the merge waits for,
// and `autoRollback` (service and stack) in the config, the diff and the owners' requirements.
import * as assert from "assert";
import { parseStackConfig } from "../../components/config";
import { formatJudged, requirements } from "../../components/governance/owners";
import { platformFieldChanges } from "../../components/platform/platform-diff";
import { parseServices, ServiceInput } from "../../components/service/config";
import { serviceFieldChanges } from "../../components/service/field-changes";
import {
    AUTO_MERGE_LABEL,
    checksState,
    parseRollbackBranch,
    rollbackBody,
    rollbackBranch,
    rollbackMarker,
    rollbackMove,
    rollbackTitle,
    servingCanaries,
    shouldRollBack,
    VerdictEvidence,
} from "../../components/service/rollback";
import { planServices, stagePlan, stagePlans } from "../../components/service/stages";
import { ConfigError } from "../../components/shared/errors";
import { formatPlan } from "../../scripts/plan";

const block = (over: Partial<ServiceInput> = {}): ServiceInput => ({ image: "ghcr.io/acme/checkout", stable: "1.4.2", canary: "1.5.0", stage: 1, replicas: 4, ...over });

function problems(fn: () => unknown): string[] {
    try {
        fn();
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    assert.fail("expected a ConfigError");
}

describe("automatic rollback: the pure core (components/service/rollback.ts)", () => {
    it("judges the canaries that serve traffic: weighted or mirrored, not idle nor switched back", () => {
        const services = parseServices("prod", {
            idle: block({ stage: 1 }),
            ten: block({ stage: 2 }),
            full: block({ stage: 4 }),
            promote: block({ stage: 5 }),
            back: block({ stage: 6 }),
            shadowed: block({ stage: 2, shadow: { percent: 20 } }),
            "shadow-idle": block({ stage: 1, shadow: { percent: 20 } }),
        });
        const serving = servingCanaries(planServices(services), false);
        assert.deepStrictEqual(
            serving.map((c) => [c.service, c.stage, c.canaryWeight, c.mirrorPercent]),
            [
                ["full", 4, 100, 0],
                ["promote", 5, 100, 0],
                ["shadowed", 2, 0, 20],
                ["ten", 2, 10, 0],
            ],
        );
        assert.strictEqual(serving[0].stageName, stagePlan(services.full).name);
    });

    it("takes a service's autoRollback over the stack's stagehand:autoRollback", () => {
        const services = parseServices("prod", { on: block({ stage: 2, autoRollback: true }), off: block({ stage: 2, autoRollback: false }), unset: block({ stage: 2 }) });
        const by = (stackDefault: boolean) => Object.fromEntries(servingCanaries(planServices(services), stackDefault).map((c) => [c.service, c.autoRollback]));
        assert.deepStrictEqual(by(false), { off: false, on: true, unset: false });
        assert.deepStrictEqual(by(true), { off: false, on: true, unset: true });
    });

    it("rolls back only on a failing verdict", () => {
        assert.strictEqual(shouldRollBack("failing"), true);
        for (const v of ["healthy", "not enough traffic", null] as const) assert.strictEqual(shouldRollBack(v), false, String(v));
    });

    it("finds stage: 1 a legal rollback from every stage of every step list, shadow and blue/green included", () => {
        const shapes: Partial<ServiceInput>[] = [{}, { steps: [10, 25, 50, 75, 100] }, { strategy: "bluegreen" }, { shadow: { percent: 20 } }, { canary: { tag: "1.5.0", env: { LOG: "debug" } } }];
        for (const shape of shapes) {
            const count = stagePlans(parseServices("prod", { s: block(shape) }).s).length;
            for (let stage = 2; stage <= count; stage++) {
                const service = parseServices("prod", { s: block({ ...shape, stage }) }).s;
                const move = rollbackMove(service);
                assert.ok(move.ok, `${JSON.stringify(shape)} stage ${stage}: ${JSON.stringify(move)}`);
                assert.strictEqual(move.ok && move.kind, "rollback");
                assert.match(move.ok ? move.words : "", new RegExp(`^rollback from stage ${stage} .* to stage 1: all traffic to 1\\.4\\.2`));
            }
        }
    });

    it("names one branch per stack and service, and reads it back", () => {
        assert.strictEqual(rollbackBranch("prod", "checkout"), "stagehand/rollback/prod/checkout");
        assert.deepStrictEqual(parseRollbackBranch(rollbackBranch("prod", "checkout")), { stack: "prod", service: "checkout" });
        assert.strictEqual(parseRollbackBranch("stagehand/rollback/prod"), undefined);
        assert.strictEqual(parseRollbackBranch("feature/stagehand/rollback/prod/checkout"), undefined);
    });

    it("writes the evidence into the pull request: both tracks' numbers, the thresholds, the reasons, the queries, the run", () => {
        const services = parseServices("prod", { checkout: block({ stage: 3, autoRollback: true, namespace: "shop" }) });
        const [canary] = servingCanaries(planServices(services), false);
        const evidence: VerdictEvidence = {
            stack: "prod",
            service: "checkout",
            namespace: "shop",
            window: "10m",
            prometheus: "http://127.0.0.1:9090",
            tracks: {
                production: { workload: "checkout-production", requests: 1200, errors: 1, errorRate: 1 / 1200, p95Ms: 80 },
                canary: { workload: "checkout-canary", requests: 400, errors: 40, errorRate: 0.1, p95Ms: 95.5 },
            },
            thresholds: { window: "10m", minRequests: 100, maxErrorRate: 0.01, maxP95LatencyMs: 500 },
            verdict: "failing",
            reasons: ["canary error rate 10.00% (40 of 400 requests) is above the maximum 1.00%"],
        };
        const body = rollbackBody({ stack: "prod", canary, runUrl: "https://github.com/acme/stagehand/actions/runs/42" }, evidence, rollbackMove(services.checkout));
        assert.ok(body.startsWith(rollbackMarker("prod", canary)));
        assert.strictEqual(rollbackMarker("prod", canary), "<!-- stagehand-rollback stack=prod service=checkout canary=1.5.0 stage=3 -->");
        for (const line of [
            "| requests | 1200 | 400 |",
            "| 5xx | 1 | 40 |",
            "| error rate | 0.08% | 10.00% |",
            "| p95 latency | 80 ms | 95.5 ms |",
            "Thresholds (`verdict` of the service): at least 100 canary requests, error rate at most 1.00%, p95 at most 500 ms.",
            "- canary error rate 10.00% (40 of 400 requests) is above the maximum 1.00%",
            'sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary",response_code=~"5.."}[10m]))',
            'histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-production"}[10m])))',
            "Opened by `npm run auto-rollback` in [this run](https://github.com/acme/stagehand/actions/runs/42).",
        ]) {
            assert.ok(body.split("\n").includes(line), `missing line: ${line}\n${body}`);
        }
        assert.match(body, /`stage: 3` → `stage: 1` in `Pulumi\.prod\.yaml`/);
        assert.match(body, new RegExp(`merges this pull request once its checks pass.*Remove the label \`${AUTO_MERGE_LABEL}\``));
        assert.strictEqual(rollbackTitle("prod", canary), "Roll back checkout in prod: canary 1.5.0 is failing at stage 3 (canary 90%)");
    });

    it("merges only when every check finished and passed, never with none yet", () => {
        const run = (name: string, status: string, conclusion: string | null = null) => ({ name, status, conclusion });
        assert.deepStrictEqual(checksState([]), { state: "none" });
        assert.deepStrictEqual(checksState([run("plan-gate", "completed", "success"), run("owners", "in_progress")]), { state: "pending", names: ["owners (in_progress)"] });
        assert.deepStrictEqual(checksState([run("plan-gate", "completed", "success"), run("ci/legacy", "pending")]), { state: "pending", names: ["ci/legacy (pending)"] });
        assert.deepStrictEqual(checksState([run("plan-gate", "completed", "failure"), run("owners", "queued")]), { state: "failed", names: ["plan-gate (failure)"] });
        assert.deepStrictEqual(checksState([run("ci/legacy", "error")]), { state: "failed", names: ["ci/legacy (error)"] });
        assert.deepStrictEqual(checksState([run("plan-gate", "completed", "timed_out")]), { state: "failed", names: ["plan-gate (timed_out)"] });
        assert.deepStrictEqual(checksState([run("plan-gate", "completed", "success"), run("test", "completed", "skipped"), run("ci/legacy", "success")]), {
            state: "passed",
            names: ["plan-gate", "test", "ci/legacy"],
        });
    });
});

describe("autoRollback in the config, the diff and the owners' requirements", () => {
    const raw = (extra: Record<string, unknown> = {}, service: Partial<ServiceInput> = {}) => ({ services: { checkout: block(service) }, ...extra });

    it("reads stagehand:autoRollback (default false) and a service's autoRollback", () => {
        assert.strictEqual(parseStackConfig("prod", raw()).autoRollback, false);
        assert.strictEqual(parseStackConfig("prod", raw({ autoRollback: true })).autoRollback, true);
        assert.strictEqual(parseStackConfig("prod", raw({}, { autoRollback: true })).services.checkout.autoRollback, true);
    });

    it("npm run plan says, per service, when a failing canary is rolled back without a person, and from where", () => {
        const { planned, autoRollback } = parseStackConfig("prod", raw({ autoRollback: true }, { autoRollback: undefined }));
        const line = (text: string) => text.split("\n").filter((l) => l.startsWith("  auto rollback:"));
        assert.deepStrictEqual(line(formatPlan("prod", planned, autoRollback)), [
            "  auto rollback: on (stagehand:autoRollback): when its canary fails the verdict, npm run auto-rollback merges the rollback pull request (stage: 1) once its checks pass",
        ]);
        const own = parseStackConfig("prod", raw({}, { autoRollback: true }));
        assert.match(line(formatPlan("prod", own.planned, own.autoRollback))[0], /^  auto rollback: on \(its autoRollback\)/);
        const off = parseStackConfig("prod", raw({ autoRollback: true }, { autoRollback: false }));
        assert.deepStrictEqual(line(formatPlan("prod", off.planned, off.autoRollback)), []);
    });

    it("refuses a value that is not true or false, naming the stack, the service and the field", () => {
        assert.deepStrictEqual(problems(() => parseStackConfig("prod", raw({ autoRollback: "yes" }))), ['stack prod, stagehand:autoRollback: expected true or false, found "yes"']);
        assert.deepStrictEqual(problems(() => parseServices("prod", { checkout: block({ autoRollback: 1 as any }) })), ["stack prod, service checkout, field autoRollback: expected true or false, found 1"]);
        assert.match(problems(() => parseStackConfig("prod", raw({ autoRollbak: true })))[0], /stagehand:autoRollbak: unknown config key .*did you mean stagehand:autoRollback\?/);
    });

    it("shows a changed autoRollback in the service's and the platform's diff", () => {
        const a = parseServices("prod", { checkout: block() }).checkout;
        const b = parseServices("prod", { checkout: block({ autoRollback: true }) }).checkout;
        assert.deepStrictEqual(serviceFieldChanges(a, stagePlan(a), b, stagePlan(b)), [
            "autoRollback: (not set) -> true (reaches whether a failing canary's rollback pull request merges without a person (npm run auto-rollback))",
        ]);
        const platform = (autoRollback: boolean) => {
            const c = parseStackConfig("prod", raw({ autoRollback }));
            return { cluster: c.cluster, observability: c.observability, allowSkip: c.allowSkip, autoRollback: c.autoRollback, settleSeconds: c.settleSeconds };
        };
        assert.deepStrictEqual(platformFieldChanges(platform(false), platform(true)), ["autoRollback: false -> true"]);
    });

    it("makes stagehand:autoRollback a change the platform owners approve, and a block's autoRollback one its owners approve", () => {
        const file = (extra: string, service = "") => `config:
  stagehand:owners: [acme/platform]${extra}
  stagehand:services:
    checkout:
      image: ghcr.io/acme/checkout
      stable: "1.4.2"
      stage: 1
      replicas: 2
      owners: [acme/checkout]${service}
`;
        const base = file("");
        const reqs = (after: string) => requirements({ files: ["Pulumi.prod.yaml"], baseSha: "a".repeat(40), baseStacks: { prod: base }, changedStacks: { prod: { before: base, after } } });
        assert.deepStrictEqual(
            reqs(file("\n  stagehand:autoRollback: true")).map((r) => [r.what, r.owners]),
            [["Pulumi.prod.yaml: config stagehand:autoRollback", ["acme/platform"]]],
        );
        assert.deepStrictEqual(
            reqs(file("", "\n      autoRollback: true")).map((r) => [r.what, r.owners]),
            [["Pulumi.prod.yaml: service checkout (changed: autoRollback)", ["acme/checkout"]]],
        );
    });

    it("approves in advance a rollback (stage back to 1, nothing else) of a service whose autoRollback is on at the base, and nothing more", () => {
        const file = (o: { stack?: string; service?: string; stage?: number; replicas?: number }) => `config:
  stagehand:owners: [acme/platform]${o.stack ?? ""}
  stagehand:services:
    checkout:
      image: ghcr.io/acme/checkout
      stable: "1.4.2"
      canary: "1.5.0"
      stage: ${o.stage ?? 3}
      replicas: ${o.replicas ?? 2}
      owners: [acme/checkout]${o.service ?? ""}
`;
        const judge = (baseFile: string, after: string, before = baseFile) =>
            requirements({ files: ["Pulumi.prod.yaml"], baseSha: "a".repeat(40), baseStacks: { prod: baseFile }, changedStacks: { prod: { before, after } } }).map((r) => r.preApproved);
        const own = "\n      autoRollback: true";
        const stackWide = "\n  stagehand:autoRollback: true";
        assert.deepStrictEqual(judge(file({ service: own }), file({ service: own, stage: 1 })), ["a rollback (stage 3 -> 1) of a service with its autoRollback: true in Pulumi.prod.yaml at base: approved in advance"]);
        assert.deepStrictEqual(judge(file({ stack: stackWide }), file({ stack: stackWide, stage: 1 })), [
            "a rollback (stage 3 -> 1) of a service with stagehand:autoRollback: true in Pulumi.prod.yaml at base: approved in advance",
        ]);
        // Not: autoRollback off (the block's false wins over the stack's true), or not set anywhere.
        assert.deepStrictEqual(judge(file({ stack: stackWide, service: "\n      autoRollback: false" }), file({ stack: stackWide, service: "\n      autoRollback: false", stage: 1 })), [undefined]);
        assert.deepStrictEqual(judge(file({}), file({ stage: 1 })), [undefined]);
        // Not: turned on by the same pull request; another field changed too; a forward move.
        assert.deepStrictEqual(judge(file({}), file({ service: own, stage: 1 })), [undefined]);
        assert.deepStrictEqual(judge(file({ service: own }), file({ service: own, stage: 1, replicas: 3 })), [undefined]);
        assert.deepStrictEqual(judge(file({ service: own }), file({ service: own, stage: 4 })), [undefined]);
        // The judged line says why, and the requirement counts as approved without a review.
        const [req] = requirements({ files: ["Pulumi.prod.yaml"], baseSha: "a".repeat(40), baseStacks: { prod: file({ service: own }) }, changedStacks: { prod: { before: file({ service: own }), after: file({ service: own, stage: 1 }) } } });
        assert.deepStrictEqual(formatJudged([{ ...req, approvedBy: [], notCounted: [] }], "b".repeat(40)), [
            "approved  Pulumi.prod.yaml: service checkout (changed: stage): a rollback (stage 3 -> 1) of a service with its autoRollback: true in Pulumi.prod.yaml at base: approved in advance",
        ]);
    });
});
