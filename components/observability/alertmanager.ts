// Pure: what Alertmanager runs with — its configuration file (receivers and routing, credentials included) and the
// values of the prometheus chart's alertmanager subchart that mount it from a Kubernetes Secret.
//
// The credentials never reach a ConfigMap, Helm's values or the plan: the subchart's own ConfigMap is off
// (`config.enabled: false`), the Observability component writes the file into the Secret ALERTMANAGER_SECRET
// (marked secret in Pulumi's state), and the subchart mounts it (`extraSecretMounts`) and points `--config.file` at it.
// A change of it rolls the pod through a fingerprint made of the ciphertexts, never the values (ALERTMANAGER_CONFIG_ANNOTATION).
// Alertmanager runs in `observability`, not beside Prometheus: the viewers' port-forward into Prometheus's namespace
// (./access.ts) must not reach it (silences, the alerts' contents).
import { createHash } from "crypto";
import { canonical } from "../shared/field-diff";
import { OBSERVABILITY_NAMESPACE } from "../shared/namespaces";
import { AlertmanagerConfig, ReceiverConfig, receiverSecrets } from "./alerting-config";

/** Alertmanager's Service: `alertmanager.observability:9093`, which Prometheus sends its alerts to. */
export const ALERTMANAGER_SERVICE = { name: "alertmanager", port: 9093 } as const;
export const ALERTMANAGER_NAMESPACE = OBSERVABILITY_NAMESPACE;
export const ALERTMANAGER_TARGET = `${ALERTMANAGER_SERVICE.name}.${ALERTMANAGER_NAMESPACE}:${ALERTMANAGER_SERVICE.port}`;
/** The Secret holding `alertmanager.yml`, and where the pod mounts it. */
export const ALERTMANAGER_SECRET = { name: "alertmanager-config", key: "alertmanager.yml", mountPath: "/etc/alertmanager-secret" } as const;
/** Requests and limits of Alertmanager: one small Go process. */
export const ALERTMANAGER_RESOURCES = { requests: { cpu: "25m", memory: "64Mi" }, limits: { memory: "128Mi" } } as const;
/** Its volume (silences and the notification log survive a restart); EBS gp3's smallest. */
export const ALERTMANAGER_VOLUME_GI = 1;
/** A fingerprint of its configuration on the pod: a change of receivers or routing restarts it with the new file. */
export const ALERTMANAGER_CONFIG_ANNOTATION = "stagehand.dev/alertmanager-config";
/** The receiver of alerts no route takes (a receiver filtered by severity or service): nothing is sent. */
export const UNROUTED_RECEIVER = "stagehand-unrouted";
/** How alerts are grouped into one notification: one per alert, stack, service and stage. */
export const GROUP_BY = ["alertname", "stack", "service", "stage"] as const;

/** A notification's text: each alert's summary and the rollback to make. Alertmanager's Go templates. */
const TEXT = '{{ range .Alerts }}{{ .Annotations.summary }}\nrollback: {{ .Annotations.rollback }}\n{{ end }}';

/** A credential's decrypted value; the program has it for every secret it was given (index.ts checks first). */
function plain(r: ReceiverConfig, field: string): string {
    const v = (r as Record<string, unknown>)[field];
    if (typeof v === "string") return v;
    const secret = receiverSecrets(r)[field];
    if (secret?.value === undefined) throw new Error(`receiver ${r.name}: ${field} is a secret without its decrypted value`);
    return secret.value;
}

/** One receiver in Alertmanager's configuration. */
function receiverConfig(r: ReceiverConfig): Record<string, unknown> {
    switch (r.type) {
        case "slack":
            return { name: r.name, slack_configs: [{ api_url: plain(r, "url"), ...(r.channel ? { channel: r.channel } : {}), send_resolved: true, text: TEXT }] };
        case "pagerduty":
            return { name: r.name, pagerduty_configs: [{ routing_key: plain(r, "routingKey"), send_resolved: true, description: '{{ .CommonAnnotations.summary }}' }] };
        case "email":
            return {
                name: r.name,
                email_configs: [
                    { to: r.to, from: r.from, smarthost: r.smarthost, ...(r.username ? { auth_username: r.username, auth_password: plain(r, "password") } : {}), send_resolved: true },
                ],
            };
        case "webhook":
            return { name: r.name, webhook_configs: [{ url: plain(r, "url"), send_resolved: true }] };
    }
}

