// The reference service chart, rendered with the real helm binary and checked as objects:
// routing per stage (with values from stagehand's own planner), parts, mirroring, header matches,
// digests, autoscaling and disruption budgets, the values schema, the guard rails and pod security.
// Every rendered object also passes validateObject (Kubernetes and Istio schemas).
import * as assert from "assert";
import * as path from "path";
import { parseServices } from "../../components/service/config";
import { stagePlans } from "../../components/service/stages";
import { chartValues } from "../../components/service/values";
import { helm, helmTemplate } from "../../scripts/helm";
import { DIGEST, idleValues, liveCanaryValues, merge, rawService, Values } from "../helpers/fixtures";
import { validateAll } from "../helpers/schemas";

const CHART = path.resolve(__dirname, "../../charts/service");
const NS = "shop";
const FQDN = `checkout.${NS}.svc.cluster.local`;
const REPO = "ghcr.io/acme/checkout";
const TRACKS = ["production", "canary"] as const;
type Track = (typeof TRACKS)[number];

type Obj = Record<string, any>;

function render(values: Values, releaseName = "checkout"): Obj[] {
    return helmTemplate(CHART, { releaseName, namespace: NS, values });
}

/** Renders and validates every object against its schema. */
function renderValid(values: Values, releaseName = "checkout"): Obj[] {
    const objects = render(values, releaseName);
    validateAll(objects);
    return objects;
}

/** `helm template` that must fail: returns helm's stderr. */
function renderError(values: Values): string {
    const result = helm(["template", "checkout", CHART, "--namespace", NS, "--values", "-"], JSON.stringify(values));
    assert.notStrictEqual(result.status, 0, `helm template should have failed, rendered:\n${result.stdout}`);
    return result.stderr;
}

function ofKind(objects: Obj[], kind: string): Obj[] {
    return objects.filter((o) => o.kind === kind);
}

function one(objects: Obj[], kind: string, name: string): Obj {
    const found = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
    assert.strictEqual(found.length, 1, `expected exactly one ${kind} ${name}, found ${found.length} among ${names(objects).join(", ")}`);
    return found[0];
}

function names(objects: Obj[]): string[] {
    return objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
}

/** True when every key of `selector` has the same value in `labels`. */
function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
    return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function defaultRoute(vs: Obj): Obj {
    const routes: Obj[] = vs.spec.http;
    const route = routes.find((r) => r.name === "default");
    assert.ok(route, "VirtualService has a route named default");
    assert.strictEqual(routes[routes.length - 1], route, "the default route is the last route");
    return route;
}

/** subset -> weight of the default route. */
function weights(vs: Obj): Record<string, number> {
    return Object.fromEntries(defaultRoute(vs).route.map((d: Obj) => [d.destination.subset, d.weight]));
}

/** Every destination a VirtualService names: route destinations of every http route, and mirrors. */
function destinations(vs: Obj): Obj[] {
    return vs.spec.http.flatMap((r: Obj) => [...r.route.map((d: Obj) => d.destination), ...(r.mirror ? [r.mirror] : [])]);
}

/** The Deployments whose pods a DestinationRule subset selects: Service selector AND subset labels. */
function deploymentsOfSubset(objects: Obj[], subset: string): Obj[] {
    const service = one(objects, "Service", "checkout");
    const dr = one(objects, "DestinationRule", "checkout");
    const s = dr.spec.subsets.find((x: Obj) => x.name === subset);
    assert.ok(s, `DestinationRule has subset ${subset}`);
    const selector = { ...service.spec.selector, ...s.labels };
    return ofKind(objects, "Deployment").filter((d) => selects(selector, d.spec.template.metadata.labels));
}

function container(deployment: Obj): Obj {
    const containers: Obj[] = deployment.spec.template.spec.containers;
    assert.strictEqual(containers.length, 1, `${deployment.metadata.name} has one container`);
    return containers[0];
}

// ------------------------------------------------------------------------------------------------

