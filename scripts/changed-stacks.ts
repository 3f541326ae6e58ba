// `npm run --silent changed-stacks -- [--root DIR] <base-ref> [head-ref]`: the stacks a change touches, as a JSON
// array for a GitHub Actions matrix. A stack file change touches that stack; a change to the program, the chart,
// the policies or the dependencies touches every stack.
//
// `npm run --silent changed-stacks -- [--root DIR] --since-deployed [head-ref]`: the stacks to deploy, each judged
// against the last commit successfully deployed to it (its stack output `deployedCommit`, read with
// `pulumi stack output`), not against the push's own commits: a deploy run that was cancelled, superseded or failed
// loses nothing, the next run picks its changes up. A stack never deployed, whose output is missing or names a
// commit this history does not hold, is deployed.
//
// `--root DIR`: the checkout whose stack files and git history are read (default: this code's own directory). CI
// runs this command from the base branch's code against the pull request's checkout, so a pull request cannot
// change which stacks its gates judge. A stack file whose name is not a stack name (STACK_NAME) is refused.
import { execFileSync } from "child_process";
import * as path from "path";
import { COMMIT_ID } from "../components/shared/deployed-commit";
import { parseCommandLine } from "./args";
import { byFleetOrder } from "../components/fleet/waves";
import { loadFleet } from "./fleet";
import { byPromotionOrder, checkStackFileNames, knownStacks, projectRoot, stackOfFileName } from "./stack-file";

/** Paths whose change affects every stack's preview. */
const SHARED = [/^index\.ts$/, /^Pulumi\.yaml$/, /^components\//, /^charts\//, /^policies\//, /^package(-lock)?\.json$/];

/** The stacks `files` touch, in release order (`order`: the fleet's, stagehand.fleet.yaml; default staging -> uat -> prod). */
export function changedStacks(files: string[], stacks: string[], order: (a: string, b: string) => number = byPromotionOrder): string[] {
    // A stack file a change adds, renames or deletes with a name CI cannot use is refused, not skipped.
    checkStackFileNames(files.filter((f) => !f.includes("/") && stackOfFileName(f) !== undefined));
    const all = files.some((f) => SHARED.some((re) => re.test(f)));
    return stacks
        .filter((s) => all || files.includes(`Pulumi.${s}.yaml`))
        .sort(order);
}


/** Why each stack is, or is not, deployed by `--since-deployed`. */
export interface DeployDecision {
    stack: string;
    deploy: boolean;
    why: string;
}

/**
 * The stacks to deploy at `head`: each whose files changed since the commit last deployed to it (`deployed[stack]`),
 * and each with no such commit (never deployed, output missing, or not in this history: `filesSince` says undefined).
 */
export function stacksToDeploy(
    stacks: string[],
    deployed: Record<string, string | undefined>,
    filesSince: (commit: string) => string[] | undefined,
    order: (a: string, b: string) => number = byPromotionOrder,
): DeployDecision[] {
    // Deployed in release order, wave by wave: the deploy job runs them one at a time in this order.
    return [...stacks].sort(order).map((stack) => {
        const commit = deployed[stack];
        if (commit === undefined || !COMMIT_ID.test(commit)) {
            return { stack, deploy: true, why: commit === undefined ? "no deployedCommit output: never deployed by CI, or deployed without it" : `deployedCommit ${JSON.stringify(commit)} is not a commit id` };
        }
        const files = filesSince(commit);
        if (files === undefined) return { stack, deploy: true, why: `deployedCommit ${commit} is not an ancestor of this commit in this history` };
        const changed = changedStacks(files, [stack]).length > 0;
        return { stack, deploy: changed, why: changed ? `changed since ${commit}, its last deployed commit` : `nothing changed for it since ${commit}, its last deployed commit` };
    });
}

/** The files changed between `commit` and `head` in the repository at `root`, or undefined when `commit` is not an ancestor of `head`. */
export function gitFilesSince(root: string, head: string): (commit: string) => string[] | undefined {
    return (commit) => {
        try {
            execFileSync("git", ["merge-base", "--is-ancestor", commit, head], { cwd: root, stdio: "ignore" });
        } catch {
            return undefined;
        }
        return execFileSync("git", ["diff", "--name-only", `${commit}..${head}`], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean);
    };
}

/** `pulumi stack output deployedCommit --stack <stack>`, or undefined when it fails (no stack, no output, no access). */
export function pulumiDeployedCommit(root: string): (stack: string) => string | undefined {
    return (stack) => {
        try {
            const out = execFileSync("pulumi", ["stack", "output", "deployedCommit", "--stack", stack, "--non-interactive"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
            return out === "" ? undefined : out;
        } catch {
            return undefined;
        }
    };
}

const USAGE = "usage: npm run --silent changed-stacks -- [--root DIR] <base-ref> [head-ref]\n       npm run --silent changed-stacks -- [--root DIR] --since-deployed [head-ref]";

export interface ChangedStacksOptions {
    out?: (text: string) => void;
    err?: (text: string) => void;
    /** Reads a stack's deployed commit (default: `pulumi stack output deployedCommit`). */
    deployedCommit?: (stack: string) => string | undefined;
}

export function main(argv: string[], env: NodeJS.ProcessEnv = process.env, options: ChangedStacksOptions = {}): number {
    const out = options.out ?? ((s: string) => console.log(s.replace(/\n$/, "")));
    const err = options.err ?? ((s: string) => console.error(s.replace(/\n$/, "")));
    let positionals: string[];
    let values: { root?: string; "since-deployed"?: boolean };
    try {
        const sinceDeployed = argv.includes("--since-deployed");
        const parsed = parseCommandLine(argv, {
            options: { root: { type: "string" }, "since-deployed": { type: "boolean" } },
            positionals: sinceDeployed ? { min: 0, max: 1, names: "optionally a head revision after --since-deployed" } : { min: 1, max: 2, names: "a base git revision and optionally a head revision" },
            usage: USAGE,
        }, env);
        if (parsed.help) {
            out(`${USAGE}\n`);
            return 0;
        }
        positionals = parsed.positionals;
        values = parsed.values as typeof values;
    } catch (e: any) {
        err(`changed-stacks: ${e.message}\n`);
        return 2;
    }
    const root = values.root === undefined ? projectRoot : path.resolve(values.root);
    try {
        const stacks = knownStacks(root);
        const order = byFleetOrder(loadFleet(root));
        if (values["since-deployed"]) {
            const [head = "HEAD"] = positionals;
            const read = options.deployedCommit ?? pulumiDeployedCommit(root);
            const deployed = Object.fromEntries(stacks.map((s) => [s, read(s)]));
            const decisions = stacksToDeploy(stacks, deployed, gitFilesSince(root, head), order);
            for (const d of decisions) err(`${d.stack}: ${d.deploy ? "deploy" : "skip"}: ${d.why}\n`);
            out(`${JSON.stringify(decisions.filter((d) => d.deploy).map((d) => d.stack))}\n`);
            return 0;
        }
        const [base, head = "HEAD"] = positionals;
        const files = execFileSync("git", ["diff", "--name-only", `${base}...${head}`], { cwd: root, encoding: "utf8" })
            .split("\n")
            .filter(Boolean);
        out(`${JSON.stringify(changedStacks(files, stacks, order))}\n`);
        return 0;
    } catch (e: any) {
        err(`changed-stacks: ${e.message}\n`);
        return 1;
    }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
