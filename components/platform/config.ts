// `stagehand:cluster`: the cluster a stack runs on and the Istio installed on it. Each stack file writes its
// cluster out in full; the defaults below are the cheap, staging-like choice for every field, so a forgotten
// field never costs money by surprise. `kind: existing` uses a cluster already in your kubeconfig and creates
// nothing on AWS. Pure: used by the program, `npm run plan`, the cost model and the policies.
import { z } from "zod";
import { INSTANCE_CAPACITY, INSTANCE_HOURLY_USD } from "../cost/prices";
import { AUTOSCALER_TAG, AddonVersions, DEFAULT_ADDON_VERSIONS, whereToFindVersions, EKS_ADDON_VERSION, FOLLOWS_KUBERNETES_MINOR, VERSIONED_ADDONS, VersionedAddon } from "./addons";
import { ConfigError, describeIssues } from "../shared/errors";
import { dnsLabel, quantity, wholeNumber } from "../shared/schema";
import { apiEndpointSchema } from "./api-endpoint-config";
import { ACM_CERTIFICATE_ARN } from "./ingress";
import { istioSchema } from "./istio-config";

/** Node capacity types of an EKS managed node group. */
export const CAPACITY_TYPES = ["SPOT", "ON_DEMAND"] as const;
/** EKS control-plane log types (sent to CloudWatch Logs). */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
/** The retentions CloudWatch Logs accepts, in days (0, "never expire", is left out on purpose). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
/** The log group EKS writes the control-plane logs of cluster `name` to (created by the stack, with a retention). */
export function controlPlaneLogGroupName(clusterName: string): string {
    return `/aws/eks/${clusterName}/cluster`;
}
/** How long the control-plane logs are kept: a quarter, enough to trace who changed what after an incident. */
export const DEFAULT_LOG_RETENTION_DAYS = 90;
/** Kubernetes version of new EKS clusters: supported by Istio 1.29, 1.30 and 1.31. */
export const DEFAULT_KUBERNETES_VERSION = "1.35";
/**
 * The VPC's address range (subnets are carved from it by cluster.ts `subnetLayout`). Not a config field: changing it
 * replaces the VPC and everything in it, so the platform state records it (components/platform/changes.ts).
 */
export const VPC_CIDR = "10.0.0.0/16";
/** EKS needs subnets in at least two availability zones for its control plane. */
export const MIN_AVAILABILITY_ZONES = 2;
export const MAX_AVAILABILITY_ZONES = 6;
/** A spot pool needs several interchangeable instance types, or spot capacity may not be found at all. */
export const MIN_SPOT_INSTANCE_TYPES = 3;
/** The staging-like default node pool: small burstable spot instances of three families. */
export const DEFAULT_SPOT_INSTANCE_TYPES = ["t3.medium", "t3a.medium", "t2.medium"];

const INSTANCE_TYPE_WORDS = `an EC2 instance type priced in components/cost/prices.ts, such as t3.medium or m6i.large (add a price there to use another)`;
const instanceType = z
    .string({ error: INSTANCE_TYPE_WORDS })
    .refine((t) => Object.prototype.hasOwnProperty.call(INSTANCE_HOURLY_USD, t), { error: INSTANCE_TYPE_WORDS });

const nodeCount = (what: string, min: number) => wholeNumber(what, min, 100);

