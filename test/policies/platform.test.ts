// The platform rules, a passing and a violating case at least each: hardened node groups, managed core add-ons,
// control-plane log retention, no security group open to the internet, encrypted StorageClasses, pinned chart
// versions, the ingress NLB through the AWS Load Balancer Controller, terminating TLS.
import * as assert from "assert";
import { EKS_LOAD_BALANCER_ANNOTATIONS, gatewayServicePorts, tlsAnnotations } from "../../components/platform/ingress";
import { nodeLaunchTemplate } from "../../components/platform/nodes";
import { DEFAULT_ADDON_VERSIONS, EKS_ADDONS } from "../../components/platform/addons";
import {
    chartVersionsPinned,
    eksControlPlaneLogRetention,
    eksCoreAddonsManaged,
    ingressLoadBalancerController,
    ingressTls,
    nodeGroupsHardened,
    noPublicIngress,
    storageClassesEncrypted,
} from "../../policies/rules/platform";
import { checkResource, checkStack, CLUSTER, NODE_GROUP, passes, RELEASE, StackRes, UNKNOWN, urnOf } from "./harness";

const TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const ADDON = "aws:eks/addon:Addon";

describe("policy node-groups-hardened", () => {
    const template = (props: Record<string, unknown> = { ...nodeLaunchTemplate({ diskSize: 20 }, {}) }): StackRes => ({ type: TEMPLATE, name: "nodes", props: { id: "lt-1", ...props } });
    const group = (launchTemplate?: Record<string, unknown>, deps?: string[]): StackRes => ({
        type: NODE_GROUP,
        name: "workers",
        props: { capacityType: "ON_DEMAND", ...(launchTemplate ? { launchTemplate } : {}) },
        ...(deps ? { deps: { launchTemplate: deps } } : {}),
    });

    it("passes a node group whose launch template (by id, or by dependency while the id is unknown) answers IMDSv2 with one hop and encrypts its volume", async () => {
        passes(await checkStack(nodeGroupsHardened, "prod", [template(), group({ id: "lt-1", version: "1" })]));
        passes(await checkStack(nodeGroupsHardened, "prod", [template(), group({ id: UNKNOWN, version: UNKNOWN }, ["nodes"])]));
    });

    it("refuses a node group without a launch template, and each weakness of one", async () => {
        assert.deepStrictEqual((await checkStack(nodeGroupsHardened, "staging", [group()])).messages, [
            "node group workers runs no launch template of this stack: its nodes get EKS's defaults (IMDS hop limit 2, a root volume encrypted only if the account says so)",
        ]);
        const weak = template({
            metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 },
            blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 20, encrypted: "false" } }],
        });
        const out = await checkStack(nodeGroupsHardened, "prod", [weak, group({ id: "lt-1", version: "1" })]);
        assert.deepStrictEqual(out.messages, [
            'node group workers: launch template nodes has metadataOptions.httpTokens "optional"; it must be "required" (IMDSv2 only)',
            "node group workers: launch template nodes has metadataOptions.httpPutResponseHopLimit 2; it must be at most 1, so pods cannot use the node's credentials",
            'node group workers: launch template nodes maps "/dev/xvda" with ebs.encrypted "false"; every volume must be encrypted',
        ]);
        assert.deepStrictEqual(out.urns, [urnOf("prod", TEMPLATE, "nodes"), urnOf("prod", TEMPLATE, "nodes"), urnOf("prod", TEMPLATE, "nodes")]);
        assert.deepStrictEqual((await checkStack(nodeGroupsHardened, "prod", [template({ metadataOptions: nodeLaunchTemplate({ diskSize: 20 }, {}).metadataOptions }), group({ id: "lt-1" })])).messages, [
            "node group workers: launch template nodes maps no volume, so the root volume is encrypted only if the account defaults to it; map it with ebs.encrypted \"true\"",
        ]);
        assert.strictEqual((await checkStack(nodeGroupsHardened, "prod", [])).notApplicable, "no EKS node groups in this stack");
    });
});

