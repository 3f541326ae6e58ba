// `stagehand:observability.alertmanager`: Alertmanager (the prometheus chart's alertmanager subchart) and where it
// sends the alerts of ./alerts.ts — Slack, PagerDuty, e-mail, webhooks. A receiver's credentials (Slack's webhook
// URL, PagerDuty's routing key, the SMTP password) are Pulumi secrets in the stack file, never plain text: the
// program writes them into a Kubernetes Secret (./alertmanager.ts), the plan and the diff read them `[secret]`.
// Pure.
import { z } from "zod";
import { RedactedInput } from "../shared/errors";
import { SecretValue } from "../shared/field-diff";
import { onOff, promDurationAtLeast } from "../shared/schema";

/** A Pulumi secret as the stack file holds it (`{secure}`), the program adding its decrypted `value`. */
const secretSchema = z.strictObject({ secure: z.string().min(1), value: z.string().optional() });

/** The fields of each receiver type that hold a credential: only these accept (and require) a secret. */
export const RECEIVER_CREDENTIALS = { slack: ["url"], pagerduty: ["routingKey"], email: ["password"], webhook: ["url"] } as const;

/**
 * A credential: a secret (`pulumi config set --secret --path …`). A plain string is refused without repeating it
 * (the error goes to CI logs); `plainAllowed` takes a plain value too (a webhook URL without a token in it).
 */
const credential = (what: string, plainAllowed = false) =>
    z.union([secretSchema, z.string()], { error: `${what} as a secret ({secure: …}, written by \`pulumi config set --secret --path\`)` }).superRefine((v, ctx) => {
        if (typeof v !== "string") return;
        if (plainAllowed) {
            if (!/^https?:\/\/[^\s/]+/.test(v)) ctx.addIssue({ code: "custom", input: v, message: `${what}: an http(s) URL` });
            return;
        }
        ctx.addIssue({
            code: "custom",
            input: new RedactedInput("a plain value (not repeated here: a credential does not belong in the stack file in plain text)"),
            message: `${what} as a Pulumi secret, written with \`pulumi config set --secret --path 'stagehand:observability.alertmanager.receivers[<index>].<field>' <value>\``,
        });
    });

const RECEIVER_NAME = /^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/;
const nameSchema = z.string({ error: "a receiver name of lower-case letters, digits, - and _ (e.g. oncall)" }).regex(RECEIVER_NAME, { error: "a receiver name of lower-case letters, digits, - and _ (e.g. oncall)" });
const SEVERITY_WORDS = "a list of severities, each critical or warning (absent: both)";
/** What a receiver is sent: alerts of these severities (default both) and of these services (default all, the gateway's included). */
const filters = {
    severities: z.array(z.enum(["critical", "warning"], { error: SEVERITY_WORDS }), { error: SEVERITY_WORDS }).min(1, { error: SEVERITY_WORDS }).optional(),
    services: z.array(z.string({ error: "a service name" }), { error: "a list of service names of this stack (absent: every service and the gateway)" }).min(1, { error: "at least one service (absent: all)" }).optional(),
};

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;
const emailAddress = z.string({ error: "an e-mail address such as releases@acme.example" }).regex(EMAIL, { error: "an e-mail address such as releases@acme.example" });

