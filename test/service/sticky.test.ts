// Sticky canary sessions: during the weight steps, a returning user stays on the version that served them — by a
// cookie the mesh sets, or a response header the client sends back — for as long as that version keeps weight.
// Rendered for every stage by the real chart and validated against Istio's CRD schemas.
import * as assert from "assert";
import * as path from "path";
import { parseServices } from "../../components/service/config";
import { stagePlans } from "../../components/service/stages";
import { chartValues } from "../../components/service/values";
import { helmTemplate } from "../../scripts/helm";
import { validateObject } from "../helpers/schemas";
import { problemsOf } from "../helpers/problems";

const CHART = path.resolve(__dirname, "../../charts/service");
const FQDN = "checkout.shop.svc.cluster.local";
type Obj = Record<string, any>;
const base = { image: "ghcr.io/acme/checkout", stable: "1.4.2", canary: "1.5.0", stage: 1, replicas: 4 };

function virtualServices(config: Obj): Obj[] {
    const service = parseServices("test", { checkout: { ...base, ...config } }).checkout;
    return stagePlans(service).map((plan) => {
        const objects = helmTemplate(CHART, { releaseName: "checkout", namespace: "shop", values: chartValues("checkout", service, plan) });
        for (const o of objects) validateObject(o);
        return objects.find((o) => o.kind === "VirtualService")!;
    });
}
const routeNames = (vs: Obj) => vs.spec.http.map((r: Obj) => r.name);
const route = (vs: Obj, name: string) => vs.spec.http.find((r: Obj) => r.name === name);
const marks = (vs: Obj) => Object.fromEntries(route(vs, "default").route.map((d: Obj) => [d.destination.subset, d.headers?.response?.add ?? null]));