describe("policy eks-core-addons-managed", () => {
    const cluster = (bootstrapSelfManagedAddons?: boolean): StackRes => ({ type: CLUSTER, name: "eks", props: { name: "stagehand-prod", ...(bootstrapSelfManagedAddons === undefined ? {} : { bootstrapSelfManagedAddons }) } });
    const addon = (addonName: string, extra: Record<string, unknown> = {}): StackRes => ({
        type: ADDON,
        name: `cluster-${addonName}`,
        props: { addonName, addonVersion: DEFAULT_ADDON_VERSIONS["1.35"][addonName as keyof (typeof DEFAULT_ADDON_VERSIONS)["1.35"]], ...extra },
    });
    const all = () => EKS_ADDONS.map((a) => addon(a, a === "vpc-cni" ? { podIdentityAssociations: [{ serviceAccount: "aws-node", roleArn: "arn:aws:iam::1:role/cni" }] } : {}));

    it("passes a cluster without bootstrap and the five add-ons pinned, the CNI through Pod Identity", async () => {
        passes(await checkStack(eksCoreAddonsManaged, "prod", [cluster(false), ...all()]));
    });

    it("refuses the bootstrap (also AWS's default), a missing or unpinned add-on, a CNI on the node role", async () => {
        const addons = all().filter((a) => a.props.addonName !== "coredns").map((a) => (a.props.addonName === "kube-proxy" ? { ...a, props: { ...a.props, addonVersion: undefined } } : a));
        const cni = addons.find((a) => a.props.addonName === "vpc-cni")!;
        cni.props = { ...cni.props, podIdentityAssociations: [] };
        assert.deepStrictEqual((await checkStack(eksCoreAddonsManaged, "prod", [cluster(), ...addons])).messages, [
            "EKS cluster eks bootstraps self-managed add-ons (bootstrapSelfManagedAddons is nothing), which never upgrade; set it to false and declare them as EKS add-ons",
            'EKS add-on kube-proxy (cluster-kube-proxy) has addonVersion nothing; pin a version such as "v1.22.1-eksbuild.2", so it moves only when the stack says so',
            "the stack declares no EKS add-on coredns",
            "EKS add-on vpc-cni (cluster-vpc-cni) has no Pod Identity association for its ServiceAccount aws-node: it would take its rights from the node role, which every pod on the node could then use",
        ]);
        assert.strictEqual((await checkStack(eksCoreAddonsManaged, "prod", [])).notApplicable, "no EKS cluster in this stack");
    });
});

describe("policy eks-control-plane-log-retention", () => {
    const cluster: StackRes = { type: CLUSTER, name: "eks", props: { name: "stagehand-prod" } };
    const group = (retentionInDays?: number, name = "/aws/eks/stagehand-prod/cluster"): StackRes => ({ type: "aws:cloudwatch/logGroup:LogGroup", name: "logs", props: { name, ...(retentionInDays === undefined ? {} : { retentionInDays }) } });

    it("passes the cluster's log group with a retention in range", async () => {
        passes(await checkStack(eksControlPlaneLogRetention, "prod", [cluster, group(90)]));
    });

    it("refuses no log group of the stack, another group's name, a retention of forever or out of range", async () => {
        const missing = "EKS cluster eks: the stack does not create its log group /aws/eks/stagehand-prod/cluster, so EKS creates it without a retention (logs kept forever)";
        assert.deepStrictEqual((await checkStack(eksControlPlaneLogRetention, "prod", [cluster])).messages, [missing]);
        assert.deepStrictEqual((await checkStack(eksControlPlaneLogRetention, "prod", [cluster, group(90, "/aws/eks/other/cluster")])).messages, [missing]);
        assert.deepStrictEqual((await checkStack(eksControlPlaneLogRetention, "prod", [cluster, group()])).messages, [
            "log group /aws/eks/stagehand-prod/cluster keeps the control-plane logs forever; its retention must be from 30 to 3653 days",
        ]);
        assert.deepStrictEqual((await checkStack(eksControlPlaneLogRetention, "prod", [cluster, group(7)], { minRetentionDays: 30 })).messages, [
            "log group /aws/eks/stagehand-prod/cluster keeps the control-plane logs 7 days; its retention must be from 30 to 3653 days",
        ]);
    });
});

