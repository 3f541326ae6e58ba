// What the last `pulumi up` of this stack exported: one StackReference to the stack itself per run (read-only: it
// reads the last checkpoint's outputs and changes nothing), from which the services' deployed state
// (components/service/previous.ts) and the platform state (components/platform/previous.ts) are both read.
import * as pulumi from "@pulumi/pulumi";

/** The stack's previous outputs: the names of all of them (none: a first deployment), and one's value by name. */
export interface OwnOutputs {
    names(): Promise<string[]>;
    value(name: string): Promise<unknown>;
}

/** Registers the StackReference to this stack; call once per run and hand the result to each reader. */
export function ownOutputs(): OwnOutputs {
    const self = new pulumi.StackReference("previous-outputs", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    return {
        names: () => new Promise<string[]>((resolve) => self.outputs.apply((o) => resolve(Object.keys(o ?? {})))),
        value: async (name) => {
            const details = await self.getOutputDetails(name);
            return details.value ?? details.secretValue;
        },
    };
}
