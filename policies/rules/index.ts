// Every rule of stagehand's policy pack, by domain: plain policy objects with their validation functions, so
// tests call them directly. The pack itself (which starts a gRPC server) is constructed only in policies/index.ts.
import { Rule } from "./common";
import { eksApiEndpointRestricted, eksControlPlaneLogging, nodeGroupCapacityType, nodeGroupsMultiAz } from "./eks";
import { meshMtlsStrict } from "./mesh";
import { policyConfigMatchesStack } from "./policy-config";
import { chartVersionsPinned, eksControlPlaneLogRetention, eksCoreAddonsManaged, ingressLoadBalancerController, ingressTls, nodeGroupsHardened, noPublicIngress, storageClassesEncrypted } from "./platform";
import { chartSourceAllowedRule, renderedRestricted } from "./rendered";
import { noPlaintextSecrets } from "./secrets";
import { allowSkipAllowed, containersResourcesReadiness, imageTagPinned, productionFull, releaseAtomic, trafficRoutesReadyTracks } from "./services";

export { Rule };

/** Every rule of the pack, in the order of the README's table. */
export const rules: Rule[] = [
    imageTagPinned,
    trafficRoutesReadyTracks,
    releaseAtomic,
    containersResourcesReadiness,
    allowSkipAllowed,
    productionFull,
    chartSourceAllowedRule,
    renderedRestricted,
    nodeGroupCapacityType,
    nodeGroupsMultiAz,
    meshMtlsStrict,
    noPlaintextSecrets,
    eksControlPlaneLogging,
    eksApiEndpointRestricted,
    nodeGroupsHardened,
    eksCoreAddonsManaged,
    eksControlPlaneLogRetention,
    noPublicIngress,
    storageClassesEncrypted,
    chartVersionsPinned,
    ingressLoadBalancerController,
    ingressTls,
    policyConfigMatchesStack,
];
