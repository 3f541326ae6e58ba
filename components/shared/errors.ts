// The words of every config and move error: which stack, service and field, what was expected, what was found.
// Pure: used by every config section, the move check, `npm run plan` and the policies.
import { z } from "zod";

/**
 * Everything wrong with a stack at once: a headline, then one line per problem.
 *
 * The Pulumi CLI's program runner prints an uncaught error through `util.inspect` (stack trace and every own
 * field) unless it is a `RunError`, whose message alone is printed. The SDK recognises a RunError by the
 * marker field below (its own check, `RunError.isInstance`, works across SDK copies), so this pure module
 * marks its errors without loading the SDK. The stack's name is `stackName`: a field named `stack` would
 * replace the trace property every Error has.
 */
export class StackProblemsError extends Error {
    /** Pulumi's RunError marker: the CLI prints the message only, a headline and one problem per line. */
    readonly __pulumiRunError = true;

    constructor(
        headline: string,
        readonly stackName: string,
        readonly problems: string[],
    ) {
        super(`${headline}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}

/** Thrown when stack config is invalid; `problems` holds one line per bad field, all of them at once. */
export class ConfigError extends StackProblemsError {
    constructor(stack: string, problems: string[]) {
        super(`invalid stagehand config for stack ${stack}`, stack, problems);
        this.name = "ConfigError";
    }
}

/** A found value that must not be repeated (a credential written in plain text): its words stand in for it. */
export class RedactedInput {
    constructor(readonly words: string) {}
}

/** A found value in words: "nothing (the field is missing)", "null", a JSON string, "an object". */
export function describeFound(input: unknown): string {
    if (input instanceof RedactedInput) return input.words;
    if (input === undefined) return "nothing (the field is missing)";
    if (input === null) return "null";
    if (typeof input === "string") return input === "" ? "an empty string" : JSON.stringify(input);
    if (Array.isArray(input)) return JSON.stringify(input);
    if (typeof input === "object") return "an object";
    return String(input);
}

/** Edit distance with transpositions (optimal string alignment): "stag" → "stage" is 1, "namesapce" → "namespace" 1. */
export function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/** The known name nearest to a misspelt one (case aside, at most 2 edits and fewer than half its letters), if any. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
    let best: { name: string; distance: number } | undefined;
    for (const k of known) {
        const distance = editDistance(name.toLowerCase(), k.toLowerCase());
        if (distance <= 2 && distance < Math.max(name.length, k.length) / 2 && (!best || distance < best.distance)) best = { name: k, distance };
    }
    return best?.name;
}

// zod wrappers that hold the schema of the value itself: defaults, optionals, transforms, unions.
function unwrapSchema(schema: z.core.$ZodType): z.core.$ZodType[] {
    const def = schema._zod.def as any;
    switch (def.type) {
        case "default":
        case "prefault":
        case "optional":
        case "nullable":
        case "nonoptional":
        case "catch":
        case "readonly":
            return unwrapSchema(def.innerType);
        case "pipe":
            return unwrapSchema(def.in);
        case "union":
            return def.options.flatMap(unwrapSchema);
        case "lazy":
            return unwrapSchema(def.getter());
        default:
            return [schema];
    }
}

/** The field names an object schema takes at `path` (through arrays, records and unions), or none. */
export function knownFieldsAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
    let candidates = unwrapSchema(schema);
    for (const segment of path) {
        candidates = candidates
            .flatMap((c): z.core.$ZodType[] => {
                const def = c._zod.def as any;
                if (def.type === "object") return typeof segment === "string" && def.shape[segment] ? [def.shape[segment]] : [];
                if (def.type === "array") return typeof segment === "number" ? [def.element] : [];
                if (def.type === "record") return [def.valueType];
                return [];
            })
            .flatMap(unwrapSchema);
    }
    return [...new Set(candidates.flatMap((c) => ((c._zod.def as any).type === "object" ? Object.keys((c._zod.def as any).shape) : [])))];
}

function expectation(issue: z.core.$ZodIssue): string {
    // Custom messages carry the expectation in words; zod's own ones are translated here.
    if (issue.message && !issue.message.startsWith("Invalid input")) return issue.message;
    if (issue.code === "invalid_type") return `a value of type ${issue.expected}`;
    return issue.message;
}

function fieldPath(path: readonly PropertyKey[]): string {
    return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
}

/** Where a section's issues are: its schema (for the names it knows) and the path it sits at in the stack config. */
export interface IssueContext {
    schema?: z.core.$ZodType;
    /** Prepended to every field: `["cluster"]` makes `nodePools` read `cluster.nodePools`. */
    prefix?: readonly PropertyKey[];
}

/**
 * One line per zod issue: stack, service, field, what was expected, what was found. An unknown field gets a
 * line of its own, with the nearest name the schema knows there ("stag: unknown field; did you mean stage?").
 */
export function describeIssues(stack: string, where: string, issues: z.core.$ZodIssue[], context: IssueContext = {}): string[] {
    const head = (path: readonly PropertyKey[]) => {
        const field = fieldPath([...(context.prefix ?? []), ...path]);
        return `stack ${stack}${where ? `, ${where}` : ""}${field ? `, field ${field}` : ""}`;
    };
    return issues.flatMap((issue) => {
        if (issue.code === "unrecognized_keys") {
            const known = context.schema ? knownFieldsAt(context.schema, issue.path) : [];
            return issue.keys.map((key) => {
                const near = nearestName(key, known);
                const hint = near ? `did you mean ${near}?` : known.length > 0 ? `the fields here are ${known.join(", ")}` : "check the spelling against the configuration reference (docs/configuration.md)";
                return `${head([...issue.path, key])}: unknown field; ${hint}`;
            });
        }
        return [`${head(issue.path)}: expected ${expectation(issue)}, found ${describeFound(issue.input)}`];
    });
}
