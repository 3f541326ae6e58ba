// The rules about what the platform puts on and around an EKS cluster: nodes that keep their credentials and data
// to themselves (launch templates: IMDSv2 with one hop, encrypted volumes), core add-ons managed by EKS at pinned
// versions with the CNI's rights through Pod Identity, control-plane logs kept for a bounded time, no security group
// open to the internet, encrypted StorageClasses, third-party charts at exact versions, and the ingress NLB through
// the AWS Load Balancer Controller with IP targets, terminating TLS. The vocabulary is the platform's own pure modules.
import { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { EKS_ADDONS } from "../../components/platform/addons";
import { controlPlaneLogGroupName } from "../../components/platform/config";
import { ACM_CERTIFICATE_ARN, EKS_LOAD_BALANCER_ANNOTATIONS, INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT, TLS_ANNOTATION } from "../../components/platform/ingress";
import { IMDS_HOP_LIMIT } from "../../components/platform/nodes";
import { EBS_CSI_PROVISIONER } from "../../components/platform/storage";
import { HELM_RELEASE } from "../services";
import { configOf, describe, forTypes, known, Rule } from "./common";
import { EKS_CLUSTER, EKS_NODE_GROUP } from "./eks";

export const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
export const EKS_ADDON = "aws:eks/addon:Addon";
export const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
export const STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass";
export const SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
export const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";

/** The launch template a node group runs: by property dependency, else by (known) id. */
function launchTemplateOf(group: PolicyResource, templates: PolicyResource[]): PolicyResource | undefined {
    const byDependency = (group.propertyDependencies?.launchTemplate ?? []).find((d) => d.type === LAUNCH_TEMPLATE);
    if (byDependency) return byDependency;
    const id = known(() => group.props.launchTemplate?.id);
    const name = known(() => group.props.launchTemplate?.name);
    return templates.find((t) => (id !== undefined && known(() => t.props.id) === id) || (name !== undefined && known(() => t.props.name) === name));
}

export const nodeGroupsHardened: Rule = {
    name: "node-groups-hardened",
    description:
        "Every EKS node group runs a launch template of the stack that answers only IMDSv2 with a hop limit of 1 (pods cannot use the node's credentials) and encrypts every volume it maps.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            maxHopLimit: { type: "integer", minimum: 1, default: IMDS_HOP_LIMIT, description: "The highest IMDS response hop limit allowed (1: pods cannot reach the metadata service)." },
        },
    },
    validateStack: (args, report) => {
        const { maxHopLimit } = configOf(args, { maxHopLimit: IMDS_HOP_LIMIT });
        const groups = args.resources.filter((r) => r.type === EKS_NODE_GROUP);
        if (groups.length === 0) args.notApplicable("no EKS node groups in this stack");
        const templates = args.resources.filter((r) => r.type === LAUNCH_TEMPLATE);
        for (const group of groups) {
            const template = launchTemplateOf(group, templates);
            if (!template) {
                report(`node group ${group.name} runs no launch template of this stack: its nodes get EKS's defaults (IMDS hop limit 2, a root volume encrypted only if the account says so)`, group.urn);
                continue;
            }
            const metadata = known(() => template.props.metadataOptions) ?? {};
            if (metadata.httpTokens !== "required") {
                report(`node group ${group.name}: launch template ${template.name} has metadataOptions.httpTokens ${describe(metadata.httpTokens)}; it must be "required" (IMDSv2 only)`, template.urn);
            }
            const hops = metadata.httpPutResponseHopLimit;
            if (typeof hops !== "number" || hops > maxHopLimit) {
                report(`node group ${group.name}: launch template ${template.name} has metadataOptions.httpPutResponseHopLimit ${describe(hops)}; it must be at most ${maxHopLimit}, so pods cannot use the node's credentials`, template.urn);
            }
            const mappings: any[] = known(() => template.props.blockDeviceMappings) ?? [];
            if (!Array.isArray(mappings) || mappings.length === 0) {
                report(`node group ${group.name}: launch template ${template.name} maps no volume, so the root volume is encrypted only if the account defaults to it; map it with ebs.encrypted "true"`, template.urn);
            }
            for (const m of Array.isArray(mappings) ? mappings : []) {
                const encrypted = m?.ebs?.encrypted;
                if (encrypted !== "true" && encrypted !== true) {
                    report(`node group ${group.name}: launch template ${template.name} maps ${describe(m?.deviceName)} with ebs.encrypted ${describe(encrypted)}; every volume must be encrypted`, template.urn);
                }
            }
        }
    },
};

