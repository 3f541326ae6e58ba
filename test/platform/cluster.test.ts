import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { expandHome, kubeconfigFor } from "../../components/platform/kubeconfig";
import { Cluster, CLUSTER_ADMIN_ACCESS_POLICY, CNI_POLICY_ARN, CLUSTER_ROLE_POLICIES, NODE_ROLE_POLICIES, VIEW_ACCESS_POLICY, VIEWER_KUBERNETES_GROUPS } from "../../components/platform/cluster";
import { apiEndpointVpcConfig, natRouting, subnetLayout } from "../../components/platform/network";
import { PROMETHEUS_READERS_GROUP } from "../../components/observability/access";
import { parseStackConfig } from "../../components/config";
import { ipv4CidrProblem } from "../../components/platform/api-endpoint-config";
import { ClusterInput, controlPlaneLogGroupName, DEFAULT_LOG_RETENTION_DAYS, EksClusterConfig, LOG_RETENTION_DAYS, parseCluster, VPC_CIDR } from "../../components/platform/config";
import { EBS_CSI_POLICY_ARN, ebsStorageClass } from "../../components/platform/storage";
import { DEFAULT_ADDON_VERSIONS, EKS_ADDONS, EksAddonName, formatAddonVersions, VERSIONED_ADDONS } from "../../components/platform/addons";
import { IMDS_HOP_LIMIT, nodeLaunchTemplate } from "../../components/platform/nodes";
import { ebsCsiDriverPolicy } from "../../components/platform/iam";
import { ConfigError } from "../../components/shared/errors";
import { readStackConfig } from "../../scripts/stack-file";
import { dependencyNames, ofType, Registered, runMocked, runProgram, urnName } from "../helpers/mocks";
import { validateObject } from "../helpers/schemas";
import { problemsOf } from "../helpers/problems";

const T = {
    subnet: "aws:ec2/subnet:Subnet",
    nat: "aws:ec2/natGateway:NatGateway",
    eip: "aws:ec2/eip:Eip",
    routeTable: "aws:ec2/routeTable:RouteTable",
    nodeGroup: "aws:eks/nodeGroup:NodeGroup",
    eks: "aws:eks/cluster:Cluster",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    role: "aws:iam/role:Role",
    k8sProvider: "pulumi:providers:kubernetes",
    release: "kubernetes:helm.sh/v3:Release",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    accessEntry: "aws:eks/accessEntry:AccessEntry",
    accessPolicy: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
};

/** Pulumi's envelope of a secret value in serialized inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Runs the Cluster component alone for a stack's config. */
async function runCluster(stack: string, raw: unknown) {
    const config = parseCluster(stack, raw) as EksClusterConfig;
    assert.strictEqual(config.kind, "eks");
    return runMocked(stack, {}, async () => {
        const cluster = new Cluster("cluster", { config, tags: { "stagehand:stack": stack } });
        return { kubeconfig: await (cluster.kubeconfig as any).promise(), kubeconfigIsSecret: await pulumi.isSecret(cluster.kubeconfig) };
    });
}

/** Mock ids are `<name>-id`: the registered resource an id input points at. */
function byId(resources: Registered[], type: string, id: string): Registered {
    const r = ofType(resources, type).find((x) => `${x.name}-id` === id);
    assert.ok(r, `no ${type} with id ${id}`);
    return r;
}

/** The subnets a node group's nodes are placed in. */
function nodeSubnets(resources: Registered[], group: Registered): Registered[] {
    return group.inputs.subnetIds.map((id: string) => byId(resources, T.subnet, id));
}

/** The subnet a route table sends 0.0.0.0/0 to: "igw" or the NAT gateway's name. */
function defaultRoute(resources: Registered[], table: Registered): string {
    const route = table.inputs.routes.find((r: any) => r.cidrBlock === "0.0.0.0/0");
    return route.gatewayId ? "igw" : byId(resources, T.nat, route.natGatewayId).name;
}

/**
 * Versions for Kubernetes 1.34, which has no defaults: a stack on it lists them all (as of the EKS user guide's tables
 * for 1.34; the test needs only their shape).
 */
const ADDONS_134 = {
    "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    "vpc-cni": "v1.20.1-eksbuild.3",
    "kube-proxy": "v1.34.1-eksbuild.2",
    coredns: "v1.12.4-eksbuild.1",
    "aws-ebs-csi-driver": "v1.61.1-eksbuild.1",
    "cluster-autoscaler": "v1.34.0",
};

function rejectsWith(stack: string, raw: unknown, pattern: RegExp) {
    assert.throws(
        () => parseCluster(stack, raw),
        (e: any) => {
            assert.ok(e instanceof ConfigError, String(e));
            assert.match(e.message, pattern);
            return true;
        },
    );
}

