// The platform on the cluster (components/platform/cluster-addons.ts and charts.ts) under Pulumi mocks: the encrypted
// default StorageClass, metrics-server and the cluster-autoscaler (its own IAM role through EKS Pod Identity, allowed
// to resize only this cluster's node groups), in order; node groups left to the autoscaler within their bounds.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    autoscalerOwnershipTag,
    CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
    clusterAutoscalerPolicy,
    clusterAutoscalerValues,
    platformChartReleases,
    platformReplicas,
} from "../../components/platform/charts";
import { Cluster } from "../../components/platform/cluster";
import { loadBalancerControllerPolicy } from "../../components/platform/iam";
import { EksClusterConfig, parseCluster } from "../../components/platform/config";
import { ConfigError } from "../../components/shared/errors";
import { readStackConfig } from "../../scripts/stack-file";
import { dependencyNames, ofType, Registered, runMocked, runProgram } from "../helpers/mocks";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const eksOf = (stack: string) => parseCluster(stack, readStackConfig(stack).cluster) as EksClusterConfig;
/** The resource of a type and name (a role, its policy, association and release may share a name). */
const byName = (resources: Registered[], name: string, type = RELEASE) => {
    const r = resources.find((x) => x.name === name && x.type === type);
    assert.ok(r, `${type} ${name} is registered`);
    return r;
};
/** Whether `r` waits for the resource of `type` named `name`. */
const waitsFor = (r: Registered, type: string, name: string) => r.dependencies.some((u) => u.endsWith(`${type}::${name}`));

