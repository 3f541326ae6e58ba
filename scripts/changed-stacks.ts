// `npm run --silent changed-stacks -- <base-ref> [head-ref]`: the stacks a change touches, as a JSON array
// for a GitHub Actions matrix. A stack file change touches that stack; a change to the program, the chart,
// the policies or the dependencies touches every stack.
import { execFileSync } from "child_process";
import { parseCommandLine } from "./args";
import { byPromotionOrder, knownStacks, projectRoot } from "./stack-file";

/** Paths whose change affects every stack's preview. */
const SHARED = [/^index\.ts$/, /^Pulumi\.yaml$/, /^components\//, /^charts\//, /^policies\//, /^package(-lock)?\.json$/];

export function changedStacks(files: string[], stacks: string[]): string[] {
    const all = files.some((f) => SHARED.some((re) => re.test(f)));
    return stacks
        .filter((s) => all || files.includes(`Pulumi.${s}.yaml`))
        .sort(byPromotionOrder);
}

const USAGE = "usage: npm run --silent changed-stacks -- <base-ref> [head-ref]";

export function main(argv: string[]): number {
    let positionals: string[];
    try {
        const parsed = parseCommandLine(argv, { options: {}, positionals: { min: 1, max: 2, names: "a base git revision and optionally a head revision" }, usage: USAGE });
        if (parsed.help) {
            console.log(USAGE);
            return 0;
        }
        positionals = parsed.positionals;
    } catch (e: any) {
        console.error(`changed-stacks: ${e.message}`);
        return 2;
    }
    const [base, head = "HEAD"] = positionals;
    const files = execFileSync("git", ["diff", "--name-only", `${base}...${head}`], { cwd: projectRoot, encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
    console.log(JSON.stringify(changedStacks(files, knownStacks())));
    return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