describe("cluster config (stagehand:cluster)", () => {
    it("defaults are staging's cheap choices, named after the stack", () => {
        const c = parseCluster("dev", undefined) as EksClusterConfig;
        assert.deepStrictEqual(
            { kind: c.kind, name: c.name, azs: c.availabilityZones, nodeSubnets: c.nodeSubnets, nat: c.natGateways, logging: c.logging },
            { kind: "eks", name: "stagehand-dev", azs: 2, nodeSubnets: "public", nat: "none", logging: [] },
        );
        assert.deepStrictEqual(c.nodePools, [
            { name: "default", capacityType: "SPOT", instanceTypes: ["t3.medium", "t3a.medium", "t2.medium"], minSize: 2, desiredSize: 2, maxSize: 4, diskSize: 20 },
        ]);
        assert.deepStrictEqual(c.istio.istiod, { replicas: 1, maxReplicas: 1, cpu: "100m", memory: "256Mi" });
        // A new stack's API answers only inside the VPC (the shipped staging and uat open it explicitly).
        assert.deepStrictEqual(c.apiEndpoint, { public: false, publicAccessCidrs: [], private: true });
        assert.strictEqual(c.protect, true, "protected unless the stack turns it off");
    });

    it("apiEndpoint: the stack files keep staging and uat public, prod private to its VPC", () => {
        const endpoint = (stack: string) => (parseCluster(stack, readStackConfig(stack).cluster) as EksClusterConfig).apiEndpoint;
        assert.deepStrictEqual(endpoint("staging"), { public: true, publicAccessCidrs: ["0.0.0.0/0"], private: true });
        assert.deepStrictEqual(endpoint("uat"), { public: true, publicAccessCidrs: ["0.0.0.0/0"], private: true });
        assert.deepStrictEqual(endpoint("prod"), { public: false, publicAccessCidrs: [], private: true });
    });

    it("apiEndpoint: listed CIDR blocks are kept; a private-only endpoint has none", () => {
        const endpoint = (raw: unknown) => (parseCluster("prod", { apiEndpoint: raw }) as EksClusterConfig).apiEndpoint;
        assert.deepStrictEqual(endpoint({ publicAccessCidrs: ["203.0.113.0/24", "198.51.100.7/32"] }), { public: true, publicAccessCidrs: ["203.0.113.0/24", "198.51.100.7/32"], private: true });
        assert.deepStrictEqual(endpoint({ public: false }), { public: false, publicAccessCidrs: [], private: true });
        assert.deepStrictEqual(endpoint({}), { public: false, publicAccessCidrs: [], private: true });
        assert.deepStrictEqual(endpoint({ public: true }), { public: true, publicAccessCidrs: ["0.0.0.0/0"], private: true });
        // Public only is allowed while it is open to everyone (the nodes reach it from anywhere).
        assert.deepStrictEqual(endpoint({ private: false }), { public: true, publicAccessCidrs: ["0.0.0.0/0"], private: false });
    });

    it("apiEndpoint: bad values and contradictions, in exact words", () => {
        const problems = (raw: unknown) => problemsOf(() => parseCluster("prod", { apiEndpoint: raw }));
        const field = "stack prod, field cluster.apiEndpoint";
        assert.deepStrictEqual(problems({ public: false, private: false }), [
            `${field}.private: expected true when public is false (with neither endpoint, neither the nodes nor kubectl reach the API server), found false`,
        ]);
        assert.deepStrictEqual(problems({ public: false, publicAccessCidrs: ["203.0.113.0/24"] }), [
            `${field}.publicAccessCidrs: expected no publicAccessCidrs with public: false (they only limit the public endpoint); remove them, or set public: true, found ["203.0.113.0/24"]`,
        ]);
        assert.deepStrictEqual(problems({ publicAccessCidrs: ["203.0.113.0/24"], private: false }), [
            `${field}.private: expected true when publicAccessCidrs limit the public endpoint (without private access the nodes reach the API server through the public endpoint, from addresses not listed), found false`,
        ]);
        assert.deepStrictEqual(problems({ publicAccessCidrs: ["203.0.113.7", "10.1.2.3/16", "::/0", "256.0.0.0/8", "10.0.0.0/33", "office"] }), [
            `${field}.publicAccessCidrs[0]: expected an IPv4 CIDR block such as "203.0.113.0/24" (address/prefix length); a single address is "203.0.113.7/32", found "203.0.113.7"`,
            `${field}.publicAccessCidrs[1]: expected the CIDR block "10.1.0.0/16" (a block's address starts its range: the bits after the prefix are zero), found "10.1.2.3/16"`,
            `${field}.publicAccessCidrs[2]: expected an IPv4 CIDR block such as "203.0.113.0/24" (address/prefix length); the cluster is IPv4, so EKS takes no IPv6 blocks, found "::/0"`,
            `${field}.publicAccessCidrs[3]: expected an IPv4 CIDR block such as "203.0.113.0/24" (address/prefix length), each of its four numbers from 0 to 255 without leading zeros, found "256.0.0.0/8"`,
            `${field}.publicAccessCidrs[4]: expected an IPv4 CIDR block such as "203.0.113.0/24" (address/prefix length) with a prefix length from 0 to 32, found "10.0.0.0/33"`,
            `${field}.publicAccessCidrs[5]: expected an IPv4 CIDR block such as "203.0.113.0/24" (address/prefix length), found "office"`,
        ]);
        assert.deepStrictEqual(problems({ publicAccessCidrs: [] }), [
            `${field}.publicAccessCidrs: expected at least one CIDR block (leave publicAccessCidrs out for AWS's default 0.0.0.0/0, or set public: false), found []`,
        ]);
        assert.deepStrictEqual(problems({ publicAccessCidrs: ["203.0.113.0/24", "203.0.113.0/24"] }), [`${field}.publicAccessCidrs[1]: expected each CIDR block once, found "203.0.113.0/24"`]);
        assert.deepStrictEqual(problems({ publicAccessCidrs: "203.0.113.0/24" }), [`${field}.publicAccessCidrs: expected a list of IPv4 CIDR blocks, e.g. ["203.0.113.0/24"], found "203.0.113.0/24"`]);
        assert.deepStrictEqual(problems({ public: "no" }), [`${field}.public: expected true or false, found "no"`]);
        assert.deepStrictEqual(problems("private"), [`${field}: expected an object with \`public\`, \`publicAccessCidrs\` and \`private\`, found "private"`]);
        assert.deepStrictEqual(problems({ pubilc: false }), [`${field}.pubilc: unknown field; did you mean public?`]);
    });

    it("admins and viewers: none by default; IAM role and user ARNs kept as written", () => {
        const none = parseCluster("prod", {}) as EksClusterConfig;
        assert.deepStrictEqual([none.admins, none.viewers], [[], []]);
        const admin = "arn:aws:iam::123456789012:role/stagehand-deploy-prod";
        const viewers = ["arn:aws:iam::123456789012:role/ci/stagehand-preview", "arn:aws:iam::123456789012:user/auditor"];
        const c = parseCluster("prod", { admins: [admin], viewers }) as EksClusterConfig;
        assert.deepStrictEqual([c.admins, c.viewers], [[admin], viewers]);
    });

    it("admins and viewers: bad ARNs, an ARN listed twice, an ARN in both lists, in exact words", () => {
        const problems = (raw: unknown) => problemsOf(() => parseCluster("prod", raw));
        const field = "stack prod, field cluster";
        const ARN_WORDS = `an IAM role or user ARN such as "arn:aws:iam::123456789012:role/platform"`;
        const admin = "arn:aws:iam::123456789012:role/platform";
        const preview = "arn:aws:iam::123456789012:role/stagehand-preview";
        assert.deepStrictEqual(problems({ viewers: ["stagehand-preview", "arn:aws:iam::123456789012:group/readers", "arn:aws:iam::12345:role/x"] }), [
            `${field}.viewers[0]: expected ${ARN_WORDS}, found "stagehand-preview"`,
            `${field}.viewers[1]: expected ${ARN_WORDS}, found "arn:aws:iam::123456789012:group/readers"`,
            `${field}.viewers[2]: expected ${ARN_WORDS}, found "arn:aws:iam::12345:role/x"`,
        ]);
        assert.deepStrictEqual(problems({ viewers: preview }), [`${field}.viewers: expected a list of IAM role or user ARNs, found "${preview}"`]);
        assert.deepStrictEqual(problems({ admins: ["platform"] }), [`${field}.admins[0]: expected ${ARN_WORDS}, found "platform"`]);
        // One access entry per principal and cluster: EKS refuses a second one at `pulumi up`, so the config does now.
        // IAM names are unique regardless of case: a name differing only in case is the same role.
        assert.deepStrictEqual(problems({ viewers: [preview, "arn:aws:iam::123456789012:role/Stagehand-Preview"] }), [
            `${field}.viewers[1]: expected each ARN once (EKS gives a principal one access entry per cluster), found "arn:aws:iam::123456789012:role/Stagehand-Preview"`,
        ]);
        assert.deepStrictEqual(problems({ admins: [admin, admin] }), [`${field}.admins[1]: expected each ARN once (EKS gives a principal one access entry per cluster), found "${admin}"`]);
        assert.deepStrictEqual(problems({ admins: [admin], viewers: [preview, "arn:aws:iam::123456789012:role/Platform"] }), [
            `${field}.viewers[1]: expected an ARN that is not also in admins (EKS gives a principal one access entry per cluster; keep it in admins or in viewers), found "arn:aws:iam::123456789012:role/Platform"`,
        ]);
        assert.deepStrictEqual(problems({ viewer: [preview] }), [`${field}.viewer: unknown field; did you mean viewers?`]);
        // An existing cluster is not the program's: it takes no access entries.
        assert.deepStrictEqual(problems({ kind: "existing", viewers: [preview] }), [`${field}.viewers: unknown field; the fields here are kind, kubeconfig, context, istio`]);
    });

    it("ipv4CidrProblem: accepts the edges of the IPv4 range", () => {
        for (const ok of ["0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/8", "192.168.128.0/17", "203.0.113.128/25"]) assert.strictEqual(ipv4CidrProblem(ok), undefined, ok);
        assert.match(ipv4CidrProblem("192.168.129.0/17")!, /"192\.168\.128\.0\/17"/);
        assert.match(ipv4CidrProblem("010.0.0.0/8")!, /without leading zeros/);
        assert.match(ipv4CidrProblem("10.0.0.0/08")!, /without leading zeros/);
    });

    it("each stack file writes its cluster out and it validates", () => {
        for (const stack of ["staging", "uat", "prod"]) {
            const raw = readStackConfig(stack).cluster as Record<string, unknown>;
            assert.ok(raw && raw.kind === "eks" && raw.nodePools && raw.istio, `Pulumi.${stack}.yaml has an explicit stagehand:cluster`);
            parseCluster(stack, raw);
        }
    });

    const bad: [string, ClusterInput | Record<string, unknown>, RegExp][] = [
        [
            "an unknown capacity type",
            { nodePools: [{ capacityType: "CHEAP" }] },
            /stack prod, field cluster\.nodePools\[0\]\.capacityType: expected a capacity type, SPOT or ON_DEMAND, found "CHEAP"/,
        ],
        ["minSize above maxSize", { nodePools: [{ minSize: 5, desiredSize: 5, maxSize: 3 }] }, /field cluster\.nodePools\[0\]\.minSize: expected a minSize no greater than maxSize \(3\), found 5/],
        ["desiredSize outside min..max", { nodePools: [{ minSize: 1, desiredSize: 9, maxSize: 4 }] }, /field cluster\.nodePools\[0\]\.desiredSize: expected a desiredSize from minSize \(1\) to maxSize \(4\), found 9/],
        ["zero availability zones", { availabilityZones: 0 }, /field cluster\.availabilityZones: expected at least 2 availability zones \(EKS needs subnets in two\), found 0/],
        ["an empty zone list", { availabilityZones: [] }, /field cluster\.availabilityZones: expected at least 2 availability zones.*found \[\]/],
        ["a bad zone name", { availabilityZones: ["us-east-1a", "east"] }, /field cluster\.availabilityZones\[1\]: expected an availability zone name such as "us-east-1a", found "east"/],
        ["no instance types", { nodePools: [{ capacityType: "ON_DEMAND", instanceTypes: [] }] }, /field cluster\.nodePools\[0\]\.instanceTypes: expected at least one instance type.*found \[\]/],
        ["a spot pool of one instance type", { nodePools: [{ instanceTypes: ["t3.medium"] }] }, /field cluster\.nodePools\[0\]\.instanceTypes: expected at least 3 instance types for a SPOT pool/],
        ["an unpriced instance type", { nodePools: [{ capacityType: "ON_DEMAND", instanceTypes: ["t3.meduim"] }] }, /field cluster\.nodePools\[0\]\.instanceTypes\[0\]: expected an EC2 instance type priced in components\/cost\/prices\.ts.*found "t3\.meduim"/],
        ["no node pools", { nodePools: [] }, /field cluster\.nodePools: expected at least one node pool, found \[\]/],
        ["private nodes without NAT", { nodeSubnets: "private" }, /field cluster\.natGateways: expected single or perAz with nodeSubnets: private.*found "none"/],
        ["public nodes with a NAT gateway", { natGateways: "single" }, /field cluster\.natGateways: expected none with nodeSubnets: public.*found "single"/],
        ["an unknown kind", { kind: "gke" }, /field cluster\.kind: expected a cluster kind, eks \(created on AWS\) or existing.*found "gke"/],
        ["an unknown field", { nodepools: [] }, /field cluster\.nodepools: unknown field; did you mean nodePools\?$/m],
        ["EKS fields on an existing cluster", { kind: "existing", nodePools: [] }, /field cluster\.nodePools: unknown field; the fields here are kind, kubeconfig, context, istio$/m],
        ["an unpinned Istio", { istio: { version: "1.30" } }, /field cluster\.istio\.version: expected a pinned Istio release such as "1\.30\.3".*found "1\.30"/],
        ["an unquoted Kubernetes version", { kubernetesVersion: 1.3 }, /field cluster\.kubernetesVersion: expected a Kubernetes minor version supported by EKS, such as "1\.35" \(quote it in YAML\), found 1\.3/],
        ["a canary Istio two minors ahead", { istio: { version: "1.29.3", canaryVersion: "1.31.0" } }, /field cluster\.istio\.canaryVersion: expected a canaryVersion at most one minor release above/],
        ["a gateway maxReplicas below replicas", { istio: { gateway: { replicas: 3, maxReplicas: 2 } } }, /field cluster\.istio\.gateway\.maxReplicas: expected a maxReplicas of at least replicas \(3\), found 2/],
        ["a duplicate node pool name", { nodePools: [{}, {}] }, /field cluster\.nodePools\[1\]\.name: expected a node pool name used once, found "default"/],
    ];
    for (const [what, raw, pattern] of bad) {
        it(`refuses ${what}, naming the stack and field`, () => rejectsWith("prod", raw, pattern));
    }

    it("reports every problem at once", () => {
        assert.throws(
            () => parseCluster("prod", { availabilityZones: 0, nodePools: [{ capacityType: "CHEAP", instanceTypes: [] }] }),
            (e: any) => {
                assert.strictEqual(e.problems.length, 3, e.message);
                return true;
            },
        );
    });

    it("parseStackConfig reports the problems of services and cluster together", () => {
        const raw = {
            services: { checkout: { image: "ghcr.io/acme/checkout", stable: "latest", stage: 1, replicas: 1 } },
            cluster: { nodePools: [{ capacityType: "spot" }] },
        };
        assert.throws(
            () => parseStackConfig("uat", raw),
            (e: any) => {
                assert.ok(e instanceof ConfigError);
                assert.strictEqual(e.problems.length, 2, e.message);
                assert.match(e.problems[0], /stack uat, service checkout, field stable:/);
                assert.match(e.problems[1], /stack uat, field cluster\.nodePools\[0\]\.capacityType: .*found "spot"/);
                return true;
            },
        );
        const ok = parseStackConfig("uat", readStackConfig("uat"));
        assert.deepStrictEqual([Object.keys(ok.services).sort(), ok.cluster.kind], [["catalog", "checkout", "payments"], "eks"]);
    });

    it("bad cluster config fails the program before any resource is registered", async () => {
        const { services } = readStackConfig("staging");
        await assert.rejects(runProgram("staging", { services, cluster: { availabilityZones: 1 } }), (e: any) => {
            assert.match(e.message, /stack staging, field cluster\.availabilityZones: expected at least 2/);
            assert.deepStrictEqual(e.registered, []);
            return true;
        });
    });
});