export const eksCoreAddonsManaged: Rule = {
    name: "eks-core-addons-managed",
    description:
        "EKS clusters bootstrap no self-managed add-ons, and run vpc-cni, kube-proxy, coredns, eks-pod-identity-agent and aws-ebs-csi-driver as EKS add-ons at pinned versions, the CNI with its own role through Pod Identity.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const clusters = args.resources.filter((r) => r.type === EKS_CLUSTER);
        if (clusters.length === 0) args.notApplicable("no EKS cluster in this stack");
        const addons = args.resources.filter((r) => r.type === EKS_ADDON);
        for (const cluster of clusters) {
            if (known(() => cluster.props.bootstrapSelfManagedAddons) !== false) {
                report(`EKS cluster ${cluster.name} bootstraps self-managed add-ons (bootstrapSelfManagedAddons is ${describe(known(() => cluster.props.bootstrapSelfManagedAddons))}), which never upgrade; set it to false and declare them as EKS add-ons`, cluster.urn);
            }
        }
        for (const name of EKS_ADDONS) {
            const addon = addons.find((a) => known(() => a.props.addonName) === name);
            if (!addon) {
                report(`the stack declares no EKS add-on ${name}`);
                continue;
            }
            const version = known(() => addon.props.addonVersion);
            if (typeof version !== "string" || !/^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(version)) {
                report(`EKS add-on ${name} (${addon.name}) has addonVersion ${describe(version)}; pin a version such as "v1.22.1-eksbuild.2", so it moves only when the stack says so`, addon.urn);
            }
        }
        const cni = addons.find((a) => known(() => a.props.addonName) === "vpc-cni");
        if (cni) {
            const associations: any[] = known(() => cni.props.podIdentityAssociations) ?? [];
            const viaPodIdentity = Array.isArray(associations) && associations.some((a) => known(() => a?.serviceAccount) === "aws-node");
            if (!viaPodIdentity) {
                report(`EKS add-on vpc-cni (${cni.name}) has no Pod Identity association for its ServiceAccount aws-node: it would take its rights from the node role, which every pod on the node could then use`, cni.urn);
            }
        }
    },
};

export const eksControlPlaneLogRetention: Rule = {
    name: "eks-control-plane-log-retention",
    description:
        "Every EKS cluster's control-plane log group (/aws/eks/<name>/cluster) is created by the stack with a retention, from minRetentionDays to maxRetentionDays, rather than kept forever.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            minRetentionDays: { type: "integer", minimum: 1, default: 30, description: "The shortest retention allowed, in days." },
            maxRetentionDays: { type: "integer", minimum: 1, default: 3653, description: "The longest retention allowed, in days." },
        },
    },
    validateStack: (args, report) => {
        const { minRetentionDays, maxRetentionDays } = configOf(args, { minRetentionDays: 30, maxRetentionDays: 3653 });
        const clusters = args.resources.filter((r) => r.type === EKS_CLUSTER);
        if (clusters.length === 0) args.notApplicable("no EKS cluster in this stack");
        const groups = args.resources.filter((r) => r.type === LOG_GROUP);
        for (const cluster of clusters) {
            const name = known(() => cluster.props.name);
            if (typeof name !== "string") {
                report(`EKS cluster ${cluster.name}: its name is not known at preview, so its log group cannot be found; give the cluster a name`, cluster.urn);
                continue;
            }
            const logGroup = controlPlaneLogGroupName(name);
            const group = groups.find((g) => known(() => g.props.name) === logGroup);
            if (!group) {
                report(`EKS cluster ${cluster.name}: the stack does not create its log group ${logGroup}, so EKS creates it without a retention (logs kept forever)`, cluster.urn);
                continue;
            }
            const days = known(() => group.props.retentionInDays);
            if (typeof days !== "number" || days < minRetentionDays || days > maxRetentionDays) {
                report(`log group ${logGroup} keeps the control-plane logs ${typeof days === "number" && days > 0 ? `${days} days` : "forever"}; its retention must be from ${minRetentionDays} to ${maxRetentionDays} days`, group.urn);
            }
        }
    },
};

