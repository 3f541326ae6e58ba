// Schema pieces every config section uses: whole numbers, DNS labels, quantities, durations. Each carries the
// words of its expectation, which the errors repeat ("expected <words>, found <value>").
import { z } from "zod";
import { QUANTITY_PATTERN } from "./quantity";

/** A whole number from `min` (to `max`), with the same words for a wrong type, a fraction and a bound. */
export const wholeNumber = (what: string, min: number, max?: number) => {
    const words = max === undefined ? `${what}, a whole number of at least ${min}` : `${what}, a whole number from ${min} to ${max}`;
    const n = z.number({ error: words }).int({ error: words }).min(min, { error: words });
    return max === undefined ? n : n.max(max, { error: words });
};

/** A DNS-1123 label: names of services, namespaces and node pools. */
export const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

// Kubernetes resource quantities: "250m", "0.5", "128Mi", "1G".
export const quantity = z
    .union([z.string(), z.number()], { error: "a Kubernetes quantity such as \"250m\" or \"128Mi\"" })
    .transform((q) => String(q))
    .refine((q) => QUANTITY_PATTERN.test(q), {
        error: "a Kubernetes quantity such as \"250m\" or \"128Mi\"",
    });
/**
 * A memory quantity with a unit: a bare number is bytes to Kubernetes (`memory: 256` is 256 bytes, and the pod never
 * starts), so it is refused with the unit it most likely meant ("256Mi"). CPU needs no unit ("1", 0.5 are cores).
 */
export function memoryUnitProblem(q: string): string | undefined {
    const m = QUANTITY_PATTERN.exec(q);
    if (!m || m[2] !== undefined) return undefined;
    return `a memory quantity with a unit, such as "${q}Mi" (a bare number is bytes to Kubernetes: ${q} means ${q} bytes)`;
}
export const memoryQuantity = quantity.superRefine((q, ctx) => {
    const problem = memoryUnitProblem(q);
    if (problem) ctx.addIssue({ code: "custom", input: q, message: problem });
});
export const cpuMemory = z.strictObject({ cpu: quantity, memory: memoryQuantity }, { error: "an object with `cpu` and `memory`" });

export const onOff = z.boolean({ error: "true or false" });

const promDuration = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;
const promDurationMs = (d: string): number => {
    const units: Record<string, number> = { y: 31536e6, w: 6048e5, d: 864e5, h: 36e5, m: 6e4, s: 1e3, ms: 1 };
    return [...d.matchAll(/(\d+)(ms|[ywdhms])/g)].reduce((sum, [, n, u]) => sum + Number(n) * units[u], 0);
};
/** A Prometheus duration ("10m", "1h30m") of at least `minMs`, described by `words`. */
export const promDurationAtLeast = (minMs: number, words: string) =>
    z.string({ error: words }).refine((d) => d !== "" && promDuration.test(d) && promDurationMs(d) >= minMs, { error: words });

// GitHub identities that approve changes: a user's login (`alice`) or an organization's team (`acme/payments`).
const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const GITHUB_TEAM = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9_.-]{1,100}$/;
const OWNER_WORDS = "a GitHub user's login (e.g. alice) or an organization's team as org/team-slug (e.g. acme/payments), without @";
/** Who approves a change: a non-empty list of GitHub users and org/team slugs, each once. */
export const ownersSchema = z
    .array(
        z.string({ error: OWNER_WORDS }).superRefine((o, ctx) => {
            if (o.startsWith("@")) ctx.addIssue({ code: "custom", input: o, message: `${OWNER_WORDS}; write it without the @` });
            else if (!GITHUB_LOGIN.test(o) && !GITHUB_TEAM.test(o)) ctx.addIssue({ code: "custom", input: o, message: OWNER_WORDS });
        }),
        {
            error: "a list of GitHub users and org/team slugs, e.g. [alice, acme/payments]",
        },
    )
    .min(1, { error: "at least one owner, e.g. [acme/payments]" })
    .refine((list) => new Set(list.map((o) => o.toLowerCase())).size === list.length, { error: "each owner once (GitHub names are case-insensitive)" });
