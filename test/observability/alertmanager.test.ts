// Alertmanager (components/observability/alerting-config.ts, alertmanager.ts): the config's refusals in words, the
// receivers' credentials as Pulumi secrets only, the configuration file and its routes (checked by Alertmanager's own
// amtool), the prometheus chart rendered by the real helm with the program's values (schema-valid, the credentials in
// no ConfigMap), and what the program registers under Pulumi's mocks.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { parseStackConfig } from "../../components/config";
import { estimateMonthlyCost } from "../../components/cost/cost";
import { alertmanagerConfigFile, alertmanagerFingerprint, ALERTMANAGER_CONFIG_ANNOTATION, ALERTMANAGER_NAMESPACE, receiverWords } from "../../components/observability/alertmanager";
import { undecryptedReceiverSecrets } from "../../components/observability/alerting-config";
import { alertRules } from "../../components/observability/alerts";
import { parseObservability } from "../../components/observability/config";
import { observabilityReleases, PROMETHEUS_CONFIG_ANNOTATION } from "../../components/observability/values";
import { parseCluster } from "../../components/platform/config";
import { platformFieldChanges, PlatformRevision } from "../../components/platform/platform-diff";
import { ConfigError } from "../../components/shared/errors";
import { misplacedSecrets } from "../../components/shared/secrets";
import { findSecrets } from "../../policies/secrets";
import { alertingLines } from "../../scripts/plan";
import { diffStack } from "../../scripts/diff";
import { readStackConfig } from "../../scripts/stack-file";
import { ensureAlertmanager } from "../helpers/alertmanager";
import { containersOf, one, renderRelease } from "../helpers/charts";
import { dependencyNames, ofType, runProgram } from "../helpers/mocks";
import { INSTALL_TIMEOUT_MS, runTool } from "../helpers/prometheus";
import { validateObject } from "../helpers/schemas";
import { podSecurityViolations, podSpecOf } from "../helpers/pod-security";
import { PLATFORM_NAMESPACE_LEVELS } from "../../components/shared/pod-security";

const SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/slack-secret-token";
const PD_KEY = "pagerduty-secret-routing-key";
const SMTP_PASSWORD = "smtp-secret-password";
const secret = (id: string, value?: string) => ({ secure: `v1:${id}`, ...(value === undefined ? {} : { value }) });

const RECEIVERS = [
    { name: "oncall", type: "pagerduty", routingKey: secret("pd", PD_KEY), severities: ["critical"] },
    { name: "releases", type: "slack", url: secret("slack", SLACK_URL), channel: "#releases" },
    { name: "mail", type: "email", to: "payments@acme.example", from: "alerts@acme.example", smarthost: "smtp.acme.example:587", username: "alerts", password: secret("smtp", SMTP_PASSWORD), services: ["checkout"] },
    { name: "audit", type: "webhook", url: "https://audit.acme.example/alerts" },
];
const ALERTING = { prometheus: { enabled: true }, alertmanager: { enabled: true, receivers: RECEIVERS } };
const SERVICES = { checkout: { image: "ghcr.io/acme/checkout", stable: "1.0.0", canary: "1.1.0", stage: 2, replicas: 2 } };

function problems(raw: unknown, services: Record<string, unknown> = SERVICES): string[] {
    try {
        parseStackConfig("prod", { services, observability: raw });
        return [];
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return e.problems;
    }
}

