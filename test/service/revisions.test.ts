// A release carries a revision, not only a tag: every pod-shaping field reaches production only through the stages.
// Walks every pod-shaping field × {stage 1, mid-release} × {the block, a canary override}, judged the way the diff
// and the program judge (checkMove over the deployed state), and the values each Helm release then installs.
import * as assert from "assert";
import * as path from "path";
import { parseServices, ServiceConfig } from "../../components/service/config";
import { deployedState } from "../../components/service/deployed";
import { checkMove, moveError } from "../../components/service/moves";
import { canaryRevision, changedRevisionFields, revisionChanges, revisionRecords, stableRevision } from "../../components/service/revision";
import { stagePlan } from "../../components/service/stages";
import { serviceReleaseSpecs } from "../../components/service/values";
import { helmTemplate } from "../../scripts/helm";
import { validateAll } from "../helpers/schemas";

const CHART = path.resolve(__dirname, "../../charts/service");
const REPO_CHART = { repo: "https://charts.acme.example", name: "checkout", version: "1.0.0" };

type Raw = Record<string, unknown>;
const base: Raw = {
    image: "ghcr.io/acme/checkout",
    stable: "1.0.0",
    canary: "1.1.0",
    replicas: 4,
    port: 8080,
    chart: REPO_CHART,
    env: { LOG_LEVEL: "info" },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    probes: { readiness: "/ready", liveness: "/healthz" },
    values: { podAnnotations: { team: "shop" } },
};
const parse = (raw: Raw): ServiceConfig => parseServices("uat", { checkout: raw }).checkout;

/** A changed value for each pod-shaping field of the block. */
const BLOCK_CHANGES: Record<string, unknown> = {
    image: "ghcr.io/acme/checkout-next",
    env: { LOG_LEVEL: "debug" },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    probes: { readiness: "/ready2", liveness: "/healthz" },
    values: { podAnnotations: { team: "payments" } },
    port: 9090,
    chart: { ...REPO_CHART, version: "1.1.0" },
};
/** A canary override for each field `canary:` may carry. */
const CANARY_OVERRIDES: Record<string, unknown> = {
    image: "ghcr.io/acme/checkout-next",
    env: { LOG_LEVEL: "debug" },
    resources: { limits: { memory: "512Mi" } },
    probes: { readiness: "/ready2" },
    values: { podAnnotations: { team: "payments" } },
    chartVersion: "1.1.0",
};

/** A second, different override for each field: what a pull request changes mid-release. */
const OTHER_OVERRIDES: Record<string, unknown> = {
    image: "ghcr.io/acme/checkout-other",
    env: { LOG_LEVEL: "trace" },
    resources: { limits: { memory: "1Gi" } },
    probes: { readiness: "/ready3" },
    values: { podAnnotations: { team: "search" } },
    chartVersion: "1.2.0",
};

/** The move from `before` (deployed, its rollout completed) to `after`, as the program and the diff judge it. */
function judge(before: Raw, after: Raw, allowSkip = false) {
    const a = parse(before);
    const b = parse(after);
    const check = checkMove(deployedState(a, stagePlan(a), true), { ...b, allowSkip, revisions: revisionRecords(b) });
    return { check, message: check.ok ? check.words : moveError("uat", "checkout", a.stage as number, b.stage as number, check) };
}