describe("policy no-public-ingress", () => {
    it("passes rules from the VPC or a security group", async () => {
        passes(await checkResource(noPublicIngress, { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "api", props: { cidrIpv4: "10.0.0.0/16", fromPort: 443, toPort: 443 } }));
        passes(await checkResource(noPublicIngress, { type: "aws:ec2/securityGroupRule:SecurityGroupRule", name: "lb", props: { type: "ingress", sourceSecurityGroupId: "sg-1", fromPort: 80, toPort: 80 } }));
    });

    it("refuses the whole internet in any of the three shapes, but for listed exceptions", async () => {
        assert.deepStrictEqual((await checkResource(noPublicIngress, { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "nodeports", props: { cidrIpv4: "0.0.0.0/0", fromPort: 30000, toPort: 32767 } })).messages, [
            "nodeports lets in the whole internet: 0.0.0.0/0 on ports 30000-32767; let in the load balancer's security group or named ranges instead, or list nodeports in this rule's exceptions",
        ]);
        assert.strictEqual((await checkResource(noPublicIngress, { type: "aws:ec2/securityGroupRule:SecurityGroupRule", name: "ssh", props: { type: "ingress", cidrBlocks: ["0.0.0.0/0"], fromPort: 22, toPort: 22 } })).messages.length, 1);
        assert.strictEqual((await checkResource(noPublicIngress, { type: "aws:ec2/securityGroup:SecurityGroup", name: "sg", props: { ingress: [{ ipv6CidrBlocks: ["::/0"], fromPort: 0, toPort: 0 }] } })).messages.length, 1);
        passes(await checkResource(noPublicIngress, { type: "aws:ec2/securityGroupRule:SecurityGroupRule", name: "egress", props: { type: "egress", cidrBlocks: ["0.0.0.0/0"] } }));
        passes(await checkResource(noPublicIngress, { type: "aws:ec2/securityGroupRule:SecurityGroupRule", name: "ssh", props: { type: "ingress", cidrBlocks: ["0.0.0.0/0"] } }, { exceptions: ["ssh"] }));
    });
});

describe("policy storage-classes-encrypted", () => {
    const sc = (provisioner: string, parameters: Record<string, string>) => ({ type: "kubernetes:storage.k8s.io/v1:StorageClass", name: "sc", props: { metadata: { name: "gp3" }, provisioner, parameters } });

    it("passes an encrypted EBS class and ignores other provisioners", async () => {
        passes(await checkResource(storageClassesEncrypted, sc("ebs.csi.aws.com", { type: "gp3", encrypted: "true" })));
        passes(await checkResource(storageClassesEncrypted, sc("efs.csi.aws.com", {})));
    });

    it("refuses an EBS class that does not encrypt", async () => {
        assert.deepStrictEqual((await checkResource(storageClassesEncrypted, sc("ebs.csi.aws.com", { type: "gp3" }))).messages, [
            'StorageClass gp3 (ebs.csi.aws.com) has parameters.encrypted nothing; it must be "true", so every volume it provisions is encrypted',
        ]);
        assert.strictEqual((await checkResource(storageClassesEncrypted, sc("kubernetes.io/aws-ebs", { encrypted: "false" }))).messages.length, 1);
    });
});

describe("policy chart-versions-pinned", () => {
    const release = (version: unknown, repo = "https://kubernetes.github.io/autoscaler") => ({ type: RELEASE, name: "ca", props: { name: "cluster-autoscaler", chart: "cluster-autoscaler", version, repositoryOpts: { repo } } });

    it("passes an exact version, and local charts", async () => {
        passes(await checkResource(chartVersionsPinned, release("9.59.0")));
        passes(await checkResource(chartVersionsPinned, { type: RELEASE, name: "svc", props: { chart: "./charts/service" } }));
    });

    it("refuses a range, a missing version, latest", async () => {
        for (const v of ["^9.59.0", undefined, "latest", "9.59"]) assert.strictEqual((await checkResource(chartVersionsPinned, release(v))).messages.length, 1, String(v));
        assert.deepStrictEqual((await checkResource(chartVersionsPinned, release("~9"))).messages, [
            'Helm release cluster-autoscaler: chart "cluster-autoscaler" from https://kubernetes.github.io/autoscaler has version "~9"; pin an exact version (major.minor.patch), so what is deployed is what was tested',
        ]);
    });
});