describe("stagehand:observability.alertmanager config", () => {
    it("absent: off, with its defaults; on: the receivers as written, credentials kept as secrets", () => {
        assert.deepStrictEqual(parseObservability("prod", {}).alertmanager, { enabled: false, for: "5m", gatewayMaxErrorRate: 0.05, groupWait: "30s", groupInterval: "5m", repeatInterval: "4h", receivers: [] });
        const am = parseObservability("prod", ALERTING).alertmanager;
        assert.deepStrictEqual((am.receivers[1] as any).url, secret("slack", SLACK_URL));
    });

    it("refuses a credential in plain text without repeating it, naming the field and the command that sets it", () => {
        const found = problems({ prometheus: { enabled: true }, alertmanager: { enabled: true, receivers: [{ name: "releases", type: "slack", url: SLACK_URL }, { name: "oncall", type: "pagerduty", routingKey: PD_KEY }] } });
        assert.deepStrictEqual(found, [
            "stack prod, field observability.alertmanager.receivers[0].url: expected Slack's incoming-webhook URL as a Pulumi secret, written with `pulumi config set --secret --path 'stagehand:observability.alertmanager.receivers[<index>].<field>' <value>`, found a plain value (not repeated here: a credential does not belong in the stack file in plain text)",
            "stack prod, field observability.alertmanager.receivers[1].routingKey: expected the PagerDuty Events API v2 integration (routing) key as a Pulumi secret, written with `pulumi config set --secret --path 'stagehand:observability.alertmanager.receivers[<index>].<field>' <value>`, found a plain value (not repeated here: a credential does not belong in the stack file in plain text)",
        ]);
        assert.ok(!found.join("\n").includes("slack-secret-token") && !found.join("\n").includes(PD_KEY));
    });

    it("says what else is wrong: no receivers, Prometheus off, an unknown service, a name twice, SMTP user without password, an unknown type", () => {
        assert.deepStrictEqual(problems({ prometheus: { enabled: true }, alertmanager: { enabled: true } }), [
            "stack prod, field observability.alertmanager.receivers: expected at least one receiver while alertmanager.enabled is true (alerts nobody receives page nobody), found []",
        ]);
        assert.deepStrictEqual(problems({ alertmanager: { enabled: true, receivers: [RECEIVERS[3]] } }), [
            "stack prod, field observability.alertmanager.enabled: expected false unless prometheus.enabled is true (the alert rules are evaluated by that Prometheus), found true",
        ]);
        assert.deepStrictEqual(
            problems({
                prometheus: { enabled: true },
                alertmanager: {
                    enabled: true,
                    receivers: [
                        { ...RECEIVERS[3], services: ["chekout"] },
                        { ...RECEIVERS[3] },
                        { name: "mail", type: "email", to: "a@acme.example", from: "b@acme.example", smarthost: "smtp.acme.example:587", username: "alerts" },
                        { name: "teams", type: "msteams", url: "https://x" },
                    ],
                },
            }),
            [
                "stack prod, field observability.alertmanager.receivers[3].type: expected a receiver: {name, type: slack|pagerduty|email|webhook, …} (docs/observability.md \"Alerts\"), found an object",
            ],
        );
        assert.deepStrictEqual(
            problems({
                prometheus: { enabled: true },
                alertmanager: {
                    enabled: true,
                    receivers: [{ ...RECEIVERS[3], services: ["chekout"] }, { ...RECEIVERS[3] }, { name: "mail", type: "email", to: "a@acme.example", from: "b@acme.example", smarthost: "smtp.acme.example:587", username: "alerts" }],
                },
            }),
            [
                "stack prod, field observability.alertmanager.receivers[1].name: expected each receiver name once, found \"audit\"",
                "stack prod, field observability.alertmanager.receivers[2].password: expected `username` and `password` together (SMTP authentication), or neither, found nothing (the field is missing)",
            ],
        );
        assert.deepStrictEqual(problems({ prometheus: { enabled: true }, alertmanager: { enabled: true, receivers: [{ ...RECEIVERS[3], services: ["chekout"] }] } }), [
            "stack prod, field observability.alertmanager.receivers[0].services[0]: expected a service of this stack (checkout), found \"chekout\"",
        ]);
    });

    it("takes secrets only as receivers' credentials; says which the program was not given the value of", () => {
        assert.deepStrictEqual(misplacedSecrets("prod", { observability: { alertmanager: { receivers: [{ url: secret("a"), channel: secret("b") }], groupWait: secret("c") } } }), [
            "stack prod, field stagehand:observability.alertmanager.receivers.0.channel: expected a plain value (secrets are accepted only as env values: services.<service>.env.<NAME>, or services.<service>.canary.env.<NAME>, and as alert receivers' credentials: observability.alertmanager.receivers[<index>].url, .routingKey or .password), found a secret (secure:)",
            "stack prod, field stagehand:observability.alertmanager.groupWait: expected a plain value (secrets are accepted only as env values: services.<service>.env.<NAME>, or services.<service>.canary.env.<NAME>, and as alert receivers' credentials: observability.alertmanager.receivers[<index>].url, .routingKey or .password), found a secret (secure:)",
        ]);
        const am = parseObservability("prod", { prometheus: { enabled: true }, alertmanager: { enabled: true, receivers: [{ name: "oncall", type: "pagerduty", routingKey: secret("pd") }] } }).alertmanager;
        assert.deepStrictEqual(undecryptedReceiverSecrets("prod", am), [
            "stack prod, field observability.alertmanager.receivers[0].routingKey (receiver oncall): expected a secret Pulumi decrypts (set it with `pulumi config set --secret --path 'stagehand:observability.alertmanager.receivers[0].routingKey' <value>`), found a ciphertext the program was not given the value of",
        ]);
    });
});

