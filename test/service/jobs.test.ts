// A service's one-off Jobs (components/service/jobs.ts, charts/service/templates/jobs.yaml): when the smoke test and
// the migrations run, what refuses a migration, the Jobs the real chart renders, and the releases the program
// registers with their dependencies (make → smoke → settle → route; expand before the canary; contract last).
import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseServices, ServiceConfig } from "../../components/service/config";
import { DeployedService, readDeployedServices, stageSummary } from "../../components/service/deployed";
import { migrationRefusal, migrationReleaseSpec, migrationToRun, migrationWords, nextMigrations, smokeReleaseSpec, smokeWords } from "../../components/service/jobs";
import { checkMove, judgeMoves, MoveError } from "../../components/service/moves";
import { nextRun, operationOrder } from "../../components/service/order";
import { ServiceRelease } from "../../components/service/release";
import { planServices, StagePlan, stagePlans } from "../../components/service/stages";
import { ConfigError } from "../../components/shared/errors";
import { diffStack } from "../../scripts/diff";
import { helmTemplate } from "../../scripts/helm";
import { formatPlan } from "../../scripts/plan";
import { refusal } from "../helpers/problems";
import { runMocked } from "../helpers/mocks";
import { podSecurityViolations, podSpecOf } from "../helpers/pod-security";
import { validateAll } from "../helpers/schemas";

const CHART = path.resolve(__dirname, "../../charts/service");
const timing = { drainSeconds: 30, settleSeconds: 5, smokeTest: true };
/** The steady state of a service with both phases: production's revision was contracted when its release finished. */
const contracted = (s: ServiceConfig) => ({ contract: planned(s).revisions.stable.id });
const SMOKE = { http: [{ path: "/healthz" }, { path: "/api/orders", status: 401, headers: { "x-canary": 'say "hi"' } }] };
const MIGRATE = { expand: ["/app/migrate", "expand"], contract: ["/app/migrate", "contract"] };

function service(over: Record<string, unknown> = {}): ServiceConfig {
    return parseServices("test", { checkout: { image: "ghcr.io/acme/checkout", stable: "1.4.0", canary: "1.5.0", stage: 1, replicas: 4, smoke: SMOKE, migrate: MIGRATE, ...over } }).checkout;
}
const planned = (s: ServiceConfig) => planServices({ checkout: s })[0];

/** What an update at `plan` of `s` leaves deployed, with the Jobs it ran. */
function deployedAt(s: ServiceConfig, stage: number, extra: Partial<DeployedService> = {}): DeployedService {
    const p = planServices({ checkout: { ...s, stage } })[0];
    const summary = JSON.parse(JSON.stringify(stageSummary({ ...s, revisions: p.revisions }, p.plan, true)));
    return { ...readDeployedServices("test", { checkout: summary }).checkout, ...extra };
}

