// Pure: which values of a stack's config are Pulumi secrets. The stack file holds a secret as `{secure: <ciphertext>}`
// (`pulumi config set --secret --path 'stagehand:services.payments.env.DB_PASSWORD' …`); the Pulumi CLI hands the
// program the decrypted value in its place and says only that the whole key `stagehand:services` holds a secret.
// So the program reads the stack file for where the secrets are, and marks each decrypted value as a secret
// (`{secure, value}`): the service config then treats it as one everywhere — a Kubernetes Secret for the pods,
// `[secret]` in words, the ciphertext (never the value) in fingerprints. Offline commands read the file alone
// and see `{secure}` without a value.
import { parse } from "yaml";
import { ConfigError } from "./errors";
import { isSecretValue, SecretValue } from "./field-diff";
import { receiverCredentialPath } from "../observability/alerting-config";

/** A secret in a stack file: the `stagehand:*` key (without the prefix), the path inside it, and its ciphertext. */
export interface SecureLeaf {
    key: string;
    path: string[];
    secure: string;
}

/**
 * Where secrets may be: a service's env values, the env values of its canary revision, and the credentials of an
 * alert receiver (`observability.alertmanager.receivers[<i>].url|routingKey|password`).
 */
function allowedPath(key: string, path: string[]): boolean {
    if (key === "observability") return receiverCredentialPath(path);
    if (key !== "services") return false;
    return (path.length === 3 && path[1] === "env") || (path.length === 4 && path[1] === "canary" && path[2] === "env");
}

/** Every secret (`{secure: …}`) under the `stagehand:*` keys of a config (keys without the prefix), with its path. */
function secretsIn(config: Record<string, unknown>): SecureLeaf[] {
    const leaves: SecureLeaf[] = [];
    const walk = (key: string, value: unknown, path: string[]) => {
        if (isSecretValue(value)) leaves.push({ key, path, secure: value.secure });
        else if (Array.isArray(value)) value.forEach((v, i) => walk(key, v, [...path, String(i)]));
        else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(key, v, [...path, k]);
    };
    for (const [key, value] of Object.entries(config)) walk(key, value, []);
    return leaves;
}

/** Every `{secure: …}` under a `stagehand:*` key of a stack file's text. */
export function secureLeaves(text: string): SecureLeaf[] {
    const doc = parse(text, { merge: true }) as any;
    const config = doc && typeof doc === "object" && doc.config && typeof doc.config === "object" ? doc.config : {};
    return secretsIn(Object.fromEntries(Object.entries(config as Record<string, unknown>).filter(([k]) => k.startsWith("stagehand:")).map(([k, v]) => [k.slice("stagehand:".length), v])));
}

/** The secrets of a stack's config (keys without the prefix) that are somewhere a secret makes no sense, one problem each. */
export function misplacedSecrets(stack: string, raw: Record<string, unknown>): string[] {
    return secretsIn(raw)
        .filter((leaf) => !allowedPath(leaf.key, leaf.path))
        .map(
            (leaf) =>
                `stack ${stack}, field stagehand:${[leaf.key, ...leaf.path].join(".")}: expected a plain value (secrets are accepted only as env values: services.<service>.env.<NAME>, or services.<service>.canary.env.<NAME>, and as alert receivers' credentials: observability.alertmanager.receivers[<index>].url, .routingKey or .password), found a secret (secure:)`,
        );
}

/**
 * Marks the decrypted secrets of the config the program received (`stagehand:*` keys without the prefix) as
 * secrets: each leaf of the stack file becomes `{secure, value}` where the config holds its decrypted text.
 * (`parseStackConfig` refuses secrets outside env values.) Refuses a key Pulumi says holds a secret when the stack
 * file shows none under it (the program could not tell which value is the secret).
 */
export function markSecrets(stack: string, raw: Record<string, unknown>, leaves: SecureLeaf[], secretKeys: string[]): Record<string, unknown> {
    const problems: string[] = [];
    for (const key of secretKeys) {
        if (!leaves.some((l) => l.key === key)) {
            problems.push(
                `stack ${stack}, field stagehand:${key}: expected its secrets as \`secure:\` values in Pulumi.${stack}.yaml (where the program finds which values are secret), found a secret key with none in the file`,
            );
        }
    }
    if (problems.length > 0) throw new ConfigError(stack, problems);
    const out: Record<string, unknown> = structuredClone(raw);
    for (const leaf of leaves) {
        let parent: any = out[leaf.key];
        for (const segment of leaf.path.slice(0, -1)) parent = parent && typeof parent === "object" ? parent[segment] : undefined;
        const last = leaf.path[leaf.path.length - 1];
        if (!parent || typeof parent !== "object" || !(last in parent)) continue;
        const value = parent[last];
        if (isSecretValue(value)) continue; // already marked: the offline form
        parent[last] = { secure: leaf.secure, value: typeof value === "string" ? value : JSON.stringify(value) } satisfies SecretValue;
    }
    return out;
}

/** Secrets of the services that carry no decrypted value: the program cannot hand them to the pods. */
export function undecryptedSecrets(stack: string, services: Record<string, { env: Record<string, unknown>; canaryOverrides?: { env?: Record<string, unknown> } }>): string[] {
    const problems: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
        for (const [where, env] of [["env", svc.env], ["canary.env", svc.canaryOverrides?.env ?? {}]] as const) {
            for (const [k, v] of Object.entries(env)) {
                if (isSecretValue(v) && v.value === undefined) {
                    problems.push(`stack ${stack}, service ${name}, field ${where}.${k}: expected a secret Pulumi decrypts (set it with \`pulumi config set --secret --path 'stagehand:services.${name}.${where}.${k}' <value>\`), found a ciphertext the program was not given the value of`);
                }
            }
        }
    }
    return problems;
}
