// Service features of a release beyond the plain weight steps: the shadow stage (mirroring), test-user routes
// (header/cookie matches that always reach a live canary) and strategy presets (canary, bluegreen, custom).
// Plans, config and match objects are checked as pure functions; then every stage of each feature is rendered
// with the REAL helm from the values stagehand computes, every object is schema-validated, and the
// VirtualService is read back: route order, weights, mirror. Expected values are literals, never recomputed.
import * as assert from "assert";
import * as path from "path";
import { parseServices, ServiceConfig } from "../../components/service/config";
import { planProblems, StagePlan, stagePlans } from "../../components/service/stages";
import { chartValues, istioMatches } from "../../components/service/values";
import { helmTemplate } from "../../scripts/helm";
import { rawService, Values } from "../helpers/fixtures";
import { validateObject } from "../helpers/schemas";
import { problemsOf } from "../helpers/problems";

const CHART = path.resolve(__dirname, "../../charts/service");
const NS = "shop";
const FQDN = `checkout.${NS}.svc.cluster.local`;
const REPO = "ghcr.io/acme/checkout";

type Obj = Record<string, any>;

/** Parses one service named checkout in stack "test" (throws a ConfigError when invalid). */
function service(overrides: Values = {}): ServiceConfig {
    return parseServices("test", { checkout: rawService({ replicas: 4, ...overrides }) }).checkout;
}

/** The problem lines of a config that must be refused. */
function featureProblems(overrides: Values): string[] {
    return problemsOf(() => service(overrides));
}

const HEADER_ROUTE = { header: "x-canary", exact: "true" };
const COOKIE_ROUTE = { cookie: "canary", value: "always" };
// What those two test routes become in the VirtualService, written out by hand.
const HEADER_MATCH = { headers: { "x-canary": { exact: "true" } } };
const COOKIE_MATCH = { headers: { cookie: { regex: "^(.*?;\\s*)?canary=always(;.*)?$" } } };

// ------------------------------------------------------------------------------------------------ plans

