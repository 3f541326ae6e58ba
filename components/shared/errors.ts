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

/** A found value in words: "nothing (the field is missing)", "null", a JSON string, "an object". */
export function describeFound(input: unknown): string {
    if (input === undefined) return "nothing (the field is missing)";
    if (input === null) return "null";
    if (typeof input === "string") return input === "" ? "an empty string" : JSON.stringify(input);
    if (Array.isArray(input)) return JSON.stringify(input);
    if (typeof input === "object") return "an object";
    return String(input);
}

function expectation(issue: z.core.$ZodIssue): string {
    // Custom messages carry the expectation in words; zod's own ones are translated here.
    if (issue.code === "unrecognized_keys") {
        return `no unknown fields (found ${issue.keys.map((k) => `\`${k}\``).join(", ")}; check the spelling against README's config reference)`;
    }
    if (issue.message && !issue.message.startsWith("Invalid input")) return issue.message;
    if (issue.code === "invalid_type") return `a value of type ${issue.expected}`;
    return issue.message;
}

function fieldPath(path: PropertyKey[]): string {
    return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
}

/** One line per zod issue: stack, service, field, what was expected, what was found. */
export function describeIssues(stack: string, where: string, issues: z.core.$ZodIssue[]): string[] {
    return issues.map((issue) => {
        const field = fieldPath(issue.path);
        const expected = expectation(issue);
        const found = issue.code === "unrecognized_keys" ? "" : `, found ${describeFound(issue.input)}`;
        return `stack ${stack}${where ? `, ${where}` : ""}${field ? `, field ${field}` : ""}: expected ${expected}${found}`;
    });
}