describe("sticky canary sessions (sticky)", () => {
    it("cookie: while the weights split, each version marks its users and takes them back; none outside the weight steps", () => {
        const vs = virtualServices({ sticky: { cookie: "checkout-track" }, testRoutes: [{ header: "x-canary", exact: "1" }] });
        assert.deepStrictEqual(vs.map(routeNames), [
            ["default"], // 1 idle
            ["canary-match", "sticky-canary", "sticky-production", "default"], // 2: 90/10
            ["canary-match", "sticky-canary", "sticky-production", "default"], // 3: 10/90
            ["canary-match", "sticky-canary", "default"], // 4: 0/100 — production's users move to the canary
            ["canary-match", "default"], // 5 promote
            ["canary-match", "default"], // 6 switch back
        ]);
        const stage2 = vs[1];
        assert.deepStrictEqual(route(stage2, "sticky-canary").match, [{ headers: { cookie: { regex: "^(.*?;\\s*)?checkout-track=canary-1\\.5\\.0(;.*)?$" } } }]);
        assert.deepStrictEqual(route(stage2, "sticky-canary").route, [{ destination: { host: FQDN, subset: "canary", port: { number: 80 } }, weight: 100 }]);
        assert.deepStrictEqual(route(stage2, "sticky-production").match, [{ headers: { cookie: { regex: "^(.*?;\\s*)?checkout-track=production-1\\.4\\.2(;.*)?$" } } }]);
        assert.deepStrictEqual(marks(stage2), {
            production: { "set-cookie": "checkout-track=production-1.4.2; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax" },
            canary: { "set-cookie": "checkout-track=canary-1.5.0; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax" },
        });
        // The weights are untouched: new users still split by them.
        assert.deepStrictEqual(route(stage2, "default").route.map((d: Obj) => [d.destination.subset, d.weight]), [["production", 90], ["canary", 10]]);
        // Sticky routes get the same timeout and retries as every route.
        assert.deepStrictEqual([route(stage2, "sticky-canary").timeout, route(stage2, "sticky-canary").retries.attempts], ["15s", 2]);
        assert.deepStrictEqual(marks(vs[0]), { production: null }, "no marks while idle");
    });

    it("header: the response carries the mark, a request carrying it goes back to that version", () => {
        const vs = virtualServices({ sticky: { header: "x-checkout-track" }, steps: [10, 50, 100] });
        const stage3 = vs[2];
        assert.deepStrictEqual(route(stage3, "sticky-canary").match, [{ headers: { "x-checkout-track": { exact: "canary-1.5.0" } } }]);
        assert.deepStrictEqual(route(stage3, "sticky-production").match, [{ headers: { "x-checkout-track": { exact: "production-1.4.2" } } }]);
        assert.deepStrictEqual(marks(stage3), { production: { "x-checkout-track": "production-1.4.2" }, canary: { "x-checkout-track": "canary-1.5.0" } });
    });

    it("blue/green and a shadow stage: marks only while a version has weight in a weight step", () => {
        assert.deepStrictEqual(virtualServices({ strategy: "bluegreen", sticky: { cookie: "c" } }).map(routeNames), [["default"], ["sticky-canary", "default"], ["default"], ["default"]]);
        assert.deepStrictEqual(virtualServices({ shadow: { percent: 20 }, sticky: { cookie: "c" } }).map(routeNames).slice(0, 3), [["default"], ["default"], ["sticky-canary", "sticky-production", "default"]]);
    });

    it("refuses a sticky block that is neither a cookie nor a header, naming the field", () => {
        const stickyProblems = (sticky: unknown) => problemsOf(() => parseServices("test", { checkout: { ...base, sticky } }));
        assert.deepStrictEqual(stickyProblems({ session: "x" }), [
            "stack test, service checkout, field sticky.session: unknown field; the fields here are cookie, maxAgeSeconds, header",
            "stack test, service checkout, field sticky: expected {cookie: <name>, maxAgeSeconds?} or {header: <name>}, found an object",
        ]);
        assert.deepStrictEqual(stickyProblems({ cokie: "x" }), [
            "stack test, service checkout, field sticky.cokie: unknown field; did you mean cookie?",
            "stack test, service checkout, field sticky: expected {cookie: <name>, maxAgeSeconds?} or {header: <name>}, found an object",
        ]);
        assert.deepStrictEqual(stickyProblems({ header: "X-Track" }), ['stack test, service checkout, field sticky.header: expected a lower-case HTTP header name, e.g. x-checkout-track, found "X-Track"']);
        assert.deepStrictEqual(stickyProblems({ cookie: "t", maxAgeSeconds: 10 }), ["stack test, service checkout, field sticky.maxAgeSeconds: expected the cookie's lifetime in seconds (a number with no unit, e.g. 604800 for 7 days), a whole number from 60 to 31536000, found 10"]);
    });

    it("says what to write instead: seconds for a lifetime with a unit, one of cookie or header, no lifetime for a header", () => {
        const stickyProblems = (sticky: unknown) => problemsOf(() => parseServices("test", { checkout: { ...base, sticky } }));
        assert.deepStrictEqual(stickyProblems({ cookie: "t", maxAgeSeconds: "7d" }), [
            `stack test, service checkout, field sticky.maxAgeSeconds: expected the cookie's lifetime in seconds (a number with no unit, e.g. 604800 for 7 days), a whole number from 60 to 31536000, found "7d"`,
        ]);
        assert.deepStrictEqual(stickyProblems({ cookie: "checkout-track", header: "x-checkout-track" }), [
            "stack test, service checkout, field sticky: expected one of `cookie` or `header`, not both (a user is marked one way): keep {cookie: checkout-track} for browsers, or {header: x-checkout-track} for clients that send the header back, found an object",
        ]);
        assert.deepStrictEqual(stickyProblems({ header: "x-checkout-track", maxAgeSeconds: 600 }), [
            "stack test, service checkout, field sticky.maxAgeSeconds: expected no `maxAgeSeconds` with `header` (only a cookie has a lifetime): remove it, or use {cookie: <name>, maxAgeSeconds}, found 600",
        ]);
        const { checkout } = parseServices("test", { checkout: { ...base, sticky: { cookie: "t", maxAgeSeconds: 604800 } } });
        assert.deepStrictEqual(checkout.sticky, { cookie: "t", maxAgeSeconds: 604800 });
        assert.deepStrictEqual(parseServices("test", { checkout: { ...base, sticky: { header: "x-t" } } }).checkout.sticky, { header: "x-t" });
    });
});