describe("platform charts (pure): metrics-server and the cluster-autoscaler", () => {
    it("pinned charts from their own repositories, into kube-system, in order", () => {
        const releases = platformChartReleases(eksOf("prod"), { clusterName: "stagehand-prod", region: "us-east-1", vpcId: "vpc-1" });
        assert.deepStrictEqual(
            releases.map((r) => [r.key, r.name, r.chart, r.repo, r.version, r.namespace]),
            [
                ["metrics-server", "metrics-server", "metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.1", "kube-system"],
                ["cluster-autoscaler", "cluster-autoscaler", "cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.59.0", "kube-system"],
                ["aws-load-balancer-controller", "aws-load-balancer-controller", "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "3.5.0", "kube-system"],
            ],
        );
    });

    it("the platform is highly available where the ingress is: two replicas in uat and prod, one in staging", () => {
        assert.deepStrictEqual(["staging", "uat", "prod"].map((s) => platformReplicas(eksOf(s))), [1, 2, 2]);
    });

    it("the cluster-autoscaler is told its cluster and region (never the instance metadata's) and runs the cluster's minor", () => {
        const values = clusterAutoscalerValues(eksOf("uat"), { clusterName: "stagehand-uat", region: "eu-west-1", vpcId: "vpc-1" }) as any;
        assert.deepStrictEqual([values.autoDiscovery, values.awsRegion, values.image, values.cloudProvider], [{ clusterName: "stagehand-uat" }, "eu-west-1", { tag: "v1.35.0" }, "aws"]);
        assert.deepStrictEqual(values.rbac.serviceAccount, { create: true, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT });
    });

    it("its IAM policy resizes only the Auto Scaling groups EKS tagged as this cluster's", () => {
        const policy = JSON.parse(clusterAutoscalerPolicy("stagehand-prod"));
        const writes = policy.Statement.filter((st: any) => st.Action.some((a: string) => /SetDesiredCapacity|Terminate/.test(a)));
        assert.deepStrictEqual(writes.map((st: any) => st.Condition), [{ StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/stagehand-prod": "owned" } }]);
        assert.strictEqual(autoscalerOwnershipTag("stagehand-prod"), "k8s.io/cluster-autoscaler/stagehand-prod");
        // Everything else it may do is a read.
        const reads = policy.Statement.filter((st: any) => st.Condition === undefined).flatMap((st: any) => st.Action);
        assert.ok(reads.every((a: string) => /:(Describe|Get)/.test(a)), reads.join());
    });

    it("a node pool mixes no instance sizes: the autoscaler sizes a group by one of its types", () => {
        assert.throws(
            () => parseCluster("prod", { nodePools: [{ capacityType: "ON_DEMAND", instanceTypes: ["m6i.large", "m6i.xlarge"] }] }),
            (e: any) => {
                assert.ok(e instanceof ConfigError);
                assert.deepStrictEqual(e.problems, [
                    'stack prod, field cluster.nodePools[0].instanceTypes: expected instance types of one size (the cluster-autoscaler sizes a node group by one of them): m6i.large has 2 vCPU / 8 GiB, m6i.xlarge 4 vCPU / 16 GiB, found ["m6i.large","m6i.xlarge"]',
                ]);
                return true;
            },
        );
        for (const stack of ["staging", "uat", "prod"]) eksOf(stack);
    });
});

describe("ClusterAddons under Pulumi mocks (index.ts)", () => {
    for (const stack of ["staging", "uat", "prod"]) {
        it(`${stack}: metrics-server, the cluster-autoscaler and the load balancer controller are atomic releases after every EKS add-on; each controller after its own Pod Identity`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const addons = ofType(resources, "aws:eks/addon:Addon").map((a) => a.name);
            assert.strictEqual(addons.length, 5);
            const charts = ["metrics-server", "cluster-autoscaler", "aws-load-balancer-controller"];
            for (const chart of charts) {
                const release = byName(resources, `cluster-addons-${chart}`);
                assert.deepStrictEqual([release.inputs.atomic, release.inputs.namespace], [true, "kube-system"]);
                assert.match(release.parent ?? "", /stagehand:index:ClusterAddons::cluster-addons$/);
                for (const a of addons) assert.ok(dependencyNames(release).includes(a), `${chart} waits for ${a}`);
                assert.match(release.provider ?? "", /::cluster-k8s::/);
            }
            const associations = ofType(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
            assert.deepStrictEqual(
                associations.map((a) => [a.name, a.inputs.clusterName, a.inputs.namespace, a.inputs.serviceAccount, a.inputs.roleArn]).sort((x, y) => String(y[0]).localeCompare(String(x[0]))),
                [
                    ["cluster-addons-cluster-autoscaler", `stagehand-${stack}`, "kube-system", "cluster-autoscaler", "arn:aws:mock:::cluster-addons-cluster-autoscaler"],
                    ["cluster-addons-aws-load-balancer-controller", `stagehand-${stack}`, "kube-system", "aws-load-balancer-controller", "arn:aws:mock:::cluster-addons-aws-load-balancer-controller"],
                ],
            );
            const ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation";
            const autoscaler = byName(resources, "cluster-addons-cluster-autoscaler");
            const controller = byName(resources, "cluster-addons-aws-load-balancer-controller");
            assert.ok(waitsFor(autoscaler, ASSOCIATION, "cluster-addons-cluster-autoscaler"), "the autoscaler waits for its association");
            assert.ok(waitsFor(controller, ASSOCIATION, "cluster-addons-aws-load-balancer-controller"), "the controller waits for its association");
            assert.ok(!waitsFor(byName(resources, "cluster-addons-metrics-server"), ASSOCIATION, "cluster-addons-cluster-autoscaler"));
            // Each association names the ServiceAccount its chart creates.
            assert.strictEqual(autoscaler.inputs.values.rbac.serviceAccount.name, "cluster-autoscaler");
            assert.strictEqual(controller.inputs.values.serviceAccount.name, "aws-load-balancer-controller");
            for (const key of ["cluster-autoscaler", "aws-load-balancer-controller"]) {
                const role = ofType(resources, "aws:iam/role:Role").find((r) => r.name === `cluster-addons-${key}`)!;
                assert.deepStrictEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: "pods.eks.amazonaws.com" });
            }
            const policy = (key: string) => ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name === `cluster-addons-${key}`)!.inputs.policy;
            assert.strictEqual(policy("cluster-autoscaler"), clusterAutoscalerPolicy(`stagehand-${stack}`));
            // Bound to this stack's cluster tag and VPC (simulated in test/platform/iam.test.ts).
            assert.strictEqual(policy("aws-load-balancer-controller"), loadBalancerControllerPolicy({ clusterName: `stagehand-${stack}`, vpcId: "cluster-vpc-id" }));
            assert.strictEqual(autoscaler.inputs.values.autoDiscovery.clusterName, `stagehand-${stack}`);
            // The controller is told its cluster, region and VPC (the stack's VPC), never left to the metadata service.
            assert.deepStrictEqual([controller.inputs.values.clusterName, controller.inputs.values.region, controller.inputs.values.vpcId], [`stagehand-${stack}`, "us-east-1", "cluster-vpc-id"]);
            // Istio, whose gateway Service the controller serves, waits for the whole platform.
            for (const name of ["istio-istiod-1-30-3", "istio-gateway"]) {
                for (const chart of charts) assert.ok(dependencyNames(byName(resources, name)).includes(`cluster-addons-${chart}`), `${name} waits for ${chart}`);
            }
        });
    }

    it("the load balancer controller's policy changes and deletes only what it tagged as this cluster's", () => {
        const statements = JSON.parse(loadBalancerControllerPolicy({ clusterName: "stagehand-prod", vpcId: "vpc-1" })).Statement;
        const allowing = (action: string) => statements.filter((st: any) => st.Action.includes(action));
        for (const action of ["elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyLoadBalancerAttributes"]) {
            const found = allowing(action);
            assert.ok(found.length > 0, action);
            for (const st of found) assert.deepStrictEqual(st.Condition, { StringEquals: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "stagehand-prod" } }, action);
        }
        for (const st of allowing("ec2:DeleteSecurityGroup")) {
            assert.deepStrictEqual(st.Condition, { StringEquals: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "stagehand-prod" }, ArnLike: { "ec2:Vpc": "arn:aws:ec2:*:*:vpc/vpc-1" } });
        }
        for (const st of allowing("elasticloadbalancing:CreateLoadBalancer")) assert.deepStrictEqual(st.Condition, { StringEquals: { "aws:RequestTag/elbv2.k8s.aws/cluster": "stagehand-prod" } });
        assert.deepStrictEqual(allowing("iam:CreateServiceLinkedRole")[0].Condition, { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } });
    });

    it("node groups keep their bounds from the stack; the autoscaler owns their size in between (desiredSize is not set back)", async () => {
        const ignored = new Map<string, string[]>();
        const capture: pulumi.ResourceTransformation = (a) => {
            ignored.set(a.name, (a.opts.ignoreChanges ?? []) as string[]);
            return undefined;
        };
        const config = eksOf("prod");
        const { resources } = await runMocked("prod", {}, () => new Cluster("cluster", { config }, { transformations: [capture] }));
        for (const pool of config.nodePools) {
            const group = byName(resources, `cluster-${pool.name}`, "aws:eks/nodeGroup:NodeGroup");
            assert.deepStrictEqual(group.inputs.scalingConfig, { minSize: pool.minSize, desiredSize: pool.desiredSize, maxSize: pool.maxSize });
            assert.deepStrictEqual(ignored.get(group.name)?.filter((f) => f.startsWith("scalingConfig")), ["scalingConfig.desiredSize"]);
        }
    });

    it("an existing cluster gets none of it: its scaling is its own", async () => {
        const { resources } = await runProgram("staging", { ...readStackConfig("staging"), cluster: { kind: "existing", istio: { gateway: { serviceType: "NodePort" } } } });
        assert.deepStrictEqual(resources.filter((r) => r.name.startsWith("cluster-addons")).map((r) => r.name), []);
    });
});