const anyOf = (values: readonly string[]) => values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");

/**
 * Alertmanager's configuration file (as an object, for YAML): every receiver, and a route per receiver taking the
 * alerts of its severities and services (`continue`: each receiver gets its own copy). Holds the decrypted
 * credentials: only for the Secret, never for the plan or the logs.
 */
export function alertmanagerConfigFile(config: AlertmanagerConfig): Record<string, unknown> {
    return {
        route: {
            receiver: UNROUTED_RECEIVER,
            group_by: [...GROUP_BY],
            group_wait: config.groupWait,
            group_interval: config.groupInterval,
            repeat_interval: config.repeatInterval,
            routes: config.receivers.map((r) => {
                const matchers: string[] = [];
                if (r.severities) matchers.push(`severity=~"${anyOf(r.severities)}"`);
                if (r.services) matchers.push(`service=~"${anyOf(r.services)}"`);
                return { receiver: r.name, ...(matchers.length > 0 ? { matchers } : {}), continue: true };
            }),
        },
        receivers: [{ name: UNROUTED_RECEIVER }, ...config.receivers.map(receiverConfig)],
    };
}

/** The receivers in words, without a credential: `oncall (pagerduty, critical)`. What plan and the stack output show. */
export function receiverWords(config: AlertmanagerConfig): string[] {
    return config.receivers.map((r) => {
        const filters = [r.severities?.join("/"), r.services ? `services ${r.services.join(", ")}` : undefined].filter((f) => f !== undefined);
        const where = r.type === "slack" && r.channel ? ` ${r.channel}` : r.type === "email" ? ` to ${r.to}` : "";
        return `${r.name} (${r.type}${where}${filters.length > 0 ? `, ${filters.join(", ")}` : ""})`;
    });
}

/** The fingerprint of Alertmanager's configuration: secrets by their ciphertext, so it names no credential. */
export function alertmanagerFingerprint(config: AlertmanagerConfig): string {
    return createHash("sha256").update(canonical(config)).digest("hex").slice(0, 16);
}

/** Values of the prometheus chart's `alertmanager` subchart. */
export function alertmanagerValues(config: AlertmanagerConfig, storageClass?: string): Record<string, unknown> {
    return {
        enabled: true,
        fullnameOverride: ALERTMANAGER_SERVICE.name,
        namespaceOverride: ALERTMANAGER_NAMESPACE,
        service: { port: ALERTMANAGER_SERVICE.port },
        // No ConfigMap: the configuration, credentials included, is the Secret's.
        config: { enabled: false },
        extraSecretMounts: [{ name: "config-secret", mountPath: ALERTMANAGER_SECRET.mountPath, secretName: ALERTMANAGER_SECRET.name, readOnly: true }],
        extraArgs: { "config.file": `${ALERTMANAGER_SECRET.mountPath}/${ALERTMANAGER_SECRET.key}` },
        // It calls no Kubernetes API.
        automountServiceAccountToken: false,
        persistence: { enabled: true, size: `${ALERTMANAGER_VOLUME_GI}Gi`, ...(storageClass ? { storageClass } : {}) },
        resources: { requests: { ...ALERTMANAGER_RESOURCES.requests }, limits: { ...ALERTMANAGER_RESOURCES.limits } },
        podLabels: { "sidecar.istio.io/inject": "false" },
        podAnnotations: { [ALERTMANAGER_CONFIG_ANNOTATION]: alertmanagerFingerprint(config) },
        // The links in notifications open Alertmanager through the port-forward README gives.
        baseURL: `http://127.0.0.1:${ALERTMANAGER_SERVICE.port}`,
    };
}