describe("cluster pure helpers", () => {
    it("subnetLayout: a public subnet per zone, plus a private one per zone for private nodes, none overlapping", () => {
        assert.deepStrictEqual(subnetLayout(2, "public"), [
            { az: 0, cidr: "10.0.192.0/21", public: true },
            { az: 1, cidr: "10.0.200.0/21", public: true },
        ]);
        const six = subnetLayout(6, "private");
        assert.strictEqual(six.filter((s) => s.public).length, 6);
        assert.strictEqual(six.filter((s) => !s.public).length, 6);
        // No two ranges overlap and all fit in 10.0.0.0/16.
        const range = (cidr: string) => {
            const [ip, bits] = cidr.split("/");
            const [a, b, c] = ip.split(".").map(Number);
            assert.deepStrictEqual([a, b], [10, 0]);
            const start = c * 256;
            return [start, start + 2 ** (32 - Number(bits))];
        };
        const ranges = six.map((s) => range(s.cidr)).sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i][0] >= ranges[i - 1][1], JSON.stringify(ranges));
        assert.ok(ranges[ranges.length - 1][1] <= 65536);
    });

    it("natRouting: every private subnet through NAT 0, or through its own zone's NAT", () => {
        assert.deepStrictEqual(natRouting(3, "none"), []);
        assert.deepStrictEqual(natRouting(2, "single"), [0, 0]);
        assert.deepStrictEqual(natRouting(3, "perAz"), [0, 1, 2]);
    });

    it("kubeconfigFor: the cluster's endpoint and CA, a user that runs `aws eks get-token`", () => {
        const kc = JSON.parse(kubeconfigFor({ clusterName: "stagehand-prod", endpoint: "https://x.eks.amazonaws.com", certificateAuthorityData: "Q0E=", region: "eu-west-1" }));
        assert.strictEqual(kc["current-context"], "stagehand-prod");
        assert.deepStrictEqual(kc.clusters[0].cluster, { server: "https://x.eks.amazonaws.com", "certificate-authority-data": "Q0E=" });
        const exec = kc.users[0].user.exec;
        assert.strictEqual(exec.command, "aws");
        assert.deepStrictEqual(exec.args, ["eks", "get-token", "--cluster-name", "stagehand-prod", "--region", "eu-west-1", "--output", "json"]);
        assert.strictEqual(exec.apiVersion, "client.authentication.k8s.io/v1beta1");
    });

    it("expandHome", () => {
        assert.strictEqual(expandHome("~/.kube/kind", "/home/me"), "/home/me/.kube/kind");
        assert.strictEqual(expandHome("/etc/kubeconfig", "/home/me"), "/etc/kubeconfig");
    });
});

