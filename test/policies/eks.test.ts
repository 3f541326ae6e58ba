// The EKS rules, one passing and one violating case at least: node group capacity type and availability-zone
// spread per stack, control-plane logging, a restricted API endpoint.
import * as assert from "assert";
import { eksApiEndpointRestricted, eksControlPlaneLogging, nodeGroupCapacityType, nodeGroupsMultiAz } from "../../policies/rules/eks";
import { checkResource, checkStack, CLUSTER, NODE_GROUP, passes, Res, StackRes, SUBNET, UNKNOWN, urnOf } from "./harness";

describe("policy node-group-capacity-type", () => {
    const group = (stack: string, capacityType?: string): Res => ({ type: NODE_GROUP, name: "workers", stack, props: capacityType ? { capacityType } : {} });

    it("passes SPOT in staging and ON_DEMAND (also when unset) in UAT and prod", async () => {
        passes(await checkResource(nodeGroupCapacityType, group("staging", "SPOT")));
        passes(await checkResource(nodeGroupCapacityType, group("uat", "ON_DEMAND")));
        passes(await checkResource(nodeGroupCapacityType, group("prod")));
    });

    it("refuses on-demand in staging and spot in prod, reading the stack from the URN", async () => {
        assert.deepStrictEqual((await checkResource(nodeGroupCapacityType, group("staging"))).messages, [
            "node group workers in stack staging has capacityType ON_DEMAND (unset, which AWS treats as ON_DEMAND); node groups of stack staging must be SPOT",
        ]);
        assert.deepStrictEqual((await checkResource(nodeGroupCapacityType, group("prod", "SPOT"))).messages, [
            "node group workers in stack prod has capacityType SPOT; node groups of stack prod must be ON_DEMAND",
        ]);
    });

    it("takes the stack mapping from config, and skips stacks it does not list", async () => {
        const out = await checkResource(nodeGroupCapacityType, group("dev-alice", "ON_DEMAND"));
        assert.strictEqual(out.notApplicable, "no capacity type is required for stack dev-alice");
        assert.deepStrictEqual((await checkResource(nodeGroupCapacityType, group("dev-alice", "ON_DEMAND"), { capacityTypeByStack: { "dev-alice": "SPOT" } })).messages, [
            "node group workers in stack dev-alice has capacityType ON_DEMAND; node groups of stack dev-alice must be SPOT",
        ]);
    });
});

describe("policy node-groups-multi-az", () => {
    const subnet = (name: string, zone: string | undefined, id = `${name}-id`): StackRes => ({ type: SUBNET, name, props: { id, vpcId: "vpc-1", ...(zone ? { availabilityZone: zone } : {}) } });
    const group = (subnets: string[], props: Record<string, unknown> = {}): StackRes => ({
        type: NODE_GROUP,
        name: "workers",
        props: { capacityType: "ON_DEMAND", subnetIds: subnets.map(() => UNKNOWN), scalingConfig: { minSize: 2, maxSize: 6, desiredSize: 3 }, ...props },
        deps: { subnetIds: subnets },
    });

    it("passes a prod node group whose subnets (found by property dependency) span 2 zones", async () => {
        passes(await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), subnet("b", "us-east-1b"), group(["a", "b"])]));
    });

    it("passes subnets found by id, and subnets outside the stack listed in config", async () => {
        const byId: StackRes = { type: NODE_GROUP, name: "workers", props: { subnetIds: ["a-id", "b-id"], scalingConfig: { minSize: 2 } } };
        passes(await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), subnet("b", "us-east-1c"), byId]));
        const external: StackRes = { type: NODE_GROUP, name: "workers", props: { subnetIds: ["subnet-1", "subnet-2"], scalingConfig: { minSize: 2 } } };
        passes(await checkStack(nodeGroupsMultiAz, "prod", [external], { subnetAvailabilityZones: { "subnet-1": "us-east-1a", "subnet-2": "us-east-1b" } }));
    });

    it("refuses a prod node group in one zone, or one that may shrink below the zone count", async () => {
        const oneZone = await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), subnet("b", "us-east-1a"), group(["a", "b"])]);
        assert.deepStrictEqual(oneZone.messages, ["node group workers spans 1 availability zone (us-east-1a); node groups of stack prod must span at least 2"]);
        assert.deepStrictEqual(oneZone.urns, [urnOf("prod", NODE_GROUP, "workers")]);
        const small = await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), subnet("b", "us-east-1b"), group(["a", "b"], { scalingConfig: { minSize: 1 } })]);
        assert.deepStrictEqual(small.messages, ["node group workers may shrink to 1 node (scalingConfig.minSize), fewer than the 2 availability zones it must span in stack prod"]);
    });

    it("refuses what it cannot verify: a zone unknown at preview, subnets outside the stack", async () => {
        const unknownZone = await checkStack(nodeGroupsMultiAz, "prod", [subnet("a", "us-east-1a"), { ...subnet("b", undefined), props: { availabilityZone: UNKNOWN } }, group(["a", "b"])]);
        assert.deepStrictEqual(unknownZone.messages, [
            "node group workers: cannot verify its availability-zone spread: subnet b has no availabilityZone known at preview (set availabilityZone on the subnet, or list it in subnetAvailabilityZones)",
        ]);
        const external: StackRes = { type: NODE_GROUP, name: "workers", props: { subnetIds: ["subnet-1"], scalingConfig: { minSize: 2 } } };
        assert.deepStrictEqual((await checkStack(nodeGroupsMultiAz, "prod", [external])).messages, [
            "node group workers: cannot tell which availability zones it spans: none of its subnets is a resource of this stack or listed in the rule's subnetAvailabilityZones",
        ]);
    });

    it("does not apply to staging (single zone is fine) or a stack without node groups", async () => {
        const staging = await checkStack(nodeGroupsMultiAz, "staging", [subnet("a", "us-east-1a"), group(["a"])]);
        assert.strictEqual(staging.notApplicable, "no availability-zone spread is required for stack staging");
        assert.strictEqual((await checkStack(nodeGroupsMultiAz, "prod", [])).notApplicable, "no EKS node groups in this stack");
    });
});