describe("the smoke test in the order of a move (operationOrder)", () => {
    const plans = stagePlans({ stable: "01", canary: "02", replicas: 4, steps: [10, 90, 100] });
    const at = (s: number) => ({ production: plans[s - 1].production, canary: plans[s - 1].canary, mirrorPercent: plans[s - 1].mirrorPercent });

    it("runs when the canary gets new pods that gain weight: the first canary stage, and each step that adds pods", () => {
        assert.strictEqual(operationOrder(at(1), at(2), timing).smoke, true, "1 -> 2: the canary's first pods");
        assert.strictEqual(operationOrder(at(2), at(3), timing).smoke, true, "2 -> 3: more canary pods, more weight");
        // 3 -> 4 with 4 replicas: the canary's 4 pods for 90% already are its full size: no new pod, no smoke test.
        assert.strictEqual(operationOrder(at(3), at(4), timing).smoke, false, "3 -> 4: the same pods");
        const ten = stagePlans({ stable: "01", canary: "02", replicas: 10, steps: [10, 90, 100] });
        const t = (n: number) => ({ production: ten[n - 1].production, canary: ten[n - 1].canary });
        assert.strictEqual(operationOrder(t(3), t(4), timing).smoke, true, "3 -> 4 with 10 replicas: 9 -> 10 canary pods");
    });
    it("never runs when no new canary pod gains traffic: stays, promote, switch back, rollback, finish", () => {
        for (const [from, to] of [[2, 2], [4, 5], [5, 6], [3, 1], [6, 1], [1, 1]]) {
            assert.strictEqual(operationOrder(at(from), at(to), timing).smoke, false, `${from} -> ${to}`);
        }
    });
    it("never runs without a smoke test configured", () => {
        assert.strictEqual(operationOrder(at(1), at(2), { drainSeconds: 30, settleSeconds: 5 }).smoke, false);
    });
    it("runs on a mirror onto new canary pods (the shadow stage)", () => {
        const shadow = stagePlans({ stable: "01", canary: "02", replicas: 4, steps: [10, 90, 100], shadow: { percent: 20 } });
        const s = (n: number) => ({ production: shadow[n - 1].production, canary: shadow[n - 1].canary, mirrorPercent: shadow[n - 1].mirrorPercent });
        assert.strictEqual(operationOrder(s(1), s(2), timing).smoke, true);
    });
    it("counts runs like waits: a new one per run, the last kept otherwise, the update's identity when cautious", () => {
        const one = nextRun(undefined, true);
        assert.deepStrictEqual([one, nextRun(one, true), nextRun(one, false), nextRun(undefined, false), nextRun(one, true, "u-1")], [
            { count: 1 },
            { count: 2 },
            { count: 1 },
            { count: 0 },
            { count: 2, update: "u-1" },
        ]);
    });
});

