// The command line of every offline command: known flags only, the right number of arguments, or its usage.
// A flag a command does not know is refused, never ignored: `plan --policy` must not print a plan as if
// policies had passed. Nor are flags npm kept for itself (`npm run plan uat --diff`, without `--`), nor a path
// where a stack name goes.
import { parseArgs, ParseArgsConfig } from "util";

/** A command line the command does not understand; the message says what, and the usage follows it. */
export class UsageError extends Error {
    constructor(
        problem: string,
        readonly usage: string,
    ) {
        super(`${problem}\n${usage}`);
        this.name = "UsageError";
    }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The npm script a usage line names: "usage: npm run --silent changed-stacks -- …" → "changed-stacks". */
export function scriptOf(usage: string): string | undefined {
    return /npm run (?:--silent )?([\w:-]+)/.exec(usage)?.[1];
}

/**
 * The flags npm kept for itself: `npm run plan uat --diff` (no `--` after the script name) passes the command only
 * `uat`, and sets `npm_config_diff=true` in its environment instead. Each flag of `options` that is in the
 * environment that way but not on the command line, as it should have been written.
 */
export function npmSwallowedFlags(argv: string[], options: Record<string, { type: "string" | "boolean" }>, env: NodeJS.ProcessEnv): string[] {
    const flags: string[] = [];
    for (const [name, { type }] of Object.entries(options)) {
        if (name === "help") continue;
        const value = env[`npm_config_${name.replace(/-/g, "_")}`];
        if (value === undefined || value === "" || argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))) continue;
        // npm reads an unknown flag as a boolean: `--service checkout` leaves "checkout" among the arguments.
        flags.push(type === "boolean" ? `--${name}` : value === "true" ? `--${name} <${name.toUpperCase()}>` : `--${name} ${value}`);
    }
    return flags;
}

/** What a command says when npm kept its flags: why, and the command line that passes them. */
export function npmSwallowedMessage(script: string, argv: string[], flags: string[]): string {
    const vars = flags.map((f) => `npm_config_${f.split(" ")[0].slice(2).replace(/-/g, "_")}`).join(", ");
    const values = flags.some((f) => f.includes(" <")) ? " (each value right after its flag, not among the other arguments)" : "";
    return `npm kept ${flags.map((f) => f.split(" ")[0]).join(", ")} for itself (it set ${vars}): without "--" after the script name, npm reads the flags and does not pass them on. Run: npm run ${script} -- ${[...argv, ...flags].join(" ")}${values}`;
}

/**
 * Why a stack argument is not a stack name (a path, or a stack file's name), with the name to give instead, or
 * undefined: `Pulumi.staging.yaml`, `./Pulumi.uat.yaml` and `stacks/prod` all mean a stack named by its last part.
 */
export function stackArgumentProblem(arg: string): { problem: string; name: string } | undefined {
    if (!/[\\/]/.test(arg) && !/\.ya?ml$/i.test(arg) && !/^Pulumi\./.test(arg)) return undefined;
    const name = arg
        .replace(/[\\/]+$/, "")
        .split(/[\\/]/)
        .pop()!
        .replace(/^Pulumi\./, "")
        .replace(/\.ya?ml$/i, "");
    return { problem: `expected a stack name, not a path or a file name (Pulumi.<stack>.yaml is the stack's file), found ${JSON.stringify(arg)}`, name };
}

/** What a stack argument that is a path says, with the command line that names the stack instead, or undefined. */
export function stackArgumentMessage(arg: string, argv: string[], usage: string): string | undefined {
    const found = stackArgumentProblem(arg);
    if (!found) return undefined;
    const script = scriptOf(usage);
    if (!found.name) return `${found.problem}; give the stack's name, e.g. staging`;
    if (!script) return `${found.problem}; give the stack's name: ${found.name}`;
    return `${found.problem}; give the stack's name: npm run ${script} -- ${argv.map((a) => (a === arg ? found.name : a)).join(" ")}`;
}

/** Refuses a stack argument that is a path (a UsageError saying what to run instead). */
export function checkStackArgument(arg: string, argv: string[], usage: string): void {
    const message = stackArgumentMessage(arg, argv, usage);
    if (message) throw new UsageError(message, usage);
}

/**
 * Parses `argv` strictly: unknown flags, a string flag without its value, and too few or too many positional
 * arguments throw a UsageError. `--help` is every command's.
 */
export function parseCommandLine<O extends Options>(
    argv: string[],
    spec: { options: O; positionals: { min: number; max: number; names: string }; usage: string },
    env: NodeJS.ProcessEnv = process.env,
) {
    const options = { ...spec.options, help: { type: "boolean", short: "h" } } as const;
    // Before anything else: the arguments npm passed on are not all the command was given.
    const swallowed = npmSwallowedFlags(argv, spec.options as Record<string, { type: "string" | "boolean" }>, env);
    const script = scriptOf(spec.usage);
    if (swallowed.length > 0 && script) throw new UsageError(npmSwallowedMessage(script, argv, swallowed), spec.usage);
    let parsed;
    try {
        parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (e: any) {
        // util.parseArgs says e.g. "Unknown option '--policy'"; its hint about '--' does not apply to npm scripts.
        throw new UsageError(String(e.message).replace(/\. To specify a positional argument starting with a '-'.*$/s, ""), spec.usage);
    }
    const { positionals } = parsed;
    const help = (parsed.values as { help?: boolean }).help === true;
    if (!help && (positionals.length < spec.positionals.min || positionals.length > spec.positionals.max)) {
        const found = positionals.length === 0 ? "none" : positionals.map((p) => JSON.stringify(p)).join(", ");
        throw new UsageError(`expected ${spec.positionals.names}, found ${found}`, spec.usage);
    }
    return { values: parsed.values, positionals, help };
}