const nodePoolSchema = z
    .strictObject(
        {
            name: z
                .string({ error: "a node pool name (a DNS label)" })
                .regex(dnsLabel, { error: "a node pool name (a DNS label)" })
                .max(40, { error: "a node pool name of at most 40 characters" })
                .default("default"),
            capacityType: z.enum(CAPACITY_TYPES, { error: "a capacity type, SPOT or ON_DEMAND" }).default("SPOT"),
            instanceTypes: z
                .array(instanceType, { error: "a list of EC2 instance types, e.g. [t3.medium, t3a.medium, t2.medium]" })
                .min(1, { error: "at least one instance type, e.g. [t3.medium, t3a.medium, t2.medium]" })
                .default([...DEFAULT_SPOT_INSTANCE_TYPES]),
            minSize: nodeCount("the minimum node count", 0).default(2),
            desiredSize: nodeCount("the desired node count", 0).default(2),
            maxSize: nodeCount("the maximum node count", 1).default(4),
            diskSize: wholeNumber("the node disk size in GiB (the EKS AMI needs 20)", 20, 1000).default(20),
        },
        { error: "a node pool: {name, capacityType, instanceTypes, minSize, desiredSize, maxSize, diskSize}" },
    )
    .superRefine((pool, ctx) => {
        if (pool.minSize > pool.maxSize) {
            ctx.addIssue({ code: "custom", path: ["minSize"], input: pool.minSize, message: `a minSize no greater than maxSize (${pool.maxSize})` });
        } else if (pool.desiredSize < pool.minSize || pool.desiredSize > pool.maxSize) {
            ctx.addIssue({
                code: "custom",
                path: ["desiredSize"],
                input: pool.desiredSize,
                message: `a desiredSize from minSize (${pool.minSize}) to maxSize (${pool.maxSize})`,
            });
        }
        if (pool.capacityType === "SPOT" && pool.instanceTypes.length < MIN_SPOT_INSTANCE_TYPES) {
            ctx.addIssue({
                code: "custom",
                path: ["instanceTypes"],
                input: pool.instanceTypes,
                message: `at least ${MIN_SPOT_INSTANCE_TYPES} instance types for a SPOT pool, so spot capacity is found (e.g. [t3.medium, t3a.medium, t2.medium])`,
            });
        }
        // The cluster-autoscaler builds one node template per node group, from one of its instance types: types of
        // different sizes would be scaled for the wrong capacity (its AWS provider asks for equal vCPUs and memory).
        const sized = pool.instanceTypes.filter((t) => INSTANCE_CAPACITY[t]);
        const shape = (t: string) => `${INSTANCE_CAPACITY[t].vcpu} vCPU / ${INSTANCE_CAPACITY[t].memoryGiB} GiB`;
        const odd = sized.find((t) => shape(t) !== shape(sized[0]));
        if (odd) {
            ctx.addIssue({
                code: "custom",
                path: ["instanceTypes"],
                input: pool.instanceTypes,
                message: `instance types of one size (the cluster-autoscaler sizes a node group by one of them): ${sized[0]} has ${shape(sized[0])}, ${odd} ${shape(odd)}`,
            });
        }
        const seen = new Set<string>();
        for (const t of pool.instanceTypes) {
            if (seen.has(t)) ctx.addIssue({ code: "custom", path: ["instanceTypes"], input: pool.instanceTypes, message: `each instance type once (${t} is listed twice)` });
            seen.add(t);
        }
    });

const AZ_WORDS = `a number of availability zones from ${MIN_AVAILABILITY_ZONES} to ${MAX_AVAILABILITY_ZONES}, or a list of zone names such as [us-east-1a, us-east-1b]`;
const azName = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
const availabilityZones = z.union([z.number(), z.array(z.string())], { error: AZ_WORDS }).superRefine((azs, ctx) => {
    const count = typeof azs === "number" ? azs : azs.length;
    if (typeof azs === "number" && !Number.isInteger(azs)) {
        ctx.addIssue({ code: "custom", input: azs, message: AZ_WORDS });
    } else if (count < MIN_AVAILABILITY_ZONES) {
        ctx.addIssue({ code: "custom", input: azs, message: `at least ${MIN_AVAILABILITY_ZONES} availability zones (EKS needs subnets in two)` });
    } else if (count > MAX_AVAILABILITY_ZONES) {
        ctx.addIssue({ code: "custom", input: azs, message: `at most ${MAX_AVAILABILITY_ZONES} availability zones` });
    }
    if (Array.isArray(azs)) {
        azs.forEach((name, i) => {
            if (!azName.test(name)) ctx.addIssue({ code: "custom", path: [i], input: name, message: "an availability zone name such as \"us-east-1a\"" });
            else if (azs.indexOf(name) !== i) ctx.addIssue({ code: "custom", path: [i], input: name, message: "each availability zone once" });
        });
    }
});

const kubernetesVersion = z
    .string({ error: "a Kubernetes minor version supported by EKS, such as \"1.35\" (quote it in YAML)" })
    .regex(/^1\.\d{2}$/, { error: "a Kubernetes minor version supported by EKS, such as \"1.35\" (quote it in YAML)" });

const iamPrincipal = z
    .string({ error: "an IAM role or user ARN such as \"arn:aws:iam::123456789012:role/platform\"" })
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@\/-]+$/, { error: "an IAM role or user ARN such as \"arn:aws:iam::123456789012:role/platform\"" });

/** The same IAM principal (IAM names are unique regardless of case, so case aside). */
const samePrincipal = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