describe("schema migrations: expand once before the canary, contract once after the release (components/service/jobs.ts)", () => {
    it("expands the canary revision when a release starts, and never again for the same revision", () => {
        const s = service({ stage: 2 });
        const { revisions } = planned(s);
        const idle = deployedAt(service(), 1, { migrations: contracted(s) });
        assert.strictEqual(migrationRefusal(idle, { stage: 2, migrate: s.migrate, revisions }), undefined);
        const run = migrationToRun({ stage: 2, migrate: s.migrate, revisions }, idle);
        assert.deepStrictEqual(run && [run.phase, run.revision.id], ["expand", revisions.canary.id]);
        const after = { ...deployedAt(s, 2), migrations: nextMigrations(idle.migrations, run) };
        for (const stage of [2, 3, 4, 5, 6]) assert.strictEqual(migrationToRun({ stage, migrate: s.migrate, revisions }, after), undefined, `stage ${stage}`);
        // A rollback and a new start of the same revision: it ran for that revision already.
        assert.strictEqual(migrationToRun({ stage: 2, migrate: s.migrate, revisions }, { ...deployedAt(s, 1), migrations: after.migrations }), undefined);
        // Another revision expands again.
        const next = planned(service({ canary: "1.6.0", stage: 2 })).revisions;
        assert.strictEqual(migrationToRun({ stage: 2, migrate: s.migrate, revisions: next }, { ...deployedAt(s, 1), migrations: after.migrations })?.revision.id, next.canary.id);
    });
    it("contracts once after the release finished: in the finishing update, or at stage 1 once nothing older serves", () => {
        const released = service({ stage: 6 });
        const ranExpand = { expand: planned(released).revisions.canary.id };
        const atSix = deployedAt(released, 6, { migrations: ranExpand });
        const finished = service({ stable: "1.5.0", canary: undefined, stage: 1 });
        const { revisions } = planned(finished);
        assert.strictEqual(revisions.stable.id, planned(released).revisions.canary.id);
        const intent = { stage: 1, migrate: finished.migrate, revisions };
        assert.ok(checkMove(atSix, { ...finished, allowSkip: false }).ok);
        assert.strictEqual(migrationRefusal(atSix, intent), undefined);
        const run = migrationToRun(intent, atSix);
        assert.deepStrictEqual(run && [run.phase, run.revision.label], ["contract", "1.5.0"]);
        // Recorded: the next update runs no migration.
        const done = { ...deployedAt(finished, 1), migrations: nextMigrations(atSix.migrations, run) };
        assert.deepStrictEqual(done.migrations, { expand: ranExpand.expand, contract: revisions.stable.id });
        assert.strictEqual(migrationToRun(intent, done), undefined);
        assert.strictEqual(migrationRefusal(done, intent), undefined);
    });
    it("refuses a contract while the old revision still serves, naming stack, service and field", () => {
        const s = service({ stage: 3 });
        // The contract of 1.4.0 never ran (migrate.contract is new): asked now, while the release serves both.
        const atTwo = deployedAt(s, 2, { migrations: { expand: planned(s).revisions.canary.id } });
        const judge = (svc: ServiceConfig, prev: DeployedService | undefined) =>
            refusal(() => judgeMoves("prod", [{ name: "checkout", service: svc, revisions: planned(svc).revisions }], prev ? { checkout: prev } : {}), MoveError).problems;
        // Mid-release: production's 1.4.0 and the canary serve, and a rollback returns to 1.4.0.
        assert.deepStrictEqual(judge(s, atTwo), [
            "stack prod, service checkout, field migrate.contract: cannot run it in this update: a release is in progress at stage 3: production's revision 1.4.0 and the canary's both serve, and a rollback returns to production's (the contract of 1.4.0 runs only after its release has finished, when nothing older serves; finish the release, then set migrate.contract).",
        ]);
        // A rollback: the canary's 1.5.0 served until now.
        assert.match(judge(service({ stage: 1 }), atTwo)[0], /^stack prod, service checkout, field migrate\.contract: cannot run it in this update: the old revision still serves: canary x2 on 1\.5\.0 \(10%\) at stage 2/);
        // The steady state (1.4.0 contracted when its release finished): the same moves are legal, no contract asked.
        const steady = { ...atTwo, migrations: { ...atTwo.migrations, ...contracted(s) } };
        assert.ok(judgeMoves("prod", [{ name: "checkout", service: s, revisions: planned(s).revisions }], { checkout: steady }).checkout);
        assert.ok(judgeMoves("prod", [{ name: "checkout", service: service({ stage: 1 }), revisions: planned(s).revisions }], { checkout: steady }).checkout);
        // A direct update of production (allowSkip): 1.4.0 serves until this update rolls it.
        const direct = service({ stable: "1.6.0", canary: undefined, allowSkip: true });
        assert.match(judge(direct, deployedAt(service(), 1))[0], /field migrate\.contract: cannot run it in this update: the old revision still serves: production x4 on 1\.4\.0 \(100%\) at stage 1/);
        // Unknown past.
        assert.match(judge(service(), undefined)[0], /field migrate\.contract: cannot run it in this update: what the service ran before this update is unknown/);
    });
    it("refuses an expand added while the canary already runs its revision", () => {
        const s = service({ stage: 3 });
        const atTwo = deployedAt(s, 2, { migrations: { contract: planned(s).revisions.stable.id } });
        assert.deepStrictEqual(migrationRefusal(atTwo, { stage: 3, migrate: s.migrate, revisions: planned(s).revisions })?.field, "migrate.expand");
    });
    it("says in the plan which phase the update runs", () => {
        const s = service({ stage: 2 });
        assert.strictEqual(migrationWords(s, planned(s).revisions, deployedAt(service(), 1, { migrations: contracted(s) })), "migrations: expand `/app/migrate expand`, contract `/app/migrate contract`; this update runs expand for 1.5.0");
        assert.strictEqual(smokeWords(s.smoke), "smoke test of new canary pods before traffic moves onto them (deadline 120s): GET /healthz -> 200, GET /api/orders -> 401 (x-canary)");
    });
});