const receiverSchema = z.discriminatedUnion(
    "type",
    [
        z.strictObject({
            name: nameSchema,
            type: z.literal("slack"),
            url: credential("Slack's incoming-webhook URL"),
            channel: z.string({ error: "a Slack channel such as #releases" }).regex(/^[#@]?[^\s]+$/, { error: "a Slack channel such as #releases" }).optional(),
            ...filters,
        }),
        z.strictObject({ name: nameSchema, type: z.literal("pagerduty"), routingKey: credential("the PagerDuty Events API v2 integration (routing) key"), ...filters }),
        z.strictObject({
            name: nameSchema,
            type: z.literal("email"),
            to: emailAddress,
            from: emailAddress,
            smarthost: z.string({ error: "the SMTP server as host:port, e.g. smtp.acme.example:587" }).regex(/^[^\s:]+:\d+$/, { error: "the SMTP server as host:port, e.g. smtp.acme.example:587" }),
            username: z.string({ error: "the SMTP user name" }).min(1, { error: "the SMTP user name" }).optional(),
            password: credential("the SMTP password").optional(),
            ...filters,
        }),
        z.strictObject({ name: nameSchema, type: z.literal("webhook"), url: credential("the webhook's http(s) URL, plain or (when it carries a token) a secret", true), ...filters }),
    ],
    { error: "a receiver: {name, type: slack|pagerduty|email|webhook, …} (docs/observability.md \"Alerts\")" },
);

export type ReceiverConfig = z.output<typeof receiverSchema>;
export type ReceiverType = ReceiverConfig["type"];

const duration = (words: string, minMs = 1000) => promDurationAtLeast(minMs, words);
const rateWords = "a fraction of requests greater than 0 and below 1, e.g. 0.05 for 5%";

/** How long a canary's condition holds before its alert fires, unless the stack says otherwise. */
export const DEFAULT_ALERT_FOR = "5m";
/** The ingress gateway's 5xx share above which it alerts. */
export const DEFAULT_GATEWAY_MAX_ERROR_RATE = 0.05;
/** Alertmanager's grouping and repetition: Alertmanager's own defaults but a slower repeat (a release takes hours). */
export const DEFAULT_ROUTE = { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" } as const;

export const alertmanagerSchema = z
    .strictObject(
        {
            enabled: onOff.default(false),
            for: duration("a Prometheus duration such as \"5m\" (how long a condition holds before its alert fires)", 0).default(DEFAULT_ALERT_FOR),
            gatewayMaxErrorRate: z.number({ error: rateWords }).gt(0, { error: rateWords }).lt(1, { error: rateWords }).default(DEFAULT_GATEWAY_MAX_ERROR_RATE),
            groupWait: duration("a Prometheus duration such as \"30s\" (Alertmanager's group_wait)").default(DEFAULT_ROUTE.groupWait),
            groupInterval: duration("a Prometheus duration such as \"5m\" (Alertmanager's group_interval)").default(DEFAULT_ROUTE.groupInterval),
            repeatInterval: duration("a Prometheus duration such as \"4h\" (Alertmanager's repeat_interval)").default(DEFAULT_ROUTE.repeatInterval),
            receivers: z.array(receiverSchema, { error: "a list of receivers (docs/observability.md \"Alerts\")" }).default([]),
        },
        { error: "an object with `enabled`, `receivers` and optionally `for`, `gatewayMaxErrorRate`, `groupWait`, `groupInterval`, `repeatInterval`" },
    )
    .superRefine((a, ctx) => {
        if (a.enabled && a.receivers.length === 0) {
            ctx.addIssue({ code: "custom", path: ["receivers"], input: [], message: "at least one receiver while alertmanager.enabled is true (alerts nobody receives page nobody)" });
        }
        const seen = new Set<string>();
        a.receivers.forEach((r, i) => {
            if (seen.has(r.name)) ctx.addIssue({ code: "custom", path: ["receivers", i, "name"], input: r.name, message: "each receiver name once" });
            seen.add(r.name);
            if (r.type === "email" && (r.username === undefined) !== (r.password === undefined)) {
                ctx.addIssue({ code: "custom", path: ["receivers", i, r.username === undefined ? "username" : "password"], input: undefined, message: "`username` and `password` together (SMTP authentication), or neither" });
            }
        });
    });

export type AlertmanagerConfig = z.output<typeof alertmanagerSchema>;

/** Whether a secret's path inside `stagehand:observability` is a receiver's credential (components/shared/secrets.ts). */
export function receiverCredentialPath(path: readonly string[]): boolean {
    return path.length === 4 && path[0] === "alertmanager" && path[1] === "receivers" && /^\d+$/.test(path[2]) && ["url", "routingKey", "password"].includes(path[3]);
}

/** The credentials of a receiver, by field: the secrets the program must have decrypted. */
export function receiverSecrets(r: ReceiverConfig): Record<string, SecretValue> {
    const out: Record<string, SecretValue> = {};
    for (const field of RECEIVER_CREDENTIALS[r.type]) {
        const v = (r as Record<string, unknown>)[field];
        if (v !== undefined && typeof v === "object") out[field] = v as SecretValue;
    }
    return out;
}

/** The receivers' secrets without a decrypted value: the program cannot hand them to Alertmanager. */
export function undecryptedReceiverSecrets(stack: string, alertmanager: AlertmanagerConfig): string[] {
    if (!alertmanager.enabled) return [];
    return alertmanager.receivers.flatMap((r, i) =>
        Object.entries(receiverSecrets(r))
            .filter(([, s]) => s.value === undefined)
            .map(
                ([field]) =>
                    `stack ${stack}, field observability.alertmanager.receivers[${i}].${field} (receiver ${r.name}): expected a secret Pulumi decrypts (set it with \`pulumi config set --secret --path 'stagehand:observability.alertmanager.receivers[${i}].${field}' <value>\`), found a ciphertext the program was not given the value of`,
            ),
    );
}

/** Receivers' `services` that name no service of the stack, one problem each. */
export function receiverServiceProblems(stack: string, alertmanager: AlertmanagerConfig, services: readonly string[]): string[] {
    return alertmanager.receivers.flatMap((r, i) =>
        (r.services ?? []).flatMap((s, j) =>
            services.includes(s) ? [] : [`stack ${stack}, field observability.alertmanager.receivers[${i}].services[${j}]: expected a service of this stack (${[...services].sort().join(", ") || "none"}), found ${JSON.stringify(s)}`],
        ),
    );
}
