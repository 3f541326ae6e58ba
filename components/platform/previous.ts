// Reads the platform state the last `pulumi up` of this stack deployed, from the stack's own outputs, as
// components/service/previous.ts reads `serviceStages`. The first deployment (and a stack last deployed by a
// stagehand without `platformState`) has none: every platform change passes.
import * as pulumi from "@pulumi/pulumi";
import { OwnOutputs } from "../shared/own-outputs";
import { PLATFORM_STATE_OUTPUT, PlatformState, readPlatformState } from "./changes";

export async function previousPlatformState(outputs: OwnOutputs): Promise<PlatformState | undefined> {
    return readPlatformState(pulumi.getStack(), await outputs.value(PLATFORM_STATE_OUTPUT));
}
