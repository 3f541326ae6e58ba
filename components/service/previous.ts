// Reads what the last `pulumi up` of this stack deployed, from the stack's own outputs: a StackReference
// to itself. The first deployment of a stack has no outputs: every service's previous state is unknown.
import * as pulumi from "@pulumi/pulumi";
import { DeployedService, readDeployedServices, SERVICE_STAGES_OUTPUT } from "./deployed";

export async function previousDeployment(): Promise<Record<string, DeployedService>> {
    // Read-only: a StackReference reads the last checkpoint's outputs and changes nothing.
    const self = new pulumi.StackReference("previous-deployment", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails(SERVICE_STAGES_OUTPUT);
    return readDeployedServices(pulumi.getStack(), details.value ?? details.secretValue);
}