// Principals given an EKS access entry. EKS gives a principal one access entry per cluster, so each ARN once.
const iamPrincipals = z
    .array(iamPrincipal, { error: "a list of IAM role or user ARNs" })
    .superRefine((arns, ctx) => {
        arns.forEach((arn, i) => {
            if (arns.findIndex((a) => samePrincipal(a, arn)) !== i) {
                ctx.addIssue({ code: "custom", path: [i], input: arn, message: "each ARN once (EKS gives a principal one access entry per cluster)" });
            }
        });
    })
    .default([]);

const ADDON_VERSION_WORDS = "an EKS add-on version such as \"v1.22.1-eksbuild.2\"";
const AUTOSCALER_TAG_WORDS = "a cluster-autoscaler image tag such as \"v1.35.0\"";
// Versions that follow the Kubernetes version (components/platform/addons.ts); each one left out takes its default.
const addonVersionsSchema = z.strictObject(
    Object.fromEntries(
        VERSIONED_ADDONS.map((a) => [
            a,
            a === "cluster-autoscaler"
                ? z.string({ error: AUTOSCALER_TAG_WORDS }).regex(AUTOSCALER_TAG, { error: AUTOSCALER_TAG_WORDS }).optional()
                : z.string({ error: ADDON_VERSION_WORDS }).regex(EKS_ADDON_VERSION, { error: ADDON_VERSION_WORDS }).optional(),
        ]),
    ) as Record<VersionedAddon, z.ZodOptional<z.ZodString>>,
    { error: `an object of versions by add-on: ${VERSIONED_ADDONS.join(", ")}` },
);

/** The minor version of "v1.35.3-eksbuild.11" or "v1.35.0": "1.35". */
function minorOf(version: string): string {
    return version.replace(/^v/, "").split(".").slice(0, 2).join(".");
}

const LOG_RETENTION_WORDS = `a CloudWatch Logs retention in days, one of ${LOG_RETENTION_DAYS.join(", ")}`;

const eksClusterSchema = z
    .strictObject({
        kind: z.literal("eks"),
        name: z
            .string({ error: "an EKS cluster name (letters, digits, '-', at most 100)" })
            .regex(/^[A-Za-z][A-Za-z0-9-]{0,99}$/, { error: "an EKS cluster name (letters, digits, '-', at most 100)" })
            .optional(),
        kubernetesVersion: kubernetesVersion.default(DEFAULT_KUBERNETES_VERSION),
        availabilityZones: availabilityZones.default(MIN_AVAILABILITY_ZONES),
        nodeSubnets: z.enum(["public", "private"], { error: "public or private" }).default("public"),
        natGateways: z.enum(["none", "single", "perAz"], { error: "none, single or perAz" }).default("none"),
        nodePools: z
            .array(nodePoolSchema, { error: "a list of node pools" })
            .min(1, { error: "at least one node pool" })
            .prefault([{}]),
        addons: addonVersionsSchema.prefault({}),
        logging: z
            .array(z.enum(CONTROL_PLANE_LOG_TYPES, { error: `a control-plane log type: ${CONTROL_PLANE_LOG_TYPES.join(", ")}` }), {
                error: `a list of control-plane log types (${CONTROL_PLANE_LOG_TYPES.join(", ")})`,
            })
            .default([]),
        // Retention of the control-plane log group /aws/eks/<name>/cluster (kept whether or not `logging` is on).
        logRetentionDays: z
            .number({ error: LOG_RETENTION_WORDS })
            .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), { error: LOG_RETENTION_WORDS })
            .default(DEFAULT_LOG_RETENTION_DAYS),
        admins: iamPrincipals,
        // Read-only principals (AmazonEKSViewPolicy), such as CI's preview role.
        viewers: iamPrincipals,
        apiEndpoint: apiEndpointSchema.prefault({}),
        // Pulumi protects the VPC, NAT addresses, cluster, node groups, control-plane log group and Prometheus's
        // volume (components/platform/protection.ts): on unless a stack turns it off (the shipped staging does).
        protect: z.boolean({ error: "true or false" }).default(true),
        // Kubernetes Secrets envelope-encrypted with a customer-managed KMS key of the stack's ($1 a month). Once on, an
        // existing cluster cannot have it removed (EKS cannot disassociate an encryption config).
        secretsEncryption: z.boolean({ error: "true or false" }).default(false),
        istio: istioSchema.prefault({}),
    })
    .superRefine((c, ctx) => {
        if (c.nodeSubnets === "private" && c.natGateways === "none") {
            ctx.addIssue({
                code: "custom",
                path: ["natGateways"],
                input: c.natGateways,
                message: "single or perAz with nodeSubnets: private (nodes in private subnets reach the internet, ECR and the EKS API through NAT)",
            });
        }
        if (c.nodeSubnets === "public" && c.natGateways !== "none") {
            ctx.addIssue({
                code: "custom",
                path: ["natGateways"],
                input: c.natGateways,
                message: "none with nodeSubnets: public (public nodes do not use a NAT gateway, and each one costs about $33 a month)",
            });
        }
        const defaults: Partial<AddonVersions> = DEFAULT_ADDON_VERSIONS[c.kubernetesVersion] ?? {};
        for (const a of VERSIONED_ADDONS) {
            const version = c.addons[a] ?? defaults[a];
            if (version === undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["addons", a],
                    input: undefined,
                    message: `a version of ${a} for Kubernetes ${c.kubernetesVersion}, which has no defaults (defaults exist for ${Object.keys(DEFAULT_ADDON_VERSIONS).join(", ")}; ${whereToFindVersions(a, c.kubernetesVersion)})`,
                });
            } else if (FOLLOWS_KUBERNETES_MINOR.includes(a) && minorOf(version) !== c.kubernetesVersion) {
                ctx.addIssue({
                    code: "custom",
                    path: ["addons", a],
                    input: version,
                    message: `a version of ${a} for Kubernetes ${c.kubernetesVersion} (its minor version must be the cluster's)`,
                });
            }
        }
        const names = c.nodePools.map((p) => p.name);
        names.forEach((n, i) => {
            if (names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["nodePools", i, "name"], input: n, message: "a node pool name used once" });
        });
        c.viewers.forEach((arn, i) => {
            if (c.admins.some((a) => samePrincipal(a, arn))) {
                ctx.addIssue({
                    code: "custom",
                    path: ["viewers", i],
                    input: arn,
                    message: "an ARN that is not also in admins (EKS gives a principal one access entry per cluster; keep it in admins or in viewers)",
                });
            }
        });
    })
    // Resolved: every versioned add-on, from the stack's `addons` or the defaults of its Kubernetes version.
    .transform((c) => ({ ...c, addons: Object.fromEntries(VERSIONED_ADDONS.map((a) => [a, c.addons[a] ?? DEFAULT_ADDON_VERSIONS[c.kubernetesVersion]?.[a]])) as AddonVersions }));