const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

export const noPublicIngress: Rule = {
    name: "no-public-ingress",
    description:
        "No security group rule of the stack lets in the whole internet (0.0.0.0/0 or ::/0): the nodes, public in staging, answer the internet only through the load balancer, whose controller manages its own rules.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            exceptions: { type: "array", items: { type: "string" }, default: [], description: "Resource names of security groups or rules allowed to be open to the internet." },
        },
    },
    validateResource: forTypes([SG_INGRESS_RULE, SG_RULE, SECURITY_GROUP], (args, report) => {
        const { exceptions } = configOf(args, { exceptions: [] as string[] });
        if (exceptions.includes(args.name)) return;
        const open: string[] = [];
        if (args.type === SG_INGRESS_RULE) {
            for (const field of ["cidrIpv4", "cidrIpv6"]) {
                const cidr = known(() => args.props[field]);
                if (OPEN_CIDRS.includes(cidr)) open.push(`${cidr} on ports ${describe(known(() => args.props.fromPort))}-${describe(known(() => args.props.toPort))}`);
            }
        } else if (args.type === SG_RULE) {
            if (known(() => args.props.type) !== "ingress") return;
            for (const cidr of [...(known(() => args.props.cidrBlocks) ?? []), ...(known(() => args.props.ipv6CidrBlocks) ?? [])]) {
                if (OPEN_CIDRS.includes(cidr)) open.push(`${cidr} on ports ${describe(known(() => args.props.fromPort))}-${describe(known(() => args.props.toPort))}`);
            }
        } else {
            for (const rule of known(() => args.props.ingress) ?? []) {
                for (const cidr of [...(rule?.cidrBlocks ?? []), ...(rule?.ipv6CidrBlocks ?? [])]) {
                    if (OPEN_CIDRS.includes(cidr)) open.push(`${cidr} on ports ${describe(rule?.fromPort)}-${describe(rule?.toPort)}`);
                }
            }
        }
        if (open.length > 0) {
            report(`${args.name} lets in the whole internet: ${open.join(", ")}; let in the load balancer's security group or named ranges instead, or list ${args.name} in this rule's exceptions`);
        }
    }),
};

const EBS_PROVISIONERS = [EBS_CSI_PROVISIONER, "kubernetes.io/aws-ebs"];

export const storageClassesEncrypted: Rule = {
    name: "storage-classes-encrypted",
    description: "Every EBS StorageClass the stack creates encrypts the volumes it provisions (parameters.encrypted \"true\"), whatever the account's default.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([STORAGE_CLASS], (args, report) => {
        const provisioner = known(() => args.props.provisioner);
        if (!EBS_PROVISIONERS.includes(provisioner)) return;
        const encrypted = known(() => args.props.parameters?.encrypted);
        if (encrypted !== "true") {
            report(`StorageClass ${known(() => args.props.metadata?.name) ?? args.name} (${provisioner}) has parameters.encrypted ${describe(encrypted)}; it must be "true", so every volume it provisions is encrypted`);
        }
    }),
};

export const chartVersionsPinned: Rule = {
    name: "chart-versions-pinned",
    description:
        "Every Helm release of a chart from a repository names an exact chart version (major.minor.patch, no range), the version the tests render from ../shared/charts.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([HELM_RELEASE], (args, report) => {
        const repo = known(() => args.props.repositoryOpts?.repo);
        if (repo === undefined) return;
        const version = known(() => args.props.version);
        if (typeof version !== "string" || !/^\d+\.\d+\.\d+$/.test(version)) {
            report(`Helm release ${known(() => args.props.name) ?? args.name}: chart ${describe(known(() => args.props.chart))} from ${repo} has version ${describe(version)}; pin an exact version (major.minor.patch), so what is deployed is what was tested`);
        }
    }),
};

/**
 * The Istio gateway releases of an EKS stack whose Service is a LoadBalancer (the NLB), with that Service's values and
 * annotations; the rule is not applicable without an EKS cluster or a gateway release.
 */
