// The alert rules of a stack (components/observability/alerts.ts): which canaries get rules and why, what each alert
// names, the verdict's own PromQL in them, and Prometheus's own tools on the generated file — `promtool check rules`,
// and `promtool test rules` with production's evaluation interval and `for` over series of failing and healthy canaries.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { parseStackConfig } from "../../components/config";
import { ALERTS, alertRuleCounts, alertRules, canaryRules, DEFAULT_ALERT_OPTIONS, GATEWAY_WORKLOAD } from "../../components/observability/alerts";
import { INGRESS_RELEASE } from "../../components/platform/istio";
import { trackQueries } from "../../components/service/verdict";
import { ensurePrometheus, INSTALL_TIMEOUT_MS, runTool } from "../helpers/prometheus";

const SERVICES = {
    // canary 10%: rules. Its p95 is also judged against production's (maxLatencyIncrease).
    payments: { image: "ghcr.io/acme/payments", stable: "0.9.7", canary: "0.10.0", stage: 2, replicas: 4, verdict: { maxLatencyIncrease: 1.2 } },
    // idle: the canary serves nothing.
    catalog: { image: "ghcr.io/acme/catalog", stable: "2.3.1", stage: 1, replicas: 3 },
    // shadow: mirrored copies only, their answers dropped.
    search: { image: "ghcr.io/acme/search", stable: "3.1.0", canary: "3.2.0", shadow: { percent: 20 }, stage: 2, replicas: 3 },
    // promote: the canary takes all traffic while production rolls.
    reviews: { image: "ghcr.io/acme/reviews", stable: "5.0.0", canary: "5.1.0", stage: 5, replicas: 3, verdict: { window: "5m", minRequests: 50, maxErrorRate: 0.02, maxP95LatencyMs: 300 } },
    // switch back: weight 0, the canary drains.
    ratings: { image: "ghcr.io/acme/ratings", stable: "2.0.0", canary: "2.1.0", stage: 6, replicas: 3 },
};
const config = parseStackConfig("prod", { services: SERVICES });
const byService = (name: string) => config.planned.find((p) => p.name === name)!;