describe("policy ingress-nlb-ip-targets", () => {
    const cluster: StackRes = { type: CLUSTER, name: "eks", props: { name: "stagehand-prod" } };
    const gateway = (service: Record<string, unknown>): StackRes => ({ type: RELEASE, name: "istio-gateway", props: { chart: "gateway", values: { service } } });

    it("passes the controller's NLB with IP targets and no NodePorts; a NodePort gateway; a stack without EKS", async () => {
        passes(await checkStack(ingressLoadBalancerController, "prod", [cluster, gateway({ type: "LoadBalancer", annotations: { ...EKS_LOAD_BALANCER_ANNOTATIONS }, allocateLoadBalancerNodePorts: false })]));
        passes(await checkStack(ingressLoadBalancerController, "prod", [cluster, gateway({ type: "NodePort", annotations: {} })]));
        assert.strictEqual((await checkStack(ingressLoadBalancerController, "prod", [gateway({})])).notApplicable, "no EKS cluster in this stack");
    });

    it("refuses the legacy in-tree NLB (instance targets through NodePorts)", async () => {
        const legacy = await checkStack(ingressLoadBalancerController, "prod", [cluster, gateway({ type: "LoadBalancer", annotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" } })]);
        assert.deepStrictEqual(legacy.messages[0], 'gateway release istio-gateway: its Service annotation service.beta.kubernetes.io/aws-load-balancer-type is "nlb"; it must be "external"');
        assert.strictEqual(legacy.messages.length, Object.keys(EKS_LOAD_BALANCER_ANNOTATIONS).length + 1);
        assert.match(legacy.messages.at(-1)!, /allocates NodePorts \(allocateLoadBalancerNodePorts is nothing\); IP targets need none/);
    });
});

describe("policy ingress-tls", () => {
    const cluster: StackRes = { type: CLUSTER, name: "eks", props: { name: "stagehand-prod" } };
    const gateway = (service: Record<string, unknown>): StackRes => ({ type: RELEASE, name: "istio-gateway", props: { chart: "gateway", values: { service } } });
    const ARN = "arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-4333-8444-555555555555";
    const nlb = (tls: boolean, extra: Record<string, unknown> = {}) =>
        gateway({ type: "LoadBalancer", annotations: { ...EKS_LOAD_BALANCER_ANNOTATIONS, ...(tls ? tlsAnnotations(ARN) : {}) }, ports: gatewayServicePorts(tls), ...extra });

    it("passes an NLB terminating TLS on 443 only; a NodePort gateway; a stack without EKS", async () => {
        passes(await checkStack(ingressTls, "prod", [cluster, nlb(true)]));
        passes(await checkStack(ingressTls, "prod", [cluster, gateway({ type: "NodePort", annotations: {} })]));
        assert.strictEqual((await checkStack(ingressTls, "prod", [gateway({})])).notApplicable, "no EKS cluster in this stack");
    });

    it("refuses an NLB without a certificate (plain HTTP), saying where to set it", async () => {
        assert.deepStrictEqual((await checkStack(ingressTls, "prod", [cluster, nlb(false)])).messages, [
            'gateway release istio-gateway: its Service annotation service.beta.kubernetes.io/aws-load-balancer-ssl-cert is nothing, so the internet reaches the gateway over plain HTTP; set cluster.istio.gateway.tls.certificateArn to the stack\'s ACM certificate (docs/operations.md "Bootstrapping a stack")',
        ]);
    });

    it("refuses port 80 beside 443 (an NLB cannot redirect it), the chart's default ports, an old negotiation policy, other TLS ports", async () => {
        const both = nlb(true, { ports: [...gatewayServicePorts(false), ...gatewayServicePorts(true)] });
        assert.deepStrictEqual((await checkStack(ingressTls, "prod", [cluster, both])).messages, [
            "gateway release istio-gateway: its Service exposes port 80, which an NLB cannot redirect to HTTPS, so it serves plain HTTP; expose 443 only",
        ]);
        const chartDefaults = nlb(true, { ports: undefined });
        assert.strictEqual((await checkStack(ingressTls, "prod", [cluster, chartDefaults])).messages.length, 1);
        const old = gateway({ type: "LoadBalancer", annotations: { ...tlsAnnotations(ARN), "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": "ELBSecurityPolicy-2016-08", "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "*" }, ports: gatewayServicePorts(true) });
        assert.deepStrictEqual((await checkStack(ingressTls, "prod", [cluster, old])).messages, [
            'gateway release istio-gateway: its Service annotation service.beta.kubernetes.io/aws-load-balancer-ssl-ports is "*"; it must be "443"',
            'gateway release istio-gateway: its Service annotation service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy is "ELBSecurityPolicy-2016-08"; name a TLS 1.3 policy such as "ELBSecurityPolicy-TLS13-1-2-2021-06" (the controller\'s default still accepts TLS 1.0)',
        ]);
    });
});