describe("Alertmanager's configuration (components/observability/alertmanager.ts)", () => {
    const am = parseObservability("prod", ALERTING).alertmanager;

    it("one route per receiver, each with its severities and services, every receiver getting its copy", () => {
        const file = alertmanagerConfigFile(am) as any;
        assert.deepStrictEqual(file.route, {
            receiver: "stagehand-unrouted",
            group_by: ["alertname", "stack", "service", "stage"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "4h",
            routes: [
                { receiver: "oncall", matchers: ['severity=~"critical"'], continue: true },
                { receiver: "releases", continue: true },
                { receiver: "mail", matchers: ['service=~"checkout"'], continue: true },
                { receiver: "audit", continue: true },
            ],
        });
        assert.deepStrictEqual(file.receivers.map((r: any) => r.name), ["stagehand-unrouted", "oncall", "releases", "mail", "audit"]);
        assert.strictEqual(file.receivers[1].pagerduty_configs[0].routing_key, PD_KEY);
        assert.strictEqual(file.receivers[2].slack_configs[0].api_url, SLACK_URL);
        assert.deepStrictEqual([file.receivers[3].email_configs[0].auth_username, file.receivers[3].email_configs[0].auth_password], ["alerts", SMTP_PASSWORD]);
    });

    it("in words, the receivers without a credential; the fingerprint follows the ciphertext, not the value", () => {
        assert.deepStrictEqual(receiverWords(am), ["oncall (pagerduty, critical)", "releases (slack #releases)", "mail (email to payments@acme.example, services checkout)", "audit (webhook)"]);
        const other = parseObservability("prod", { ...ALERTING, alertmanager: { ...ALERTING.alertmanager, receivers: [{ ...RECEIVERS[0], routingKey: secret("pd", "another value") }, ...RECEIVERS.slice(1)] } }).alertmanager;
        assert.strictEqual(alertmanagerFingerprint(other), alertmanagerFingerprint(am));
        const rotated = parseObservability("prod", { ...ALERTING, alertmanager: { ...ALERTING.alertmanager, receivers: [{ ...RECEIVERS[0], routingKey: secret("pd-rotated", PD_KEY) }, ...RECEIVERS.slice(1)] } }).alertmanager;
        assert.notStrictEqual(alertmanagerFingerprint(rotated), alertmanagerFingerprint(am));
    });

    it("amtool check-config accepts the file (Debian's Alertmanager 0.25)", async function () {
        this.timeout(INSTALL_TIMEOUT_MS + 20_000);
        const { amtool } = await ensureAlertmanager();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagehand-amtool-"));
        try {
            const file = path.join(dir, "alertmanager.yml");
            fs.writeFileSync(file, stringify(alertmanagerConfigFile(am)));
            const { stdout } = await runTool(amtool, ["check-config", file]);
            assert.match(stdout, /SUCCESS/);
            assert.match(stdout, /- 5 receivers/);
            // And it can fail: a route to a receiver that does not exist.
            const broken = alertmanagerConfigFile(am) as any;
            broken.route.routes[0].receiver = "nobody";
            fs.writeFileSync(file, stringify(broken));
            await assert.rejects(runTool(amtool, ["check-config", file]), /failed to validate/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the prometheus chart with Alertmanager on, rendered by the real helm", () => {
    const config = parseStackConfig("prod", { services: SERVICES, observability: ALERTING });
    const rules = alertRules("prod", config.planned);
    const [release] = observabilityReleases(config.observability, "gp3-encrypted", rules);
    const objects = renderRelease({ chart: release.chart, version: release.version, name: release.name, namespace: release.namespace, values: release.values });

    it("renders Alertmanager in observability, apart from Prometheus, mounting its configuration from the Secret", () => {
        const sts = one(objects, "StatefulSet", "alertmanager");
        assert.strictEqual(sts.metadata.namespace, "observability");
        assert.strictEqual(one(objects, "Service", "alertmanager").spec.ports.find((p: any) => p.name === "http").port, 9093);
        const [container] = containersOf(sts);
        assert.ok(container.args.includes("--config.file=/etc/alertmanager-secret/alertmanager.yml"), container.args.join(" "));
        assert.ok(container.args.includes("--web.external-url=http://127.0.0.1:9093"), container.args.join(" "));
        // One replica: no gossip port.
        assert.ok(!container.args.some((a: string) => a.startsWith("--cluster.")), container.args.join(" "));
        assert.deepStrictEqual(sts.spec.template.spec.volumes.find((v: any) => v.name === "config-secret"), { name: "config-secret", secret: { secretName: "alertmanager-config" } });
        assert.deepStrictEqual(container.resources.requests, { cpu: "25m", memory: "64Mi" });
        assert.strictEqual(sts.spec.template.metadata.annotations[ALERTMANAGER_CONFIG_ANNOTATION], alertmanagerFingerprint(config.observability.alertmanager));
        assert.strictEqual(sts.spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
        assert.deepStrictEqual(sts.spec.volumeClaimTemplates[0].spec, { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "gp3-encrypted" });
        for (const o of objects) validateObject(o);
        // Its namespace enforces baseline (components/shared/pod-security.ts): the pod passes it.
        assert.deepStrictEqual(podSecurityViolations(podSpecOf(sts)!, PLATFORM_NAMESPACE_LEVELS[ALERTMANAGER_NAMESPACE] ?? "baseline"), []);
    });

    it("no credential in any ConfigMap, nor in the values; no ConfigMap of Alertmanager's at all", () => {
        const text = JSON.stringify(objects);
        for (const credential of [SLACK_URL, PD_KEY, SMTP_PASSWORD]) assert.ok(!text.includes(credential), `${credential} rendered`);
        assert.ok(!JSON.stringify(release.values).includes("secret-"), "a credential in the values");
        assert.deepStrictEqual(findSecrets(release.values, [], "values"), []);
        assert.deepStrictEqual(objects.filter((o) => o.kind === "ConfigMap").map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ["prometheus/prometheus"]);
    });

    it("Prometheus loads the rules, sends to alertmanager.observability:9093, and re-reads its files without the lifecycle API", () => {
        const cm = one(objects, "ConfigMap", "prometheus");
        assert.deepStrictEqual(parse(cm.data["alerting_rules.yml"]), rules);
        const prom = parse(cm.data["prometheus.yml"]);
        assert.ok(prom.rule_files.includes("/etc/config/alerting_rules.yml"));
        assert.deepStrictEqual(prom.alerting.alertmanagers, [{ static_configs: [{ targets: ["alertmanager.observability:9093"] }] }]);
        const server = containersOf(one(objects, "Deployment", "prometheus")).find((c) => c.image.startsWith("quay.io/prometheus/prometheus:"))!;
        assert.ok(server.args.includes("--enable-feature=auto-reload-config") && server.args.includes("--config.auto-reload-interval=30s"), server.args.join(" "));
        assert.ok(!server.args.includes("--web.enable-lifecycle"), server.args.join(" "));
    });

    it("a stage change changes the rules but not the fingerprint that rolls Prometheus's pod", () => {
        const later = parseStackConfig("prod", { services: { checkout: { ...SERVICES.checkout, stage: 3 } }, observability: ALERTING });
        const [laterRelease] = observabilityReleases(later.observability, "gp3-encrypted", alertRules("prod", later.planned));
        const annotation = (r: typeof release) => (r.values as any).server.podAnnotations[PROMETHEUS_CONFIG_ANNOTATION];
        assert.notDeepStrictEqual((laterRelease.values as any).serverFiles, (release.values as any).serverFiles);
        assert.strictEqual(annotation(laterRelease), annotation(release));
    });
});

describe("program with Alertmanager on (index.ts under Pulumi mocks)", () => {
    it("registers the Secret with the configuration before Prometheus's release; the release's values hold no credential", async () => {
        const { resources, outputs } = await runProgram("uat", { cluster: { kind: "existing" }, services: SERVICES, observability: ALERTING });
        const [secretResource] = ofType(resources, "kubernetes:core/v1:Secret").filter((r) => r.name === "observability-alertmanager-config");
        assert.ok(secretResource, "the Secret");
        assert.deepStrictEqual(secretResource.inputs.metadata, { name: "alertmanager-config", namespace: "observability", labels: { "app.kubernetes.io/managed-by": "stagehand" } });
        // The data reaches the engine as a secret (Pulumi's secret signature around the value): encrypted in the state.
        const SECRET_SIG = "4dabf18193072939515e22adb298388d";
        assert.strictEqual(secretResource.inputs.stringData[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
        const file = parse(secretResource.inputs.stringData.value["alertmanager.yml"]);
        assert.strictEqual(file.receivers.find((r: any) => r.name === "releases").slack_configs[0].api_url, SLACK_URL);
        const release = ofType(resources, "kubernetes:helm.sh/v3:Release").find((r) => r.name === "observability-prometheus")!;
        assert.ok(dependencyNames(release).includes("observability-alertmanager-config"), dependencyNames(release).join(", "));
        assert.ok(dependencyNames(secretResource).includes("observability-namespace-observability"));
        assert.ok(!JSON.stringify(release.inputs.values).includes(SLACK_URL));
        assert.strictEqual(release.inputs.values.serverFiles["alerting_rules.yml"].groups[0].name, "stagehand-canary-checkout");
        assert.deepStrictEqual(outputs.observability.alertmanager, {
            enabled: true,
            receivers: ["oncall (pagerduty, critical)", "releases (slack #releases)", "mail (email to payments@acme.example, services checkout)", "audit (webhook)"],
            portForward: "kubectl -n observability port-forward svc/alertmanager 9093:9093",
            open: "http://127.0.0.1:9093",
        });
    });
});

describe("what plan, the diff and the cost say about alerting", () => {
    const config = parseStackConfig("prod", { services: SERVICES, observability: ALERTING });

    it("plan: on, the receivers by name and type, and the rules per service", () => {
        assert.deepStrictEqual(alertingLines("prod", config.observability, config.planned), [
            "alerting in prod: on, Alertmanager sends to oncall (pagerduty, critical); releases (slack #releases); mail (email to payments@acme.example, services checkout); audit (webhook); firing after 5m",
            "  alert rules: checkout 3 (stage 2 canary 10%), ingress gateway 1 (5xx above 5%)",
        ]);
        const idle = parseStackConfig("prod", { services: { checkout: { ...SERVICES.checkout, stage: 1 } }, observability: ALERTING });
        assert.match(alertingLines("prod", idle.observability, idle.planned)[1], /checkout 0 \(no canary traffic at stage 1 idle\)/);
        assert.deepStrictEqual(alertingLines("prod", parseObservability("prod", {}), config.planned), ["alerting in prod: off (observability.alertmanager.enabled is false)"]);
    });

    it("the platform diff names each changed receiver field, a credential as [secret]", () => {
        const cluster = parseCluster("prod", { kind: "existing" });
        const revision = (observability: unknown): PlatformRevision => ({ cluster, observability: parseObservability("prod", observability), allowSkip: false, settleSeconds: 10 });
        const rotated = { ...ALERTING, alertmanager: { ...ALERTING.alertmanager, for: "10m", receivers: [{ ...RECEIVERS[0], routingKey: secret("pd-rotated", "new key") }, { ...RECEIVERS[1], channel: "#ops" }, RECEIVERS[2]] } };
        const lines = platformFieldChanges(revision(ALERTING), revision(rotated));
        assert.deepStrictEqual(lines, [
            "observability.alertmanager.for: 5m -> 10m",
            "observability.alertmanager.receivers[oncall].routingKey: [secret] -> [secret] (changed)",
            "observability.alertmanager.receivers[releases].channel: #releases -> #ops",
            "observability.alertmanager.receivers[audit]: removed",
        ]);
        assert.ok(!lines.join("\n").includes("v1:"), "no ciphertext");
        assert.deepStrictEqual(platformFieldChanges(revision({ prometheus: { enabled: true } }), revision(ALERTING)).slice(0, 3), [
            "observability.alertmanager.enabled: false -> true",
            "observability.alertmanager.receivers: [] -> (not set)",
            "observability.alertmanager.receivers[oncall]: added",
        ]);
    });

    it("the service diff names the alert rules a stage change brings or takes away, when alerting is on", () => {
        const at = (stage: number, observability: unknown = ALERTING) => ({ services: { checkout: { ...SERVICES.checkout, stage } }, observability });
        assert.deepStrictEqual(diffStack("prod", at(1), at(2)).map((d) => d.line), ["checkout: stage 1 -> 2, production 100% -> 90%, canary 0% -> 10%, canary replicas 0 -> 2, alert rules 0 -> 3"]);
        assert.deepStrictEqual(diffStack("prod", at(5), at(6)).map((d) => d.line), ["checkout: stage 5 -> 6, production 0% -> 100%, canary 100% -> 0%, alert rules 3 -> 0"]);
        // Between two canary stages the count stays: the rules follow the stage (their labels), nothing to add.
        assert.ok(!diffStack("prod", at(2), at(3))[0].line.includes("alert rules"));
        // Alerting off: no rules to speak of.
        assert.ok(!diffStack("prod", at(1, {}), at(2, {}))[0].line.includes("alert rules"));
    });

    it("the cost counts Alertmanager's pod and its volume", () => {
        const cluster = parseCluster("prod", readStackConfig("prod").cluster);
        const lines = estimateMonthlyCost(cluster, { observability: config.observability }).lines.map((l) => l.item);
        assert.ok(lines.includes("Alertmanager (share of a node)") && lines.includes("Alertmanager volume (EBS gp3)"), lines.join(", "));
    });
});
