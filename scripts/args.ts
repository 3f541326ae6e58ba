// The command line of every offline command: known flags only, the right number of arguments, or its usage.
// A flag a command does not know is refused, never ignored: `plan --policy` must not print a plan as if
// policies had passed.
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

/**
 * Parses `argv` strictly: unknown flags, a string flag without its value, and too few or too many positional
 * arguments throw a UsageError. `--help` is every command's.
 */
export function parseCommandLine<O extends Options>(
    argv: string[],
    spec: { options: O; positionals: { min: number; max: number; names: string }; usage: string },
) {
    const options = { ...spec.options, help: { type: "boolean", short: "h" } } as const;
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