describe("service features: stage plans", () => {
    // [stage, kind, production tag/replicas/weight, canary tag/replicas/weight, mirrorPercent, testRoutes]
    type Row = [number, string, string, number, number, string, number, number, number, boolean];
    function assertRows(plans: StagePlan[], rows: Row[]) {
        assert.strictEqual(plans.length, rows.length, "stage count");
        rows.forEach(([stage, kind, pTag, pRep, pW, cTag, cRep, cW, mirror, testRoutes], i) => {
            const p = plans[i];
            // Each track names the revision it runs: here the tag alone (no canary overrides).
            assert.deepStrictEqual([p.production.revision?.label, p.canary.revision?.label], [pTag, cTag], `stage ${stage} revisions`);
            const bare = ({ revision: _r, ...t }: StagePlan["production"]) => t;
            assert.deepStrictEqual(
                { stage: p.stage, stageCount: p.stageCount, kind: p.kind, production: bare(p.production), canary: bare(p.canary), mirrorPercent: p.mirrorPercent, testRoutes: p.testRoutes },
                {
                    stage,
                    stageCount: rows.length,
                    kind,
                    production: { tag: pTag, replicas: pRep, weight: pW },
                    canary: { tag: cTag, replicas: cRep, weight: cW },
                    mirrorPercent: mirror,
                    testRoutes,
                },
                `stage ${stage}`,
            );
        });
    }

    it("shadow 20% with the default steps and 4 replicas: 7 stages, mirroring only at stage 2", () => {
        assertRows(stagePlans(service({ shadow: { percent: 20 } })), [
            [1, "idle", "01", 4, 100, "02", 0, 0, 0, false],
            [2, "shadow", "01", 4, 100, "02", 1, 0, 20, false],
            [3, "canary", "01", 4, 90, "02", 2, 10, 0, false],
            [4, "canary", "01", 4, 10, "02", 4, 90, 0, false],
            [5, "canary", "01", 4, 0, "02", 4, 100, 0, false],
            [6, "promote", "02", 4, 0, "02", 4, 100, 0, false],
            [7, "switch-back", "02", 4, 100, "02", 4, 0, 0, false],
        ]);
    });

    it("shadow 20% with test routes: the test routes are on at every stage whose canary has pods, shadow included", () => {
        assertRows(stagePlans(service({ shadow: { percent: 20 }, testRoutes: [HEADER_ROUTE] })), [
            [1, "idle", "01", 4, 100, "02", 0, 0, 0, false],
            [2, "shadow", "01", 4, 100, "02", 1, 0, 20, true],
            [3, "canary", "01", 4, 90, "02", 2, 10, 0, true],
            [4, "canary", "01", 4, 10, "02", 4, 90, 0, true],
            [5, "canary", "01", 4, 0, "02", 4, 100, 0, true],
            [6, "promote", "02", 4, 0, "02", 4, 100, 0, true],
            [7, "switch-back", "02", 4, 100, "02", 4, 0, 0, true],
        ]);
    });

    it("strategy bluegreen: 4 stages, the canary at full size from stage 2, before the switch", () => {
        const s = service({ strategy: "bluegreen" });
        assert.deepStrictEqual(s.steps, [100]);
        const plans = stagePlans(s);
        assertRows(plans, [
            [1, "idle", "01", 4, 100, "02", 0, 0, 0, false],
            [2, "canary", "01", 4, 0, "02", 4, 100, 0, false],
            [3, "promote", "02", 4, 0, "02", 4, 100, 0, false],
            [4, "switch-back", "02", 4, 100, "02", 4, 0, 0, false],
        ]);
        assert.deepStrictEqual(plans.map((p) => p.strategy), ["bluegreen", "bluegreen", "bluegreen", "bluegreen"]);
    });

    it("names the strategy: canary by default and with `strategy: canary` plus steps, custom for bare steps", () => {
        assert.strictEqual(stagePlans(service())[0].strategy, "canary");
        const canaryWithSteps = service({ strategy: "canary", steps: [10, 50, 100] });
        assert.deepStrictEqual(canaryWithSteps.steps, [10, 50, 100]);
        assert.deepStrictEqual([...new Set(stagePlans(canaryWithSteps).map((p) => p.strategy))], ["canary"]);
        assert.deepStrictEqual([...new Set(stagePlans(service({ steps: [10, 25, 50, 75, 100] })).map((p) => p.strategy))], ["custom"]);
    });

    it("says the strategy, the mirror and the test routes in the preview descriptions", () => {
        const shadow = stagePlans(service({ shadow: { percent: 20 } }));
        assert.strictEqual(shadow[0].description, "stage 1/7 idle: 100% -> 01 (production x4), 0% -> 02 (canary x0); strategy canary");
        assert.strictEqual(
            shadow[1].description,
            "stage 2/7 shadow 20%: 100% -> 01 (production x4), 0% -> 02 (canary x1), 20% mirrored -> 02 (canary); strategy canary",
        );
        assert.strictEqual(shadow[2].description, "stage 3/7 canary 10%: 90% -> 01 (production x4), 10% -> 02 (canary x2); strategy canary");

        const blueGreen = stagePlans(service({ strategy: "bluegreen", testRoutes: [HEADER_ROUTE] }));
        assert.strictEqual(blueGreen[0].description, "stage 1/4 idle: 100% -> 01 (production x4), 0% -> 02 (canary x0); strategy blue/green");
        assert.strictEqual(
            blueGreen[1].description,
            "stage 2/4 canary 100%: 0% -> 01 (production x4), 100% -> 02 (canary x4), test route -> canary; strategy blue/green",
        );

        const custom = stagePlans(service({ steps: [10, 25, 50, 75, 100], testRoutes: [HEADER_ROUTE, COOKIE_ROUTE] }));
        assert.strictEqual(
            custom[3].description,
            "stage 4/8 canary 50%: 50% -> 01 (production x4), 50% -> 02 (canary x2), test routes -> canary; strategy custom steps",
        );
        assert.strictEqual(
            custom[7].description,
            "stage 8/8 switch back: 100% -> 02 (production x4), 0% -> 02 (canary x4, draining), test routes -> canary; strategy custom steps",
        );
    });
});

