// Reads the platform state the last `pulumi up` of this stack deployed, from the stack's own outputs: a
// StackReference to itself, as components/service/previous.ts reads `serviceStages`. The first deployment (and a
// stack last deployed by a stagehand without `platformState`) has none: every platform change passes.
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_STATE_OUTPUT, PlatformState, readPlatformState } from "./changes";

export async function previousPlatformState(): Promise<PlatformState | undefined> {
    // Read-only: a StackReference reads the last checkpoint's outputs and changes nothing.
    const self = new pulumi.StackReference("previous-platform", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails(PLATFORM_STATE_OUTPUT);
    return readPlatformState(pulumi.getStack(), details.value ?? details.secretValue);
}