describe("smoke and migrate config: errors name the field", () => {
    const problems = (over: Record<string, unknown>) => refusal(() => service(over), ConfigError).problems;
    it("refuses a smoke test with nothing to run, a command without image, an unpinned image, a bad path or header", () => {
        assert.deepStrictEqual(problems({ smoke: {} }), ["stack test, service checkout, field smoke.http: expected at least one HTTP check or an image to run (a smoke test: {http: [{path, status, headers}], and/or image with command, timeoutSeconds}), found nothing (the field is missing)"]);
        assert.match(problems({ smoke: { command: ["/t"] } }).join("\n"), /field smoke\.image: expected an image to run the command in/);
        assert.match(problems({ smoke: { image: "ghcr.io/acme/smoke" } })[0], /field smoke\.image: expected an image with a fixed tag or a digest.*found "ghcr\.io\/acme\/smoke"/);
        assert.match(problems({ smoke: { image: "ghcr.io/acme/smoke:latest" } })[0], /field smoke\.image: .*not "latest"/);
        assert.match(problems({ smoke: { http: [{ path: "healthz" }] } })[0], /field smoke\.http\[0\]\.path: expected an HTTP path starting with '\/'/);
        assert.match(problems({ smoke: { http: [{ path: "/", status: 700 }] } })[0], /field smoke\.http\[0\]\.status: expected the expected HTTP status, a whole number from 100 to 599, found 700/);
        assert.match(problems({ smoke: { http: [{ path: "/", headers: { "bad header": "x" } }] } })[0], /field smoke\.http\[0\]\.headers\.bad header: expected an HTTP header name/);
    });
    it("refuses a migrate block without a phase, a tagged image, or an empty command", () => {
        assert.match(problems({ migrate: {} })[0], /field migrate\.expand: expected an expand or a contract command/);
        assert.match(problems({ migrate: { image: "ghcr.io/acme/m:1", expand: ["x"] } })[0], /field migrate\.image: expected an image repository without tag or digest \(the Job runs the revision's tag\)/);
        assert.match(problems({ migrate: { expand: [] } })[0], /field migrate\.expand: expected a command as a list of strings/);
    });
});

describe("the Jobs the reference chart renders (real helm)", () => {
    const s = service({ stage: 2, env: { DB_HOST: "db" }, callers: { namespaces: ["storefront"] } });
    const plan = planned(s).plan;
    const render = (spec: { name: string; namespace: string; values: Record<string, unknown> }) => {
        const objects = helmTemplate(CHART, { releaseName: spec.name, namespace: spec.namespace, values: spec.values });
        validateAll(objects);
        return objects;
    };
    const pss = (objects: any[]) => objects.filter((o) => podSpecOf(o)).flatMap((o) => podSecurityViolations(podSpecOf(o)!, "restricted"));

    it("smoke: a hook Job checking the canary-only Service, in the mesh with a native sidecar, allowed where a policy guards the canary", () => {
        const spec = smokeReleaseSpec("checkout", s, plan, { count: 3 }, {});
        const objects = render(spec);
        assert.deepStrictEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), ["AuthorizationPolicy/checkout-smoke", "Job/checkout-smoke", "Service/checkout-canary", "ServiceAccount/checkout-smoke"]);
        const job = objects.find((o) => o.kind === "Job");
        assert.strictEqual(job.metadata.annotations["helm.sh/hook"], "post-install,post-upgrade");
        assert.strictEqual(job.metadata.annotations["stagehand.dev/run"], "3");
        assert.strictEqual(job.metadata.annotations["stagehand.dev/revision"], planned(s).revisions.canary.id);
        const pod = job.spec.template;
        assert.strictEqual(pod.metadata.annotations["sidecar.istio.io/nativeSidecar"], "true");
        assert.strictEqual(pod.spec.restartPolicy, "Never");
        // Never an endpoint of the service: its pods do not carry the service's selector labels.
        assert.notStrictEqual(pod.metadata.labels["app.kubernetes.io/name"], "checkout");
        const [http] = pod.spec.containers;
        assert.match(http.image, /^docker\.io\/curlimages\/curl:8\.9\.1@sha256:[0-9a-f]{64}$/);
        const env = Object.fromEntries(http.env.map((e: any) => [e.name, e.value]));
        assert.strictEqual(env.SMOKE_TARGET_URL, "http://checkout-canary.checkout.svc.cluster.local:80");
        assert.deepStrictEqual([env.SMOKE_CHECKS, env.SMOKE_1_PATH, env.SMOKE_1_STATUS, env.SMOKE_2_PATH, env.SMOKE_2_STATUS], ["2", "/healthz", "200", "/api/orders", "401"]);
        assert.strictEqual(env.SMOKE_2_HEADERS, 'header = "x-canary: say \\"hi\\""');
        const target = objects.find((o) => o.kind === "Service");
        assert.deepStrictEqual(target.spec.selector, { "app.kubernetes.io/name": "checkout", "app.kubernetes.io/instance": "checkout", track: "canary" });
        const policy = objects.find((o) => o.kind === "AuthorizationPolicy");
        assert.deepStrictEqual(policy.spec.rules[0].from[0].source.principals, ["cluster.local/ns/checkout/sa/checkout-smoke"]);
        assert.deepStrictEqual(pss(objects), []);
    });
    it("smoke: no AuthorizationPolicy where none guards the canary (a first ALLOW policy would deny every other caller)", () => {
        const open = service({ stage: 2 });
        const objects = render(smokeReleaseSpec("checkout", open, planned(open).plan, { count: 1 }, {}));
        assert.ok(!objects.some((o) => o.kind === "AuthorizationPolicy"));
        assert.ok(render(smokeReleaseSpec("checkout", open, planned(open).plan, { count: 1 }, { denyByDefault: true })).some((o) => o.kind === "AuthorizationPolicy"));
    });
    it("Jobs always install stagehand's reference chart, with only the values its Jobs read (a team chart may render no Job)", () => {
        const team = service({ stage: 2, chart: { repo: "https://charts.acme.dev", name: "app", version: "2.0.0" }, values: { replicaCount: 3, service: { port: 8081 } } });
        const spec = smokeReleaseSpec("checkout", team, planned(team).plan, { count: 1 }, {});
        assert.deepStrictEqual([spec.chart, spec.version, spec.repositoryOpts], ["./charts/service", undefined, undefined]);
        assert.strictEqual((spec.values as any).replicaCount, undefined, "another chart's values stay out");
        const env = render(spec).find((o) => o.kind === "Job").spec.template.spec.containers[0].env;
        assert.strictEqual(env.find((e: any) => e.name === "SMOKE_TARGET_URL").value, "http://checkout-canary.checkout.svc.cluster.local:8081");
    });
    it("smoke with a team's image: SMOKE_TARGET_URL in its env, the image and command as given", () => {
        const own = service({ stage: 2, smoke: { image: "ghcr.io/acme/checkout-smoke:2.0.0", command: ["/smoke", "--all"] } });
        const job = render(smokeReleaseSpec("checkout", own, planned(own).plan, { count: 1 }, {})).find((o) => o.kind === "Job");
        assert.deepStrictEqual(job.spec.template.spec.containers.map((c: any) => [c.name, c.image, c.command]), [["test", "ghcr.io/acme/checkout-smoke:2.0.0", ["/smoke", "--all"]]]);
        assert.strictEqual(job.spec.activeDeadlineSeconds, 120);
    });
    it("expand: the canary revision's image and env, as the service's ServiceAccount, restricted", () => {
        const migrating = service({ stage: 2, env: { DB_HOST: "db" }, canary: { tag: "1.5.0", env: { DB_HOST: "db2" } }, migrate: { ...MIGRATE, image: "ghcr.io/acme/checkout-migrations" } });
        const p = planned(migrating);
        const objects = render(migrationReleaseSpec("checkout", migrating, p.plan, { phase: "expand", revision: p.revisions.canary }));
        assert.deepStrictEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ["Job/checkout-expand"]);
        const pod = objects[0].spec.template.spec;
        assert.strictEqual(pod.serviceAccountName, "checkout");
        assert.deepStrictEqual([pod.containers[0].image, pod.containers[0].command], ["ghcr.io/acme/checkout-migrations:1.5.0", ["/app/migrate", "expand"]]);
        assert.deepStrictEqual(pod.containers[0].env, [{ name: "MIGRATION_PHASE", value: "expand" }, { name: "DB_HOST", value: "db2" }]);
        assert.deepStrictEqual(pss(objects), []);
    });
});

