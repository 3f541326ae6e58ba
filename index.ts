// Wiring only: stack config → one ServiceRelease per service. Logic lives in components/.
import * as pulumi from "@pulumi/pulumi";
import { parseServices } from "./components/config";
import { namespaceOwners, ServiceRelease } from "./components/service-release";
import { stagePlan } from "./components/stages";

const stack = pulumi.getStack();
const config = new pulumi.Config("stagehand");

// Validation throws before any resource is registered: nothing is half-applied.
const services = parseServices(stack, config.getObject("services"));
const owners = namespaceOwners(services);

const releases: Record<string, ServiceRelease> = {};
// Namespace owners first, so the services sharing a namespace can depend on its owner.
const ownerNames = new Set(Object.values(owners));
for (const name of [...ownerNames, ...Object.keys(services).filter((n) => !ownerNames.has(n))]) {
    const service = services[name];
    const owner = owners[service.namespace];
    releases[name] = new ServiceRelease(
        name,
        { name, service, plan: stagePlan(service), ownsNamespace: owner === name },
        { dependsOn: owner === name ? [] : [releases[owner]] },
    );
}

/** Per service, what the preview shows a reviewer: the stage in words and the traffic split. */
export const serviceStages = Object.fromEntries(
    Object.entries(releases).map(([name, r]) => [
        name,
        { stage: r.stage, stageCount: r.stageCount, description: r.description, weights: r.weights },
    ]),
);