// ------------------------------------------------------------------------------------------------ config

describe("service features: config (parseServices)", () => {
    it("accepts shadow, header and cookie test routes and the strategy presets, resolving steps and strategy", () => {
        const s = service({ shadow: { percent: 20 }, testRoutes: [HEADER_ROUTE, { header: "x-user", regex: "^qa-.*" }, COOKIE_ROUTE] });
        assert.deepStrictEqual(s.shadow, { percent: 20 });
        assert.deepStrictEqual(s.testRoutes, [HEADER_ROUTE, { header: "x-user", regex: "^qa-.*" }, COOKIE_ROUTE]);
        assert.strictEqual(s.strategy, "canary");
        assert.deepStrictEqual(s.steps, [10, 90, 100]);

        const plain = service();
        assert.strictEqual(plain.shadow, undefined);
        assert.deepStrictEqual(plain.testRoutes, []);

        assert.deepStrictEqual([service({ strategy: "bluegreen" }).strategy, service({ strategy: "bluegreen" }).steps], ["bluegreen", [100]]);
        // bluegreen with its own single step [100] is not a contradiction.
        assert.deepStrictEqual(service({ strategy: "bluegreen", steps: [100] }).steps, [100]);
        assert.deepStrictEqual([service({ strategy: "canary" }).strategy, service({ strategy: "canary" }).steps], ["canary", [10, 90, 100]]);
        assert.deepStrictEqual([service({ steps: [25, 100] }).strategy, service({ steps: [25, 100] }).steps], ["custom", [25, 100]]);
        // Stage 7 exists only with the shadow stage.
        assert.strictEqual(service({ shadow: { percent: 20 }, stage: 7 }).stage, 7);
    });

    const refusals: { title: string; config: Values; problem: string }[] = [
        {
            title: "bluegreen with steps [10, 100]",
            config: { strategy: "bluegreen", steps: [10, 100] },
            problem: "stack test, service checkout, field steps: expected no `steps` with strategy bluegreen (blue/green is the single step [100]), or leave `strategy` out, found [10,100]",
        },
        {
            title: "shadow percent 0",
            config: { shadow: { percent: 0 } },
            problem: "stack test, service checkout, field shadow.percent: expected the percentage of requests mirrored to the canary, a whole number from 1 to 100, found 0",
        },
        {
            title: "shadow percent 150",
            config: { shadow: { percent: 150 } },
            problem: "stack test, service checkout, field shadow.percent: expected the percentage of requests mirrored to the canary, a whole number from 1 to 100, found 150",
        },
        {
            // The chart's values schema takes routing.mirrorPercent as an integer: 12.5 would pass config and fail helm.
            title: "shadow percent 12.5",
            config: { shadow: { percent: 12.5 } },
            problem: "stack test, service checkout, field shadow.percent: expected the percentage of requests mirrored to the canary, a whole number from 1 to 100, found 12.5",
        },
        {
            title: "a header test route with both exact and regex",
            config: { testRoutes: [{ header: "x-canary", exact: "true", regex: "^t.*" }] },
            problem: "stack test, service checkout, field testRoutes[0]: expected a header match with exactly one of `exact` or `regex`, found an object",
        },
        {
            title: "a header test route with neither exact nor regex",
            config: { testRoutes: [HEADER_ROUTE, { header: "x-canary" }] },
            problem: "stack test, service checkout, field testRoutes[1]: expected a header match with exactly one of `exact` or `regex`, found an object",
        },
        {
            title: "a header test route with an empty exact value",
            config: { testRoutes: [{ header: "x-canary", exact: "" }] },
            problem: "stack test, service checkout, field testRoutes[0].exact: expected a non-empty header value to match exactly, found an empty string",
        },
        {
            title: "an upper-case header name",
            config: { testRoutes: [{ header: "X-Canary", exact: "true" }] },
            problem: 'stack test, service checkout, field testRoutes[0].header: expected a lower-case HTTP header name, e.g. x-canary, found "X-Canary"',
        },
        {
            title: "a cookie value with a space",
            config: { testRoutes: [{ cookie: "canary", value: "al ways" }] },
            problem: "stack test, service checkout, field testRoutes[0].value: expected a cookie value without spaces, ';' or ',', found \"al ways\"",
        },
        {
            title: "an unknown strategy",
            config: { strategy: "linear" },
            problem: 'stack test, service checkout, field strategy: expected "canary" or "bluegreen" (or leave it out and give `steps`), found "linear"',
        },
        {
            title: "stage 8 with a shadow stage and the default steps (7 stages)",
            config: { shadow: { percent: 20 }, stage: 8 },
            problem: "stack test, service checkout, field stage: expected a stage from 1 to 7 (steps [10, 90, 100] and a shadow stage give 7 stages), found 8",
        },
    ];
    for (const r of refusals) {
        it(`refuses ${r.title}, naming stack, service, field, expectation and what was found`, () => {
            assert.deepStrictEqual(featureProblems(r.config), [r.problem]);
        });
    }
});

