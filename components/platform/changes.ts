// Pure: what a change of a stack's platform does, and which changes are refused unless the stack file
// acknowledges them. The platform is everything of a stack but its services: `stagehand:cluster`,
// `stagehand:observability`, the stack-wide `stagehand:allowSkip` and `stagehand:settleSeconds`, and `aws:region`.
//
// Two readers, one judgement:
// - `npm run plan -- <stack> --diff` (platform-diff.ts) lists every platform field that changes, `before -> after`,
//   and the monthly cost before and after, from two revisions of the stack file;
// - the program (index.ts) judges the config against the platform state the stack last deployed (its output
//   `platformState`, read back like `serviceStages`), before any resource is registered.
// Both call `platformRefusals` on a `PlatformState`, so both refuse the same changes with the same words.
//
// A risky change (`RISKY_PATHS`) goes through only when `stagehand:acknowledge` names its field with exactly the
// value it becomes: an acknowledgement left in the file lets no later, different change through.
import { z } from "zod";
import { ObservabilityConfig, verdictGateHasPrometheus } from "../observability/config";
import { tracingPersistent } from "../observability/tracing";
import { ConfigError, describeFound, nearestName, StackProblemsError } from "../shared/errors";
import { ClusterConfig, VPC_CIDR } from "./config";
import { compareVersions } from "./istio-config";
import { revisionOf } from "./revisions";

/** The stack output the platform state is exported under (read back by the next update). */
export const PLATFORM_STATE_OUTPUT = "platformState";
/** The version of the exported shape; a later stagehand still reads what an earlier one wrote. */
export const PLATFORM_STATE_VERSION = 1;

/**
 * What the next update needs to judge a platform change: the fields whose change is refused unless acknowledged.
 * No secrets (a kubeconfig path of an existing cluster is not even here). Keys without a value are left out
 * (Pulumi drops undefined outputs).
 */
export interface PlatformState {
    version: typeof PLATFORM_STATE_VERSION;
    kind: "eks" | "existing";
    /** `aws:region`, when the program knows it. */
    region?: string;
    /** EKS only: the fields that replace the cluster or its network. */
    cluster?: { name: string; kubernetesVersion: string; availabilityZones: number | string[]; nodeSubnets: "public" | "private"; vpcCidr: string };
    istio: { version: string; canaryVersion?: string; canaryNamespaces: string[] };
    /** Whether Prometheus runs: the verdict gate judges a stack's canaries with it. */
    prometheus: boolean;
    /**
     * The size in GiB of Prometheus's volume, 0 with none (an emptyDir, or Prometheus off). Absent in a state written
     * before it was recorded: then no change of it is judged.
     */
    prometheusVolumeGi?: number;
    /** The size in GiB of Jaeger's volume, 0 with none; absent in a state written before it was recorded. */
    tracingVolumeGi?: number;
}

/** The platform state of a validated config (the program exports it; the diff builds it from both revisions). */
export function platformState(cluster: ClusterConfig, observability: ObservabilityConfig, region?: string): PlatformState {
    const istio: PlatformState["istio"] = { version: cluster.istio.version, canaryNamespaces: [...cluster.istio.canaryNamespaces] };
    if (cluster.istio.canaryVersion !== undefined) istio.canaryVersion = cluster.istio.canaryVersion;
    const state: PlatformState = {
        version: PLATFORM_STATE_VERSION,
        kind: cluster.kind,
        istio,
        prometheus: verdictGateHasPrometheus(observability),
        prometheusVolumeGi: observability.prometheus.enabled ? observability.prometheus.storageGi : 0,
        tracingVolumeGi: tracingPersistent(observability) ? observability.tracing.storageGi : 0,
    };
    if (region !== undefined && region !== "") state.region = region;
    if (cluster.kind === "eks") {
        const azs = cluster.availabilityZones;
        state.cluster = {
            name: cluster.name,
            kubernetesVersion: cluster.kubernetesVersion,
            availabilityZones: Array.isArray(azs) ? [...azs] : azs,
            nodeSubnets: cluster.nodeSubnets,
            vpcCidr: VPC_CIDR,
        };
    }
    return state;
}

