// Reads what the last `pulumi up` of this stack deployed, from the stack's own outputs. The first deployment of a
// stack has no outputs: every service's previous state is unknown. A stack with outputs but no `serviceStages` is
// refused unless acknowledged (deployed.ts `readPreviousServices`).
import * as pulumi from "@pulumi/pulumi";
import { OwnOutputs } from "../shared/own-outputs";
import { DeployedService, readPreviousServices, SERVICE_STAGES_OUTPUT } from "./deployed";

export async function previousDeployment(outputs: OwnOutputs, acknowledgedUnknown = false): Promise<Record<string, DeployedService>> {
    return readPreviousServices(pulumi.getStack(), await outputs.names(), await outputs.value(SERVICE_STAGES_OUTPUT), acknowledgedUnknown);
}
