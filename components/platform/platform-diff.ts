// Pure: the platform section of `npm run plan -- <stack> --diff` — every field of the stack's platform that changes
// (`stagehand:cluster`, `stagehand:observability`, `stagehand:allowSkip`, `stagehand:autoRollback`, `stagehand:settleSeconds`, `stagehand:production`, `aws:region`),
// `path: before -> after` as the services' fields read, node pools by name; the monthly cost before and after; and
// the risky changes judged as the program judges them (changes.ts `judgePlatform`).
import { estimateMonthlyCost } from "../cost/cost";
import { ObservabilityConfig } from "../observability/config";
import { isSecretValue } from "../shared/field-diff";
import { Acknowledgements, judgePlatform, platformState } from "./changes";
import { ClusterConfig } from "./config";

/** One revision of a stack's platform, validated. */
export interface PlatformRevision {
    cluster: ClusterConfig;
    observability: ObservabilityConfig;
    allowSkip: boolean;
    /** `stagehand:autoRollback` (absent in callers that do not show it). */
    autoRollback?: boolean;
    settleSeconds: number;
    /** `stagehand:production`, the default sizing of production through a release (absent in callers that do not read it). */
    production?: string;
    region?: string;
    /** `stagehand:owners`, the platform owners (absent in callers that do not judge approvals). */
    owners?: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** A list whose items are objects with a `name`: compared item by item, by name (`nodePools[general]`). */
const isNamedList = (v: unknown): v is Record<string, unknown>[] => Array.isArray(v) && v.length > 0 && v.every((i) => isObject(i) && typeof i.name === "string");
const ITEM = Symbol("item");

/** Every leaf of a config by path; items of named lists also appear as themselves (marked ITEM). */
function flatten(value: unknown, path: string, out: Map<string, unknown>): void {
    // A secret (an alert receiver's credential) is one leaf, compared by its ciphertext and never printed.
    if (isSecretValue(value)) {
        out.set(path, { secure: value.secure });
        return;
    }
    if (isNamedList(value)) {
        for (const item of value) {
            const at = `${path}[${item.name}]`;
            out.set(at, ITEM);
            for (const [k, v] of Object.entries(item)) if (k !== "name") flatten(v, `${at}.${k}`, out);
        }
    } else if (isObject(value) && Object.keys(value).length > 0) {
        for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
    } else if (value !== undefined) {
        out.set(path, value);
    }
}

/** A value in a diff line: strings bare, lists in brackets, nothing as "(not set)". */
function words(v: unknown): string {
    if (v === undefined) return "(not set)";
    if (isSecretValue(v)) return "[secret]";
    if (Array.isArray(v)) return `[${v.map(words).join(", ")}]`;
    if (isObject(v)) return Object.keys(v).length === 0 ? "{}" : JSON.stringify(v);
    return String(v);
}

function platformFields(p: PlatformRevision): Map<string, unknown> {
    const out = new Map<string, unknown>();
    flatten(p.cluster, "cluster", out);
    flatten(p.observability, "observability", out);
    out.set("allowSkip", p.allowSkip);
    if (p.autoRollback !== undefined) out.set("autoRollback", p.autoRollback);
    out.set("settleSeconds", p.settleSeconds);
    if (p.production !== undefined) out.set("production", p.production);
    if (p.region !== undefined) out.set("aws:region", p.region);
    if (p.owners !== undefined) out.set("owners", p.owners);
    return out;
}

/** Every platform field that differs, one line each: `cluster.nodePools[general].maxSize 12 -> 120`. */
export function platformFieldChanges(before: PlatformRevision, after: PlatformRevision): string[] {
    const b = platformFields(before);
    const a = platformFields(after);
    const lines: string[] = [];
    const removedItems: string[] = [];
    for (const path of [...new Set([...b.keys(), ...a.keys()])]) {
        // The fields of a removed node pool go with it: one line says so.
        if (removedItems.some((item) => path.startsWith(`${item}.`))) continue;
        const x = b.get(path);
        const y = a.get(path);
        if (x === ITEM || y === ITEM) {
            if (x === undefined) lines.push(`${path}: added`);
            else if (y === undefined) {
                lines.push(`${path}: removed`);
                removedItems.push(path);
            }
            continue;
        }
        if (JSON.stringify(x) !== JSON.stringify(y)) {
            lines.push(isSecretValue(x) && isSecretValue(y) ? `${path}: [secret] -> [secret] (changed)` : `${path}: ${words(x)} -> ${words(y)}`);
        }
    }
    return lines;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The monthly cost estimate before and after (components/cost/cost.ts), with the autoscaling ceiling. */
export function costChange(before: PlatformRevision, after: PlatformRevision): string {
    const b = estimateMonthlyCost(before.cluster, { observability: before.observability });
    const a = estimateMonthlyCost(after.cluster, { observability: after.observability });
    const delta = a.total - b.total;
    const sign = delta > 0 ? "+" : delta < 0 ? "-" : "±";
    return (
        `monthly cost ${usd(b.total)} -> ${usd(a.total)} (${sign}${usd(Math.abs(delta))}); ` +
        `ceiling with every pool at maxSize ${usd(b.ceiling)} -> ${usd(a.ceiling)} (estimate: components/cost/cost.ts)`
    );
}

/** The platform section of the diff. */
export interface PlatformDiff {
    /** The headline: what changed, or in words that nothing of the platform did. */
    headline: string;
    /** The lines under it: each changed field, the cost, acknowledged changes, unused acknowledgements. */
    lines: string[];
    /** The refused changes, one line each (the program's words). */
    refused: string[];
}

/**
 * The platform section of `npm run plan -- <stack> --diff` against revision `ref`: every changed field, the cost
 * before and after, what went through by acknowledgement, and the refusals — the program's own words
 * (`judgePlatform`). `before` undefined: the stack file is new at this revision, nothing to compare.
 */
export function platformDiff(stack: string, ref: string, before: PlatformRevision | undefined, after: PlatformRevision, acknowledge: Acknowledgements = {}): PlatformDiff {
    const cost = estimateMonthlyCost(after.cluster, { observability: after.observability });
    if (!before) {
        return { headline: `platform: new stack, ${after.cluster.kind} cluster with Istio ${after.cluster.istio.version}, monthly cost ${usd(cost.total)}`, lines: [], refused: [] };
    }
    const changes = platformFieldChanges(before, after);
    const judged = judgePlatform(stack, platformState(before.cluster, before.observability, before.region), platformState(after.cluster, after.observability, after.region), acknowledge);
    const headline =
        changes.length === 0
            ? `platform: unchanged (cluster, Istio, observability, allowSkip, autoRollback, settleSeconds, production, owners and aws:region as at ${ref}; monthly cost ${usd(cost.total)}); the services are listed above, on their own`
            : `platform: ${changes.length} field${changes.length === 1 ? "" : "s"} changed against ${ref}`;
    const lines = changes.length === 0 ? [] : [...changes, costChange(before, after)];
    lines.push(...judged.acknowledged);
    lines.push(...judged.unused.map((u) => `stagehand:acknowledge ${u} acknowledges no change against ${ref} (remove it once the change it was for is deployed)`));
    return { headline, lines, refused: judged.refused };
}