describe("policy eks-control-plane-logging", () => {
    const cluster = (enabledClusterLogTypes?: string[]): Res => ({ type: CLUSTER, name: "eks", props: { vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true }, ...(enabledClusterLogTypes ? { enabledClusterLogTypes } : {}) } });

    it("passes a cluster logging api, audit and authenticator", async () => {
        passes(await checkResource(eksControlPlaneLogging, cluster(["api", "audit", "authenticator", "scheduler"])));
    });

    it("refuses a cluster without (enough) control-plane logging", async () => {
        assert.deepStrictEqual((await checkResource(eksControlPlaneLogging, cluster())).messages, [
            "EKS cluster eks: control-plane logging is missing api, audit, authenticator (enabledClusterLogTypes is nothing; required: api, audit, authenticator)",
        ]);
        assert.deepStrictEqual((await checkResource(eksControlPlaneLogging, cluster(["api", "audit", "authenticator"]), { requiredLogTypes: ["audit", "scheduler"] })).messages, [
            'EKS cluster eks: control-plane logging is missing scheduler (enabledClusterLogTypes is ["api","audit","authenticator"]; required: audit, scheduler)',
        ]);
    });
});

describe("policy eks-api-endpoint-restricted", () => {
    const cluster = (vpcConfig: Record<string, unknown>): Res => ({ type: CLUSTER, name: "eks", props: { vpcConfig: { subnetIds: ["subnet-1"], ...vpcConfig } } });

    it("passes a private endpoint, or a public one limited to listed CIDRs", async () => {
        passes(await checkResource(eksApiEndpointRestricted, cluster({ endpointPublicAccess: false, endpointPrivateAccess: true })));
        passes(await checkResource(eksApiEndpointRestricted, cluster({ endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] })));
    });

    it("refuses an endpoint open to the internet, including AWS's default", async () => {
        assert.deepStrictEqual((await checkResource(eksApiEndpointRestricted, cluster({}))).messages, [
            "EKS cluster eks: the public API endpoint is open to 0.0.0.0/0 (no publicAccessCidrs, the AWS default). Set vpcConfig.endpointPublicAccess to false (with endpointPrivateAccess), or list the allowed CIDR blocks in vpcConfig.publicAccessCidrs, or opt in explicitly with allowPublicApiEndpoint: true in this stack's policy config",
        ]);
        const open = await checkResource(eksApiEndpointRestricted, cluster({ endpointPublicAccess: true, publicAccessCidrs: ["10.0.0.0/8", "0.0.0.0/0"] }));
        assert.match(open.messages[0], /^EKS cluster eks: the public API endpoint is open to 0\.0\.0\.0\/0\. Set vpcConfig/);
    });

    it("accepts the explicit opt-in of the stack's policy config", async () => {
        passes(await checkResource(eksApiEndpointRestricted, cluster({}), { allowPublicApiEndpoint: true }));
    });
});
