// The service rules, one passing and one violating case at least: pinned images, atomic releases, containers
// with resources and readiness, traffic routed only to tracks with replicas.
import * as assert from "assert";
import { ServiceInput } from "../../components/service/config";
import { stagePlans } from "../../components/service/stages";
import { ALL_PARTS as ALL, ONLY } from "../../components/service/values";
import { parseQuantity } from "../../components/shared/quantity";
import { containersResourcesReadiness, imageRefProblem, imageTagPinned, releaseAtomic, trafficRoutesReadyTracks } from "../../policies/rules/services";
import { deployment, istiod, readyContainer, release, service, splitReleases, valuesAt } from "./fixtures";
import { checkResource, checkStack, passes, RELEASE, urnOf } from "./harness";

describe("policy service-image-tag-pinned", () => {
    it("passes tags and digests of a service release", async () => {
        passes(await checkResource(imageTagPinned, release("checkout", valuesAt(2))));
        passes(await checkResource(imageTagPinned, release("checkout", valuesAt(2, ALL, { canary: `sha256:${"a".repeat(64)}` }))));
    });

    it("refuses `latest` and empty tags, with the words of the config schema", async () => {
        const values = valuesAt(2);
        values.tracks.canary.tag = "latest";
        values.tracks.production.tag = "";
        const out = await checkResource(imageTagPinned, release("checkout", values));
        assert.deepStrictEqual(out.messages, [
            "release checkout: tracks.production.tag: expected an image tag such as \"1.4.2\" (letters, digits, '_', '.', '-', at most 128) or a digest \"sha256:<64 hex>\", found an empty string",
            'release checkout: tracks.canary.tag: expected a fixed image tag or digest, not "latest" (it cannot be reviewed or rolled back), found "latest"',
        ]);
    });

    it("refuses a repository that smuggles its own tag", async () => {
        const values = valuesAt(2);
        values.image.repository = "ghcr.io/acme/checkout:latest";
        const out = await checkResource(imageTagPinned, release("checkout", values));
        assert.deepStrictEqual(out.messages, [
            'release checkout: image.repository: expected an image repository without tag or digest (the tags go in tracks.<track>.tag), found "ghcr.io/acme/checkout:latest"',
        ]);
    });

    it("judges only the tracks a split release renders", async () => {
        const [production, canary] = splitReleases(2, (v) => {
            v.production.tracks.canary.tag = "latest";
            v.canary.tracks.canary.tag = "latest";
        });
        passes(await checkResource(imageTagPinned, production));
        assert.deepStrictEqual((await checkResource(imageTagPinned, canary)).messages, [
            'release checkout-canary: tracks.canary.tag: expected a fixed image tag or digest, not "latest" (it cannot be reviewed or rolled back), found "latest"',
        ]);
    });

    it("leaves Istio's own releases alone, and checks plain Deployments' images", async () => {
        assert.deepStrictEqual((await checkResource(imageTagPinned, istiod)).messages, []);
        passes(await checkResource(imageTagPinned, deployment(readyContainer)));
        passes(await checkResource(imageTagPinned, deployment({ image: `registry:5000/acme/worker@sha256:${"b".repeat(64)}` })));
        assert.deepStrictEqual((await checkResource(imageTagPinned, deployment({ image: "registry:5000/acme/worker" }))).messages, [
            'Deployment worker, container worker: expected an image with a tag or digest, found "registry:5000/acme/worker" (no tag: Kubernetes pulls "latest")',
        ]);
        assert.strictEqual(imageRefProblem("nginx:latest"), 'expected a fixed image tag or digest, not "latest" (it cannot be reviewed or rolled back), found "latest" in image "nginx:latest"');
    });
});

