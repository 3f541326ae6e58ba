// `npm run promote -- <service> --to <stack|wave> [--dry-run]`: starts in <stack> (or in every stack of <wave>) the
// release of the tag <service> finished, and baked, in the wave before it (stagehand.fleet.yaml; without it
// staging -> uat -> prod). It edits Pulumi.<stack>.yaml — `canary` and `stage`, nothing else, comments and layout
// kept — for the team to open as a pull request like any stage change.
import * as fs from "fs";
import { StackConfig } from "../components/config";
import { previousWave } from "../components/fleet/waves";
import { currentTime } from "./fleet";
import { checkStackArgument, parseCommandLine, UsageError } from "./args";
import { loadStack, planPromotion, Promotion, promotionContext } from "./releases";
import { knownStacks, projectRoot } from "./stack-file";

export const USAGE = `usage: npm run promote -- <service> --to <stack|wave> [--dry-run]
  starts in <stack>, or in every stack of <wave>, the release of the tag <service> finished and baked
  in the wave before it (stagehand.fleet.yaml; default staging -> uat -> prod): sets canary to that tag
  and the first stage after idle in Pulumi.<stack>.yaml, and changes nothing else in the file
  --to       the stack, or the wave, to start the release in
  --dry-run  print what would change without writing the files
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
        if (parsed.values.to === undefined) throw new UsageError("expected --to <stack|wave>: the stack, or the wave, to start the release in", USAGE);
        checkStackArgument(parsed.values.to, argv, USAGE);
        [service] = parsed.positionals;
        to = parsed.values.to;
        dryRun = parsed.values["dry-run"] === true;
    } catch (e: any) {
        if (!(e instanceof UsageError)) throw e;
        err(`promote: ${e.message}`);
        return 2;
    }

    const results: { result: Extract<Promotion, { ok: true }>; file: string }[] = [];
    try {
        const context = promotionContext(root, currentTime(options.env ?? process.env));
        // A wave's name starts the release in each of its stacks; a stack's name in that stack alone.
        const wave = context.fleet.waves.find((w) => w.name === to);
        const targets = wave && !knownStacks(root).includes(to) ? wave.stacks : [to];
        const sources: Record<string, { text: string; config: StackConfig }> = {};
        for (const target of targets) {
            const loaded = loadStack(target, root);
            for (const s of previousWave(context.fleet, target)?.stacks ?? []) {
                if (!sources[s]) sources[s] = loadStack(s, root);
            }
            const result = planPromotion(service, target, { from: sources, to: loaded }, context);
            if (!result.ok) {
                const ends = result.bakeEndsAt ? ` (run it again after ${result.bakeEndsAt.toISOString()})` : "";
                err(`promote: refused${targets.length > 1 ? ` (wave ${to}: nothing written to any of ${targets.join(", ")})` : ""}: ${result.reason}${ends}`);
                return 1;
            }
            results.push({ result, file: loaded.file });
        }
    } catch (e: any) {
        // An unknown stack, or a stack file (or fleet file) the program itself would refuse (every problem listed).
        err(`promote: refused: ${e.message}`);
        return 1;
    }
    for (const { result, file } of results) {
        if (!dryRun) fs.writeFileSync(file, result.text);
        out(`${dryRun ? "would promote" : "promoted"} ${result.service} ${result.tag} from ${result.from} to ${result.to}: Pulumi.${result.to}.yaml${dryRun ? " (not written: --dry-run)" : ""}`);
        for (const change of result.changes) out(`  ${change}`);
        out(`${result.to}: ${result.move}`);
        out(result.after.description);
    }
    const files = results.map((r) => `Pulumi.${r.result.to}.yaml`).join(", ");
    out(`next: open a pull request with ${files}; ${results.map((r) => `\`npm run plan -- ${r.result.to} --diff\``).join(", ")} shows the same move`);
    return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