describe("alert rules (components/observability/alerts.ts)", () => {
    it("one group per canary serving users' traffic (canary stages, promote), none for idle, shadow or switch back, and the gateway's", () => {
        const file = alertRules("prod", config.planned);
        assert.deepStrictEqual(
            file.groups.map((g) => [g.name, g.interval, g.rules.map((r) => r.alert)]),
            [
                ["stagehand-canary-payments", "1m", [ALERTS.errorRate, ALERTS.latency, ALERTS.latencyIncrease, ALERTS.noTraffic]],
                ["stagehand-canary-reviews", "1m", [ALERTS.errorRate, ALERTS.latency, ALERTS.noTraffic]],
                ["stagehand-ingress-gateway", "1m", [ALERTS.gateway]],
            ],
        );
        assert.deepStrictEqual(alertRuleCounts("prod", config.planned), { catalog: 0, payments: 4, ratings: 0, reviews: 3, search: 0 });
    });

    it("each alert names the stack, service, stage, tags and revisions, its severity, the rollback and the verdict command", () => {
        const [errors, , , noTraffic] = canaryRules("prod", byService("payments"));
        assert.deepStrictEqual(errors.labels, {
            stack: "prod",
            service: "payments",
            namespace: "payments",
            stage: "2",
            stage_name: "canary 10%",
            canary_weight: "10",
            production_tag: "0.9.7",
            production_revision: "0.9.7",
            canary_tag: "0.10.0",
            canary_revision: "0.10.0",
            severity: "critical",
        });
        assert.strictEqual(noTraffic.labels.severity, "warning");
        assert.strictEqual(errors.for, "5m");
        assert.strictEqual(
            errors.annotations.rollback,
            "set `stage: 1` for services.payments in Pulumi.prod.yaml (stable stays 0.9.7) and merge it as a pull request; `npm run plan -- prod --diff` shows the rollback: all traffic back to production, the canary scaled to 0",
        );
        assert.strictEqual(errors.annotations.verdict, "npm run verdict -- prod payments");
        const [promoteErrors] = canaryRules("prod", byService("reviews"));
        assert.deepStrictEqual([promoteErrors.labels.stage, promoteErrors.labels.stage_name, promoteErrors.labels.canary_weight], ["5", "promote", "100"]);
    });

    it("uses the verdict's own queries and the service's thresholds (one source of truth)", () => {
        const [errors, latency, increase, noTraffic] = canaryRules("prod", byService("payments"));
        const canary = trackQueries("payments", "payments", "canary", "10m");
        const production = trackQueries("payments", "payments", "production", "10m");
        assert.strictEqual(
            errors.expr,
            `((${canary.errors}) / (${canary.requests}) > 0.01 and (${canary.requests}) >= 100) or ((${canary.errors}) / (${canary.requests}) and (${canary.errors}) / 100 > 0.01 and (${canary.requests}) < 100)`,
        );
        assert.strictEqual(latency.expr, `(${canary.p95}) > 500 and (${canary.requests}) >= 100`);
        assert.strictEqual(increase.expr, `(${canary.p95}) > 1.2 * (${production.p95}) and (${canary.requests}) >= 100 and (${production.requests}) >= 100`);
        assert.strictEqual(noTraffic.expr, `(${canary.requests} or vector(0)) < 100 and ((${production.requests} or vector(0)) + (${canary.requests} or vector(0))) * 0.1 >= 100`);
        const [reviewErrors] = canaryRules("prod", byService("reviews"));
        assert.ok(reviewErrors.expr.includes(trackQueries("reviews", "reviews", "canary", "5m").errors));
        assert.ok(reviewErrors.expr.includes("> 0.02 and") && reviewErrors.expr.includes(">= 50"), reviewErrors.expr);
    });

    it("watches the gateway stagehand installs: its Deployment is the Istio gateway release", () => {
        assert.strictEqual(GATEWAY_WORKLOAD, INGRESS_RELEASE);
    });

    describe("Prometheus's own tools on the generated rules", function () {
        let promtool: string;
        let dir: string;
        before(async function () {
            this.timeout(INSTALL_TIMEOUT_MS + 10_000);
            promtool = (await ensurePrometheus()).promtool;
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-rules-"));
        });
        after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

        it("promtool check rules accepts them", async () => {
            const file = path.join(dir, "alerting_rules.yml");
            fs.writeFileSync(file, stringify(alertRules("prod", config.planned)));
            const { stdout } = await runTool(promtool, ["check", "rules", file]);
            assert.match(stdout, /SUCCESS: 8 rules found/);
        });

        it("promtool check rules refuses a broken rule file (the check can fail)", async () => {
            const file = path.join(dir, "broken.yml");
            const rules = alertRules("prod", config.planned);
            rules.groups[0].rules[0].expr = rules.groups[0].rules[0].expr.replace("sum(", "sum((");
            fs.writeFileSync(file, stringify(rules));
            await assert.rejects(runTool(promtool, ["check", "rules", file]), /parse error|unclosed/i);
        });

        it("promtool test rules: with production's 1m evaluation and 5m `for`, a failing canary and a failing gateway fire, a healthy canary does not", async () => {
            const rulesFile = path.join(dir, "production_rules.yml");
            fs.writeFileSync(rulesFile, stringify(alertRules("prod", config.planned, DEFAULT_ALERT_OPTIONS)));
            const dest = (service: string, track: string, code: number) =>
                `istio_requests_total{reporter="destination",destination_workload_namespace="${service}",destination_workload="${service}-${track}",response_code="${code}"}`;
            const gateway = (code: number) => `istio_requests_total{reporter="source",source_workload="${GATEWAY_WORKLOAD}",source_workload_namespace="istio-ingress",response_code="${code}"}`;
            const test = {
                rule_files: [rulesFile],
                evaluation_interval: "1m",
                tests: [
                    {
                        interval: "1m",
                        input_series: [
                            // payments' canary: 30 503s in 600 requests a minute (5%), production healthy.
                            { series: dest("payments", "canary", 200), values: "0+570x40" },
                            { series: dest("payments", "canary", 503), values: "0+30x40" },
                            { series: dest("payments", "production", 200), values: "0+5400x40" },
                            // reviews' canary (promote, window 5m): 1 503 in 600 a minute, under its 2%.
                            { series: dest("reviews", "canary", 200), values: "0+599x40" },
                            { series: dest("reviews", "canary", 503), values: "0+1x40" },
                            // The gateway: 10% 5xx.
                            { series: gateway(200), values: "0+900x40" },
                            { series: gateway(503), values: "0+100x40" },
                        ],
                        alert_rule_test: [
                            // Pending, not firing, 3 minutes in: `for` is 5m.
                            { eval_time: "3m", alertname: ALERTS.errorRate, exp_alerts: [] },
                            { eval_time: "3m", alertname: ALERTS.gateway, exp_alerts: [] },
                            {
                                eval_time: "15m",
                                alertname: ALERTS.errorRate,
                                exp_alerts: [
                                    {
                                        exp_labels: canaryRules("prod", byService("payments"))[0].labels,
                                        exp_annotations: {
                                            summary: "canary of payments in prod answers 5% 5xx, above 1%",
                                            description:
                                                "payments (stack prod, namespace payments) at stage 2/6 canary 10%, canary 0.10.0 taking 10% of requests: its 5xx rate over the last 10m is 5%, above the verdict's maximum 1%.",
                                            rollback: canaryRules("prod", byService("payments"))[0].annotations.rollback,
                                            verdict: "npm run verdict -- prod payments",
                                        },
                                    },
                                ],
                            },
                            {
                                eval_time: "15m",
                                alertname: ALERTS.gateway,
                                exp_alerts: [{ exp_labels: { stack: "prod", service: GATEWAY_WORKLOAD, namespace: "istio-ingress", severity: "critical" }, exp_annotations: alertRules("prod", config.planned).groups[2].rules[0].annotations }],
                            },
                            { eval_time: "15m", alertname: ALERTS.noTraffic, exp_alerts: [] },
                        ],
                    },
                ],
            };
            // The gateway's annotations are templates: what they render to at 10%.
            const gatewayAlert = test.tests[0].alert_rule_test[3].exp_alerts[0] as any;
            gatewayAlert.exp_annotations = Object.fromEntries(Object.entries(gatewayAlert.exp_annotations as Record<string, string>).map(([k, v]) => [k, v.replace(/\{\{ \$value \| humanizePercentage \}\}/g, "10%")]));
            const testFile = path.join(dir, "rules_test.yml");
            fs.writeFileSync(testFile, stringify(test));
            const result = await runTool(promtool, ["test", "rules", testFile]).catch((e) => e);
            assert.ok(!(result instanceof Error), String(result?.message));
            assert.match(result.stdout, /SUCCESS/);
        });
    });
});