function eksGatewayLoadBalancers(args: StackValidationArgs): { g: PolicyResource; service: Record<string, any>; annotations: Record<string, unknown> }[] {
    if (!args.resources.some((r) => r.type === EKS_CLUSTER)) args.notApplicable("no EKS cluster in this stack");
    const gateways = args.resources.filter((r) => r.type === HELM_RELEASE && known(() => r.props.chart) === "gateway");
    if (gateways.length === 0) args.notApplicable("no Istio gateway release in this stack");
    return gateways
        .map((g) => ({ g, service: (known(() => g.props.values?.service) ?? {}) as Record<string, any> }))
        .filter(({ service }) => (service.type ?? "LoadBalancer") === "LoadBalancer")
        .map(({ g, service }) => ({ g, service, annotations: (service.annotations ?? {}) as Record<string, unknown> }));
}

export const ingressLoadBalancerController: Rule = {
    name: "ingress-nlb-ip-targets",
    description:
        "On EKS, the Istio gateway's LoadBalancer Service is an NLB of the AWS Load Balancer Controller with IP targets, health-checked on the gateway's readiness endpoint, and opens no NodePort.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const { g, service, annotations } of eksGatewayLoadBalancers(args)) {
            const wrong = Object.entries(EKS_LOAD_BALANCER_ANNOTATIONS).filter(([k, v]) => annotations[k] !== v);
            for (const [k, v] of wrong) report(`gateway release ${g.name}: its Service annotation ${k} is ${describe(annotations[k])}; it must be ${JSON.stringify(v)}`, g.urn);
            if (service.allocateLoadBalancerNodePorts !== false) {
                report(`gateway release ${g.name}: its Service allocates NodePorts (allocateLoadBalancerNodePorts is ${describe(service.allocateLoadBalancerNodePorts)}); IP targets need none, so set it to false`, g.urn);
            }
        }
    },
};

/** The ports the gateway chart's Service opens when its values name none: status (15021), HTTP (80), HTTPS (443). */
const GATEWAY_CHART_DEFAULT_PORTS = [15021, INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT];

export const ingressTls: Rule = {
    name: "ingress-tls",
    description:
        "On EKS, the Istio gateway's NLB terminates TLS: its Service names an ACM certificate for port 443 with a TLS 1.3/1.2 negotiation policy, and does not expose port 80 (an NLB cannot redirect it, so it would serve plain HTTP).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const { g, service, annotations } of eksGatewayLoadBalancers(args)) {
            const certificate = annotations[TLS_ANNOTATION.certificate];
            if (typeof certificate !== "string" || !ACM_CERTIFICATE_ARN.test(certificate)) {
                report(
                    `gateway release ${g.name}: its Service annotation ${TLS_ANNOTATION.certificate} is ${describe(certificate)}, so the internet reaches the gateway over plain HTTP; set cluster.istio.gateway.tls.certificateArn to the stack's ACM certificate (docs/operations.md "Bootstrapping a stack")`,
                    g.urn,
                );
                continue;
            }
            const sslPorts = annotations[TLS_ANNOTATION.ports];
            if (sslPorts !== String(INGRESS_HTTPS_PORT)) {
                report(`gateway release ${g.name}: its Service annotation ${TLS_ANNOTATION.ports} is ${describe(sslPorts)}; it must be "${INGRESS_HTTPS_PORT}"`, g.urn);
            }
            const policy = annotations[TLS_ANNOTATION.policy];
            if (typeof policy !== "string" || !policy.startsWith("ELBSecurityPolicy-TLS13-")) {
                report(`gateway release ${g.name}: its Service annotation ${TLS_ANNOTATION.policy} is ${describe(policy)}; name a TLS 1.3 policy such as "ELBSecurityPolicy-TLS13-1-2-2021-06" (the controller's default still accepts TLS 1.0)`, g.urn);
            }
            const ports: number[] = Array.isArray(service.ports) ? service.ports.map((p: any) => p?.port) : GATEWAY_CHART_DEFAULT_PORTS;
            if (ports.includes(INGRESS_HTTP_PORT)) {
                report(`gateway release ${g.name}: its Service exposes port ${INGRESS_HTTP_PORT}, which an NLB cannot redirect to HTTPS, so it serves plain HTTP; expose ${INGRESS_HTTPS_PORT} only`, g.urn);
            }
        }
    },
};
