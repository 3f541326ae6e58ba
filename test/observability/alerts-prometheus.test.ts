// The alerts end to end with real servers on loopback: the rules stagehand makes for a stack (components/observability/
// alerts.ts) loaded by a real Prometheus (Debian's 2.42, as the verdict's test), which scrapes a stand-in of Istio's
// sidecars (test/helpers/istio-exporter.ts) and sends what fires to a real Alertmanager (Debian's
// prometheus-alertmanager 0.25) running the configuration stagehand writes into its Secret
// (components/observability/alertmanager.ts), which delivers to a local HTTP server standing for a webhook and for
// Slack (whose URL is the receiver's secret). Nothing is canned: a wrong query, label, threshold, route or receiver
// and no alert arrives, or the wrong one does.
//
// Timing: the canaries' verdict window is 1m, so the last HISTORY_MS of every series is backfilled before Prometheus
// starts (as the verdict's test does), then scraped every second; rules are evaluated every second and fire after
// 2 s (the generator's parameters; production's are DEFAULT_ALERT_OPTIONS), Alertmanager groups for 1 s.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { parseStackConfig } from "../../components/config";
import { alertmanagerConfigFile } from "../../components/observability/alertmanager";
import { ALERTS, alertRules } from "../../components/observability/alerts";
import { ensureAlertmanager, HttpReceiver, RunningAlertmanager, startAlertmanager, startHttpReceiver } from "../helpers/alertmanager";
import { backfilledHistory, IstioExporter, startIstioExporter, Workload } from "../helpers/istio-exporter";
import { ensurePrometheus, INSTALL_TIMEOUT_MS, READY_TIMEOUT_MS, RunningPrometheus, startPrometheus } from "../helpers/prometheus";

const HISTORY_MS = 90_000;
const SCRAPE_JOB = "istio-mesh";
const SLACK_TOKEN = "T000/B000/slack-secret-token";

const track = (service: string, namespace: string, t: "production" | "canary", version: string, requests: Workload["requests"]): Workload => ({
    service,
    namespace,
    workload: `${service}-${t}`,
    version,
    requests,
});
const WORKLOADS: Workload[] = [
    // payments at canary 10%: its canary answers 5% 503s (30 of 600 a minute), above the 1% maximum.
    track("payments", "payments", "production", "0.9.7", [{ perMinute: 5400, code: 200, latencyMs: 40 }]),
    track("payments", "payments", "canary", "0.10.0", [
        { perMinute: 30, code: 503, latencyMs: 2 },
        { perMinute: 570, code: 200, latencyMs: 40 },
    ]),
    // checkout at canary 10%, healthy: 0.5% 5xx, a p95 under 100 ms.
    track("checkout", "shop", "production", "1.4.2", [{ perMinute: 5400, code: 200, latencyMs: 40 }]),
    track("checkout", "shop", "canary", "1.5.0", [
        { perMinute: 3, code: 503, latencyMs: 2 },
        { perMinute: 597, code: 200, latencyMs: 40 },
    ]),
];

const stackConfig = (hook: string) =>
    parseStackConfig("mesh", {
        services: {
            payments: { image: "ghcr.io/acme/payments", stable: "0.9.7", canary: "0.10.0", stage: 2, replicas: 4, verdict: { window: "1m" } },
            checkout: { image: "ghcr.io/acme/checkout", namespace: "shop", stable: "1.4.2", canary: "1.5.0", stage: 2, replicas: 4, verdict: { window: "1m" } },
        },
        observability: {
            prometheus: { enabled: true },
            alertmanager: {
                enabled: true,
                for: "2s",
                groupWait: "1s",
                groupInterval: "1s",
                receivers: [
                    { name: "releases-hook", type: "webhook", url: `${hook}/webhook` },
                    // The credential as the program holds it: the stack file's ciphertext and the value Pulumi decrypted.
                    { name: "team-slack", type: "slack", url: { secure: "v1:ciphertext", value: `${hook}/slack/${SLACK_TOKEN}` }, channel: "#payments", services: ["payments"], severities: ["critical"] },
                ],
            },
        },
    });