describe("Cluster component under Pulumi mocks", () => {
    it("staging: spot node groups of 3+ types in public subnets, no NAT gateway", async () => {
        const { resources } = await runCluster("staging", readStackConfig("staging").cluster);
        assert.strictEqual(ofType(resources, T.nat).length, 0);
        assert.strictEqual(ofType(resources, T.eip).length, 0);
        const groups = ofType(resources, T.nodeGroup);
        assert.ok(groups.length >= 1);
        for (const g of groups) {
            assert.strictEqual(g.inputs.capacityType, "SPOT");
            assert.ok(g.inputs.instanceTypes.length >= 3, g.inputs.instanceTypes);
            for (const subnet of nodeSubnets(resources, g)) {
                assert.strictEqual(subnet.inputs.mapPublicIpOnLaunch, true, subnet.name);
                assert.strictEqual(subnet.inputs.tags["kubernetes.io/role/elb"], "1");
            }
        }
        assert.deepStrictEqual(groups[0].inputs.scalingConfig, { minSize: 2, desiredSize: 2, maxSize: 4 });
        // Every subnet is public and routes to the internet gateway.
        assert.ok(ofType(resources, T.subnet).every((s) => s.name.includes("-public-")));
        for (const table of ofType(resources, T.routeTable)) assert.strictEqual(defaultRoute(resources, table), "igw");
    });

    it("uat: on-demand nodes in private subnets of 2 zones, behind one NAT gateway", async () => {
        const { resources } = await runCluster("uat", readStackConfig("uat").cluster);
        const nats = ofType(resources, T.nat);
        assert.strictEqual(nats.length, 1);
        assert.strictEqual(byId(resources, T.subnet, nats[0].inputs.subnetId).inputs.mapPublicIpOnLaunch, false);
        assert.ok(byId(resources, T.subnet, nats[0].inputs.subnetId).name.includes("-public-"), "NAT sits in a public subnet");
        for (const g of ofType(resources, T.nodeGroup)) {
            assert.strictEqual(g.inputs.capacityType, "ON_DEMAND");
            const subnets = nodeSubnets(resources, g);
            assert.deepStrictEqual(subnets.map((s) => s.inputs.availabilityZone).sort(), ["us-east-1a", "us-east-1b"]);
            for (const s of subnets) {
                assert.strictEqual(s.inputs.mapPublicIpOnLaunch, false);
                assert.strictEqual(s.inputs.tags["kubernetes.io/role/internal-elb"], "1");
            }
        }
        const privateTables = ofType(resources, T.routeTable).filter((t) => t.name.includes("-private-"));
        assert.deepStrictEqual(privateTables.map((t) => defaultRoute(resources, t)), ["cluster-nat-0", "cluster-nat-0"]);
    });

    it("prod: on-demand nodes spread over private subnets in 3 zones, a NAT gateway per zone, control-plane logs", async () => {
        const { resources } = await runCluster("prod", readStackConfig("prod").cluster);
        const nats = ofType(resources, T.nat);
        assert.strictEqual(nats.length, 3);
        assert.strictEqual(ofType(resources, T.eip).length, 3);
        const natZones = nats.map((n) => byId(resources, T.subnet, n.inputs.subnetId).inputs.availabilityZone);
        assert.deepStrictEqual(natZones.sort(), ["us-east-1a", "us-east-1b", "us-east-1c"]);
        for (const g of ofType(resources, T.nodeGroup)) {
            assert.strictEqual(g.inputs.capacityType, "ON_DEMAND");
            const subnets = nodeSubnets(resources, g);
            assert.deepStrictEqual(subnets.map((s) => s.inputs.availabilityZone).sort(), ["us-east-1a", "us-east-1b", "us-east-1c"]);
            assert.ok(subnets.every((s) => s.name.includes("-private-")));
        }
        // Each private subnet leaves through the NAT gateway of its own zone.
        for (const table of ofType(resources, T.routeTable).filter((t) => t.name.includes("-private-"))) {
            const az = table.name.split("-").pop();
            assert.strictEqual(defaultRoute(resources, table), `cluster-nat-${az}`);
        }
        const eks = ofType(resources, T.eks)[0].inputs;
        assert.deepStrictEqual(eks.enabledClusterLogTypes, ["api", "audit", "authenticator"]);
    });

    it("the EKS cluster: API authentication, the pinned version, subnets of every zone; IAM roles with EKS's managed policies", async () => {
        const { resources } = await runCluster("staging", { kubernetesVersion: "1.34", addons: ADDONS_134 });
        const eks = ofType(resources, T.eks)[0].inputs;
        assert.strictEqual(eks.name, "stagehand-staging");
        assert.strictEqual(eks.version, "1.34");
        // No hidden admin for whoever runs `pulumi up`: only the access entries of `admins` (test/platform/iam.test.ts).
        assert.deepStrictEqual(eks.accessConfig, { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
        assert.deepStrictEqual(eks.enabledClusterLogTypes, []);
        assert.strictEqual(eks.vpcConfig.subnetIds.length, 2);
        const attachedTo = (role: string) => ofType(resources, T.attachment).filter((a) => a.name.startsWith(`${role}-`)).map((a) => a.inputs.policyArn).sort();
        assert.deepStrictEqual(attachedTo("cluster-cluster"), [...CLUSTER_ROLE_POLICIES].sort());
        assert.deepStrictEqual(attachedTo("cluster-node"), [...NODE_ROLE_POLICIES].sort());
        const trust = (name: string) => JSON.parse(ofType(resources, T.role).find((r) => r.name === name)!.inputs.assumeRolePolicy).Statement[0].Principal.Service;
        assert.deepStrictEqual([trust("cluster-cluster"), trust("cluster-node")], ["eks.amazonaws.com", "ec2.amazonaws.com"]);
        // Subnets carry the cluster tag that lets EKS place load balancers in them.
        for (const s of ofType(resources, T.subnet)) assert.strictEqual(s.inputs.tags["kubernetes.io/cluster/stagehand-staging"], "shared");
    });

    it("the API endpoint per stack file: staging and uat public to everyone and private; prod private only, never open to 0.0.0.0/0", async () => {
        const vpcConfigOf = async (stack: string): Promise<Record<string, unknown>> => {
            const { resources } = await runCluster(stack, readStackConfig(stack).cluster);
            const { subnetIds, ...endpoint } = ofType(resources, T.eks)[0].inputs.vpcConfig;
            assert.ok(subnetIds.length >= 2);
            return endpoint;
        };
        const open = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ["0.0.0.0/0"] };
        assert.deepStrictEqual(await vpcConfigOf("staging"), open);
        assert.deepStrictEqual(await vpcConfigOf("uat"), open);
        const prod = await vpcConfigOf("prod");
        assert.ok(!((prod.publicAccessCidrs as string[] | undefined) ?? []).includes("0.0.0.0/0"));
        assert.deepStrictEqual(prod, { endpointPublicAccess: false, endpointPrivateAccess: true });
    });

    it("a public endpoint limited to listed CIDR blocks passes them to EKS", async () => {
        const { resources } = await runCluster("prod", { apiEndpoint: { publicAccessCidrs: ["203.0.113.0/24"] } });
        const { subnetIds: _, ...endpoint } = ofType(resources, T.eks)[0].inputs.vpcConfig;
        assert.deepStrictEqual(endpoint, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ["203.0.113.0/24"] });
        assert.deepStrictEqual(apiEndpointVpcConfig({ public: true, publicAccessCidrs: ["0.0.0.0/0"], private: false }), {
            endpointPublicAccess: true,
            endpointPrivateAccess: false,
            publicAccessCidrs: ["0.0.0.0/0"],
        });
    });

    it("with private access, the cluster security group lets in HTTPS from the VPC (a runner there reaches the API); the provider waits for it", async () => {
        const { resources } = await runCluster("prod", readStackConfig("prod").cluster);
        const rules = ofType(resources, T.ingressRule);
        assert.deepStrictEqual(
            rules.map((r) => [r.name, r.inputs.cidrIpv4, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort]),
            [["cluster-api-from-vpc", VPC_CIDR, "tcp", 443, 443]],
        );
        // Its security group is the one EKS creates for the cluster (an output of the cluster).
        assert.strictEqual(rules[0].inputs.securityGroupId, "sg-cluster-eks");
        assert.ok(dependencyNames(rules[0]).includes("cluster-eks"), dependencyNames(rules[0]).join());
        assert.ok(dependencyNames(ofType(resources, T.k8sProvider)[0]).includes("cluster-api-from-vpc"));
        // A public-only endpoint has no private interfaces to let anyone in to.
        const publicOnly = await runCluster("staging", { apiEndpoint: { private: false } });
        assert.deepStrictEqual(ofType(publicOnly.resources, T.ingressRule), []);
    });

    it("node groups wait for their IAM policies and network; the provider waits for the node groups", async () => {
        const { resources } = await runCluster("prod", readStackConfig("prod").cluster);
        const group = ofType(resources, T.nodeGroup)[0];
        const deps = dependencyNames(group);
        for (const arn of NODE_ROLE_POLICIES) assert.ok(deps.includes(`cluster-node-${arn.split("/").pop()}`), deps.join());
        for (const az of [0, 1, 2]) assert.ok(deps.includes(`cluster-private-${az}`), `route table association of zone ${az}`);
        assert.ok(dependencyNames(ofType(resources, T.k8sProvider)[0]).includes(group.name));
    });

    it("admins get an access entry with the cluster admin policy", async () => {
        const arn = "arn:aws:iam::123456789012:role/platform";
        const { resources } = await runCluster("prod", { admins: [arn] });
        assert.deepStrictEqual(ofType(resources, "aws:eks/accessEntry:AccessEntry").map((e) => e.inputs.principalArn), [arn]);
        const assoc = ofType(resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")[0].inputs;
        assert.deepStrictEqual([assoc.principalArn, assoc.policyArn, assoc.accessScope], [arn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", { type: "cluster" }]);
    });

    it("viewers get an access entry with the view policy on the whole cluster, in the component; admins keep theirs", async () => {
        const admin = "arn:aws:iam::123456789012:role/stagehand-deploy-prod";
        const viewers = ["arn:aws:iam::123456789012:role/stagehand-preview", "arn:aws:iam::123456789012:user/auditor"];
        const { resources } = await runCluster("prod", { admins: [admin], viewers });
        const entries = ofType(resources, T.accessEntry);
        // The viewers' entries put them in the group of the port-forward to Prometheus; the admins' name no group.
        assert.deepStrictEqual(
            entries.map((e) => [e.name, e.inputs.principalArn, e.inputs.type, e.inputs.clusterName, e.inputs.kubernetesGroups]),
            [
                ["cluster-admin-0", admin, "STANDARD", "stagehand-prod", undefined],
                ["cluster-viewer-0", viewers[0], "STANDARD", "stagehand-prod", ["stagehand:prometheus-readers"]],
                ["cluster-viewer-1", viewers[1], "STANDARD", "stagehand-prod", ["stagehand:prometheus-readers"]],
            ],
        );
        assert.deepStrictEqual(VIEWER_KUBERNETES_GROUPS, [PROMETHEUS_READERS_GROUP]);
        const associations = ofType(resources, T.accessPolicy);
        assert.deepStrictEqual(
            associations.map((a) => [a.name, a.inputs.principalArn, a.inputs.policyArn, a.inputs.accessScope, a.inputs.clusterName]),
            [
                ["cluster-admin-0", admin, CLUSTER_ADMIN_ACCESS_POLICY, { type: "cluster" }, "stagehand-prod"],
                ["cluster-viewer-0", viewers[0], "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", { type: "cluster" }, "stagehand-prod"],
                ["cluster-viewer-1", viewers[1], "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", { type: "cluster" }, "stagehand-prod"],
            ],
        );
        assert.strictEqual(VIEW_ACCESS_POLICY, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy");
        // Each association waits for its own principal's entry; all are children of the Cluster component.
        for (const a of associations) {
            const own = a.dependencies.filter((u) => u.includes(`${T.accessEntry}::`)).map(urnName);
            assert.deepStrictEqual(own, [a.name], `${a.name} waits for ${own.join()}`);
        }
        for (const r of [...entries, ...associations]) assert.match(r.parent ?? "", /stagehand:index:Cluster::cluster$/, r.name);
        // The provider (used by `pulumi up`, run by an admin) waits for the admins' access, not the viewers'.
        const providerDeps = ofType(resources, T.k8sProvider)[0].dependencies.filter((u) => u.includes(`${T.accessPolicy}::`)).map(urnName);
        assert.deepStrictEqual(providerDeps, ["cluster-admin-0"]);
    });

    it("no viewers, no view access: the stack files and the default grant none", async () => {
        for (const stack of ["staging", "prod"]) {
            const { resources } = await runCluster(stack, readStackConfig(stack).cluster);
            assert.deepStrictEqual(ofType(resources, T.accessPolicy).filter((a) => a.inputs.policyArn === VIEW_ACCESS_POLICY).map((a) => a.name), [], stack);
        }
        const { resources } = await runCluster("uat", { admins: ["arn:aws:iam::123456789012:role/platform"] });
        assert.deepStrictEqual(ofType(resources, T.accessEntry).map((e) => e.name), ["cluster-admin-0"]);
    });

    it("the viewers' Kubernetes group is one EKS accepts: not system: (EKS refuses it), nor another reserved prefix", () => {
        // CreateAccessEntry: "The kubernetes group name system:masters is invalid, it cannot start with system:".
        // eks:, aws:, amazon: and iam: are reserved for usernames; a group clear of them all is clear of any future rule.
        for (const group of VIEWER_KUBERNETES_GROUPS) {
            for (const prefix of ["system:", "eks:", "aws:", "amazon:", "iam:"]) assert.ok(!group.toLowerCase().startsWith(prefix), `${group} starts with ${prefix}`);
            assert.match(group, /^[a-z0-9][a-z0-9:._-]*$/, group);
        }
    });

    it("the kubeconfig is a secret that authenticates with `aws eks get-token`, and the provider uses it", async () => {
        const { resources, value } = await runCluster("staging", {});
        assert.strictEqual(value.kubeconfigIsSecret, true);
        const kc = JSON.parse(value.kubeconfig);
        assert.strictEqual(kc.clusters[0].cluster.server, "https://cluster-eks.eks.example.com");
        assert.deepStrictEqual(kc.users[0].user.exec.args.slice(0, 4), ["eks", "get-token", "--cluster-name", "stagehand-staging"]);
        // The provider gets it as a secret (Pulumi's secret envelope), so it is encrypted in the state too.
        const input = ofType(resources, T.k8sProvider)[0].inputs.kubeconfig;
        assert.strictEqual(input[SECRET_SIG], SECRET_VALUE, JSON.stringify(input));
        assert.strictEqual(JSON.parse(input.value).users[0].user.exec.command, "aws");
    });

    it("named zones are used as given", async () => {
        const { resources } = await runCluster("uat", { availabilityZones: ["eu-west-1b", "eu-west-1c"] });
        assert.deepStrictEqual(ofType(resources, T.subnet).map((s) => s.inputs.availabilityZone), ["eu-west-1b", "eu-west-1c"]);
    });
});

describe("program wiring of the cluster (index.ts)", () => {
    it("kind eks: Istio and every service are installed through the cluster's provider; kubeconfig and cost exported", async () => {
        const { resources, outputs } = await runProgram("staging", readStackConfig("staging"));
        const k8sResources = resources.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(k8sResources.length > 0);
        for (const r of k8sResources) assert.match(r.provider ?? "", /::cluster-k8s::/, `${r.type} ${r.name}`);
        assert.strictEqual(outputs.clusterName, "stagehand-staging");
        assert.strictEqual(JSON.parse(outputs.kubeconfig)["current-context"], "stagehand-staging");
        assert.strictEqual(outputs.monthlyCost.total, 130.28);
        assert.strictEqual(outputs.istioVersion, "1.30.3");
    });

    it("kind existing: no AWS resource at all, and still Istio and every service, through a provider on the given context", async () => {
        const config = { ...readStackConfig("staging"), cluster: { kind: "existing", kubeconfig: "/tmp/kind.kubeconfig", context: "kind-stagehand", istio: { gateway: { serviceType: "NodePort" } } } };
        const { resources, outputs } = await runProgram("staging", config);
        assert.deepStrictEqual(resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.type), []);
        assert.deepStrictEqual(ofType(resources, "stagehand:index:Cluster"), []);
        const providers = ofType(resources, T.k8sProvider);
        assert.deepStrictEqual(providers.map((p) => [p.name, p.inputs.kubeconfig, p.inputs.context]), [["existing-cluster", "/tmp/kind.kubeconfig", "kind-stagehand"]]);
        const releases = ofType(resources, T.release);
        assert.deepStrictEqual(releases.filter((r) => r.inputs.repositoryOpts?.repo?.includes("istio")).map((r) => r.inputs.chart).sort(), ["base", "cni", "gateway", "istiod"]);
        for (const service of ["catalog", "checkout", "payments"]) assert.ok(releases.some((r) => r.inputs.values?.fullnameOverride === service), service);
        for (const r of resources.filter((x) => x.type.startsWith("kubernetes:"))) assert.match(r.provider ?? "", /::existing-cluster::/, r.name);
        assert.deepStrictEqual([outputs.monthlyCost.total, outputs.kubeconfig, outputs.clusterName], [0, undefined, undefined]);
    });
});

describe("platform pieces of the cluster: control-plane log retention, EBS CSI driver, Pod Identity agent, gp3 StorageClass", () => {
    it("logRetentionDays: 90 by default; a CloudWatch retention is kept, anything else refused in exact words", () => {
        assert.strictEqual((parseCluster("prod", {}) as EksClusterConfig).logRetentionDays, DEFAULT_LOG_RETENTION_DAYS);
        assert.strictEqual(DEFAULT_LOG_RETENTION_DAYS, 90);
        assert.strictEqual((parseCluster("prod", { logRetentionDays: 365 }) as EksClusterConfig).logRetentionDays, 365);
        const words = `a CloudWatch Logs retention in days, one of ${LOG_RETENTION_DAYS.join(", ")}`;
        rejectsWith("prod", { logRetentionDays: 100 }, new RegExp(`field cluster\\.logRetentionDays: expected ${words.replace(/[.,]/g, "\\$&")}, found 100$`, "m"));
        rejectsWith("prod", { logRetentionDays: 0 }, /field cluster\.logRetentionDays: expected a CloudWatch Logs retention in days, one of 1, 3, .*, found 0/);
        rejectsWith("prod", { logRetentionDays: "90" }, /field cluster\.logRetentionDays: expected a CloudWatch Logs retention in days.*found "90"/);
    });

    it("the control-plane log group /aws/eks/<name>/cluster is created with its retention before the cluster", async () => {
        const { resources } = await runCluster("prod", { ...(readStackConfig("prod").cluster as object), logRetentionDays: 30 });
        const groups = ofType(resources, "aws:cloudwatch/logGroup:LogGroup");
        assert.deepStrictEqual(groups.map((g) => [g.inputs.name, g.inputs.retentionInDays]), [[controlPlaneLogGroupName("stagehand-prod"), 30]]);
        assert.strictEqual(controlPlaneLogGroupName("stagehand-prod"), "/aws/eks/stagehand-prod/cluster");
        assert.ok(dependencyNames(ofType(resources, T.eks)[0]).includes(groups[0].name), "EKS writes into the stack's group, not one it creates without a retention");
        // Also without control-plane logs, so turning them on later keeps the retention.
        const staging = await runCluster("staging", readStackConfig("staging").cluster);
        assert.deepStrictEqual(ofType(staging.resources, "aws:cloudwatch/logGroup:LogGroup").map((g) => g.inputs.retentionInDays), [90]);
    });

    for (const stack of ["staging", "uat", "prod"]) {
        it(`${stack}: the EBS CSI driver and the Pod Identity agent are EKS add-ons of the cluster; the driver's controller has its own role through Pod Identity`, async () => {
            const { resources } = await runCluster(stack, readStackConfig(stack).cluster);
            const addons: Record<string, Registered> = Object.fromEntries(ofType(resources, "aws:eks/addon:Addon").map((a) => [a.inputs.addonName, a]));
            for (const name of ["aws-ebs-csi-driver", "eks-pod-identity-agent"]) {
                assert.ok(addons[name], `${stack} has ${name}`);
                assert.strictEqual(addons[name].inputs.clusterName, `stagehand-${stack}`);
                assert.match(addons[name].parent ?? "", /stagehand:index:Cluster::cluster$/);
            }
            const driver = addons["aws-ebs-csi-driver"];
            assert.deepStrictEqual(driver.inputs.podIdentityAssociations.map((a: any) => [a.serviceAccount, a.roleArn]), [["ebs-csi-controller-sa", "arn:aws:mock:::cluster-ebs-csi"]]);
            const role = ofType(resources, T.role).find((r) => r.name === "cluster-ebs-csi")!;
            assert.deepStrictEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement.map((st: any) => st.Principal), [{ Service: "pods.eks.amazonaws.com" }]);
            // Not AWS's account-wide managed policy: this cluster's scoped one, inline (test/platform/iam.test.ts).
            assert.ok(!ofType(resources, T.attachment).some((a) => a.inputs.policyArn === EBS_CSI_POLICY_ARN), "no AmazonEBSCSIDriverPolicy");
            assert.strictEqual(ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "cluster-ebs-csi-scoped")!.inputs.policy, ebsCsiDriverPolicy(`stagehand-${stack}`));
            for (const dep of ["eks-pod-identity-agent", "ebs-csi"]) assert.ok(dependencyNames(driver).includes(`cluster-${dep}`), `the driver waits for cluster-${dep}`);
        });
    }

    it("the driver, agent and role formerly of the Observability component keep their identity (aliases), so prod's are not replaced", async () => {
        const aliases = new Map<string, unknown[]>();
        const capture: pulumi.ResourceTransformation = (args) => {
            aliases.set(args.name, (args.opts.aliases ?? []) as unknown[]);
            return undefined;
        };
        const config = parseCluster("prod", readStackConfig("prod").cluster) as EksClusterConfig;
        await runMocked("prod", {}, () => new Cluster("cluster", { config }, { transformations: [capture] }));
        const names = (resource: string) => (aliases.get(resource) ?? []).map((a: any) => a.name);
        assert.deepStrictEqual(
            ["cluster-aws-ebs-csi-driver", "cluster-eks-pod-identity-agent", "cluster-ebs-csi"].map(names),
            [["observability-ebs-csi-driver"], ["observability-pod-identity-agent"], ["observability-ebs-csi"]],
        );
    });

    it("the gp3 StorageClass: the cluster's default, encrypted, in its pod's zone; after the EBS CSI driver; valid", async () => {
        const { resources } = await runProgram("staging", readStackConfig("staging"));
        const classes = ofType(resources, "kubernetes:storage.k8s.io/v1:StorageClass");
        assert.strictEqual(classes.length, 1);
        const sc = classes[0];
        assert.deepStrictEqual(
            [sc.inputs.metadata, sc.inputs.provisioner, sc.inputs.parameters, sc.inputs.volumeBindingMode, sc.inputs.reclaimPolicy],
            [{ name: "stagehand-gp3", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } }, "ebs.csi.aws.com", { type: "gp3", encrypted: "true" }, "WaitForFirstConsumer", "Delete"],
        );
        assert.ok(dependencyNames(sc).includes("cluster-aws-ebs-csi-driver"));
        assert.match(sc.parent ?? "", /stagehand:index:ClusterAddons::cluster-addons$/);
        validateObject({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", ...ebsStorageClass() });
        assert.throws(() => validateObject({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", ...ebsStorageClass(), reclaimPolicy: 7 }));
    });
});

describe("core add-ons managed by EKS, at versions that follow the Kubernetes version", () => {
    it("every stack takes the defaults of its Kubernetes version; one add-on pinned in cluster.addons wins", () => {
        for (const stack of ["staging", "uat", "prod"]) {
            const c = parseCluster(stack, readStackConfig(stack).cluster) as EksClusterConfig;
            assert.deepStrictEqual(c.addons, DEFAULT_ADDON_VERSIONS[c.kubernetesVersion], stack);
        }
        const pinned = parseCluster("prod", { addons: { "vpc-cni": "v1.20.1-eksbuild.3" } }) as EksClusterConfig;
        assert.deepStrictEqual(pinned.addons, { ...DEFAULT_ADDON_VERSIONS["1.35"], "vpc-cni": "v1.20.1-eksbuild.3" });
        assert.deepStrictEqual(Object.keys(DEFAULT_ADDON_VERSIONS["1.35"]).sort(), [...VERSIONED_ADDONS].sort());
        for (const [addon, version] of Object.entries(DEFAULT_ADDON_VERSIONS["1.35"])) {
            assert.match(version, addon === "cluster-autoscaler" ? /^v1\.35\.\d+$/ : /^v\d+\.\d+\.\d+-eksbuild\.\d+$/, addon);
        }
        assert.match(DEFAULT_ADDON_VERSIONS["1.35"]["kube-proxy"], /^v1\.35\./, "kube-proxy's minor is the cluster's");
    });

    it("a Kubernetes version without defaults needs every version written out, and says where to find them", () => {
        const problems = (raw: unknown) => problemsOf(() => parseCluster("prod", raw));
        const found = problems({ kubernetesVersion: "1.36", addons: { "kube-proxy": "v1.36.0-eksbuild.1", "eks-pod-identity-agent": "v1.3.10-eksbuild.3", "aws-ebs-csi-driver": "v1.61.1-eksbuild.1", coredns: "v1.14.3-eksbuild.2", "cluster-autoscaler": "v1.36.0" } });
        assert.deepStrictEqual(found, [
            "stack prod, field cluster.addons.vpc-cni: expected a version of vpc-cni for Kubernetes 1.36, which has no defaults (defaults exist for 1.35; list them with aws eks describe-addon-versions --kubernetes-version 1.36 --addon-name vpc-cni --query 'addons[].addonVersions[].addonVersion' --output text), found nothing (the field is missing)",
        ]);
        assert.strictEqual(problems({ kubernetesVersion: "1.34" }).length, VERSIONED_ADDONS.length);
        assert.deepStrictEqual((parseCluster("prod", { kubernetesVersion: "1.34", addons: ADDONS_134 }) as EksClusterConfig).addons, ADDONS_134);
        assert.deepStrictEqual(problems({ addons: { "kube-proxy": "v1.34.1-eksbuild.2", "cluster-autoscaler": "v1.34.0", "vpc-cni": "1.20", corends: "v1.14.3-eksbuild.2" } }), [
            'stack prod, field cluster.addons.vpc-cni: expected an EKS add-on version such as "v1.22.1-eksbuild.2", found "1.20"',
            "stack prod, field cluster.addons.corends: unknown field; did you mean coredns?",
            'stack prod, field cluster.addons.kube-proxy: expected a version of kube-proxy for Kubernetes 1.35 (its minor version must be the cluster\'s), found "v1.34.1-eksbuild.2"',
            'stack prod, field cluster.addons.cluster-autoscaler: expected a version of cluster-autoscaler for Kubernetes 1.35 (its minor version must be the cluster\'s), found "v1.34.0"',
        ]);
    });

    it("formatAddonVersions: what `npm run plan` shows, each version with where it comes from", () => {
        assert.deepStrictEqual(formatAddonVersions(parseCluster("prod", { addons: { "vpc-cni": "v1.20.1-eksbuild.3" } })), [
            "cluster add-ons of Kubernetes 1.35 (EKS add-ons; the cluster-autoscaler image):",
            "  eks-pod-identity-agent  v1.3.10-eksbuild.3   default for Kubernetes 1.35",
            "  vpc-cni                 v1.20.1-eksbuild.3   cluster.addons",
            "  kube-proxy              v1.35.3-eksbuild.11  default for Kubernetes 1.35",
            "  coredns                 v1.14.3-eksbuild.2   default for Kubernetes 1.35",
            "  aws-ebs-csi-driver      v1.61.1-eksbuild.1   default for Kubernetes 1.35",
            "  cluster-autoscaler      v1.35.0              default for Kubernetes 1.35",
        ]);
        assert.deepStrictEqual(formatAddonVersions(parseCluster("dev", { kind: "existing" })), ["cluster add-ons: none managed (kind: existing, the cluster's own)"]);
    });

    it("no self-managed bootstrap; the five add-ons are managed at the configured versions and take over what runs", async () => {
        const ignored = new Map<string, string[]>();
        const capture: pulumi.ResourceTransformation = (a) => {
            ignored.set(a.name, (a.opts.ignoreChanges ?? []) as string[]);
            return undefined;
        };
        const config = parseCluster("staging", { kubernetesVersion: "1.34", addons: ADDONS_134 }) as EksClusterConfig;
        const { resources } = await runMocked("staging", {}, () => new Cluster("cluster", { config }, { transformations: [capture] }));
        assert.strictEqual(ofType(resources, T.eks)[0].inputs.bootstrapSelfManagedAddons, false);
        // Both replace a cluster when changed: one created before keeps its values (and its creator's access entry).
        assert.deepStrictEqual(ignored.get("cluster-eks"), ["bootstrapSelfManagedAddons", "accessConfig.bootstrapClusterCreatorAdminPermissions"], "an existing cluster is not replaced for them");
        const addons = ofType(resources, "aws:eks/addon:Addon");
        assert.deepStrictEqual(addons.map((a) => a.inputs.addonName).sort(), [...EKS_ADDONS].sort());
        for (const a of addons) {
            assert.strictEqual(a.inputs.addonVersion, (ADDONS_134 as Record<string, string>)[a.inputs.addonName], a.inputs.addonName);
            assert.deepStrictEqual([a.inputs.resolveConflictsOnCreate, a.inputs.resolveConflictsOnUpdate], ["OVERWRITE", "OVERWRITE"], a.inputs.addonName);
        }
        // A cluster upgrade moves every add-on with it: the same stack on 1.35 takes 1.35's versions.
        const upgraded = await runCluster("staging", {});
        for (const a of ofType(upgraded.resources, "aws:eks/addon:Addon")) assert.strictEqual(a.inputs.addonVersion, DEFAULT_ADDON_VERSIONS["1.35"][a.inputs.addonName as EksAddonName]);
    });

    it("the VPC CNI gets its permissions through Pod Identity (aws-node), not from the node role", async () => {
        const { resources } = await runCluster("prod", readStackConfig("prod").cluster);
        const cni = ofType(resources, "aws:eks/addon:Addon").find((a) => a.inputs.addonName === "vpc-cni")!;
        assert.deepStrictEqual(cni.inputs.podIdentityAssociations, [{ serviceAccount: "aws-node", roleArn: "arn:aws:mock:::cluster-vpc-cni" }]);
        const role = ofType(resources, T.role).find((r) => r.name === "cluster-vpc-cni")!;
        assert.deepStrictEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: "pods.eks.amazonaws.com" });
        assert.strictEqual(ofType(resources, T.attachment).find((a) => a.name === "cluster-vpc-cni")!.inputs.policyArn, CNI_POLICY_ARN);
        const nodePolicies = ofType(resources, T.attachment).filter((a) => a.name.startsWith("cluster-node-")).map((a) => a.inputs.policyArn);
        assert.ok(!nodePolicies.includes(CNI_POLICY_ARN), nodePolicies.join());
        assert.ok(!NODE_ROLE_POLICIES.includes(CNI_POLICY_ARN));
    });

    it("order: the agent, then the CNI and kube-proxy, then the nodes; CoreDNS and the EBS CSI driver once nodes exist", async () => {
        const { resources } = await runCluster("prod", readStackConfig("prod").cluster);
        const addon = (n: string) => ofType(resources, "aws:eks/addon:Addon").find((a) => a.inputs.addonName === n)!;
        const waitsFor = (r: Registered, n: string) => dependencyNames(r).includes(n);
        for (const n of ["vpc-cni", "kube-proxy"]) assert.ok(waitsFor(addon(n), "cluster-eks-pod-identity-agent"), `${n} after the agent`);
        assert.ok(waitsFor(addon("vpc-cni"), "cluster-vpc-cni"), "the CNI after its role's policy");
        for (const g of ofType(resources, T.nodeGroup)) {
            for (const n of ["eks-pod-identity-agent", "vpc-cni", "kube-proxy"]) assert.ok(waitsFor(g, `cluster-${n}`), `${g.name} waits for ${n}`);
            for (const n of ["coredns", "aws-ebs-csi-driver"]) {
                assert.ok(waitsFor(addon(n), g.name), `${n} waits for ${g.name}`);
                assert.ok(!waitsFor(g, `cluster-${n}`));
            }
        }
    });
});

describe("nodes: a launch template per pool — IMDSv2 with one hop, an encrypted gp3 root volume", () => {
    it("nodeLaunchTemplate: metadata options and the root volume", () => {
        const t = nodeLaunchTemplate({ diskSize: 50 }, { Name: "x" });
        assert.deepStrictEqual(t.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
        assert.deepStrictEqual(t.blockDeviceMappings, [{ deviceName: "/dev/xvda", ebs: { volumeSize: 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }]);
        assert.strictEqual(IMDS_HOP_LIMIT, 1);
    });

    for (const stack of ["staging", "uat", "prod"]) {
        it(`${stack}: every node group runs its pool's launch template, with the pool's disk size, and sets no disk of its own`, async () => {
            const { resources } = await runCluster(stack, readStackConfig(stack).cluster);
            const pools = (parseCluster(stack, readStackConfig(stack).cluster) as EksClusterConfig).nodePools;
            const templates = ofType(resources, "aws:ec2/launchTemplate:LaunchTemplate");
            assert.strictEqual(templates.length, pools.length);
            for (const pool of pools) {
                const group = ofType(resources, T.nodeGroup).find((g) => g.name === `cluster-${pool.name}`)!;
                const template = byId(resources, "aws:ec2/launchTemplate:LaunchTemplate", group.inputs.launchTemplate.id);
                assert.strictEqual(group.inputs.launchTemplate.version, "1");
                assert.strictEqual(group.inputs.diskSize, undefined);
                assert.deepStrictEqual(template.inputs.metadataOptions, nodeLaunchTemplate(pool, {}).metadataOptions);
                assert.deepStrictEqual(template.inputs.blockDeviceMappings, [{ deviceName: "/dev/xvda", ebs: { volumeSize: pool.diskSize, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }]);
                assert.strictEqual(template.inputs.updateDefaultVersion, true);
                // The template sets no AMI, instance type or security group: EKS's own for managed nodes.
                for (const field of ["imageId", "instanceType", "vpcSecurityGroupIds", "networkInterfaces", "userData"]) assert.strictEqual(template.inputs[field], undefined, field);
            }
        });
    }
});
