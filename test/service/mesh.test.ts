// The mesh's second line of defence, per service (`mesh`): retries only for requests that never reached the app,
// a request timeout, and outlier detection that ejects a failing pod of a track — rendered for every stage of
// every strategy by the real chart and validated against Istio's own CRD schemas.
import * as assert from "assert";
import * as path from "path";
import { parseServices } from "../../components/service/config";
import { SAFE_RETRY_ON } from "../../components/service/routing-config";
import { stagePlans } from "../../components/service/stages";
import { chartValues } from "../../components/service/values";
import { helmTemplate } from "../../scripts/helm";
import { validateObject } from "../helpers/schemas";
import { problemsOf } from "../helpers/problems";

const CHART = path.resolve(__dirname, "../../charts/service");
type Obj = Record<string, any>;
const base = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 1, replicas: 4, testRoutes: [{ header: "x-canary", exact: "true" }] };

function renderAll(config: Obj): Obj[][] {
    const service = parseServices("test", { checkout: { ...base, ...config } }).checkout;
    return stagePlans(service).map((plan) => {
        const objects = helmTemplate(CHART, { releaseName: "checkout", namespace: "shop", values: chartValues("checkout", service, plan) });
        for (const o of objects) validateObject(o);
        return objects;
    });
}
const of = (objects: Obj[], kind: string) => objects.find((o) => o.kind === kind)!;

function meshProblems(mesh: unknown, values?: unknown): string[] {
    return problemsOf(() => parseServices("test", { checkout: { ...base, mesh, ...(values ? { values } : {}) } }));
}

describe("mesh: retries, timeout and outlier detection (components/service/config.ts, values.ts)", () => {
    for (const [title, config] of [
        ["default steps", {}],
        ["blue/green", { strategy: "bluegreen" }],
        ["5 steps with a shadow stage", { steps: [10, 25, 50, 75, 100], shadow: { percent: 20 } }],
    ] as [string, Obj][]) {
        it(`${title}: every route of every stage retries only what never reached the app, within a timeout; every track ejects a failing pod`, () => {
            for (const objects of renderAll(config)) {
                const vs = of(objects, "VirtualService");
                assert.ok(vs.spec.http.length >= 1);
                for (const route of vs.spec.http) {
                    assert.deepStrictEqual(route.retries, { attempts: 2, retryOn: "connect-failure,refused-stream,reset-before-request" }, route.name);
                    assert.strictEqual(route.timeout, "15s", route.name);
                }
                assert.deepStrictEqual(of(objects, "DestinationRule").spec.trafficPolicy, {
                    outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
                });
            }
        });
    }

    it("a service whose calls must not be sent twice gets no retries at all (not even Istio's default 503 retries)", () => {
        for (const objects of renderAll({ mesh: { idempotent: false } })) {
            for (const route of of(objects, "VirtualService").spec.http) assert.deepStrictEqual(route.retries, { attempts: 0 });
        }
    });

    it("attempts, per-try timeout, timeout and outlier detection are the team's to set, or to turn off", () => {
        const [idle] = renderAll({ mesh: { timeout: "2m", retries: { attempts: 3, perTryTimeout: "500ms" }, outlierDetection: false } });
        const route = of(idle, "VirtualService").spec.http[0];
        assert.deepStrictEqual([route.timeout, route.retries], ["2m", { attempts: 3, retryOn: SAFE_RETRY_ON, perTryTimeout: "500ms" }]);
        assert.strictEqual(of(idle, "DestinationRule").spec.trafficPolicy, undefined);
        const [noRetries] = renderAll({ mesh: { retries: { attempts: 0 } } });
        assert.deepStrictEqual(of(noRetries, "VirtualService").spec.http[0].retries, { attempts: 0 });
    });

    it("refuses bad settings and the same settings through `values`, naming the field", () => {
        assert.deepStrictEqual(meshProblems({ timeout: "15 seconds", retries: { attempts: 11 } }), [
            'stack test, service checkout, field mesh.timeout: expected a duration such as "15s", "500ms" or "1m" (a number and ms, s, m or h), found "15 seconds"',
            "stack test, service checkout, field mesh.retries.attempts: expected the retries of a request that never reached the app, a whole number from 0 to 10, found 11",
        ]);
        assert.deepStrictEqual(meshProblems({ retires: {} }), ["stack test, service checkout, field mesh.retires: unknown field; did you mean retries?"]);
        assert.deepStrictEqual(meshProblems({ retry: {} }), ["stack test, service checkout, field mesh.retry: unknown field; the fields here are timeout, retries, idempotent, outlierDetection"]);
        assert.deepStrictEqual(meshProblems(undefined, { istio: { retries: { attempts: 5 }, trafficPolicy: { outlierDetection: {} } } }), [
            "stack test, service checkout, field values.istio.retries: expected no `istio.retries` (set `mesh.retries` instead: stagehand writes it from there), found an object",
            "stack test, service checkout, field values.istio.trafficPolicy.outlierDetection: expected no `istio.trafficPolicy.outlierDetection` (set `mesh.outlierDetection` instead: stagehand writes it from there), found an object",
        ]);
    });
});
