// `npm run promote -- <service> --to <stack> [--dry-run]`: starts in <stack> the release of the tag <service>
// finished in the environment before it (staging -> uat -> prod). It edits Pulumi.<stack>.yaml — `canary` and
// `stage`, nothing else, comments and layout kept — for the team to open as a pull request like any stage change.
import * as fs from "fs";
import { checkStackArgument, parseCommandLine, UsageError } from "./args";
import { loadStack, planPromotion, previousStack } from "./releases";
import { projectRoot, PROMOTION_CHAIN } from "./stack-file";

export const USAGE = `usage: npm run promote -- <service> --to <stack> [--dry-run]
  starts in <stack> the release of the tag <service> finished in the environment before it
  (${PROMOTION_CHAIN.join(" -> ")}): sets canary to that tag and the first stage after idle in
  Pulumi.<stack>.yaml, and changes nothing else in the file
  --to       the environment to start the release in
  --dry-run  print what would change without writing the file
exit codes: 0 promoted, 1 refused (nothing written), 2 usage`;

export interface PromoteOptions {
    /** The environment npm ran the command in (default process.env): flags npm kept for itself are there. */
    env?: NodeJS.ProcessEnv;
    out?: (line: string) => void;
    err?: (line: string) => void;
    /** Directory holding the stack files; default the project root. */
    root?: string;
}

export function main(argv: string[], options: PromoteOptions = {}): number {
    const out = options.out ?? ((s: string) => console.log(s));
    const err = options.err ?? ((s: string) => console.error(s));
    const root = options.root ?? projectRoot;
    let service: string;
    let to: string;
    let dryRun: boolean;
    try {
        const parsed = parseCommandLine(argv, {
            options: { to: { type: "string" }, "dry-run": { type: "boolean" } },
            positionals: { min: 1, max: 1, names: "one service" },
            usage: USAGE,
        }, options.env);
        if (parsed.help) {
            out(USAGE);
            return 0;
        }
        if (parsed.values.to === undefined) throw new UsageError("expected --to <stack>: the environment to start the release in", USAGE);
        checkStackArgument(parsed.values.to, argv, USAGE);
        [service] = parsed.positionals;
        to = parsed.values.to;
        dryRun = parsed.values["dry-run"] === true;
    } catch (e: any) {
        if (!(e instanceof UsageError)) throw e;
        err(`promote: ${e.message}`);
        return 2;
    }

    let result: ReturnType<typeof planPromotion>;
    let file: string;
    try {
        const target = loadStack(to, root);
        file = target.file;
        const from = previousStack(to);
        // Without a previous environment planPromotion refuses, reading no source.
        const source = from ? loadStack(from, root) : target;
        result = planPromotion(service, to, { from: source, to: target });
    } catch (e: any) {
        // An unknown stack, or a stack file the program itself would refuse (every problem listed).
        err(`promote: refused: ${e.message}`);
        return 1;
    }
    if (!result.ok) {
        err(`promote: refused: ${result.reason}`);
        return 1;
    }
    if (!dryRun) fs.writeFileSync(file, result.text);
    out(`${dryRun ? "would promote" : "promoted"} ${result.service} ${result.tag} from ${result.from} to ${result.to}: Pulumi.${result.to}.yaml${dryRun ? " (not written: --dry-run)" : ""}`);
    for (const change of result.changes) out(`  ${change}`);
    out(`${result.to}: ${result.move}`);
    out(result.after.description);
    out(`next: open a pull request with Pulumi.${result.to}.yaml; \`npm run plan -- ${result.to} --diff\` shows the same move`);
    return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
