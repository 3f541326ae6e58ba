// Reads what the last `pulumi up` of this stack deployed, from the stack's own outputs: a StackReference
// to itself. The first deployment of a stack has no outputs: every service's previous state is unknown. A stack with
// outputs but no `serviceStages` is refused unless acknowledged (deployed.ts `readPreviousServices`).
import * as pulumi from "@pulumi/pulumi";
import { DeployedService, readPreviousServices, SERVICE_STAGES_OUTPUT } from "./deployed";

export async function previousDeployment(acknowledgedUnknown = false): Promise<Record<string, DeployedService>> {
    // Read-only: a StackReference reads the last checkpoint's outputs and changes nothing.
    const self = new pulumi.StackReference("previous-deployment", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails(SERVICE_STAGES_OUTPUT);
    // The names of every output the stack has: none at all is a first deployment.
    const names = await new Promise<string[]>((resolve) => self.outputs.apply((o) => resolve(Object.keys(o ?? {}))));
    return readPreviousServices(pulumi.getStack(), names, details.value ?? details.secretValue, acknowledgedUnknown);
}