/** The previous outputs hold a platform state this stagehand cannot read. */
export class PlatformStateError extends StackProblemsError {
    constructor(stack: string, problems: string[]) {
        super(`unreadable platform state in stack ${stack}`, stack, problems);
        this.name = "PlatformStateError";
    }
}

const str = (v: unknown): v is string => typeof v === "string" && v !== "";

/**
 * Reads `platformState` back from the stack's previous outputs. Absent (a first deployment, or a stack last
 * deployed by a stagehand without it): undefined, and every platform change passes. Present but unreadable: an
 * error, never a silent pass — a platform judged against nothing could be deleted without a word.
 */
export function readPlatformState(stack: string, value: unknown): PlatformState | undefined {
    if (value === undefined || value === null) return undefined;
    const fail = (what: string) => new PlatformStateError(stack, [`stack ${stack}, output ${PLATFORM_STATE_OUTPUT}: ${what}, found ${JSON.stringify(value)}`]);
    if (typeof value !== "object" || Array.isArray(value)) throw fail("expected a platform-state object");
    const v = value as Record<string, any>;
    if (v.version !== PLATFORM_STATE_VERSION) {
        throw fail(`expected a platform state of version ${PLATFORM_STATE_VERSION} (it was written by another stagehand; deploy with that one, or a newer one that reads it)`);
    }
    const c = v.cluster;
    const clusterOk =
        v.kind === "existing" ||
        (c && str(c.name) && str(c.kubernetesVersion) && (Number.isInteger(c.availabilityZones) || Array.isArray(c.availabilityZones)) && str(c.nodeSubnets) && str(c.vpcCidr));
    const istioOk = v.istio && str(v.istio.version) && Array.isArray(v.istio.canaryNamespaces) && (v.istio.canaryVersion === undefined || str(v.istio.canaryVersion));
    if ((v.kind !== "eks" && v.kind !== "existing") || !clusterOk || !istioOk || typeof v.prometheus !== "boolean") {
        throw fail("expected a platform state with kind, istio.version, istio.canaryNamespaces, prometheus and, for eks, cluster.{name, kubernetesVersion, availabilityZones, nodeSubnets, vpcCidr}");
    }
    const state: PlatformState = {
        version: PLATFORM_STATE_VERSION,
        kind: v.kind,
        istio: { version: v.istio.version, canaryNamespaces: [...v.istio.canaryNamespaces] },
        prometheus: v.prometheus,
    };
    if (v.istio.canaryVersion !== undefined) state.istio.canaryVersion = v.istio.canaryVersion;
    if (v.prometheusVolumeGi !== undefined) {
        if (!Number.isInteger(v.prometheusVolumeGi) || v.prometheusVolumeGi < 0) throw fail("expected prometheusVolumeGi, when present, to be a whole number of GiB");
        state.prometheusVolumeGi = v.prometheusVolumeGi;
    }
    if (v.tracingVolumeGi !== undefined) {
        if (!Number.isInteger(v.tracingVolumeGi) || v.tracingVolumeGi < 0) throw fail("expected tracingVolumeGi, when present, to be a whole number of GiB");
        state.tracingVolumeGi = v.tracingVolumeGi;
    }
    if (str(v.region)) state.region = v.region;
    if (v.kind === "eks") state.cluster = { ...c, availabilityZones: Array.isArray(c.availabilityZones) ? [...c.availabilityZones] : c.availabilityZones };
    return state;
}

// ---- acknowledgements: `stagehand:acknowledge`, a map of risky field path → the value it is acknowledged to become

const quotedVersion = (example: string) =>
    z.string({ error: `a version in quotes, such as "${example}" (unquoted, YAML reads 1.30 as the number 1.3)` });
