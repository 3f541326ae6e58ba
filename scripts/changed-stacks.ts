// `npm run --silent changed-stacks -- <base-ref> [head-ref]`: the stacks a change touches, as a JSON array
// for a GitHub Actions matrix. A stack file change touches that stack; a change to the program, the chart,
// the policies or the dependencies touches every stack.
import { execFileSync } from "child_process";
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

export function main(argv: string[]): number {
    const [base, head = "HEAD"] = argv;
    if (!base) {
        console.error("usage: npm run --silent changed-stacks -- <base-ref> [head-ref]");
        return 2;
    }
    const files = execFileSync("git", ["diff", "--name-only", `${base}...${head}`], { cwd: projectRoot, encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
    console.log(JSON.stringify(changedStacks(files, knownStacks())));
    return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
