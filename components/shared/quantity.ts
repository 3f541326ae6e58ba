// Kubernetes resource quantities ("250m", "0.5", "128Mi", "1G"): the one grammar the config validates, the
// cost model prices and the policies compare requests with limits by.

/** A quantity as stagehand accepts it: a decimal number and an optional SI or binary suffix. */
export const QUANTITY_PATTERN = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;

const FACTORS: Record<string, number> = {
    "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity in base units: "250m" → 0.25, "128Mi" → 134217728; undefined if not a quantity. */
export function parseQuantity(q: unknown): number | undefined {
    const text = typeof q === "number" ? String(q) : q;
    if (typeof text !== "string") return undefined;
    const m = QUANTITY_PATTERN.exec(text);
    if (!m) return undefined;
    // Milli-units divide, so "250m" is exactly 0.25 (multiplying by 1e-3 is not exact in binary).
    return m[2] === "m" ? Number(m[1]) / 1000 : Number(m[1]) * FACTORS[m[2] ?? ""];
}

/** A Kubernetes CPU quantity in cores: "250m" → 0.25, "1" → 1. */
export function cpuCores(q: string): number {
    const cores = parseQuantity(q);
    if (cores === undefined) throw new RangeError(`not a CPU quantity: ${q}`);
    return cores;
}

/** A Kubernetes memory quantity in GiB: "512Mi" → 0.5, "1Gi" → 1, "1G" → 0.93. */
export function memoryGiB(q: string): number {
    const bytes = parseQuantity(q);
    if (bytes === undefined) throw new RangeError(`not a memory quantity: ${q}`);
    return bytes / 2 ** 30;
}