// ------------------------------------------------------------------------------------------------ matches

describe("service features: istioMatches", () => {
    it("turns header (exact, regex) and cookie test routes into Istio HTTPMatchRequests, one per route", () => {
        assert.deepStrictEqual(istioMatches([HEADER_ROUTE, { header: "x-user", regex: "^qa-[0-9]+$" }, COOKIE_ROUTE]), [
            HEADER_MATCH,
            { headers: { "x-user": { regex: "^qa-[0-9]+$" } } },
            COOKIE_MATCH,
        ]);
        assert.deepStrictEqual(istioMatches([]), []);
    });

    it("escapes regex characters of a cookie name and value", () => {
        assert.deepStrictEqual(istioMatches([{ cookie: "ab.test", value: "v1.2+x" }]), [
            { headers: { cookie: { regex: "^(.*?;\\s*)?ab\\.test=v1\\.2\\+x(;.*)?$" } } },
        ]);
    });

    it("matches the cookie among others in the Cookie header, and nothing else", () => {
        // Envoy evaluates this with RE2, against the whole header value. JavaScript's RegExp is close enough for
        // this pattern: anchors, a lazy `.*?`, `\s`, optional groups and escaped literals mean the same in both.
        const regex = new RegExp((istioMatches([COOKIE_ROUTE])[0] as Obj).headers.cookie.regex);
        for (const cookie of ["canary=always", "a=1; canary=always; b=2", "a=1;canary=always", "canary=always; b=2"]) {
            assert.ok(regex.test(cookie), `matches ${JSON.stringify(cookie)}`);
        }
        for (const cookie of ["notcanary=always", "canary=alwaysx", "canary=never", "a=canary=always", "", "x=1; canary=alwaysx; b=2"]) {
            assert.ok(!regex.test(cookie), `does not match ${JSON.stringify(cookie)}`);
        }
        // Escaped: a dot in the value matches only a dot.
        const dotted = new RegExp((istioMatches([{ cookie: "v", value: "1.2" }])[0] as Obj).headers.cookie.regex);
        assert.ok(dotted.test("v=1.2") && !dotted.test("v=1x2"));
    });
});

// ------------------------------------------------------------------------------------------------ rendered

function render(values: Values): Obj[] {
    return helmTemplate(CHART, { releaseName: "checkout", namespace: NS, values });
}

function one(objects: Obj[], kind: string, name: string): Obj {
    const found = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
    assert.strictEqual(found.length, 1, `exactly one ${kind} ${name} (found ${found.length})`);
    return found[0];
}

