// Pure: finds values that look like secrets in a tree of Helm values or ConfigMap data — by the name of the
// key that holds them (password, token, API key…) or by the shape of the value itself (AWS access key, PEM
// private key…). Findings carry the path, never the value, so a violation message does not leak it.
import { UnknownValueError } from "@pulumi/policy";

/** Words of a key name that mark its value as a secret on their own. */
const SECRET_WORDS = new Set([
    "password", "passwords", "passwd", "passphrase", "secret", "secrets", "token", "tokens", "credential", "credentials", "apikey", "privatekey",
]);
/** `key` marks a secret only together with one of these (a bare `key` is a toleration or a label key). */
const KEY_QUALIFIERS = new Set(["api", "private", "secret", "access", "signing", "encryption", "client", "master", "auth", "session", "ssh"]);
/**
 * A key ending in one of these words names *where* a secret is or how it behaves, not the secret:
 * `SECRET_NAME`, `passwordFile`, `TOKEN_URL`, `tokenTTL`, `existingSecretKeyRef`.
 */
const REFERENCE_WORDS = new Set([
    "name", "names", "ref", "file", "path", "dir", "url", "uri", "endpoint", "header", "ttl", "expiry", "expiration", "timeout",
    "audience", "issuer", "id", "enabled", "mount", "volume", "volumes", "type", "policy", "provider", "store", "keys", "interval",
    "period", "seconds", "duration", "lifetime", "format", "mode", "algorithm", "length", "size", "count", "max", "min", "limit",
    "version", "prefix", "suffix", "scope", "scopes",
]);

/** Value shapes that are secrets whatever key holds them. */
const SECRET_VALUES: { what: string; pattern: RegExp }[] = [
    { what: "an AWS access key id", pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
    { what: "a PEM private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
    { what: "a GitHub token", pattern: /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}\b/ },
    { what: "a Slack token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/ },
];

/**
 * `secret:<Secret name>:<key>`: a reference some charts resolve from a Kubernetes Secret themselves (Kiali's
 * `external_services.*.auth` fields), so the value names where the secret is, not the secret.
 */
const SECRET_REFERENCE = /^secret:[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[-._a-zA-Z0-9]+$/;

/** Lower-case words of a key: `dbPassword` → [db, password], `API_KEY` → [api, key], `x-auth-token` → [x, auth, token]. */
export function keyWords(key: string): string[] {
    return key
        .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
        .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
        .split(/[^A-Za-z0-9]+/)
        .filter((w) => w !== "")
        .map((w) => w.toLowerCase());
}

/** Whether a key's name says its value is a secret. */
export function secretLookingKey(key: string): boolean {
    const words = keyWords(key);
    if (words.length === 0) return false;
    if (REFERENCE_WORDS.has(words[words.length - 1])) return false;
    if (words.some((w) => SECRET_WORDS.has(w))) return true;
    return words.some((w, i) => w === "key" && i > 0 && KEY_QUALIFIERS.has(words[i - 1]));
}

/** What a value looks like, if it looks like a secret whatever its key. */
export function secretLookingValue(value: string): string | undefined {
    return SECRET_VALUES.find((s) => s.pattern.test(value))?.what;
}

export interface SecretFinding {
    /** Dotted path of the value, e.g. `env.DB_PASSWORD` or `extraEnv[0](API_TOKEN)`. */
    path: string;
    /** Why it looks like a secret. */
    why: string;
}

function read(obj: any, key: string | number): { known: boolean; value?: unknown } {
    try {
        return { known: true, value: obj[key] };
    } catch (e) {
        // During preview a value computed by another resource is unknown: skip it, the check runs again on `up`.
        if (e instanceof UnknownValueError) return { known: false };
        throw e;
    }
}

/**
 * Every plain-text value in `tree` that looks like a secret. Strings and numbers count; empty strings,
 * booleans, and objects (e.g. `valueFrom: {secretKeyRef: …}`) do not. `{name, value}` pairs (Kubernetes
 * EnvVar lists) are judged by `name`. Paths in `ignore` (exact dotted paths) are skipped.
 */
export function findSecrets(tree: unknown, ignore: readonly string[] = [], root = ""): SecretFinding[] {
    const found: SecretFinding[] = [];
    const skip = new Set(ignore);
    const visit = (node: unknown, path: string, key: string | undefined) => {
        if (skip.has(path)) return;
        if (typeof node === "string" || typeof node === "number") {
            const text = String(node);
            if (text === "") return;
            if (key !== undefined && secretLookingKey(key) && !SECRET_REFERENCE.test(text)) {
                found.push({ path, why: `its name "${key}" says it is a secret` });
                return;
            }
            const what = typeof node === "string" ? secretLookingValue(node) : undefined;
            if (what) found.push({ path, why: `the value looks like ${what}` });
            return;
        }
        if (Array.isArray(node)) {
            for (let i = 0; i < node.length; i++) {
                const item = read(node, i);
                if (!item.known) continue;
                const v = item.value as any;
                // Kubernetes EnvVar: {name: "DB_PASSWORD", value: "…"} is judged by its name.
                const pairName = v && typeof v === "object" && !Array.isArray(v) ? read(v, "name") : { known: false };
                if (pairName.known && typeof pairName.value === "string") {
                    const value = read(v, "value");
                    if (value.known) visit(value.value, `${path}[${i}](${pairName.value})`, pairName.value);
                    for (const k of Object.keys(v)) {
                        if (k === "name" || k === "value") continue;
                        const child = read(v, k);
                        if (child.known) visit(child.value, `${path}[${i}].${k}`, k);
                    }
                } else {
                    visit(v, `${path}[${i}]`, key);
                }
            }
            return;
        }
        if (node && typeof node === "object") {
            for (const k of Object.keys(node)) {
                const child = read(node, k);
                if (child.known) visit(child.value, path === "" ? k : `${path}.${k}`, k);
            }
        }
    };
    visit(tree, root, undefined);
    return found;
}