describe("charts/service", () => {
    it("passes helm lint --strict with its default values", () => {
        const result = helm(["lint", "--strict", CHART]);
        const output = result.stdout + result.stderr;
        assert.strictEqual(result.status, 0, output);
        assert.doesNotMatch(output, /\[(WARNING|ERROR)\]/, output);
    });

    it("renders a valid idle release from its default values alone", () => {
        const objects = renderValid({});
        assert.deepStrictEqual(names(objects), [
            "Deployment/example-canary",
            "Deployment/example-production",
            "DestinationRule/example",
            "Service/example",
            "ServiceAccount/example",
            "Telemetry/example-canary",
            "Telemetry/example-production",
            "VirtualService/example",
        ]);
        assert.deepStrictEqual(weights(one(objects, "VirtualService", "example")), { production: 100 });
    });

    // Expected state of each stage, written out by hand: [production tag, replicas, weight], [canary tag, replicas, weight].
    type Row = { stage: number; production: [string, number, number]; canary: [string, number, number] };
    const cases: { title: string; steps?: number[]; replicas: number; rows: Row[] }[] = [
        {
            title: "the default steps [10, 90, 100] (6 stages)",
            replicas: 3,
            rows: [
                { stage: 1, production: ["01", 3, 100], canary: ["02", 0, 0] },
                { stage: 2, production: ["01", 3, 90], canary: ["02", 2, 10] },
                { stage: 3, production: ["01", 3, 10], canary: ["02", 3, 90] },
                { stage: 4, production: ["01", 3, 0], canary: ["02", 3, 100] },
                { stage: 5, production: ["02", 3, 0], canary: ["02", 3, 100] },
                { stage: 6, production: ["02", 3, 100], canary: ["02", 3, 0] },
            ],
        },
        {
            title: "the steps [10, 25, 50, 75, 100] (8 stages)",
            steps: [10, 25, 50, 75, 100],
            replicas: 4,
            rows: [
                { stage: 1, production: ["01", 4, 100], canary: ["02", 0, 0] },
                { stage: 2, production: ["01", 4, 90], canary: ["02", 2, 10] },
                { stage: 3, production: ["01", 4, 75], canary: ["02", 2, 25] },
                { stage: 4, production: ["01", 4, 50], canary: ["02", 2, 50] },
                { stage: 5, production: ["01", 4, 25], canary: ["02", 3, 75] },
                { stage: 6, production: ["01", 4, 0], canary: ["02", 4, 100] },
                { stage: 7, production: ["02", 4, 0], canary: ["02", 4, 100] },
                { stage: 8, production: ["02", 4, 100], canary: ["02", 4, 0] },
            ],
        },
    ];

    for (const c of cases) {
        describe(`every stage of ${c.title}, with values from stagehand's planner`, () => {
            const raw = rawService({ replicas: c.replicas, ...(c.steps ? { steps: c.steps } : {}) });
            const service = parseServices("test", { checkout: raw }).checkout;
            const plans = stagePlans(service);
            // Rendered once per stage, shared by the tests below.
            const rendered: Obj[][] = [];
            const renderStage = (i: number): Obj[] => (rendered[i] ??= renderValid(chartValues("checkout", service, plans[i])));

            it(`plans ${c.rows.length} stages`, () => {
                assert.strictEqual(plans.length, c.rows.length);
            });

            for (const [i, row] of c.rows.entries()) {
                it(`stage ${row.stage}: production ${row.production[2]}% -> ${row.production[0]} x${row.production[1]}, canary ${row.canary[2]}% -> ${row.canary[0]} x${row.canary[1]}`, () => {
                    const objects = renderStage(i);
                    const vs = one(objects, "VirtualService", "checkout");
                    const dr = one(objects, "DestinationRule", "checkout");
                    const service = one(objects, "Service", "checkout");

                    // Traffic: only tracks with weight > 0 are routed, with exactly the expected weights.
                    const expected: Record<string, number> = {};
                    for (const track of TRACKS) if (row[track][2] > 0) expected[track] = row[track][2];
                    assert.deepStrictEqual(weights(vs), expected);

                    // Every destination is the in-mesh host on the Service's port, in a subset the DR defines.
                    const subsets = dr.spec.subsets.map((s: Obj) => s.name);
                    assert.strictEqual(dr.spec.host, FQDN);
                    for (const d of destinations(vs)) {
                        assert.ok(subsets.includes(d.subset), `subset ${d.subset} is defined by the DestinationRule (${subsets})`);
                        assert.strictEqual(d.host, FQDN);
                        assert.strictEqual(d.port.number, service.spec.ports[0].port);
                    }

                    // Each subset selects exactly the Deployment of its track, running the expected tag and size.
                    for (const track of TRACKS) {
                        const [tag, replicas] = row[track];
                        const selected = deploymentsOfSubset(objects, track);
                        assert.deepStrictEqual(selected.map((d) => d.metadata.name), [`checkout-${track}`]);
                        assert.strictEqual(container(selected[0]).image, `${REPO}:${tag}`, `${track} image`);
                        assert.strictEqual(selected[0].spec.replicas, replicas, `${track} replicas`);
                    }

                    // The stage is on the routing objects, never on a track's Deployment (its release changes only with its pods).
                    assert.strictEqual(vs.metadata.annotations["stagehand.dev/stage"], String(row.stage));
                    assert.strictEqual(one(objects, "Deployment", "checkout-production").metadata.annotations, undefined);
                });
            }

            it("never changes a Deployment's selector, and rolls a track's pods only when its tag changes", () => {
                const templates: Record<string, Obj> = {};
                for (const [i, row] of c.rows.entries()) {
                    for (const track of TRACKS) {
                        const d = one(renderStage(i), "Deployment", `checkout-${track}`);
                        assert.deepStrictEqual(d.spec.selector, {
                            matchLabels: { "app.kubernetes.io/name": "checkout", "app.kubernetes.io/instance": "checkout", track },
                        });
                        // Same tag => byte-identical pod template: a stage change alone restarts no pod.
                        const key = `${track}:${row[track][0]}`;
                        if (templates[key]) assert.deepStrictEqual(d.spec.template, templates[key], `${key} pod template at stage ${row.stage}`);
                        else templates[key] = d.spec.template;
                    }
                }
            });
        });
    }

    describe("parts", () => {
        const base = () => merge(liveCanaryValues(), { tracks: { canary: { replicas: 2 } }, autoscaling: { canary: { enabled: true } } });
        const only = (part: "production" | "canary" | "routing", releaseName = `checkout-${part}`) =>
            renderValid(merge(base(), { parts: { production: part === "production", canary: part === "canary", routing: part === "routing" } }), releaseName);

        it("routing only: Service, DestinationRule and VirtualService, no workload", () => {
            assert.deepStrictEqual(names(only("routing")), ["DestinationRule/checkout", "Service/checkout", "VirtualService/checkout"]);
        });

        it("canary only: the canary Deployment with its PDB and HPA", () => {
            assert.deepStrictEqual(names(only("canary")), [
                "Deployment/checkout-canary",
                "HorizontalPodAutoscaler/checkout-canary",
                "PodDisruptionBudget/checkout-canary",
                "Telemetry/checkout-canary",
            ]);
        });

        it("production only: the production Deployment, its PDB, and the ServiceAccount", () => {
            assert.deepStrictEqual(names(only("production")), [
                "Deployment/checkout-production",
                "PodDisruptionBudget/checkout-production",
                "ServiceAccount/checkout",
                "Telemetry/checkout-production",
            ]);
        });

        it("the three single-part releases together render exactly the full release, each object once", () => {
            const parts = [...only("production"), ...only("canary"), ...only("routing")];
            const full = renderValid(base(), "checkout");
            const key = (o: Obj) => `${o.kind}/${o.metadata.name}`;
            assert.deepStrictEqual(names(parts), names(full));
            const byKey = new Map(full.map((o) => [key(o), o]));
            for (const o of parts) assert.deepStrictEqual(o, byKey.get(key(o)), key(o));
        });

        it("names objects after fullnameOverride, whatever the release name", () => {
            const a = names(render(base(), "checkout"));
            const b = names(render(base(), "some-other-release"));
            assert.deepStrictEqual(a, b);
        });
    });

    describe("span tags (Telemetry per track)", () => {
        const telemetry = (objects: Obj[], track: Track) => one(objects, "Telemetry", `checkout-${track}`);
        const tags = (t: Obj) => Object.fromEntries(Object.entries(t.spec.tracing[0].customTags as Record<string, Obj>).map(([k, v]) => [k, v.literal.value]));

        it("tags every span of each track's pods with the track and its tag, selecting exactly that track's Deployment", () => {
            const objects = renderValid(liveCanaryValues());
            for (const track of TRACKS) {
                const t = telemetry(objects, track);
                const deployment = one(objects, "Deployment", `checkout-${track}`);
                assert.deepStrictEqual(tags(t), { "stagehand.track": track, "stagehand.tag": deployment.spec.template.spec.containers[0].image.split(":").pop() });
                // The selector picks this track's pods and not the other track's.
                const other = one(objects, "Deployment", `checkout-${track === "canary" ? "production" : "canary"}`);
                assert.ok(selects(t.spec.selector.matchLabels, deployment.spec.template.metadata.labels));
                assert.ok(!selects(t.spec.selector.matchLabels, other.spec.template.metadata.labels));
            }
        });

        it("sets only customTags: provider and sampling stay the mesh-wide Telemetry's", () => {
            for (const track of TRACKS) assert.deepStrictEqual(Object.keys(telemetry(renderValid(liveCanaryValues()), track).spec.tracing[0]), ["customTags"]);
        });

        it("carries a digest as the tag unchanged", () => {
            const objects = renderValid(merge(liveCanaryValues(), { tracks: { canary: { tag: DIGEST } } }));
            assert.strictEqual(tags(telemetry(objects, "canary"))["stagehand.tag"], DIGEST);
        });

        it("a new canary tag changes the canary's Telemetry, not production's", () => {
            const a = renderValid(liveCanaryValues());
            const b = renderValid(merge(liveCanaryValues(), { tracks: { canary: { tag: "9.9.9" } } }));
            assert.strictEqual(tags(telemetry(b, "canary"))["stagehand.tag"], "9.9.9");
            assert.deepStrictEqual(telemetry(a, "production").spec, telemetry(b, "production").spec);
        });

        it("tracing.trackTags: false renders none (a team with its own Telemetry for these pods)", () => {
            assert.deepStrictEqual(ofKind(renderValid(merge(liveCanaryValues(), { tracing: { trackTags: false } })), "Telemetry"), []);
        });

        it("the schema refuses an unknown tracing key", () => {
            assert.match(renderError(merge(liveCanaryValues(), { tracing: { trackTag: true } })), /trackTag/);
        });
    });

    describe("VirtualService", () => {
        it("mirrors mirrorPercent of the default route to the canary subset while the canary is live", () => {
            const vs = one(renderValid(merge(liveCanaryValues(), { routing: { mirrorPercent: 20 } })), "VirtualService", "checkout");
            const route = defaultRoute(vs);
            assert.deepStrictEqual(route.mirror, { host: FQDN, subset: "canary", port: { number: 80 } });
            assert.deepStrictEqual(route.mirrorPercentage, { value: 20 });
        });

        it("does not mirror when mirrorPercent is 0, or when the canary takes all traffic", () => {
            const cases = [
                liveCanaryValues(),
                merge(liveCanaryValues(), { routing: { mirrorPercent: 20 }, tracks: { production: { weight: 0 }, canary: { weight: 100, replicas: 3 } } }),
            ];
            for (const values of cases) {
                const route = defaultRoute(one(renderValid(values), "VirtualService", "checkout"));
                assert.strictEqual(route.mirror, undefined);
                assert.strictEqual(route.mirrorPercentage, undefined);
            }
        });

        const matches = [{ headers: { "x-canary": { exact: "true" } } }, { queryParams: { canary: { exact: "1" } } }];

        it("routes canaryMatches 100% to the canary in a first route, before the weighted default route", () => {
            const vs = one(renderValid(merge(liveCanaryValues(), { routing: { canaryMatches: matches } })), "VirtualService", "checkout");
            assert.deepStrictEqual(
                vs.spec.http.map((r: Obj) => r.name),
                ["canary-match", "default"],
            );
            const first = vs.spec.http[0];
            assert.deepStrictEqual(first.match, matches);
            assert.deepStrictEqual(first.route, [{ destination: { host: FQDN, subset: "canary", port: { number: 80 } }, weight: 100 }]);
            assert.deepStrictEqual(weights(vs), { production: 90, canary: 10 });
        });

        it("refuses a mirror or a canary-match route onto a canary with 0 replicas when it renders the whole service", () => {
            assert.match(renderError(merge(idleValues(), { routing: { canaryMatches: matches } })), /refusing to route requests matching routing\.canaryMatches to track canary which has 0 replicas/);
            assert.match(renderError(merge(idleValues(), { routing: { mirrorPercent: 20 } })), /refusing to mirror 20% of requests to track canary which has 0 replicas/);
        });

        it("a routing release of its own renders routes from its routing values alone (it carries no replica counts)", () => {
            const routingOnly = { ...liveCanaryValues(), parts: { production: false, canary: false, routing: true }, routing: { mirrorPercent: 20, canaryMatches: matches } };
            delete (routingOnly as any).stagehand;
            // The canary's replica count is not the routing release's to know (here the chart default, 0).
            const vs = one(renderValid(merge(routingOnly, { tracks: { production: { weight: 90 }, canary: { weight: 10, replicas: 0 } } })), "VirtualService", "checkout");
            assert.deepStrictEqual(vs.spec.http.map((r: Obj) => r.name), ["canary-match", "default"]);
            assert.deepStrictEqual(defaultRoute(vs).mirrorPercentage, { value: 20 });
        });

        it("lists the in-mesh hosts plus istio.hosts, binds gateways plus mesh, and applies timeout and retries to every route", () => {
            const values = merge(liveCanaryValues(), {
                routing: { canaryMatches: matches },
                istio: {
                    gateways: ["istio-ingress/stagehand-gateway"],
                    hosts: ["checkout.acme.example"],
                    timeout: "10s",
                    retries: { attempts: 3, perTryTimeout: "2s", retryOn: "5xx,reset" },
                    trafficPolicy: { connectionPool: { http: { http1MaxPendingRequests: 100 } } },
                },
            });
            const objects = renderValid(values);
            const vs = one(objects, "VirtualService", "checkout");
            assert.deepStrictEqual(vs.spec.hosts, ["checkout", FQDN, "checkout.acme.example"]);
            assert.deepStrictEqual(vs.spec.gateways, ["istio-ingress/stagehand-gateway", "mesh"]);
            for (const r of vs.spec.http) {
                assert.strictEqual(r.timeout, "10s");
                assert.deepStrictEqual(r.retries, { attempts: 3, perTryTimeout: "2s", retryOn: "5xx,reset" });
            }
            const dr = one(objects, "DestinationRule", "checkout");
            assert.deepStrictEqual(dr.spec.trafficPolicy, { connectionPool: { http: { http1MaxPendingRequests: 100 } } });
        });

        it("has no gateways (mesh only) by default, and keeps both DestinationRule subsets whatever the weights", () => {
            const objects = renderValid(idleValues());
            assert.strictEqual(one(objects, "VirtualService", "checkout").spec.gateways, undefined);
            assert.deepStrictEqual(one(objects, "DestinationRule", "checkout").spec.subsets, [
                { name: "production", labels: { track: "production" } },
                { name: "canary", labels: { track: "canary" } },
            ]);
        });
    });

    describe("workloads", () => {
        it("runs a digest tag as repo@sha256:..., with a label-safe version label", () => {
            const objects = renderValid(merge(liveCanaryValues(), { tracks: { canary: { tag: DIGEST } } }));
            const canary = one(objects, "Deployment", "checkout-canary");
            assert.strictEqual(container(canary).image, `${REPO}@${DIGEST}`);
            assert.strictEqual(container(one(objects, "Deployment", "checkout-production")).image, `${REPO}:01`);
            const version = canary.spec.template.metadata.labels.version;
            assert.ok(version.startsWith("sha256-0123456789abcdef") && version.length <= 63, version);
        });

        it("keeps a track with 0 replicas as a Deployment with replicas: 0", () => {
            const canary = one(renderValid(idleValues()), "Deployment", "checkout-canary");
            assert.strictEqual(canary.spec.replicas, 0);
        });

        it("renders an HPA only when enabled and the track has replicas, and keeps the Deployment's planned replicas", () => {
            const objects = renderValid(
                merge(liveCanaryValues(), {
                    tracks: { production: { replicas: 12 } },
                    autoscaling: { production: { enabled: true, maxReplicas: 10, targetCPUUtilizationPercentage: 70 } },
                }),
            );
            const hpa = one(objects, "HorizontalPodAutoscaler", "checkout-production");
            assert.deepStrictEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "checkout-production" });
            assert.strictEqual(hpa.spec.minReplicas, 12);
            assert.strictEqual(hpa.spec.maxReplicas, 12, "maxReplicas = max(maxReplicas, replicas)");
            assert.strictEqual(hpa.spec.metrics[0].resource.target.averageUtilization, 70);
            // Helm waits for the planned pods before weight moves; the field never goes (Kubernetes would reset it to 1).
            assert.strictEqual(one(objects, "Deployment", "checkout-production").spec.replicas, 12, "the planned replicas, HPA or not");
            assert.strictEqual(one(objects, "Deployment", "checkout-canary").spec.replicas, 1, "canary HPA disabled");
            assert.strictEqual(ofKind(objects, "HorizontalPodAutoscaler").length, 1);

            const live = one(renderValid(merge(liveCanaryValues(), { autoscaling: { canary: { enabled: true } } })), "HorizontalPodAutoscaler", "checkout-canary");
            assert.deepStrictEqual([live.spec.minReplicas, live.spec.maxReplicas], [1, 10]);

            const idle = renderValid(merge(idleValues(), { autoscaling: { canary: { enabled: true } } }));
            assert.strictEqual(ofKind(idle, "HorizontalPodAutoscaler").length, 0, "no HPA for a track with 0 replicas");
            assert.strictEqual(one(idle, "Deployment", "checkout-canary").spec.replicas, 0);
        });

        it("renders a PDB per track that can have two pods or more (planned, or by its HPA), selecting only that track's pods", () => {
            const objects = renderValid(liveCanaryValues()); // production x3, canary x1
            assert.deepStrictEqual(names(ofKind(objects, "PodDisruptionBudget")), ["PodDisruptionBudget/checkout-production"]);
            const pdb = one(objects, "PodDisruptionBudget", "checkout-production");
            assert.strictEqual(pdb.spec.maxUnavailable, 1);
            assert.strictEqual(pdb.spec.unhealthyPodEvictionPolicy, "AlwaysAllow", "a pod that is not ready never holds a drain");
            const selected = ofKind(objects, "Deployment").filter((d) => selects(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels));
            assert.deepStrictEqual(selected.map((d) => d.metadata.name), ["checkout-production"]);

            const two = renderValid(merge(liveCanaryValues(), { tracks: { canary: { replicas: 2 } } }));
            assert.strictEqual(ofKind(two, "PodDisruptionBudget").length, 2);
            const off = renderValid(merge(liveCanaryValues(), { podDisruptionBudget: { enabled: false } }));
            assert.strictEqual(ofKind(off, "PodDisruptionBudget").length, 0);
            // One planned pod that its HPA may scale out: the budget (maxUnavailable 1) follows the live count.
            const scaled = renderValid(merge(liveCanaryValues(), { autoscaling: { canary: { enabled: true, maxReplicas: 4 } } }));
            assert.strictEqual(one(scaled, "PodDisruptionBudget", "checkout-canary").spec.maxUnavailable, 1);
            const single = renderValid(merge(liveCanaryValues(), { autoscaling: { canary: { enabled: true, maxReplicas: 1 } } }));
            assert.deepStrictEqual(names(ofKind(single, "PodDisruptionBudget")), ["PodDisruptionBudget/checkout-production"], "one pod at most: no budget");
            const idle = renderValid(merge(idleValues(), { autoscaling: { canary: { enabled: true, maxReplicas: 4 } } }));
            assert.deepStrictEqual(names(ofKind(idle, "PodDisruptionBudget")), ["PodDisruptionBudget/checkout-production"], "no pods: no budget");
        });

        it("rolls out with zero downtime: maxUnavailable 0, readiness on http, a preStop sleep of drainSeconds", () => {
            const objects = renderValid(liveCanaryValues());
            for (const d of ofKind(objects, "Deployment")) {
                assert.deepStrictEqual(d.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } });
                const c = container(d);
                assert.deepStrictEqual(c.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
                assert.strictEqual(c.readinessProbe.httpGet.port, "http");
                assert.strictEqual(c.livenessProbe.httpGet.port, "http");
                assert.deepStrictEqual(c.lifecycle, { preStop: { sleep: { seconds: 5 } } });
                assert.strictEqual(d.spec.template.spec.terminationGracePeriodSeconds, 30);
            }
            const noDrain = one(renderValid(merge(liveCanaryValues(), { drainSeconds: 0 })), "Deployment", "checkout-production");
            assert.strictEqual(container(noDrain).lifecycle, undefined);
        });

        it("routes the Service's http port to both tracks' pods, for Istio to split by subset", () => {
            const objects = renderValid(liveCanaryValues());
            const service = one(objects, "Service", "checkout");
            assert.deepStrictEqual(service.spec.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP", appProtocol: "http" }]);
            const selected = ofKind(objects, "Deployment").filter((d) => selects(service.spec.selector, d.spec.template.metadata.labels));
            assert.deepStrictEqual(selected.map((d) => d.metadata.name).sort(), ["checkout-canary", "checkout-production"]);
        });

        it("labels pods for Istio (app, version, sidecar injection) and never lets podLabels override its selectors", () => {
            const objects = renderValid(merge(liveCanaryValues(), { podLabels: { team: "payments", track: "hijacked", app: "other" } }));
            const labels = one(objects, "Deployment", "checkout-canary").spec.template.metadata.labels;
            assert.strictEqual(labels.track, "canary");
            assert.strictEqual(labels.app, "checkout");
            assert.strictEqual(labels.version, "02");
            assert.strictEqual(labels["sidecar.istio.io/inject"], "true");
            assert.strictEqual(labels.team, "payments");
        });

        it("keeps stage annotations off Deployments and pod templates, so a stage change alone touches no workload", () => {
            const objects = renderValid(merge(liveCanaryValues(), { podAnnotations: { "prometheus.io/scrape": "true" } }));
            for (const d of ofKind(objects, "Deployment")) {
                assert.strictEqual(d.metadata.annotations, undefined);
                assert.deepStrictEqual(d.spec.template.metadata.annotations, { "prometheus.io/scrape": "true" });
            }
            for (const kind of ["Service", "DestinationRule", "VirtualService"]) {
                assert.strictEqual(one(objects, kind, "checkout").metadata.annotations["stagehand.dev/stage"], "2", kind);
            }
        });

        it("renders env (sorted by name) then extraEnv", () => {
            const extra = { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } };
            const objects = renderValid(merge(liveCanaryValues(), { env: { LOG_LEVEL: "debug", A_FLAG: "true", PORT_OFFSET: "01" }, extraEnv: [extra] }));
            assert.deepStrictEqual(container(one(objects, "Deployment", "checkout-production")).env, [
                { name: "A_FLAG", value: "true" },
                { name: "LOG_LEVEL", value: "debug" },
                { name: "PORT_OFFSET", value: "01" },
                extra,
            ]);
        });

        it("runs every container as non-root, without privilege escalation, dropping ALL capabilities", () => {
            const objects = renderValid(liveCanaryValues());
            const deployments = ofKind(objects, "Deployment");
            assert.strictEqual(deployments.length, 2);
            for (const d of deployments) {
                const pod = d.spec.template.spec;
                assert.strictEqual(pod.securityContext.runAsNonRoot, true);
                assert.deepStrictEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
                for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
                    const sc = c.securityContext;
                    assert.strictEqual(sc.runAsNonRoot, true, `${d.metadata.name}/${c.name} runAsNonRoot`);
                    assert.strictEqual(sc.allowPrivilegeEscalation, false, `${d.metadata.name}/${c.name} allowPrivilegeEscalation`);
                    assert.ok(sc.capabilities.drop.includes("ALL"), `${d.metadata.name}/${c.name} drops ALL`);
                    assert.strictEqual(sc.readOnlyRootFilesystem, true);
                    assert.ok(!sc.privileged);
                    // The read-only root filesystem comes with a writable /tmp.
                    const tmp = c.volumeMounts.find((m: Obj) => m.mountPath === "/tmp");
                    assert.ok(tmp && pod.volumes.find((v: Obj) => v.name === tmp.name)?.emptyDir, "/tmp is an emptyDir");
                }
            }
        });
    });

    describe("values schema and guard rails", () => {
        const rejects: [string, Values, RegExp][] = [
            ["the tag latest", { tracks: { production: { tag: "latest" } } }, /\/tracks\/production\/tag/],
            ["a tag with a bad character", { tracks: { canary: { tag: "1.0+build" } } }, /\/tracks\/canary\/tag/],
            ["a short digest", { tracks: { canary: { tag: "sha256:abc" } } }, /\/tracks\/canary\/tag/],
            ["weight 101", { tracks: { production: { weight: 0 }, canary: { weight: 101 } } }, /\/tracks\/canary\/weight/],
            ["replicas -1", { tracks: { canary: { replicas: -1 } } }, /\/tracks\/canary\/replicas/],
            ["fractional replicas", { tracks: { production: { replicas: 1.5 } } }, /\/tracks\/production\/replicas/],
            ["a negative port", { port: -1 }, /\/port/],
            ["a service port above 65535", { service: { port: 70000 } }, /\/service\/port/],
            ["a missing image.repository", { image: { repository: null } }, /\/image.*repository/],
            ["an image repository with a tag", { image: { repository: "ghcr.io/acme/checkout:1.0" } }, /\/image\/repository/],
            ["a fullnameOverride that is not a DNS label", { fullnameOverride: "Checkout_API" }, /\/fullnameOverride/],
            ["mirrorPercent 101", { routing: { mirrorPercent: 101 } }, /\/routing\/mirrorPercent/],
            ["an unknown top-level key", { replicaCount: 3 }, /additional properties 'replicaCount'/],
            ["a misspelt track key", { tracks: { canary: { replica: 1 } } }, /\/tracks\/canary.*'replica'/],
            ["a missing parts flag", { parts: { routing: null } }, /\/parts.*routing/],
            ["allowPrivilegeEscalation true", { containerSecurityContext: { allowPrivilegeEscalation: true } }, /\/containerSecurityContext\/allowPrivilegeEscalation/],
            ["capabilities not dropping ALL", { containerSecurityContext: { capabilities: { drop: ["NET_RAW"] } } }, /\/containerSecurityContext\/capabilities\/drop/],
            ["runAsNonRoot false", { podSecurityContext: { runAsNonRoot: false } }, /\/podSecurityContext\/runAsNonRoot/],
        ];
        for (const [what, override, field] of rejects) {
            it(`rejects ${what}, naming the field`, () => {
                assert.match(renderError(merge(liveCanaryValues(), override)), field);
            });
        }

        it("fails when the weights do not add up to 100", () => {
            const stderr = renderError(merge(liveCanaryValues(), { tracks: { production: { weight: 80 } } }));
            assert.match(stderr, /tracks\.production\.weight \(80\) \+ tracks\.canary\.weight \(10\) = 90: the weights must add up to 100/);
        });

        it("refuses to route traffic to a track with 0 replicas when one release renders the whole service", () => {
            const stderr = renderError(merge(liveCanaryValues(), { tracks: { canary: { replicas: 0 } } }));
            assert.match(stderr, /refusing to route 10% to track canary which has 0 replicas/);
            assert.match(renderError(merge(liveCanaryValues(), { tracks: { production: { replicas: 0 } } })), /refusing to route 90% to track production which has 0 replicas/);
            // Split into a release per part, no release holds the whole plan: stagehand checks it before registering
            // anything (components/service/stages.ts `planProblems`, and the policy pack's service-traffic-routes-ready-tracks).
            for (const parts of [
                { production: false, canary: false, routing: true },
                { production: false, canary: true, routing: false },
            ]) {
                renderValid(merge(liveCanaryValues(), { tracks: { canary: { replicas: 0 } }, parts }));
            }
        });

        it("fails when the preStop sleep would take the whole termination grace period", () => {
            assert.match(renderError(merge(liveCanaryValues(), { drainSeconds: 30 })), /drainSeconds \(30\) must be less than terminationGracePeriodSeconds \(30\)/);
        });

        it("accepts digests, registry ports and team overrides of the defaults", () => {
            renderValid(
                merge(liveCanaryValues(), {
                    image: { repository: "registry.internal:5000/team/checkout" },
                    tracks: { production: { tag: DIGEST }, canary: { tag: "v2.0.0-rc.1_build" } },
                    resources: { requests: { cpu: "0.5", memory: "1Gi" }, limits: { cpu: 2, memory: "2Gi" } },
                    podDisruptionBudget: { maxUnavailable: "50%" },
                    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway" }],
                }),
            );
        });
    });

    it("prints NOTES with the stage, its description, the weights and each track's tag and pods", () => {
        const notesOf = (values: Values) => {
            const result = helm(["install", "checkout", CHART, "--namespace", NS, "--dry-run=client", "--values", "-"], JSON.stringify(values));
            assert.strictEqual(result.status, 0, result.stderr);
            return result.stdout.slice(result.stdout.indexOf("NOTES:"));
        };
        const notes = notesOf(liveCanaryValues());
        assert.match(notes, /checkout: stage 2\/6 canary 10% \(canary\)/);
        assert.match(notes, /stage 2\/6 canary 10%: 90% -> 01 \(production x3\), 10% -> 02 \(canary x1\)/);
        assert.match(notes, /Traffic: +production 90%, +canary 10%\n/);
        assert.match(notes, /Production: 01 x3\nCanary: +02 x1\n/);
        assert.match(notes, /kubectl -n shop get virtualservice,destinationrule checkout/);
        // A track's own release speaks only of its track: no stage, no weights.
        const canaryOnly = notesOf(merge(liveCanaryValues(), { parts: { production: false, canary: true, routing: false } }));
        assert.doesNotMatch(canaryOnly, /stage 2|Traffic/);
        assert.match(canaryOnly, /Canary: +02 x1\nThis release renders: canary\n/);
    });
});
