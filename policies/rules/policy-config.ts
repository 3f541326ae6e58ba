// The rule about the policy config file itself: the one passed with --policy-pack-config is the file written
// for the stack being checked.
import { configOf, Rule, stackOfUrn } from "./common";

export const policyConfigMatchesStack: Rule = {
    name: "policy-config-matches-stack",
    description:
        "The policy config file passed with --policy-pack-config is the one written for this stack (its `stacks` list names the stack), so staging's relaxed levels never judge prod.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            stacks: { type: "array", items: { type: "string" }, description: "The stacks this config file is written for." },
        },
    },
    validateStack: (args, report) => {
        const { stacks } = configOf(args, { stacks: undefined as string[] | undefined });
        if (!stacks) args.notApplicable("no policy config file names its stacks (every rule keeps its default, mandatory, level)");
        const stack = args.resources.map((r) => stackOfUrn(r.urn)).find((s) => s !== undefined);
        if (stack === undefined) args.notApplicable("no resources in this stack");
        if (!stacks!.includes(stack!)) {
            report(`stack ${stack} is being checked with the policy config written for ${stacks!.join(", ")}; use --policy-pack-config policies/config.${stack}.json`);
        }
    },
};
