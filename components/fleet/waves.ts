// The fleet (docs/fleet.md "Waves: a fleet of stacks"): the chain of waves a release goes through, each a group of stacks
// with an optional bake time and change calendar, from `stagehand.fleet.yaml` at the project's root. The file spans
// stacks, so it is the project's, not a stack's (a stack file holds what one stack deploys; Pulumi.yaml's project
// config would hand the chain to every stack's program as if it were its own setting). Without the file the chain
// is staging -> uat -> prod, a stack per wave, no bake, no calendar. Pure: the one source of stack order for
// releases, promote, status, changed-stacks, the verdict gate and the plan diff's bake and window checks.
import { parse } from "yaml";
import { z } from "zod";
import { describeFound, knownFieldsAt, nearestName } from "../shared/errors";
import { Calendar, calendarSchema } from "./calendar";

export const FLEET_FILE = "stagehand.fleet.yaml";

/** The chain without a fleet file: the three shipped stacks, one per wave. */
export const DEFAULT_CHAIN = ["staging", "uat", "prod"] as const;

const STACK_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/;

/** "24h", "1d12h", "90m" in ms; undefined when it is not such a duration. */
export function parseDuration(text: string): number | undefined {
    const m = DURATION.exec(text);
    if (!m || text === "") return undefined;
    const [d, h, min] = [m[1], m[2], m[3]].map((v) => Number(v ?? 0));
    return ((d * 24 + h) * 60 + min) * 60_000;
}

const stackName = z.string({ error: "a stack name (lower-case letters, digits and hyphens), e.g. prod-eu-west-1" }).regex(STACK_NAME, {
    error: "a stack name (lower-case letters, digits and hyphens, starting and ending with a letter or digit), e.g. prod-eu-west-1",
});

const stackEntry = z.union([stackName, z.strictObject({ name: stackName, calendar: calendarSchema })], {
    error: "a stack name, or {name: <stack>, calendar: {...}} for a stack with a calendar of its own",
});

const waveSchema = z.strictObject(
    {
        name: z.string({ error: "the wave's name, e.g. prod-us" }).regex(STACK_NAME, { error: "a name of lower-case letters, digits and hyphens, e.g. prod-eu" }),
        stacks: z.array(stackEntry, { error: "a list of the wave's stacks, e.g. [prod-eu-west-1, prod-ap-southeast-2]" }).min(1, { error: "at least one stack" }),
        bake: z
            .string({ error: 'a duration such as "24h", "90m" or "1d12h"' })
            .refine((s) => parseDuration(s) !== undefined, { error: 'a duration such as "24h", "90m" or "1d12h" (days d, hours h, minutes m, in that order)' })
            .optional(),
        calendar: calendarSchema.optional(),
    },
    { error: "a wave {name, stacks: [...], bake?, calendar?}" },
);

export const fleetSchema = z.strictObject({ waves: z.array(waveSchema, { error: "a list of waves, in the order releases go through them" }).min(1, { error: "at least one wave" }) }, {
    error: "a map with waves: [...]",
});

/** One wave of the chain: its stacks in the file's order, how long a release bakes in it, its calendars. */
export interface Wave {
    name: string;
    stacks: string[];
    /** How long a release must have run finished in every stack of this wave before it starts in the next; 0: none. */
    bakeMs: number;
    /** As written ("24h"), for messages. */
    bake?: string;
    /** The wave's calendar, for its stacks without one of their own. */
    calendar?: Calendar;
    /** Stacks with a calendar of their own. */
    stackCalendars: Record<string, Calendar>;
}

export interface Fleet {
    waves: Wave[];
    /** Where it was read from: the file (as named to the reader), or the default chain. */
    source: string;
    /** Whether a fleet file wrote it (the default chain is not held to the project's stack files). */
    fromFile: boolean;
}

