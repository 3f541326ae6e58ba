// Pure: two values of a config section compared leaf by leaf — what a reviewer reads as "field: before -> after".
// Used by the diff of a stack (every field of a service block), by the plan (what a canary revision changes) and
// by the move check (which fields of a revision changed). Secrets (`{secure: …}`, Pulumi's encrypted values) are
// never printed: they read `[secret]`, and a changed ciphertext reads as a changed secret.

/** A leaf that changed, was added or was removed. `path` is the field's path, e.g. `env.LOG_LEVEL`. */
export interface FieldChange {
    path: string;
    /** The value in words (`[secret]` for a secret, `(not set)` when absent). */
    before: string;
    after: string;
}

/** An encrypted value as Pulumi writes it in a stack file: `{secure: <ciphertext>}` (the program adds the plaintext). */
export interface SecretValue {
    secure: string;
    /** The decrypted value: only in the program, never in outputs or words. */
    value?: string;
}

export function isSecretValue(v: unknown): v is SecretValue {
    return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as any).secure === "string" && Object.keys(v).every((k) => k === "secure" || k === "value");
}

const NONE = "(not set)";

/** A value in words: strings as they are, secrets as `[secret]`, anything else as compact JSON. */
export function valueWords(v: unknown): string {
    if (v === undefined) return NONE;
    if (isSecretValue(v)) return "[secret]";
    if (typeof v === "string") return v === "" ? '""' : v;
    return JSON.stringify(v, (_k, x) => (isSecretValue(x) ? "[secret]" : x));
}

function isMap(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v) && !isSecretValue(v);
}

/** The same value for comparing: a secret by its ciphertext only (the plaintext never decides anything). */
export function canonical(v: unknown): string {
    if (isSecretValue(v)) return JSON.stringify({ secure: v.secure });
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (isMap(v)) {
        return `{${Object.keys(v)
            .filter((k) => v[k] !== undefined)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(v) ?? "undefined";
}

export function sameValue(a: unknown, b: unknown): boolean {
    return canonical(a) === canonical(b);
}

/** A list element's name in a path: its `name` when it has one (node pools), else its index. */
function elementKey(v: unknown, i: number): string {
    return isMap(v) && typeof v.name === "string" ? `[${v.name}]` : `[${i}]`;
}

/**
 * Every leaf that differs between `before` and `after`, in path order. Maps are compared key by key; lists of named
 * maps element by name, other lists element by index; a secret is a leaf. A secret whose ciphertext changed reads
 * `[secret] -> [secret] (changed)`.
 */
export function fieldChanges(before: unknown, after: unknown, prefix = ""): FieldChange[] {
    if (sameValue(before, after)) return [];
    const join = (key: string) => (prefix === "" || key.startsWith("[") ? `${prefix}${key}` : `${prefix}.${key}`);
    // A map added or removed reads leaf by leaf: "canary.env.LOG_LEVEL: (not set) -> trace", not one line of JSON.
    if ((before === undefined && isMap(after)) || (isMap(before) && after === undefined)) {
        return fieldChanges(before ?? {}, after ?? {}, prefix);
    }
    if (isMap(before) && isMap(after)) {
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
        return keys.flatMap((k) => fieldChanges(before[k], after[k], join(k)));
    }
    if (Array.isArray(before) && Array.isArray(after)) {
        const named = [...before, ...after].every((v) => isMap(v) && typeof v.name === "string");
        if (named) {
            const byName = (list: unknown[]) => new Map(list.map((v, i) => [elementKey(v, i), v]));
            const a = byName(before);
            const b = byName(after);
            const keys = [...new Set([...a.keys(), ...b.keys()])];
            return keys.flatMap((k) => fieldChanges(a.get(k), b.get(k), join(k)));
        }
        const length = Math.max(before.length, after.length);
        return Array.from({ length }, (_, i) => fieldChanges(before[i], after[i], join(`[${i}]`))).flat();
    }
    const path = prefix === "" ? "(value)" : prefix;
    if (isSecretValue(before) && isSecretValue(after)) return [{ path, before: "[secret]", after: "[secret] (changed)" }];
    return [{ path, before: valueWords(before), after: valueWords(after) }];
}

/** "path: before -> after" */
export function changeWords(c: FieldChange): string {
    return `${c.path}: ${c.before} -> ${c.after}`;
}