const DESTINATION = (subset: string) => ({ host: FQDN, subset, port: { number: 80 } });

/** Every subset a VirtualService sends to, by route destinations or mirror. */
function subsetsNamed(vs: Obj): Set<string> {
    return new Set(vs.spec.http.flatMap((r: Obj) => [...r.route.map((d: Obj) => d.destination.subset), ...(r.mirror ? [r.mirror.subset] : [])]));
}

// One rendered stage, written out by hand: [production tag, replicas, weight], [canary tag, replicas, weight],
// mirror percent, whether the match route is there.
type Stage = { production: [string, number, number]; canary: [string, number, number]; mirror: number; matches: boolean };
const stage = (production: Stage["production"], canary: Stage["canary"], mirror = 0, matches = false): Stage => ({ production, canary, mirror, matches });

const cases: { title: string; config: Values; strategy: string; strategyWords: string; matches: Obj[]; stages: Stage[] }[] = [
    {
        title: "shadow 20% with the default steps",
        config: { shadow: { percent: 20 } },
        strategy: "canary",
        strategyWords: "canary",
        matches: [],
        stages: [
            stage(["01", 4, 100], ["02", 0, 0]),
            stage(["01", 4, 100], ["02", 1, 0], 20),
            stage(["01", 4, 90], ["02", 2, 10]),
            stage(["01", 4, 10], ["02", 4, 90]),
            stage(["01", 4, 0], ["02", 4, 100]),
            stage(["02", 4, 0], ["02", 4, 100]),
            stage(["02", 4, 100], ["02", 4, 0]),
        ],
    },
    {
        title: "header and cookie test routes with the default steps",
        config: { testRoutes: [HEADER_ROUTE, COOKIE_ROUTE] },
        strategy: "canary",
        strategyWords: "canary",
        matches: [HEADER_MATCH, COOKIE_MATCH],
        stages: [
            stage(["01", 4, 100], ["02", 0, 0]),
            stage(["01", 4, 90], ["02", 2, 10], 0, true),
            stage(["01", 4, 10], ["02", 4, 90], 0, true),
            stage(["01", 4, 0], ["02", 4, 100], 0, true),
            stage(["02", 4, 0], ["02", 4, 100], 0, true),
            stage(["02", 4, 100], ["02", 4, 0], 0, true),
        ],
    },
    {
        title: "shadow 20% and test routes with the steps [10, 25, 50, 75, 100]",
        config: { shadow: { percent: 20 }, testRoutes: [HEADER_ROUTE, COOKIE_ROUTE], steps: [10, 25, 50, 75, 100] },
        strategy: "custom",
        strategyWords: "custom steps",
        matches: [HEADER_MATCH, COOKIE_MATCH],
        stages: [
            stage(["01", 4, 100], ["02", 0, 0]),
            stage(["01", 4, 100], ["02", 1, 0], 20, true),
            stage(["01", 4, 90], ["02", 2, 10], 0, true),
            stage(["01", 4, 75], ["02", 2, 25], 0, true),
            stage(["01", 4, 50], ["02", 2, 50], 0, true),
            stage(["01", 4, 25], ["02", 3, 75], 0, true),
            stage(["01", 4, 0], ["02", 4, 100], 0, true),
            stage(["02", 4, 0], ["02", 4, 100], 0, true),
            stage(["02", 4, 100], ["02", 4, 0], 0, true),
        ],
    },
    {
        title: "strategy bluegreen",
        config: { strategy: "bluegreen" },
        strategy: "bluegreen",
        strategyWords: "blue/green",
        matches: [],
        stages: [
            stage(["01", 4, 100], ["02", 0, 0]),
            stage(["01", 4, 0], ["02", 4, 100]),
            stage(["02", 4, 0], ["02", 4, 100]),
            stage(["02", 4, 100], ["02", 4, 0]),
        ],
    },
    {
        title: "strategy bluegreen with shadow 50% and a header test route",
        config: { strategy: "bluegreen", shadow: { percent: 50 }, testRoutes: [HEADER_ROUTE] },
        strategy: "bluegreen",
        strategyWords: "blue/green",
        matches: [HEADER_MATCH],
        stages: [
            stage(["01", 4, 100], ["02", 0, 0]),
            stage(["01", 4, 100], ["02", 2, 0], 50, true),
            stage(["01", 4, 0], ["02", 4, 100], 0, true),
            stage(["02", 4, 0], ["02", 4, 100], 0, true),
            stage(["02", 4, 100], ["02", 4, 0], 0, true),
        ],
    },
];