/** A fleet file the program refuses: every problem, each naming the file and the field. */
export class FleetError extends Error {
    constructor(readonly problems: string[]) {
        super(`invalid ${FLEET_FILE}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "FleetError";
    }
}

/** The chain of a project without a fleet file. */
export function defaultFleet(): Fleet {
    return { fromFile: false, source: `the default chain (${DEFAULT_CHAIN.join(" -> ")}; no ${FLEET_FILE})`, waves: DEFAULT_CHAIN.map((s) => ({ name: s, stacks: [s], bakeMs: 0, stackCalendars: {} })) };
}

function fieldPath(path: readonly PropertyKey[]): string {
    return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let v: any = root;
    for (const p of path) v = v == null ? undefined : v[p as any];
    return v;
}

/** Reads a fleet file's text; throws a FleetError naming `where` and each bad field. */
export function parseFleet(text: string, where = FLEET_FILE): Fleet {
    let raw: unknown;
    try {
        raw = parse(text, { merge: true });
    } catch (e: any) {
        throw new FleetError([`${where} is not valid YAML: ${String(e.message).split("\n")[0]}`]);
    }
    const parsed = fleetSchema.safeParse(raw);
    if (!parsed.success) {
        const problems = parsed.error.issues.flatMap((issue) => {
            const at = (path: readonly PropertyKey[]) => `${where}${path.length ? `, field ${fieldPath(path)}` : ""}`;
            if (issue.code === "unrecognized_keys") {
                const known = knownFieldsAt(fleetSchema, issue.path);
                return issue.keys.map((k) => {
                    const near = nearestName(k, known);
                    return `${at([...issue.path, k])}: unknown field; ${near ? `did you mean ${near}?` : `the fields here are ${known.join(", ")}`}`;
                });
            }
            const found = "input" in issue ? issue.input : valueAt(raw, issue.path);
            return [`${at(issue.path)}: expected ${issue.message}, found ${describeFound(found)}`];
        });
        throw new FleetError(problems);
    }
    const problems: string[] = [];
    const seenStack = new Map<string, string>();
    const seenWave = new Set<string>();
    const waves: Wave[] = parsed.data.waves.map((w, i) => {
        if (seenWave.has(w.name)) problems.push(`${where}, field waves[${i}].name: expected a name no other wave has, found ${JSON.stringify(w.name)} again`);
        seenWave.add(w.name);
        const stacks: string[] = [];
        const stackCalendars: Record<string, Calendar> = {};
        w.stacks.forEach((entry, j) => {
            const name = typeof entry === "string" ? entry : entry.name;
            const other = seenStack.get(name);
            if (other !== undefined) problems.push(`${where}, field waves[${i}].stacks[${j}]: stack ${name} is already in wave ${other}; a stack is in exactly one wave`);
            seenStack.set(name, w.name);
            stacks.push(name);
            if (typeof entry !== "string") stackCalendars[name] = entry.calendar;
        });
        return { name: w.name, stacks, bakeMs: w.bake ? parseDuration(w.bake)! : 0, ...(w.bake ? { bake: w.bake } : {}), ...(w.calendar ? { calendar: w.calendar } : {}), stackCalendars };
    });
    if (problems.length > 0) throw new FleetError(problems);
    return { waves, source: where, fromFile: true };
}

/**
 * Every stack file in exactly one wave and every wave's stack a stack file; the problems, each naming the file (empty:
 * consistent). The default chain is not held to it: a project without a fleet file may have fewer or other stacks.
 */
export function fleetStackProblems(fleet: Fleet, stacks: string[]): string[] {
    if (!fleet.fromFile) return [];
    const inFleet = fleet.waves.flatMap((w) => w.stacks);
    return [
        ...stacks.filter((s) => !inFleet.includes(s)).map((s) => `${fleet.source}: stack ${s} (Pulumi.${s}.yaml) is in no wave; add it to the wave it belongs to`),
        ...fleet.waves.flatMap((w) => w.stacks.filter((s) => !stacks.includes(s)).map((s) => `${fleet.source}, wave ${w.name}: stack ${s} has no stack file Pulumi.${s}.yaml; remove it from the wave or add the file`)),
    ];
}

/** The stacks in release order: wave by wave, each wave's in the file's order. */
export function stackOrder(fleet: Fleet): string[] {
    return fleet.waves.flatMap((w) => w.stacks);
}

/** Orders stacks as a release goes through them: by wave, then as the wave lists them; any other stack after, by name. */
export function byFleetOrder(fleet: Fleet): (a: string, b: string) => number {
    const order = stackOrder(fleet);
    const rank = (s: string) => {
        const i = order.indexOf(s);
        return i < 0 ? order.length : i;
    };
    return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

/** The wave a stack is in, and its index in the chain; undefined when it is in none. */
export function waveOf(fleet: Fleet, stack: string): { wave: Wave; index: number } | undefined {
    const index = fleet.waves.findIndex((w) => w.stacks.includes(stack));
    return index < 0 ? undefined : { wave: fleet.waves[index], index };
}

/** A wave by its name, or the wave of a stack by the stack's name. */
export function findWave(fleet: Fleet, nameOrStack: string): { wave: Wave; index: number } | undefined {
    const index = fleet.waves.findIndex((w) => w.name === nameOrStack);
    return index >= 0 ? { wave: fleet.waves[index], index } : waveOf(fleet, nameOrStack);
}

/** The wave a release must have finished (and baked) in before it starts in `stack`'s; undefined for the first. */
export function previousWave(fleet: Fleet, stack: string): Wave | undefined {
    const at = waveOf(fleet, stack);
    return at && at.index > 0 ? fleet.waves[at.index - 1] : undefined;
}

/** The calendar that governs a stack: its own, else its wave's; undefined: changes at any time. */
export function calendarOf(fleet: Fleet, stack: string): Calendar | undefined {
    const at = waveOf(fleet, stack);
    return at ? (at.wave.stackCalendars[stack] ?? at.wave.calendar) : undefined;
}

/** The chain in words: "staging -> uat -> [prod] -> [prod-eu-west-1, prod-ap-southeast-2]". */
export function chainWords(fleet: Fleet): string {
    return fleet.waves.map((w) => (w.stacks.length === 1 && w.stacks[0] === w.name ? w.name : `${w.name}[${w.stacks.join(", ")}]`)).join(" -> ");
}
