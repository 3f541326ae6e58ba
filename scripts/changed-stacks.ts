// `npm run --silent changed-stacks -- <base-ref> [head-ref]`: the stacks a change touches, as a JSON array
// for a GitHub Actions matrix. A stack file change touches that stack; a change to the program, the chart,
// the policies or the dependencies touches every stack.
import { execFileSync } from "child_process";
import { parseCommandLine } from "./args";
import { knownStacks, projectRoot } from "./stack-file";

/** Paths whose change affects every stack's preview. */
const SHARED = [/^index\.ts$/, /^Pulumi\.yaml$/, /^components\//, /^charts\//, /^policies\//, /^package(-lock)?\.json$/];

/** Stacks in the order a change is promoted through them: staging, uat, prod, then any other by name. */
const PROMOTION_ORDER = ["staging", "uat", "prod"];

function promotionRank(stack: string): number {
    const i = PROMOTION_ORDER.indexOf(stack);
    return i < 0 ? PROMOTION_ORDER.length : i;
}

export function changedStacks(files: string[], stacks: string[]): string[] {
    const all = files.some((f) => SHARED.some((re) => re.test(f)));
    return stacks
        .filter((s) => all || files.includes(`Pulumi.${s}.yaml`))
        .sort((a, b) => promotionRank(a) - promotionRank(b) || a.localeCompare(b));
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