describe("service features: rendered manifests of every stage (real helm)", function () {
    this.timeout(120_000);

    for (const c of cases) {
        describe(c.title, () => {
            const svc = service(c.config);
            const plans = stagePlans(svc);
            const rendered: Obj[][] = [];
            const renderStage = (i: number): Obj[] => (rendered[i] ??= render(chartValues("checkout", svc, plans[i])));

            it(`plans ${c.stages.length} stages`, () => {
                assert.strictEqual(plans.length, c.stages.length);
            });

            c.stages.forEach((row, i) => {
                const words =
                    `production ${row.production[2]}% x${row.production[1]}, canary ${row.canary[2]}% x${row.canary[1]}` +
                    (row.mirror ? `, ${row.mirror}% mirrored` : "") +
                    (row.matches ? ", test routes first" : "");
                it(`stage ${i + 1}: ${words}`, () => {
                    const objects = renderStage(i);
                    for (const o of objects) validateObject(o);

                    const vs = one(objects, "VirtualService", "checkout");
                    const http: Obj[] = vs.spec.http;
                    const last = http[http.length - 1];

                    // Route order: the test-user match route first (100% canary), the weighted default last.
                    if (row.matches) {
                        assert.deepStrictEqual(http.map((r) => r.name), ["canary-match", "default"]);
                        assert.deepStrictEqual(http[0].match, c.matches);
                        assert.deepStrictEqual(http[0].route, [{ destination: DESTINATION("canary"), weight: 100 }]);
                        assert.strictEqual(http[0].mirror, undefined, "the match route does not mirror");
                    } else {
                        assert.deepStrictEqual(http.map((r) => r.name), ["default"]);
                    }
                    for (const r of http) if (r !== http[0] || !row.matches) assert.strictEqual(r.match, undefined, `route ${r.name} has no match`);
                    assert.strictEqual(last.name, "default");

                    // Weights of the default route, only tracks with weight > 0.
                    const expected: Obj[] = [];
                    if (row.production[2] > 0) expected.push({ destination: DESTINATION("production"), weight: row.production[2] });
                    if (row.canary[2] > 0) expected.push({ destination: DESTINATION("canary"), weight: row.canary[2] });
                    assert.deepStrictEqual(last.route, expected);

                    // The mirror: only at the shadow stage, only on the default route.
                    if (row.mirror > 0) {
                        assert.deepStrictEqual(last.mirror, DESTINATION("canary"));
                        assert.deepStrictEqual(last.mirrorPercentage, { value: row.mirror });
                    }
                    for (const r of http) {
                        if (row.mirror > 0 && r === last) continue;
                        assert.strictEqual(r.mirror, undefined, `route ${r.name} does not mirror`);
                        assert.strictEqual(r.mirrorPercentage, undefined, `route ${r.name} has no mirrorPercentage`);
                    }

                    // Workloads: tags and sizes as the table says.
                    for (const track of ["production", "canary"] as const) {
                        const d = one(objects, "Deployment", `checkout-${track}`);
                        assert.strictEqual(d.spec.template.spec.containers[0].image, `${REPO}:${row[track][0]}`, `${track} image`);
                        assert.strictEqual(d.spec.replicas, row[track][1], `${track} replicas`);
                    }

                    // Nothing is ever sent (routed or mirrored) to a track without pods.
                    for (const subset of subsetsNamed(vs)) {
                        assert.ok(one(objects, "Deployment", `checkout-${subset}`).spec.replicas > 0, `subset ${subset} is named by a route or mirror, so it has pods`);
                    }

                    // Preview words and annotations name the strategy.
                    assert.strictEqual(vs.metadata.annotations["stagehand.dev/strategy"], c.strategy);
                    assert.ok(
                        vs.metadata.annotations["stagehand.dev/description"].endsWith(`; strategy ${c.strategyWords}`),
                        vs.metadata.annotations["stagehand.dev/description"],
                    );
                });
            });
        });
    }

    describe("the whole-plan guard: no match route or mirror onto a canary with 0 replicas", () => {
        // Values a buggy planner (or a team's values) could hand over: matches and mirror with an empty canary.
        const svc = service({ shadow: { percent: 20 }, testRoutes: [HEADER_ROUTE] });
        const idle = stagePlans(svc)[0];
        const broken = { ...idle, mirrorPercent: 20, testRoutes: true };

        it("the program refuses such a plan before registering anything (planProblems)", () => {
            assert.deepStrictEqual(planProblems(broken), [
                "20% of requests would be mirrored to the canary track, which has 0 replicas",
                "test-user routes would send requests to the canary track, which has 0 replicas",
            ]);
            assert.deepStrictEqual(planProblems({ ...idle, production: { ...idle.production, replicas: 0 } }), ["100% of traffic would go to the production track, which has 0 replicas"]);
            assert.deepStrictEqual(planProblems({ ...idle, canary: { ...idle.canary, weight: 10 } }), [
                "the weights add up to 110 (production 100 + canary 10), not 100",
                "10% of traffic would go to the canary track, which has 0 replicas",
            ]);
            for (const plan of stagePlans(svc)) assert.deepStrictEqual(planProblems(plan), [], `stage ${plan.stage}`);
        });

        it("rendered as one release, the chart refuses it too", () => {
            const values = chartValues("checkout", svc, broken);
            assert.strictEqual((values as Obj).routing.canaryMatches.length, 1, "the values do carry the match");
            assert.throws(() => render(values), /refusing to mirror 20% of requests to track canary which has 0 replicas/);
        });
    });

    describe("hosts and gateways", () => {
        const istio = { gateways: ["istio-ingress/stagehand-gateway"], hosts: ["checkout.acme.example"] };
        const vsOf = (config: Values) => {
            const svc = service({ ...config, values: { istio } });
            const objects = render(chartValues("checkout", svc, stagePlans(svc)[1]));
            for (const o of objects) validateObject(o);
            return one(objects, "VirtualService", "checkout");
        };

        it("are the same with and without test routes, and the match route applies to gateway and mesh traffic alike", () => {
            const plain = vsOf({});
            const withRoutes = vsOf({ testRoutes: [HEADER_ROUTE, COOKIE_ROUTE] });
            assert.deepStrictEqual(withRoutes.spec.hosts, ["checkout", FQDN, "checkout.acme.example"]);
            assert.deepStrictEqual(withRoutes.spec.gateways, ["istio-ingress/stagehand-gateway", "mesh"]);
            assert.deepStrictEqual(withRoutes.spec.hosts, plain.spec.hosts);
            assert.deepStrictEqual(withRoutes.spec.gateways, plain.spec.gateways);
            assert.deepStrictEqual(withRoutes.spec.http.map((r: Obj) => r.name), ["canary-match", "default"]);
            // No `gateways`, `sourceLabels` or other narrowing in the matches: only the header conditions.
            assert.deepStrictEqual(withRoutes.spec.http[0].match, [HEADER_MATCH, COOKIE_MATCH]);
            // The default route is the same as without test routes.
            assert.deepStrictEqual(withRoutes.spec.http[1], plain.spec.http[0]);
        });
    });
});