describe("policy service-traffic-routes-ready-tracks", () => {
    it("passes a single release at every stage of the default canary", async () => {
        for (let stage = 1; stage <= 6; stage++) passes(await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", valuesAt(stage))]));
    });

    it("passes a service split into production, canary and routing releases, combined per service", async () => {
        for (let stage = 1; stage <= 6; stage++) passes(await checkStack(trafficRoutesReadyTracks, "prod", splitReleases(stage)));
    });

    it("passes every stage of a service with a shadow stage (mirroring) and test-user routes, as the planner writes them", async () => {
        const extra: Partial<ServiceInput> = { shadow: { percent: 20 }, testRoutes: [{ header: "x-canary", exact: "always" }] };
        const stages = stagePlans(service(extra)).length;
        assert.strictEqual(stages, 7);
        let mirrored = 0;
        for (let stage = 1; stage <= stages; stage++) {
            const parts = (["production", "canary", "routing"] as const).map((p) => release(`checkout-${p}`, valuesAt(stage, ONLY[p], extra)));
            mirrored += parts[2].props.values.routing.mirrorPercent > 0 ? 1 : 0;
            passes(await checkStack(trafficRoutesReadyTracks, "prod", parts));
        }
        assert.strictEqual(mirrored, 1, "the shadow stage mirrors");
    });

    it("refuses weights that do not add up to 100", async () => {
        const values = valuesAt(2);
        values.tracks.canary.weight = 20;
        const out = await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", values)]);
        assert.deepStrictEqual(out.messages, ["service checkout (namespace checkout): the VirtualService weights add up to 110 (production 90 + canary 20), they must add up to 100"]);
        assert.deepStrictEqual(out.urns, [urnOf("prod", RELEASE, "checkout")]);
    });

    it("refuses weights that are not whole percentages", async () => {
        const values = valuesAt(2);
        values.tracks.canary.weight = 10.5;
        const out = await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", values)]);
        assert.deepStrictEqual(out.messages, ["service checkout (namespace checkout): tracks.canary.weight must be a whole percentage from 0 to 100, found 10.5"]);
    });

    it("refuses weight on a track with no replicas planned (one release)", async () => {
        const values = valuesAt(2);
        values.tracks.canary.replicas = 0;
        const out = await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", values)]);
        assert.deepStrictEqual(out.messages, [
            "service checkout (namespace checkout): 10% of traffic is routed to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout); those requests would fail. Give the track replicas before it gets weight (make before break)",
        ]);
    });

    it("refuses a routing release that weights a track its own release scales to 0 (split)", async () => {
        const out = await checkStack(trafficRoutesReadyTracks, "prod", splitReleases(3, (v) => (v.canary.tracks.canary.replicas = 0)));
        assert.deepStrictEqual(out.messages, [
            "service checkout (namespace checkout): 90% of traffic is routed to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout-canary); those requests would fail. Give the track replicas before it gets weight (make before break)",
        ]);
        assert.deepStrictEqual(out.urns, [urnOf("prod", RELEASE, "checkout-routing")]);
    });

    it("refuses weight on a track no release renders", async () => {
        const out = await checkStack(trafficRoutesReadyTracks, "prod", splitReleases(2).filter((r) => r.name !== "checkout-canary"));
        assert.deepStrictEqual(out.messages, [
            // No release renders the canary, so no release knows its tag: the routing release carries weights only.
            "service checkout (namespace checkout): 10% of traffic is routed to the canary track, which has 0 replicas planned (no release renders it); those requests would fail. Give the track replicas before it gets weight (make before break)",
        ]);
    });

    it("refuses a mirror or a header match to a canary without replicas, in split releases and in one", async () => {
        const mirrored = splitReleases(1, (v) => {
            v.routing.routing = { mirrorPercent: 5, canaryMatches: [{ headers: { "x-canary": { exact: "1" } } }] };
            v.routing.tracks.canary.replicas = 1; // the routing release believes the canary is live…
        }); // …but the canary release, at stage 1, plans 0 replicas
        assert.deepStrictEqual((await checkStack(trafficRoutesReadyTracks, "prod", mirrored)).messages, [
            "service checkout (namespace checkout): 5% of requests are mirrored to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout-canary)",
            "service checkout (namespace checkout): requests matching routing.canaryMatches are routed to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout-canary)",
        ]);
        // One release at stage 1: the chart refuses it at install (its whole-plan guard), so the preview refuses it first.
        const idle = valuesAt(1);
        idle.routing = { mirrorPercent: 5, canaryMatches: [{ headers: { "x-canary": { exact: "1" } } }] };
        assert.deepStrictEqual((await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", idle)])).messages, [
            "service checkout (namespace checkout): 5% of requests are mirrored to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout)",
            "service checkout (namespace checkout): requests matching routing.canaryMatches are routed to the canary track (tag 1.5.0), which has 0 replicas planned (release checkout)",
        ]);
        // Without mirror and matches, the idle release passes.
        passes(await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", valuesAt(1))]));
    });

    it("refuses two releases owning the routing, and a service nobody routes", async () => {
        const [production, canary, routing] = splitReleases(2);
        const twice = await checkStack(trafficRoutesReadyTracks, "prod", [production, canary, routing, { ...routing, name: "checkout-routing-2", props: { ...routing.props, name: "checkout-routing-2" } }]);
        assert.deepStrictEqual(twice.messages, ["service checkout (namespace checkout): 2 Helm releases render the routing part (checkout-routing, checkout-routing-2); exactly one may own the VirtualService"]);
        const unrouted = await checkStack(trafficRoutesReadyTracks, "prod", [production, canary]);
        assert.deepStrictEqual(unrouted.messages, [
            "service checkout (namespace checkout): no Helm release renders the routing part (Service, DestinationRule, VirtualService) of checkout-production, checkout-canary, so nothing routes traffic to its tracks",
        ]);
    });

    it("keeps services apart by namespace, and does not apply to a stack without service releases", async () => {
        const broken = valuesAt(2);
        broken.tracks.canary.replicas = 0;
        const other = release("checkout-eu", broken, { namespace: "eu" });
        const out = await checkStack(trafficRoutesReadyTracks, "prod", [release("checkout", valuesAt(2)), other]);
        assert.strictEqual(out.messages.length, 1);
        assert.match(out.messages[0], /^service checkout \(namespace eu\): 10% of traffic is routed to the canary track/);
        const none = await checkStack(trafficRoutesReadyTracks, "prod", [istiod]);
        assert.strictEqual(none.notApplicable, "no service Helm releases in this stack");
    });
});

describe("policy service-release-atomic", () => {
    it("passes an atomic release with a timeout; ignores Istio's releases", async () => {
        passes(await checkResource(releaseAtomic, release("checkout", valuesAt(2))));
        assert.deepStrictEqual((await checkResource(releaseAtomic, istiod)).messages, []);
    });

    it("refuses a release that is not atomic or has no timeout", async () => {
        const out = await checkResource(releaseAtomic, release("checkout", valuesAt(2), { atomic: false, timeout: undefined }));
        assert.deepStrictEqual(out.messages, [
            "release checkout: atomic must be true (a failed upgrade then rolls back by itself), found false",
            "release checkout: timeout must be a whole number of seconds from 1 to 3600 (how long Helm waits before rolling back), found nothing",
        ]);
    });

    it("bounds the timeout by the rule's config", async () => {
        const long = release("checkout", valuesAt(2), { timeout: 7200 });
        assert.deepStrictEqual((await checkResource(releaseAtomic, long)).messages, [
            "release checkout: timeout must be a whole number of seconds from 1 to 3600 (how long Helm waits before rolling back), found 7200",
        ]);
        passes(await checkResource(releaseAtomic, long, { maxTimeoutSeconds: 10800 }));
    });
});

describe("policy containers-resources-and-readiness", () => {
    it("passes the values stagehand writes, and a routing-only release that renders no containers", async () => {
        passes(await checkResource(containersResourcesReadiness, release("checkout", valuesAt(2))));
        const routing = valuesAt(2, ONLY.routing);
        delete routing.resources;
        passes(await checkResource(containersResourcesReadiness, release("checkout-routing", routing)));
    });

    it("refuses missing limits, a request above its limit and a missing readiness probe", async () => {
        const values = valuesAt(2);
        values.resources = { requests: { cpu: "2", memory: "128Mi" }, limits: { cpu: "500m" } };
        values.probes = { liveness: { path: "/healthz" } };
        const out = await checkResource(containersResourcesReadiness, release("checkout", values));
        assert.deepStrictEqual(out.messages, [
            'release checkout: resources.requests.cpu "2" is above resources.limits.cpu "500m"; Kubernetes refuses such a pod',
            'release checkout: resources.limits.memory: expected a Kubernetes quantity such as "256Mi", found nothing',
            "release checkout: probes.readiness.path: expected an HTTP path starting with '/', found nothing (without a readiness probe traffic reaches pods that are not ready)",
        ]);
    });

    it("checks the containers of plain Deployments too", async () => {
        passes(await checkResource(containersResourcesReadiness, deployment(readyContainer)));
        const out = await checkResource(containersResourcesReadiness, deployment({ image: "ghcr.io/acme/worker:2.0.1", resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "1Gi" } } }));
        assert.deepStrictEqual(out.messages, ["Deployment worker, container worker: no readinessProbe (traffic would reach pods that are not ready)"]);
    });

    it("reads Kubernetes quantities", () => {
        assert.strictEqual(parseQuantity("250m"), 0.25);
        assert.strictEqual(parseQuantity("128Mi"), 128 * 2 ** 20);
        assert.strictEqual(parseQuantity("1G"), 1e9);
        assert.strictEqual(parseQuantity(2), 2);
        assert.strictEqual(parseQuantity("lots"), undefined);
    });
});