describe("alerts against a real Prometheus and a real Alertmanager (observability/alerts.ts, alertmanager.ts)", function () {
    this.timeout(40_000);

    let dir: string;
    let exporter: IstioExporter | undefined;
    let prometheus: RunningPrometheus | undefined;
    let alertmanager: RunningAlertmanager | undefined;
    let receiver: HttpReceiver | undefined;

    before(async function () {
        this.timeout(2 * INSTALL_TIMEOUT_MS + 60_000 + 2 * READY_TIMEOUT_MS);
        const bin = await ensurePrometheus();
        const am = await ensureAlertmanager();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-alerts-"));
        receiver = await startHttpReceiver();
        const config = stackConfig(receiver.url);
        alertmanager = await startAlertmanager(am.alertmanager, { dir, config: stringify(alertmanagerConfigFile(config.observability.alertmanager)) });

        const rulesFile = path.join(dir, "alerting_rules.yml");
        fs.writeFileSync(rulesFile, stringify(alertRules("mesh", config.planned, { for: config.observability.alertmanager.for, interval: "1s", gatewayMaxErrorRate: 0.05, gatewayWindow: "1m" })));

        const historyTo = Math.floor(Date.now() / 1000) * 1000;
        const origin = historyTo - 3_600_000;
        exporter = await startIstioExporter(WORKLOADS, origin);
        const tsdb = await backfilledHistory(bin.promtool, dir, WORKLOADS, exporter, SCRAPE_JOB, origin, historyTo - HISTORY_MS, historyTo);
        prometheus = await startPrometheus(bin.prometheus, {
            dir,
            tsdbDir: tsdb,
            // An alert firing before the notifier has its Alertmanager is dropped; it is sent again after this delay.
            extraArgs: ["--rules.alert.resend-delay=1s"],
            config: stringify({
                global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
                rule_files: [rulesFile],
                alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager.target] }] }] },
                scrape_configs: [{ job_name: SCRAPE_JOB, static_configs: [{ targets: [exporter.target] }] }],
            }),
        });
    });

    after(async function () {
        this.timeout(30_000);
        await prometheus?.stop();
        await alertmanager?.stop();
        await exporter?.close();
        await receiver?.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const firing = (d: { body: any }, service: string) => Array.isArray(d.body?.alerts) && d.body.alerts.some((a: any) => a.status === "firing" && a.labels.service === service);

    it("a failing canary's error rate fires, and the webhook receives it naming the stack, service, stage, tags and the rollback", async () => {
        const delivery = await receiver!.waitFor((d) => d.path === "/webhook" && firing(d, "payments"), 25_000).catch(async (e) => {
            // What each server holds, for the failure message: the alerts Prometheus fired and Alertmanager received.
            const fired = JSON.stringify(await prometheus!.query("ALERTS"));
            const received = await (await fetch(`${alertmanager!.url}/api/v2/alerts`)).text();
            throw new Error(`${e.message}\nPrometheus fired: ${fired}\nAlertmanager holds: ${received}\nPrometheus logged:\n${prometheus!.log()}\nAlertmanager logged:\n${alertmanager!.log()}`);
        });
        const alert = delivery.body.alerts.find((a: any) => a.labels.service === "payments");
        assert.strictEqual(delivery.body.receiver, "releases-hook");
        assert.deepStrictEqual(alert.labels, {
            alertname: ALERTS.errorRate,
            severity: "critical",
            stack: "mesh",
            service: "payments",
            namespace: "payments",
            stage: "2",
            stage_name: "canary 10%",
            canary_weight: "10",
            production_tag: "0.9.7",
            production_revision: "0.9.7",
            canary_tag: "0.10.0",
            canary_revision: "0.10.0",
        });
        assert.strictEqual(alert.annotations.summary, "canary of payments in mesh answers 5% 5xx, above 1%");
        assert.match(alert.annotations.rollback, /^set `stage: 1` for services\.payments in Pulumi\.mesh\.yaml \(stable stays 0\.9\.7\)/);
        assert.strictEqual(alert.annotations.verdict, "npm run verdict -- mesh payments");
    });

    it("Slack gets it at the URL of the receiver's secret, as Slack's message with the rollback", async () => {
        const delivery = await receiver!.waitFor((d) => d.path.startsWith("/slack/"), 25_000);
        assert.strictEqual(delivery.path, `/slack/${SLACK_TOKEN}`);
        assert.strictEqual(delivery.body.channel, "#payments");
        const text = delivery.body.attachments.map((a: any) => a.text).join("\n");
        assert.match(text, /canary of payments in mesh answers 5% 5xx, above 1%\nrollback: set `stage: 1` for services\.payments in Pulumi\.mesh\.yaml/);
    });

    it("the healthy canary fires nothing: only payments' error rate is firing in Prometheus", async () => {
        const alerts = await prometheus!.query('ALERTS{alertstate="firing"}');
        assert.deepStrictEqual(
            alerts.map((a: any) => `${a.metric.alertname} ${a.metric.service}`),
            [`${ALERTS.errorRate} payments`],
        );
        // Nothing of checkout reached a receiver either (a Slack receiver filtered to payments gets nothing else).
        assert.ok(!receiver!.deliveries.some((d) => firing(d, "checkout")), JSON.stringify(receiver!.deliveries));
    });
});