const existingClusterSchema = z.strictObject({
    kind: z.literal("existing"),
    // Path to a kubeconfig file (`~/` is your home); absent: $KUBECONFIG or ~/.kube/config, as kubectl does.
    kubeconfig: z.string({ error: "a path to a kubeconfig file" }).min(1, { error: "a path to a kubeconfig file" }).optional(),
    // A context of that kubeconfig; absent: its current context.
    context: z.string({ error: "a kubeconfig context name" }).min(1, { error: "a kubeconfig context name" }).optional(),
    istio: istioSchema.prefault({}),
});

export type NodePoolConfig = z.output<typeof nodePoolSchema>;
export type EksClusterConfig = Omit<z.output<typeof eksClusterSchema>, "name"> & { name: string };
export type ExistingClusterConfig = z.output<typeof existingClusterSchema>;
export type ClusterConfig = EksClusterConfig | ExistingClusterConfig;
/** What a stack file may write under `stagehand:cluster` (`kind` defaults to eks). */
export type ClusterInput = (Omit<z.input<typeof eksClusterSchema>, "kind"> & { kind?: "eks" }) | z.input<typeof existingClusterSchema>;

/**
 * Availability zones named in a cluster config that are not in the stack's region (`aws:region`): EKS would fail
 * to create subnets there, after the VPC is half made. A zone's name is its region and one letter (us-east-1a).
 */
export function zoneRegionProblems(stack: string, cluster: ClusterConfig, region: string): string[] {
    if (cluster.kind !== "eks" || !Array.isArray(cluster.availabilityZones)) return [];
    const zones = cluster.availabilityZones;
    return zones.flatMap((zone, i) => {
        if (/^[a-z]$/.test(zone.slice(region.length)) && zone.startsWith(region)) return [];
        const fixed = zones.map((z) => `${region}${/[a-z]$/.exec(z)?.[0] ?? "a"}`);
        return [
            `stack ${stack}, field cluster.availabilityZones[${i}]: expected a zone of the stack's region ${region} (aws:region), such as ${region}a; write [${[...new Set(fixed)].join(", ")}], or a count such as ${zones.length} to take the region's first zones, found ${JSON.stringify(zone)}`,
        ];
    });
}

