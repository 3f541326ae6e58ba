// Pure: a release carries a revision, not only a tag. A revision is everything that shapes a track's pods: the
// image tag and repository, env, resources, probes, chart values, port and chart. Production runs the *stable*
// revision (the block's fields with `stable`); the canary runs the *canary* revision (the block's fields with the
// overrides of `canary:` and its tag). The move check compares revisions, the plan and the diff show them, and
// the stack outputs record them (by fingerprint: no value, no secret, leaves the stack).
import { createHash } from "crypto";
import { canonical, FieldChange, fieldChanges, isSecretValue } from "../shared/field-diff";
import type { CanaryOverrides, ServiceConfig } from "./config";

/** The fields that shape a track's pods; a change to any of them rolls the pods of the tracks running it. */
export const POD_FIELDS = ["image", "env", "resources", "probes", "values", "port", "chart"] as const;
export type PodField = (typeof POD_FIELDS)[number];

/** The pod-shaping fields `canary:` may override (port and chart are the service's: the routing addresses them). */
export const CANARY_OVERRIDE_FIELDS = ["image", "env", "resources", "probes", "values", "chartVersion"] as const;

/** What one track runs: the tag and every pod-shaping field. */
export type Revision = { tag: string } & Pick<ServiceConfig, PodField>;

/** Which revision a track runs: production's (`stable`) or the one being released (`canary`). */
export type RevisionName = "stable" | "canary";

/** A revision as the stack records it: its tag, an id, a fingerprint per field, and its name in words. */
export interface RevisionRecord {
    tag: string;
    /** Fingerprint of the whole revision (tag and fields): equal ids, equal pods. */
    id: string;
    /** Fingerprint of each pod-shaping field, so a later run can say which field changed. */
    fields: Record<PodField, string>;
    /** The tag, and the fields the canary overrides: "1.5.0", "1.5.0+env+resources". */
    label: string;
}

/** What a track runs, as a stage plan names it: the revision's id and label. */
export interface RevisionRef {
    id: string;
    label: string;
}

const fingerprint = (v: unknown): string => createHash("sha256").update(canonical(v)).digest("hex").slice(0, 12);

/** Deep merge where `over` wins: maps key by key, anything else replaced; a null in `over` removes the key. */
function overlay(base: unknown, over: unknown): unknown {
    if (over === undefined) return base;
    // A secret is a value, never merged into.
    const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !isSecretValue(v);
    if (!isMap(base) || !isMap(over)) return over;
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
        if (v === null) delete out[k];
        else out[k] = overlay(base[k], v);
    }
    return out;
}

type RevisionSource = Pick<ServiceConfig, PodField | "stable" | "canary" | "canaryOverrides">;

/** Production's revision: the block's fields with the `stable` tag. */
export function stableRevision(service: RevisionSource): Revision {
    const { image, env, resources, probes, values, port, chart } = service;
    return { tag: service.stable, image, env, resources, probes, values, port, chart };
}

/**
 * The revision being released: the block's fields with the overrides of `canary:` (maps merged key by key, a null
 * removing an env variable), and the canary tag. Without a canary, production's revision (the canary track then
 * runs it at 0 replicas, so its DestinationRule subset always has a workload to select).
 */
export function canaryRevision(service: RevisionSource): Revision {
    const base = stableRevision(service);
    if (service.canary === undefined) return base;
    const o: CanaryOverrides = service.canaryOverrides ?? {};
    const chart = o.chartVersion !== undefined && typeof base.chart === "object" ? { ...base.chart, version: o.chartVersion } : base.chart;
    return {
        tag: service.canary,
        image: o.image ?? base.image,
        env: overlay(base.env, o.env) as Revision["env"],
        resources: overlay(base.resources, o.resources) as Revision["resources"],
        probes: overlay(base.probes, o.probes) as Revision["probes"],
        values: overlay(base.values, o.values) as Revision["values"],
        port: base.port,
        chart,
    };
}