/**
 * The fields whose change can be refused, with the value each acknowledgement must be. Why each one is risky is
 * said by `riskyChanges` (and in a comment there).
 */
const ACKNOWLEDGEABLE = {
    "cluster.kind": z.enum(["eks", "existing"], { error: "a cluster kind, eks or existing" }),
    "cluster.name": z.string({ error: "an EKS cluster name" }),
    "cluster.kubernetesVersion": quotedVersion("1.34"),
    "cluster.availabilityZones": z.union([z.number(), z.array(z.string())], { error: "a number of availability zones, or a list of zone names" }),
    "cluster.nodeSubnets": z.enum(["public", "private"], { error: "public or private" }),
    "cluster.vpcCidr": z.string({ error: "an IPv4 CIDR block such as \"10.0.0.0/16\"" }),
    "cluster.istio.version": quotedVersion("1.30.3"),
    "observability.prometheus.enabled": z.boolean({ error: "true or false" }),
    "observability.prometheus.storageGi": z.number({ error: "the new size in GiB (0: no volume)" }).int({ error: "the new size in GiB (0: no volume)" }),
    "observability.tracing.storageGi": z.number({ error: "the new size in GiB (0: no volume)" }).int({ error: "the new size in GiB (0: no volume)" }),
    "aws:region": z.string({ error: "an AWS region such as \"us-east-1\"" }),
    // Not a platform change: the program's escape when the stack's outputs lost `serviceStages` (components/service/deployed.ts).
    serviceStages: z.literal("unknown", { error: "unknown (every service's previous stage taken as unknown, for one update)" }),
} as const;

/** Acknowledgements the program judges elsewhere than the platform's change: never listed as unused by the diff. */
const NOT_PLATFORM_PATHS: readonly string[] = ["serviceStages"];

export type RiskyPath = keyof typeof ACKNOWLEDGEABLE;
/** Every field path `stagehand:acknowledge` accepts. */
export const RISKY_PATHS = Object.keys(ACKNOWLEDGEABLE) as RiskyPath[];
export type Acknowledgements = Partial<Record<RiskyPath, unknown>>;

/**
 * Validates `stagehand:acknowledge` (absent: none). Every problem names the stack and the path; an unknown path
 * says which paths can be acknowledged.
 */
export function parseAcknowledge(stack: string, raw: unknown): Acknowledgements {
    if (raw === undefined || raw === null) return {};
    const field = (path?: string) => `stack ${stack}, field stagehand:acknowledge${path === undefined ? "" : `.${path}`}`;
    if (typeof raw !== "object" || Array.isArray(raw)) {
        throw new ConfigError(stack, [`${field()}: expected a map of changed field to the value it is acknowledged to become, such as { cluster.kind: existing }, found ${describeFound(raw)}`]);
    }
    const problems: string[] = [];
    const out: Acknowledgements = {};
    for (const [path, value] of Object.entries(raw as Record<string, unknown>)) {
        if (!Object.prototype.hasOwnProperty.call(ACKNOWLEDGEABLE, path)) {
            const near = nearestName(path, RISKY_PATHS);
            problems.push(`${field(path)}: unknown path${near ? `; did you mean ${near}?` : ""} (the changes that can be acknowledged are ${RISKY_PATHS.join(", ")})`);
            continue;
        }
        const parsed = ACKNOWLEDGEABLE[path as RiskyPath].safeParse(value);
        if (!parsed.success) problems.push(`${field(path)}: expected ${parsed.error.issues[0].message}, found ${describeFound(value)}`);
        else out[path as RiskyPath] = parsed.data;
    }
    if (problems.length > 0) throw new ConfigError(stack, problems);
    return out;
}

// ---- the risky changes