/**
 * The certificate a cluster config terminates TLS with, when it is not of the stack's region: an NLB can only use an
 * ACM certificate of its own region. A certificate on a cluster stagehand does not create (`kind: existing`) is
 * refused too: its gateway's Service is not stagehand's NLB.
 */
export function certificateProblems(stack: string, cluster: ClusterConfig, region: string | undefined): string[] {
    const tls = cluster.istio.gateway.tls;
    if (!tls) return [];
    const field = `stack ${stack}, field cluster.istio.gateway.tls`;
    if (cluster.kind !== "eks") {
        return [`${field}: expected no tls with kind: existing (the edge of a cluster stagehand does not create is not its NLB; terminate TLS where that cluster's load balancer is), found ${JSON.stringify(tls)}`];
    }
    const certRegion = ACM_CERTIFICATE_ARN.exec(tls.certificateArn)?.[1];
    if (region === undefined || certRegion === region) return [];
    return [
        `${field}.certificateArn: expected an ACM certificate of the stack's region ${region} (aws:region; an NLB uses only certificates of its own region): request one there and write its ARN, found ${JSON.stringify(tls.certificateArn)}`,
    ];
}

/**
 * An EKS cluster's creator gets no hidden cluster admin (cluster.ts: bootstrapClusterCreatorAdminPermissions false), so
 * without an entry in `admins` nobody could reach the cluster's API, not even the `pulumi up` that creates it.
 */
export function adminProblems(stack: string, cluster: ClusterConfig): string[] {
    if (cluster.kind !== "eks" || cluster.admins.length > 0) return [];
    return [
        `stack ${stack}, field cluster.admins: expected at least one IAM role or user ARN given cluster admin, such as the deploy role that runs \`pulumi up\` (the cluster's creator gets no admin access of its own); write admins: ["arn:aws:iam::<account>:role/stagehand-deploy-${stack}"], found []`,
    ];
}

/** The availability zone count of a cluster config. */
export function azCount(cluster: Pick<EksClusterConfig, "availabilityZones">): number {
    return typeof cluster.availabilityZones === "number" ? cluster.availabilityZones : cluster.availabilityZones.length;
}

/** NAT gateways a cluster config creates: none, one, or one per availability zone. */
export function natGatewayCount(cluster: ClusterConfig): number {
    if (cluster.kind !== "eks") return 0;
    return cluster.natGateways === "none" ? 0 : cluster.natGateways === "single" ? 1 : azCount(cluster);
}

/**
 * Validates `stagehand:cluster` of one stack (absent: an EKS cluster with every default). Returns the config
 * with defaults filled in (the cluster name defaults to `stagehand-<stack>`), or throws a ConfigError
 * listing every problem, each naming the field as `cluster.<path>`.
 */
export function parseCluster(stack: string, raw: unknown): ClusterConfig {
    const fail = (issues: z.core.$ZodIssue[], schema?: z.core.$ZodType) => new ConfigError(stack, describeIssues(stack, "", issues, { schema, prefix: ["cluster"] }));
    const input = raw === undefined || raw === null ? {} : raw;
    if (typeof input !== "object" || Array.isArray(input)) {
        throw new ConfigError(stack, [`stack ${stack}, field cluster: expected an object with \`kind\` (eks or existing) and its fields, found ${JSON.stringify(input)}`]);
    }
    const kind = z
        .enum(["eks", "existing"], { error: "a cluster kind, eks (created on AWS) or existing (a cluster in your kubeconfig)" })
        .default("eks")
        .safeParse((input as Record<string, unknown>).kind, { reportInput: true });
    if (!kind.success) throw fail(kind.error.issues.map((i) => ({ ...i, path: ["kind", ...i.path] })));
    const withKind = { ...(input as Record<string, unknown>), kind: kind.data };
    if (kind.data === "existing") {
        const parsed = existingClusterSchema.safeParse(withKind, { reportInput: true });
        if (!parsed.success) throw fail(parsed.error.issues, existingClusterSchema);
        return parsed.data;
    }
    const parsed = eksClusterSchema.safeParse(withKind, { reportInput: true });
    if (!parsed.success) throw fail(parsed.error.issues, eksClusterSchema);
    return { ...parsed.data, name: parsed.data.name ?? `stagehand-${stack}` };
}