/** The fields of `canary:` that override the block, in the order of CANARY_OVERRIDE_FIELDS. */
export function overriddenFields(service: Pick<ServiceConfig, "canary" | "canaryOverrides">): string[] {
    if (service.canary === undefined) return [];
    const o = service.canaryOverrides ?? {};
    return CANARY_OVERRIDE_FIELDS.filter((f) => o[f] !== undefined);
}

/** A record of a tag and its fields' fingerprints: the id fingerprints them together. */
function record(tag: string, fields: Record<PodField, string>, label: string): RevisionRecord {
    return { tag, id: fingerprint({ tag, fields }), fields, label };
}

export function revisionRecord(revision: Revision, label: string): RevisionRecord {
    return record(revision.tag, Object.fromEntries(POD_FIELDS.map((f) => [f, fingerprint(revision[f])])) as Record<PodField, string>, label);
}

// A parsed service config is never changed after validation, so its records are computed once per config object:
// the plans, every release's values, the move check and the summary all ask for them.
const recorded = new WeakMap<object, Record<RevisionName, RevisionRecord>>();

/** Both revisions of a service, recorded. The canary's label names the fields it overrides. */
export function revisionRecords(service: RevisionSource): Record<RevisionName, RevisionRecord> {
    const known = recorded.get(service);
    if (known) return known;
    const stable = revisionRecord(stableRevision(service), service.stable);
    let records: Record<RevisionName, RevisionRecord>;
    if (service.canary === undefined) records = { stable, canary: stable };
    else {
        // Only the fields the canary overrides are fingerprinted again; the others are the block's.
        const canary = canaryRevision(service);
        const overrides = overriddenFields(service);
        const overridden = new Set<string>(overrides.map((f) => (f === "chartVersion" ? "chart" : f)));
        const fields = Object.fromEntries(POD_FIELDS.map((f) => [f, overridden.has(f) ? fingerprint(canary[f]) : stable.fields[f]])) as Record<PodField, string>;
        records = { stable, canary: record(canary.tag, fields, [service.canary, ...overrides].join("+")) };
    }
    recorded.set(service, records);
    return records;
}

/** The pod-shaping fields whose fingerprints differ between two records (the tag counts as `tag`). */
export function changedRevisionFields(before: RevisionRecord, after: RevisionRecord): string[] {
    const out = before.tag !== after.tag ? ["tag"] : [];
    return [...out, ...POD_FIELDS.filter((f) => before.fields[f] !== after.fields[f])];
}

/** What the canary revision changes against production's, field by field (secrets as `[secret]`). */
export function revisionChanges(service: RevisionSource): FieldChange[] {
    const { tag: _a, ...stable } = stableRevision(service);
    const { tag: _b, ...canary } = canaryRevision(service);
    return fieldChanges(stable, canary);
}

/** A record read back from the stack's outputs, or undefined when it is not one. */
export function readRevisionRecord(v: any): RevisionRecord | undefined {
    if (!v || typeof v.tag !== "string" || typeof v.id !== "string" || typeof v.label !== "string" || typeof v.fields !== "object" || v.fields === null) return undefined;
    if (!POD_FIELDS.every((f) => typeof v.fields[f] === "string")) return undefined;
    return { tag: v.tag, id: v.id, label: v.label, fields: Object.fromEntries(POD_FIELDS.map((f) => [f, v.fields[f]])) as Record<PodField, string> };
}

/** The revisions of a whole service config; undefined for a part of one (a test's or a caller's tags alone). */
export function revisionsOfConfig(service: object): Record<RevisionName, RevisionRecord> | undefined {
    const s = service as Partial<RevisionSource>;
    if (s.chart === undefined || s.image === undefined || s.env === undefined || s.stable === undefined) return undefined;
    return revisionRecords((s.canaryOverrides === undefined ? { canaryOverrides: {}, ...s } : s) as RevisionSource);
}