export interface RiskyChange {
    path: RiskyPath;
    before: unknown;
    after: unknown;
    /** What the change is, in words ("an Istio downgrade"). */
    what: string;
    /** Why it is dangerous. */
    why: string;
    /** The safer way, when there is one. */
    instead?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** A value as written in a stack file (valid YAML: strings quoted). */
export const yamlValue = (v: unknown) => (v === undefined ? "(not set)" : JSON.stringify(v));

/**
 * The changes from `before` to `after` that are refused unless acknowledged. What replaces something is read from
 * components/platform/cluster.ts, the AWS resources it creates:
 * - `cluster.kind`: eks → existing leaves the EKS cluster out of the program, so Pulumi deletes it with its VPC and
 *   everything running on it; existing → eks creates a new cluster and moves every service onto it.
 * - `cluster.name`: `aws.eks.Cluster` `name` (and the log group named after it) cannot change in place: a new, empty
 *   cluster replaces the old one, which is deleted with everything on it.
 * - `cluster.kubernetesVersion` lower: EKS cannot downgrade a control plane; the update fails half-applied (add-on
 *   versions follow the Kubernetes version), and the only way down is a new cluster.
 * - `cluster.availabilityZones`: a subnet's zone cannot change (`aws.ec2.Subnet` `availabilityZone` replaces it), and
 *   the node groups' subnets change (`aws.eks.NodeGroup` `subnetIds` replaces the node group: every node at once).
 * - `cluster.nodeSubnets`: the node groups move between public and private subnets, so every node group is replaced
 *   (`subnetIds`), and the private subnets and NAT gateways are created or deleted.
 * - `cluster.vpcCidr` (the program's VPC_CIDR, not a config field): `aws.ec2.Vpc` `cidrBlock` replaces the VPC, so
 *   every subnet, gateway, node and the cluster in it.
 * - `aws:region`: every AWS resource of the stack is created in the new region and deleted in the old one.
 * - `cluster.istio.version` lower (a downgrade), or changed directly rather than through `canaryVersion` and
 *   `canaryNamespaces` (docs/upgrades.md "Upgrading Istio"): every namespace moves to the new control plane in one update.
 * - `observability.prometheus.storageGi` lower (0 included, or Prometheus off): a volume cannot shrink, and with none
 *   Prometheus's metrics restart from nothing; the claim itself is kept (`helm.sh/resource-policy: keep`).
 * - `observability.prometheus.enabled` true → false: the verdict gate judges the canaries of a stack whose deployed
 *   revision runs Prometheus (scripts/verdict-gate.ts `gateList`, `verdictGateHasPrometheus`); without it the gate
 *   judges nothing and passes.
 * - `observability.tracing.storageGi` lower (0 included, or tracing off): Jaeger's claim is the program's, so with
 *   0 it is deleted with the spans on it; a smaller size fails the update on the claim (a volume cannot shrink).
 */
export function riskyChanges(before: PlatformState, after: PlatformState): RiskyChange[] {
    const out: RiskyChange[] = [];
    const add = (path: RiskyPath, b: unknown, a: unknown, what: string, why: string, instead?: string) => out.push({ path, before: b, after: a, what, why, ...(instead ? { instead } : {}) });
    if (before.kind !== after.kind) {
        add(
            "cluster.kind",
            before.kind,
            after.kind,
            `a change of cluster kind`,
            before.kind === "eks"
                ? "the stack stops managing its EKS cluster: Pulumi deletes the cluster, its node groups and its VPC with everything running on them, and installs Istio and every service anew on the kubeconfig's cluster"
                : "the stack creates a new, empty EKS cluster and moves Istio and every service onto it: everything is deleted from the existing cluster and reinstalled on the new one",
            "to move services to another cluster, bring the new stack up beside this one and move traffic to it",
        );
    }
    const bc = before.cluster;
    const ac = after.cluster;
    if (bc && ac) {
        if (bc.name !== ac.name) {
            add("cluster.name", bc.name, ac.name, "a new EKS cluster name", "an EKS cluster cannot be renamed: a new, empty cluster replaces it, and the old one is deleted with everything running on it");
        }
        if (compareVersions(ac.kubernetesVersion, bc.kubernetesVersion) < 0) {
            add(
                "cluster.kubernetesVersion",
                bc.kubernetesVersion,
                ac.kubernetesVersion,
                "a Kubernetes downgrade",
                "EKS cannot downgrade a control plane: the update fails with the add-ons already moved to the older version's, and the only way down is a new cluster",
                `keep kubernetesVersion ${yamlValue(bc.kubernetesVersion)}`,
            );
        }
        if (!same(bc.availabilityZones, ac.availabilityZones)) {
            add(
                "cluster.availabilityZones",
                bc.availabilityZones,
                ac.availabilityZones,
                "a change of availability zones",
                "every node group is replaced (its subnets cannot change in place: all its nodes go at once), and a subnet whose zone changes is replaced with what runs in it",
            );
        }
        if (bc.nodeSubnets !== ac.nodeSubnets) {
            add(
                "cluster.nodeSubnets",
                bc.nodeSubnets,
                ac.nodeSubnets,
                "a move of the nodes to other subnets",
                "every node group is replaced (its subnets cannot change in place: all its nodes go at once), and private subnets and NAT gateways are created or deleted",
            );
        }
        if (bc.vpcCidr !== ac.vpcCidr) {
            add("cluster.vpcCidr", bc.vpcCidr, ac.vpcCidr, "a new VPC address range", "a VPC's CIDR block cannot change: the VPC is replaced, and with it every subnet, gateway, node and the cluster");
        }
        if (before.region !== undefined && after.region !== undefined && before.region !== after.region) {
            add("aws:region", before.region, after.region, "a move to another AWS region", "every AWS resource of the stack is created anew in the new region and deleted in the old one: a new cluster, and the old one deleted with everything running on it");
        }
    }
    const bi = before.istio;
    const ai = after.istio;
    if (bi.version !== ai.version) {
        if (compareVersions(ai.version, bi.version) < 0) {
            add(
                "cluster.istio.version",
                bi.version,
                ai.version,
                "an Istio downgrade",
                `every namespace and the ingress gateway move to the older istiod-${revisionOf(ai.version)} at once (their pods restart), and Istio does not support going back a release: its CRDs and config may not be read by the older control plane`,
                bi.canaryVersion === undefined ? undefined : `to give up the upgrade to ${bi.canaryVersion}, empty canaryNamespaces, then remove canaryVersion (docs/upgrades.md "Upgrading Istio")`,
            );
        } else if (!(bi.canaryVersion === ai.version && bi.canaryNamespaces.length > 0)) {
            add(
                "cluster.istio.version",
                bi.version,
                ai.version,
                "a direct Istio upgrade",
                `every namespace and the ingress gateway move to istiod-${revisionOf(ai.version)} in one update: all their pods restart onto the new sidecars at once, with no namespace checked on it first` +
                    (bi.canaryVersion === ai.version ? ` (canaryVersion ${ai.version} is installed, but no namespace has moved to it yet)` : ""),
                `upgrade by revision: set canaryVersion: ${yamlValue(ai.version)} beside version ${yamlValue(bi.version)}, move namespaces one pull request at a time with canaryNamespaces, then set version: ${yamlValue(ai.version)} (docs/upgrades.md "Upgrading Istio")`,
            );
        }
    }
    if (before.prometheus && !after.prometheus) {
        add(
            "observability.prometheus.enabled",
            true,
            false,
            "Prometheus switched off",
            "the verdict gate judges this stack's canaries with the Prometheus it runs (scripts/verdict-gate.ts): without it every later pull request moves canaries on unjudged, and the metrics kept so far are deleted",
            "keep observability.prometheus.enabled: true",
        );
    }
    const bv = before.prometheusVolumeGi;
    const av = after.prometheusVolumeGi ?? 0;
    if (bv !== undefined && bv > 0 && av < bv) {
        add(
            "observability.prometheus.storageGi",
            bv,
            av,
            av === 0 ? "Prometheus's volume given up" : "a smaller Prometheus volume",
            av === 0
                ? "Prometheus stops using its volume (the metrics the verdict judges restart from nothing, on the node), and its claim is left in the cluster, still billed, until someone deletes it"
                : "a Kubernetes volume cannot shrink: the claim keeps its size and the release fails, or a new claim starts Prometheus's metrics from nothing",
            `keep observability.prometheus.storageGi: ${bv}`,
        );
    }
    const bt = before.tracingVolumeGi;
    const at = after.tracingVolumeGi ?? 0;
    if (bt !== undefined && bt > 0 && at < bt) {
        add(
            "observability.tracing.storageGi",
            bt,
            at,
            at === 0 ? "Jaeger's volume given up" : "a smaller Jaeger volume",
            at === 0
                ? "Jaeger's claim is deleted, and with it the volume and every span kept on it"
                : "a Kubernetes volume cannot shrink: the update fails on Jaeger's claim",
            at === 0 ? `keep observability.tracing.storageGi: ${bt}` : `keep observability.tracing.storageGi: ${bt}, or give the volume up first (storageGi: 0, acknowledged), then ask for ${at}`,
        );
    }
    return out;
}

/** The judgement of a platform change: what is refused (one line each), what went through by acknowledgement. */
export interface PlatformJudgement {
    refused: string[];
    acknowledged: string[];
    /** Acknowledgements no change of this update uses (left from an earlier one, or ahead of one). */
    unused: string[];
}

/**
 * Judges the change from the deployed (or base) platform to the new one. No previous state: nothing to judge.
 * The words are the same for the diff and the program.
 */
export function judgePlatform(stack: string, before: PlatformState | undefined, after: PlatformState, acknowledge: Acknowledgements = {}): PlatformJudgement {
    const risky = before ? riskyChanges(before, after) : [];
    const out: PlatformJudgement = { refused: [], acknowledged: [], unused: [] };
    for (const c of risky) {
        const change = `${yamlValue(c.before)} -> ${yamlValue(c.after)}`;
        const ack = acknowledge[c.path];
        if (ack !== undefined && same(ack, c.after)) {
            out.acknowledged.push(`${c.path} ${change}: ${c.what}, acknowledged in stagehand:acknowledge`);
            continue;
        }
        const stale = ack === undefined ? "" : ` (stagehand:acknowledge has ${c.path}: ${yamlValue(ack)}, which acknowledges only a change to ${yamlValue(ack)})`;
        out.refused.push(
            `stack ${stack}, field ${c.path}: ${change} is ${c.what}: ${c.why}.${c.instead ? ` Instead, ${c.instead}.` : ""}` +
                ` To do it on purpose, add to Pulumi.${stack}.yaml: stagehand:acknowledge: { ${c.path}: ${yamlValue(c.after)} }${stale}`,
        );
    }
    for (const [path, value] of Object.entries(acknowledge)) {
        if (!risky.some((c) => c.path === path) && !NOT_PLATFORM_PATHS.includes(path)) out.unused.push(`${path}: ${yamlValue(value)}`);
    }
    return out;
}

/** Thrown by the program when a platform change is refused; `problems` holds one line per change. */
export class PlatformChangeError extends StackProblemsError {
    constructor(stack: string, problems: string[]) {
        super(`refused platform change in stack ${stack}`, stack, problems);
        this.name = "PlatformChangeError";
    }
}

/** The program's check: throws a PlatformChangeError listing every refused change (nothing is registered yet). */
export function checkPlatformChange(stack: string, before: PlatformState | undefined, after: PlatformState, acknowledge: Acknowledgements = {}): void {
    const { refused } = judgePlatform(stack, before, after, acknowledge);
    if (refused.length > 0) throw new PlatformChangeError(stack, refused);
}