describe("revisions: what a release carries (components/service/revision.ts)", () => {
    describe("a block change to a pod-shaping field", () => {
        for (const [field, value] of Object.entries(BLOCK_CHANGES)) {
            it(`${field}: at stage 1 a direct update of production, refused unless allowSkip; mid-release refused; starting a release with it refused`, () => {
                const idle = { ...base, stage: 1 };
                const refused = judge(idle, { ...idle, [field]: value });
                assert.strictEqual(refused.check.ok, false);
                // What to write instead: the field under `canary:` (a chart by its version); the port cannot go through a canary.
                const instead: Record<string, string> = {
                    port: "port cannot go through a canary (the Service and both tracks share it): set allowSkip on the service for this update to change it directly, at a time you choose, or keep it as it is.",
                    chart: "Release it through the stages instead: keep the block as it is and set canary: {tag: 1.0.0, chartVersion: …} with stage: 2 (a new version of the same chart; another repository or chart name cannot go through a canary) (or set allowSkip for a direct update).",
                };
                assert.strictEqual(
                    refused.message,
                    `stack uat, service checkout, field ${field}: cannot apply this change at stage 1: ${field} changed at stage 1: that updates production's pods directly, without a canary. ` +
                        (instead[field] ?? `Release it through the stages instead: keep the block as it is and set canary: {tag: 1.0.0, ${field}: …} with stage: 2 (or set allowSkip for a direct update).`) +
                        " Allowed next: stay at 1, 2 (canary 10%).",
                );
                const direct = judge(idle, { ...idle, [field]: value }, true);
                assert.deepStrictEqual(direct.check, { ok: true, kind: "direct", words: `direct update of production's ${field} without a canary (allowSkip)` });

                const starting = judge(idle, { ...idle, [field]: value, stage: 2 });
                assert.strictEqual(starting.check.ok, false);
                assert.match(starting.message, new RegExp(`^stack uat, service checkout, field ${field}: cannot move from stage 1 to 2: ${field} changed in the block while the release starts`));

                const mid = { ...base, stage: 3 };
                const midRefused = judge(mid, { ...mid, [field]: value });
                assert.strictEqual(midRefused.check.ok, false);
                assert.match(
                    midRefused.message,
                    new RegExp(`^stack uat, service checkout, field ${field}: cannot apply this change at stage 3: production's revision cannot change in the middle of a release, and ${field} changed in the block`),
                );
                // allowSkip does not open production's pods mid-release.
                assert.strictEqual(judge(mid, { ...mid, [field]: value }, true).check.ok, false);
            });
        }
    });

    describe("a canary override", () => {
        for (const [field, value] of Object.entries(CANARY_OVERRIDES)) {
            it(`${field}: starts a release from stage 1; changing it mid-release is refused, saying to roll back first; at stage 1 it changes freely (0 pods)`, () => {
                const idle = { ...base, stage: 1 };
                const withOverride = (v: unknown) => ({ tag: "1.1.0", [field]: v });
                const start = judge(idle, { ...idle, canary: withOverride(value), stage: 2 });
                assert.deepStrictEqual(start.check, { ok: true, kind: "forward", words: "forward from stage 1 (idle) to 2 (canary 10%)" });

                const releasing = parse({ ...base, canary: withOverride(value), stage: 2 });
                const plan = stagePlan(releasing);
                assert.strictEqual(plan.canary.revision?.label, `1.1.0+${field}`);
                assert.strictEqual(plan.production.revision?.label, "1.0.0");
                assert.notStrictEqual(plan.canary.revision?.id, revisionRecords(parse({ ...base, stage: 2 })).canary.id, "the override is part of the canary's revision");

                // Changed mid-release: a release keeps its revision.
                const other = OTHER_OVERRIDES[field];
                const changed = judge({ ...base, canary: withOverride(value), stage: 3 }, { ...base, canary: withOverride(other), stage: 3 });
                assert.strictEqual(changed.check.ok, false);
                const where = field === "chartVersion" ? "chart" : field;
                assert.strictEqual(
                    changed.message,
                    `stack uat, service checkout, field canary.${where}: cannot apply this change at stage 3: the canary revision of 1.1.0 changed in the middle of a release (its ${where}): ` +
                        "a release keeps its revision from its first stage to its end (roll back first: stage: 1, with the new canary if you like; then start it at stage 2). " +
                        "Allowed next: stay at 3, 4 (canary 100%), or 1 (rollback).",
                );
                // The same change together with a rollback is fine: the canary has no pods at stage 1.
                assert.strictEqual(judge({ ...base, canary: withOverride(value), stage: 3 }, { ...base, canary: withOverride(other), stage: 1 }).check.ok, true);
                const stay = judge({ ...idle, canary: withOverride(value) }, { ...idle, canary: withOverride(other) });
                assert.deepStrictEqual(stay.check, { ok: true, kind: "stay", words: "stay at stage 1 (idle)" });
            });
        }
    });

    it("the canary's release installs the canary revision from its first stage; production takes it at promote", () => {
        const canary = { tag: "1.1.0", env: { LOG_LEVEL: "debug", FEATURE_X: "on" }, resources: { limits: { memory: "512Mi" } }, chartVersion: "1.1.0" };
        const at = (stage: number) => {
            const service = parse({ ...base, canary, stage });
            return serviceReleaseSpecs({ name: "checkout", service, plan: stagePlan(service) });
        };
        const two = at(2);
        assert.deepStrictEqual(two.canary.values.env, { LOG_LEVEL: "debug", FEATURE_X: "on" });
        assert.deepStrictEqual((two.canary.values.resources as any).limits, { cpu: "500m", memory: "512Mi" });
        assert.strictEqual(two.canary.version, "1.1.0");
        assert.deepStrictEqual(two.production.values.env, { LOG_LEVEL: "info" });
        assert.deepStrictEqual((two.production.values.resources as any).limits, { cpu: "500m", memory: "256Mi" });
        assert.strictEqual(two.production.version, "1.0.0");
        assert.strictEqual(two.routing.version, "1.0.0", "the routing stays on production's chart");
        // Stage 4 (canary 100%): production untouched; stage 5 (promote): production rolls to the canary revision.
        assert.deepStrictEqual(at(4).production, two.production);
        const promote = at(5);
        assert.deepStrictEqual(promote.production.values.env, { LOG_LEVEL: "debug", FEATURE_X: "on" });
        assert.strictEqual(promote.production.version, "1.1.0");
        assert.strictEqual(stagePlan(parse({ ...base, canary, stage: 5 })).description, "stage 5/6 promote: 0% -> 1.1.0+env+resources+chartVersion (production x4, rolling from 1.0.0), 100% -> 1.1.0+env+resources+chartVersion (canary x4); strategy canary");
    });

    it("finishing takes only a block whose fields equal the released revision; the same move with the block unchanged is a rollback", () => {
        const canary = { tag: "1.1.0", env: { LOG_LEVEL: "debug" } };
        const switchedBack = { ...base, canary, stage: 6 };
        const finished = { ...base, stable: "1.1.0", canary: "1.1.0", env: { LOG_LEVEL: "debug" }, stage: 1 };
        assert.deepStrictEqual(judge(switchedBack, finished).check, { ok: true, kind: "finish", words: "finish the release: stable 1.0.0 -> 1.1.0+env, canary scaled to 0" });
        const { canary: _c, ...noCanary } = finished;
        const withoutCanary = judge(switchedBack, noCanary).check;
        assert.strictEqual(withoutCanary.ok && withoutCanary.kind, "finish");

        const notCopied = judge(switchedBack, { ...finished, env: { LOG_LEVEL: "info" } });
        assert.strictEqual(
            notCopied.message,
            "stack uat, service checkout, field env: cannot move from stage 6 to 1: finishing needs the block's fields to equal the released revision 1.1.0+env, and env differ from it " +
                "(production runs the released revision since promote: copy the canary's env into the block, or roll back with the block unchanged). " +
                'Allowed next: stay at 6, finish (stage 1 with stable: "1.1.0" and the block\'s env set to the canary\'s), or 1 (rollback).',
        );
        assert.deepStrictEqual(judge(switchedBack, { ...switchedBack, stage: 1 }).check, { ok: true, kind: "rollback", words: "rollback from stage 6 (switch back) to stage 1: all traffic to 1.0.0" });

        // A release of configuration only: the same tag, another env.
        const configOnly = { ...base, canary: { tag: "1.0.0", env: { LOG_LEVEL: "debug" } }, stage: 6 };
        assert.deepStrictEqual(judge(configOnly, { ...base, env: { LOG_LEVEL: "debug" }, stage: 1 }).check, { ok: true, kind: "finish", words: "finish the release: stable 1.0.0 -> 1.0.0+env, canary scaled to 0" });
        const back = judge(configOnly, { ...configOnly, stage: 1 }).check;
        assert.strictEqual(back.ok && back.kind, "rollback");
    });

    it("a release in progress must release something: a canary revision equal to production's is refused at parse time", () => {
        assert.throws(
            () => parse({ ...base, canary: { tag: "1.0.0", env: { LOG_LEVEL: "info" } }, stage: 2 }),
            (e: any) =>
                e.problems[0] ===
                'stack uat, service checkout, field canary: expected a revision different from production\'s while a release is in progress (another tag, or a map {tag, …} that changes env, resources, probes, values or image), found "1.0.0" with the same fields as stable "1.0.0"',
        );
    });

    it("merges overrides into the block: maps key by key, null removes an env variable; merged resources are checked as the block's", () => {
        const service = parse({ ...base, env: { LOG_LEVEL: "info", OLD: "1" }, canary: { tag: "1.1.0", env: { OLD: null, NEW: "2" }, probes: { liveness: "/live" } }, stage: 2 });
        const rev = canaryRevision(service);
        assert.deepStrictEqual(rev.env, { LOG_LEVEL: "info", NEW: "2" });
        assert.deepStrictEqual(rev.probes, { readiness: "/ready", liveness: "/live" });
        assert.deepStrictEqual(stableRevision(service).env, { LOG_LEVEL: "info", OLD: "1" });
        assert.deepStrictEqual(
            revisionChanges(service).map((c) => `${c.path}: ${c.before} -> ${c.after}`),
            ["env.NEW: (not set) -> 2", "env.OLD: 1 -> (not set)", "probes.liveness: /healthz -> /live"],
        );
        assert.throws(
            () => parse({ ...base, canary: { tag: "1.1.0", resources: { requests: { cpu: "2" } } }, stage: 2 }),
            (e: any) =>
                e.problems[0] ===
                'stack uat, service checkout, field canary.resources.requests.cpu: expected a cpu request no greater than its limit (limits.cpu: "500m"; Kubernetes refuses a request above its limit), found "2" (the block\'s resources with the canary\'s overrides)',
        );
        assert.throws(
            () => parse({ ...base, chart: "./charts/service", canary: { tag: "1.1.0", chartVersion: "2.0.0" }, stage: 2 }),
            (e: any) => /field canary\.chartVersion: expected no chartVersion with a local chart \("\.\/charts\/service"\)/.test(e.problems[0]),
        );
    });

    it("records which field changed, by fingerprint: the tag, each pod-shaping field", () => {
        const a = revisionRecords(parse({ ...base, stage: 1 })).stable;
        const b = revisionRecords(parse({ ...base, stable: "1.0.1", env: { LOG_LEVEL: "debug" }, stage: 1 })).stable;
        assert.deepStrictEqual(changedRevisionFields(a, b), ["tag", "env"]);
        assert.deepStrictEqual(changedRevisionFields(a, a), []);
    });

    it("renders each track with its revision, schema-valid, with the real helm", () => {
        const service = parse({ ...base, chart: "./charts/service", canary: { tag: "1.1.0", env: { LOG_LEVEL: "debug" }, image: "ghcr.io/acme/checkout-next" }, stage: 2 });
        const specs = serviceReleaseSpecs({ name: "checkout", service, plan: stagePlan(service) });
        const deployment = (part: "production" | "canary") => {
            const objects = helmTemplate(CHART, { releaseName: specs[part].name, namespace: "checkout", values: specs[part].values });
            validateAll(objects);
            return objects.find((o) => o.kind === "Deployment");
        };
        const prod = deployment("production").spec.template.spec.containers[0];
        const canary = deployment("canary").spec.template.spec.containers[0];
        assert.strictEqual(prod.image, "ghcr.io/acme/checkout:1.0.0");
        assert.deepStrictEqual(prod.env, [{ name: "LOG_LEVEL", value: "info" }]);
        assert.strictEqual(canary.image, "ghcr.io/acme/checkout-next:1.1.0");
        assert.deepStrictEqual(canary.env, [{ name: "LOG_LEVEL", value: "debug" }]);
    });
});