interface Captured {
    type: string;
    props: any;
    dependsOn: string[];
}

async function capture(s: ServiceConfig, previous: DeployedService | undefined): Promise<Map<string, Captured>> {
    const captured = new Map<string, Captured>();
    const names = new Map<pulumi.Resource, string>();
    const hook: pulumi.ResourceTransformation = (args) => {
        names.set(args.resource, args.name);
        captured.set(args.name, { type: args.type, props: args.props, dependsOn: ([] as any[]).concat(args.opts.dependsOn ?? []).map((d) => names.get(d) ?? "?") });
        return undefined;
    };
    const p = planned(s);
    const check = checkMove(previous, { ...s, allowSkip: false, revisions: p.revisions });
    if (!check.ok) assert.fail(JSON.stringify(check));
    await runMocked("test", {}, () => {
        new ServiceRelease("checkout", { planned: p, move: { previous, check, allowSkip: false }, istioRevision: "1-30-3", updateId: "u-1" }, { transformations: [hook] });
    });
    return captured;
}

describe("the Job releases ServiceRelease registers, and what waits for them (Pulumi mocks)", () => {
    it("stage 1 -> 2: expand before the canary's release, the smoke test after it, before the settle wait and the routing", async () => {
        const c = await capture(service({ stage: 2 }), deployedAt(service(), 1, { migrations: contracted(service()) }));
        for (const job of ["checkout-expand", "checkout-smoke"]) {
            assert.strictEqual(c.get(job)?.type, "kubernetes:helm.sh/v3:Release");
            assert.strictEqual(c.get(job)!.props.atomic, true);
            assert.strictEqual(c.get(job)!.props.waitForJobs, true);
        }
        assert.ok(c.get("checkout-canary")!.dependsOn.includes("checkout-expand"), "the canary's pods start after expand");
        assert.ok(c.get("checkout-smoke")!.dependsOn.includes("checkout-canary"), "smoke checks the canary's made pods");
        assert.ok(c.get("checkout-settle")!.dependsOn.includes("checkout-smoke"));
        assert.ok(c.get("checkout-routing")!.dependsOn.includes("checkout-smoke"), "nothing routes onto the canary when smoke fails");
        assert.strictEqual(c.get("checkout-smoke")!.props.values.jobs.smoke.run, "1");
        assert.ok(!c.has("checkout-contract"));
    });
    it("a stay and a rollback register no Job release (the last one is removed)", async () => {
        const s = service({ stage: 2 });
        const ran = { migrations: { expand: planned(s).revisions.canary.id, ...contracted(s) }, smoke: { count: 1 } };
        for (const next of [s, service({ stage: 1 })]) {
            const c = await capture(next, deployedAt(s, 2, ran));
            assert.deepStrictEqual([...c.keys()].filter((n) => /-(smoke|expand|contract)$/.test(n)), [], `stage ${next.stage}`);
        }
    });
    it("the next step runs the smoke test again, with the next run in its values", async () => {
        const s = service({ stage: 3 });
        const c = await capture(s, deployedAt(s, 2, { migrations: { expand: planned(s).revisions.canary.id, ...contracted(s) }, smoke: { count: 4 } }));
        assert.strictEqual(c.get("checkout-smoke")!.props.values.jobs.smoke.run, "5");
        assert.ok(!c.has("checkout-expand"), "expand ran for this revision already");
    });
    it("finishing runs the contract last: after the routing, the drain and every workload release", async () => {
        const released = service({ stage: 6 });
        const finished = service({ stable: "1.5.0", canary: undefined, stage: 1 });
        const c = await capture(finished, deployedAt(released, 6, { migrations: { expand: planned(released).revisions.canary.id } }));
        const contract = c.get("checkout-contract")!;
        for (const d of ["checkout-routing", "checkout-drain", "checkout-production", "checkout-canary"]) assert.ok(contract.dependsOn.includes(d), d);
        assert.strictEqual(contract.props.values.jobs.migrate.image, "ghcr.io/acme/checkout:1.5.0");
        assert.ok(!c.has("checkout-smoke"));
    });
});

