// Literal inputs shared by tests: chart values written out by hand (independent of the planner) and raw
// stack config of a service (what a team writes under `stagehand:services`).

export type Values = Record<string, any>;

/**
 * Values of a release of the service chart with a live canary, written out by hand as stagehand writes
 * them: stage 2/6 "canary 10%", production 01 x3 at 90%, canary 02 x1 at 10%. A fresh copy per call.
 */
export function liveCanaryValues(): Values {
    return {
        fullnameOverride: "checkout",
        image: { repository: "ghcr.io/acme/checkout", pullPolicy: "IfNotPresent" },
        stagehand: {
            stage: 2,
            stageCount: 6,
            stageName: "canary 10%",
            strategy: "canary",
            description: "stage 2/6 canary 10%: 90% -> 01 (production x3), 10% -> 02 (canary x1)",
        },
        tracks: {
            production: { tag: "01", replicas: 3, weight: 90 },
            canary: { tag: "02", replicas: 1, weight: 10 },
        },
        routing: { mirrorPercent: 0, canaryMatches: [] },
        parts: { production: true, canary: true, routing: true },
    };
}

/** Values of an idle service (stage 1): production 01 x3 at 100%, canary scaled to 0. */
export function idleValues(): Values {
    return merge(liveCanaryValues(), {
        stagehand: { stage: 1, stageName: "idle", description: "stage 1/6 idle: 100% -> 01 (production x3), 0% -> 02 (canary x0)" },
        tracks: { production: { weight: 100 }, canary: { replicas: 0, weight: 0 } },
    });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge where `over` wins and arrays are replaced (Helm's rule for values). Returns a new object. */
export function merge(base: Values, over: Values): Values {
    const out: Values = { ...base };
    for (const [key, value] of Object.entries(over)) {
        out[key] = isPlainObject(out[key]) && isPlainObject(value) ? merge(out[key], value) : value;
    }
    return JSON.parse(JSON.stringify(out));
}

/** Raw stack config of one service, as a team writes it in Pulumi.<stack>.yaml. */
export function rawService(overrides: Values = {}): Values {
    return {
        image: "ghcr.io/acme/checkout",
        stable: "01",
        canary: "02",
        stage: 1,
        replicas: 3,
        port: 8080,
        ...overrides,
    };
}

/** A digest tag for tests: sha256 followed by 64 hex digits. */
export const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