describe("what plan and diff say of the Jobs (scripts/plan.ts, scripts/diff.ts)", () => {
    const svc = (over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/checkout", stable: "1.4.0", canary: "1.5.0", stage: 1, replicas: 4, ...over });
    const withJobs = { smoke: SMOKE, migrate: { expand: MIGRATE.expand } };

    it("plan names each service's smoke checks and migrations", () => {
        const text = formatPlan("uat", planServices(parseServices("uat", { checkout: svc({ ...withJobs, stage: 2 }), cart: svc() })));
        assert.ok(text.includes("  smoke test of new canary pods before traffic moves onto them (deadline 120s): GET /healthz -> 200, GET /api/orders -> 401 (x-canary)"), text);
        assert.ok(text.includes("  migrations: expand `/app/migrate expand`"), text);
        assert.strictEqual(text.split("\n").filter((l) => l.includes("smoke test")).length, 1, "only the service that has one");
    });
    it("diff names the Jobs a move runs, and what a changed smoke or migrate field reaches", () => {
        const [start] = diffStack("uat", { services: { checkout: svc(withJobs) } }, { services: { checkout: svc({ ...withJobs, stage: 2 }) } });
        assert.ok(start.ok);
        assert.match(start.line, /^checkout: stage 1 -> 2, .*, smoke test of 1\.5\.0 before traffic moves onto its new pods, expand migration for 1\.5\.0 \(before the canary's pods start\)$/);
        const [rollback] = diffStack("uat", { services: { checkout: svc({ ...withJobs, stage: 3 }) } }, { services: { checkout: svc(withJobs) } });
        assert.ok(!/smoke|migration/.test(rollback.line), rollback.line);
        const [edit] = diffStack("uat", { services: { checkout: svc({ ...withJobs, stage: 2 }) } }, { services: { checkout: svc({ ...withJobs, stage: 2, smoke: { http: [{ path: "/ready" }] }, migrate: { ...withJobs.migrate, timeoutSeconds: 900 } }) } });
        assert.ok(edit.fields.some((f) => /^smoke\..*\(reaches the smoke test of new canary pods/.test(f)), edit.fields.join("\n"));
        assert.ok(edit.fields.some((f) => /^migrate\.timeoutSeconds: 600 -> 900 \(reaches schema migrations/.test(f)), edit.fields.join("\n"));
        assert.match(edit.line, /traffic, tags and replicas unchanged; \d+ fields? changed/);
    });
    it("diff refuses a contract while the old revision serves, as the program does", () => {
        const [refused] = diffStack("uat", { services: { checkout: svc({ stage: 2 }) } }, { services: { checkout: svc({ stage: 3, migrate: MIGRATE }) } });
        assert.strictEqual(refused.ok, false);
        assert.match(refused.line, /^stack uat, service checkout, field migrate\.contract: cannot run it in this update: a release is in progress at stage 3/);
        const [idle] = diffStack("uat", { services: { checkout: svc() } }, { services: { checkout: svc({ migrate: { contract: MIGRATE.contract } }) } });
        assert.ok(idle.ok);
        assert.match(idle.line, /contract migration for 1\.4\.0 \(after everything else\)/);
    });
});

describe("the program wires the smoke test to the stack's authorization mode (index.ts under mocks)", () => {
    it("a deny-by-default stack allows the smoke test's identity to call the canary; an open one without callers does not", async () => {
        const { runProgram, ofType } = await import("../helpers/mocks");
        const checkout = { image: "ghcr.io/acme/checkout", stable: "1.4.0", canary: "1.5.0", stage: 2, replicas: 4, smoke: { http: [{ path: "/healthz" }] } };
        const smokeOf = async (istio: Record<string, unknown>, svc: Record<string, unknown>) => {
            const { resources, outputs } = await runProgram("uat", { cluster: { kind: "existing", istio: { version: "1.30.3", ...istio } }, services: { checkout: svc } });
            const release = ofType(resources, "kubernetes:helm.sh/v3:Release").find((r) => r.name === "checkout-smoke");
            return { smoke: release?.inputs.values.jobs.smoke, output: outputs.serviceStages.checkout };
        };
        const denied = await smokeOf({ authorization: "deny-by-default" }, { ...checkout, callers: { ingress: true } });
        assert.strictEqual(denied.smoke.authorize, true);
        // A first deployment: the previous state is unknown, so the run carries the update's identity.
        assert.strictEqual(denied.output.smoke.count, 1);
        assert.match(denied.smoke.run, /^1 \(update [0-9a-f-]{36}\)$/);
        const open = await smokeOf({ authorization: "open" }, checkout);
        assert.strictEqual(open.smoke.authorize, false);
    });
});
