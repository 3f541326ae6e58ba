// Pure: a cluster config (and the observability addons on it) → its estimated monthly cost in USD, line by line,
// from the price table in ./prices.ts. What is not estimated (traffic, data processed, logs, LCUs) is
// named in `excluded`.
import { OBSERVABILITY_OFF, ObservabilityConfig } from "../observability/config";
import { addonRequests, prometheusPersistent } from "../observability/values";
import { tracingPersistent } from "../observability/tracing";
import { ALERTMANAGER_VOLUME_GI } from "../observability/alertmanager";
import { EKS_ADDONS } from "../platform/addons";
import { platformChartRequests } from "../platform/charts";
import { azCount, ClusterConfig, EksClusterConfig, NodePoolConfig, natGatewayCount } from "../platform/config";
import type { PlannedService } from "../service/stages";
import { cpuCores, memoryGiB } from "../shared/quantity";
import {
    EBS_GP3_GB_MONTH_USD,
    KMS_KEY_MONTH_USD,
    EKS_CONTROL_PLANE_HOURLY_USD,
    HOURS_PER_MONTH,
    INSTANCE_CAPACITY,
    INSTANCE_HOURLY_USD,
    NAT_GATEWAY_HOURLY_USD,
    NLB_HOURLY_USD,
    PRICE_REGION,
    PRICES_AS_OF,
    PUBLIC_IPV4_HOURLY_USD,
    SPOT_DISCOUNT,
} from "./prices";
import { releaseCost, ReleaseCost } from "./release";

/** One line of the estimate: `quantity` × `unitMonthly` = `monthly` (USD, to the cent). */
export interface CostLine {
    item: string;
    quantity: number;
    /** What one unit is, e.g. "node", "gateway". */
    unit: string;
    /** USD per unit per month. */
    unitMonthly: number;
    /** USD per month, rounded to cents. */
    monthly: number;
    /** How the unit price was derived. */
    basis: string;
}

export interface CostEstimate {
    currency: "USD";
    region: string;
    pricesAsOf: string;
    hoursPerMonth: number;
    spotDiscount: number;
    lines: CostLine[];
    /** Sum of the lines, rounded to cents. */
    total: number;
    /**
     * The most the cluster-autoscaler can make it cost: the total with every node pool at its maxSize (nodes, their
     * disks and public addresses), the other lines as they are. Equal to `total` for an existing cluster.
     */
    ceiling: number;
    /** Costs that depend on usage and are not in the total. */
    excluded: string[];
    /**
     * What the services' releases add while they run, not in the total (components/cost/release.ts): absent when no
     * services were given, on an existing cluster, or when no release runs pods beyond a service's full size.
     */
    release?: ReleaseCost;
}

const cents = (usd: number) => Math.round(usd * 100) / 100;
/** A price as written in the basis column: $0.10, $0.0225. */
const rate = (usd: number) => `$${Number.isInteger(Math.round(usd * 1e6) / 1e4) ? usd.toFixed(2) : String(usd)}`;

/** A line whose arithmetic reads exactly: the unit price is rounded to cents first, then multiplied. */
function line(item: string, quantity: number, unit: string, unitMonthly: number, basis: string): CostLine {
    const unitCents = cents(unitMonthly);
    return { item, quantity, unit, unitMonthly: unitCents, monthly: cents(quantity * unitCents), basis };
}

function hourlyOf(instanceType: string): number {
    const price = INSTANCE_HOURLY_USD[instanceType];
    if (price === undefined) throw new RangeError(`no price for instance type ${instanceType} in components/cost/prices.ts`);
    return price;
}

/**
 * Hourly price of one node of a pool. ON_DEMAND: the first instance type (EKS launches on-demand nodes in
 * the listed order of priority). SPOT: EKS picks among all listed types by capacity, so the mean of their
 * on-demand prices, less the assumed spot discount.
 */
export function nodeHourly(pool: Pick<NodePoolConfig, "capacityType" | "instanceTypes">): number {
    if (pool.capacityType === "ON_DEMAND") return hourlyOf(pool.instanceTypes[0]);
    const mean = pool.instanceTypes.reduce((sum, t) => sum + hourlyOf(t), 0) / pool.instanceTypes.length;
    return mean * (1 - SPOT_DISCOUNT);
}

function hourly(usdPerHour: number): number {
    return usdPerHour * HOURS_PER_MONTH;
}

/** Public IPv4 addresses a cluster holds: public nodes, NAT gateway EIPs, one per AZ of an internet-facing NLB. */
export function publicIpv4Count(cluster: EksClusterConfig): number {
    const publicNodes = cluster.nodeSubnets === "public" ? cluster.nodePools.reduce((n, p) => n + p.desiredSize, 0) : 0;
    const lb = cluster.istio.gateway.serviceType === "LoadBalancer" ? azCount(cluster) : 0;
    return publicNodes + natGatewayCount(cluster) + lb;
}

function eksLines(cluster: EksClusterConfig): CostLine[] {
    const lines: CostLine[] = [line("EKS control plane", 1, "cluster", hourly(EKS_CONTROL_PLANE_HOURLY_USD), `${rate(EKS_CONTROL_PLANE_HOURLY_USD)}/h standard support`)];
    for (const pool of cluster.nodePools) {
        const perNode = nodeHourly(pool);
        const basis =
            pool.capacityType === "ON_DEMAND"
                ? `${pool.instanceTypes[0]} on-demand ${rate(hourlyOf(pool.instanceTypes[0]))}/h`
                : `spot: mean on-demand of ${pool.instanceTypes.join("/")} less ${Math.round(SPOT_DISCOUNT * 100)}% = $${perNode.toFixed(4)}/h`;
        lines.push(line(`nodes, pool ${pool.name} (${pool.capacityType})`, pool.desiredSize, "node", hourly(perNode), basis));
    }
    const diskGb = cluster.nodePools.reduce((n, p) => n + p.desiredSize * p.diskSize, 0);
    lines.push(line("node disks (EBS gp3)", diskGb, "GiB", EBS_GP3_GB_MONTH_USD, `${rate(EBS_GP3_GB_MONTH_USD)}/GiB-month`));
    const nat = natGatewayCount(cluster);
    if (nat > 0) lines.push(line("NAT gateways", nat, "gateway", hourly(NAT_GATEWAY_HOURLY_USD), `${rate(NAT_GATEWAY_HOURLY_USD)}/h`));
    if (cluster.istio.gateway.serviceType === "LoadBalancer") {
        lines.push(line("load balancer (NLB, Istio ingress)", 1, "NLB", hourly(NLB_HOURLY_USD), `${rate(NLB_HOURLY_USD)}/h`));
    }
    if (cluster.secretsEncryption) lines.push(line("KMS key (Kubernetes Secrets encryption)", 1, "key", KMS_KEY_MONTH_USD, `${rate(KMS_KEY_MONTH_USD)}/key-month`));
    const ips = publicIpv4Count(cluster);
    if (ips > 0) lines.push(line("public IPv4 addresses", ips, "address", hourly(PUBLIC_IPV4_HOURLY_USD), `${rate(PUBLIC_IPV4_HOURLY_USD)}/h each`));
    return lines;
}

/**
 * The node that prices addon capacity: one node of the first pool. Its price is `nodeHourly`; its size the first
 * instance type's (ON_DEMAND), or the smallest of the pool's types (SPOT: any of them may be launched).
 */
export function addonNode(cluster: EksClusterConfig): { instanceType: string; vcpu: number; memoryGiB: number; hourly: number } {
    const pool = cluster.nodePools[0];
    const types = pool.capacityType === "ON_DEMAND" ? [pool.instanceTypes[0]] : pool.instanceTypes;
    const sizes = types.map((t) => {
        const size = INSTANCE_CAPACITY[t];
        if (!size) throw new RangeError(`no vCPU/memory for instance type ${t} in components/cost/prices.ts`);
        return { t, ...size };
    });
    const smallest = sizes.reduce((a, b) => (b.vcpu < a.vcpu || (b.vcpu === a.vcpu && b.memoryGiB < a.memoryGiB) ? b : a));
    return { instanceType: smallest.t, vcpu: smallest.vcpu, memoryGiB: smallest.memoryGiB, hourly: nodeHourly(pool) };
}

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

/** A line for pods' requests (`replicas` of them) as the share of a node they need, at that node's price. */
export function nodeShareLine(cluster: EksClusterConfig, item: string, r: { cpu: string; memory: string; replicas?: number }): CostLine {
    const node = addonNode(cluster);
    const replicas = r.replicas ?? 1;
    const cpu = (replicas * cpuCores(r.cpu)) / node.vcpu;
    const mem = (replicas * memoryGiB(r.memory)) / node.memoryGiB;
    const share = Math.round(Math.max(cpu, mem) * 1000) / 1000;
    const each = replicas === 1 ? "" : `${replicas} × `;
    return line(
        item,
        share,
        "node",
        hourly(node.hourly),
        `requests ${each}${r.cpu} CPU / ${r.memory} of a ${node.instanceType} (${node.vcpu} vCPU, ${node.memoryGiB} GiB): ${cpu >= mem ? "CPU" : "memory"} share ${percent(share)}`,
    );
}

/**
 * Lines of the observability addons on an EKS cluster: each addon's requests as a share of a node (the larger of
 * its CPU and memory share, so the node capacity it needs) at that node's price, and the volumes of Prometheus, Alertmanager
 * and Jaeger.
 */
export function observabilityLines(cluster: EksClusterConfig, observability: ObservabilityConfig): CostLine[] {
    const lines = addonRequests(observability).map((r) => nodeShareLine(cluster, `${r.addon} (share of a node)`, r));
    if (prometheusPersistent(observability)) {
        lines.push(line("Prometheus volume (EBS gp3)", observability.prometheus.storageGi, "GiB", EBS_GP3_GB_MONTH_USD, `${rate(EBS_GP3_GB_MONTH_USD)}/GiB-month`));
    }
    if (observability.alertmanager.enabled) {
        lines.push(line("Alertmanager volume (EBS gp3)", ALERTMANAGER_VOLUME_GI, "GiB", EBS_GP3_GB_MONTH_USD, `${rate(EBS_GP3_GB_MONTH_USD)}/GiB-month`));
    }
    if (tracingPersistent(observability)) {
        lines.push(line("Jaeger volume (EBS gp3)", observability.tracing.storageGi, "GiB", EBS_GP3_GB_MONTH_USD, `${rate(EBS_GP3_GB_MONTH_USD)}/GiB-month`));
    }
    return lines;
}

/**
 * Lines of the platform on an EKS cluster: its controllers' requests as a share of a node (metrics-server, the
 * cluster-autoscaler, ...), and the EKS add-ons, which AWS does not charge for (their pods run in the nodes'
 * capacity at EKS's own requests, not priced here).
 */
export function platformLines(cluster: EksClusterConfig): CostLine[] {
    return [
        ...platformChartRequests(cluster).map((r) => nodeShareLine(cluster, `${r.addon} (share of a node)`, r)),
        line("EKS add-ons", EKS_ADDONS.length, "add-on", 0, `no charge for ${EKS_ADDONS.join(", ")}; their pods run in the nodes' capacity`),
    ];
}

const EXCLUDED_EKS = [
    "data transfer out and across AZs",
    "NAT gateway data processed ($0.045/GB)",
    "load balancer capacity units",
    "CloudWatch Logs for control-plane logging",
    "EBS volumes of workloads",
];

/** What runs on the cluster besides it: the observability addons, and any further lines added as they are. */
export interface CostExtras {
    /** The stack's `stagehand:observability` (absent: every addon off). */
    observability?: ObservabilityConfig;
    /** Further lines, counted in the total as they are (the extension point for later installs). */
    addons?: CostLine[];
    /** The stack's services with their stage plans: their releases' extra pods are priced apart from the total. */
    services?: PlannedService[];
}

/**
 * The estimated monthly cost of a cluster config and what runs on it. An existing cluster is not created by the
 * stack and costs nothing here, nor do the addons on it (its nodes and volumes are someone else's bill).
 */
export function estimateMonthlyCost(cluster: ClusterConfig, extras: CostExtras = {}): CostEstimate {
    const observability = extras.observability ?? OBSERVABILITY_OFF;
    const onTop = (eks: EksClusterConfig) => [...platformLines(eks), ...observabilityLines(eks, observability)];
    const lines = [...(cluster.kind === "eks" ? [...eksLines(cluster), ...onTop(cluster)] : []), ...(extras.addons ?? [])];
    const total = cents(lines.reduce((sum, l) => sum + l.monthly, 0));
    // The autoscaler's bound: the same cluster with every pool at maxSize (the other lines priced the same node).
    const atMax = cluster.kind === "eks" ? { ...cluster, nodePools: cluster.nodePools.map((p) => ({ ...p, desiredSize: p.maxSize })) } : undefined;
    const ceilingLines = atMax ? [...eksLines(atMax), ...onTop(atMax), ...(extras.addons ?? [])] : lines;
    return {
        currency: "USD",
        region: PRICE_REGION,
        pricesAsOf: PRICES_AS_OF,
        hoursPerMonth: HOURS_PER_MONTH,
        spotDiscount: SPOT_DISCOUNT,
        lines,
        total,
        ceiling: cents(ceilingLines.reduce((sum, l) => sum + l.monthly, 0)),
        excluded: cluster.kind === "eks" ? [...EXCLUDED_EKS] : ["the existing cluster itself (not created by this stack), and its nodes' and volumes' share of any addons"],
        ...(() => {
            const release = cluster.kind === "eks" && extras.services ? releaseCost(cluster, extras.services) : undefined;
            return release ? { release } : {};
        })(),
    };
}

function plural(unit: string, n: number): string {
    if (n === 1 || unit === "GiB" || unit === "NLB") return unit;
    if (n < 1) return unit; // a share: "0.125 node"
    return unit.endsWith("s") ? `${unit}es` : `${unit}s`;
}

/** The estimate as a table, as `npm run plan` prints it. */
export function formatCost(stack: string, estimate: CostEstimate): string {
    const money = (n: number) => `$${n.toFixed(2)}`;
    const rows = [["ITEM", "QTY", "UNIT/MONTH", "MONTHLY", "BASIS"]];
    for (const l of estimate.lines) rows.push([l.item, `${l.quantity} ${plural(l.unit, l.quantity)}`, money(l.unitMonthly), money(l.monthly), l.basis]);
    rows.push(["total", "", "", money(estimate.total), ""]);
    if (estimate.ceiling !== estimate.total) rows.push(["ceiling: every pool at maxSize", "", "", money(estimate.ceiling), "as far as the cluster-autoscaler may scale the nodes"]);
    if (estimate.release) {
        // Apart from the total: a release holds its extra pods for the days it runs, not the whole month.
        rows.push(["during a release (not in the total):", "", "", "", ""]);
        for (const l of estimate.release.lines) rows.push([`  ${l.item}`, `${l.quantity} ${plural(l.unit, l.quantity)}`, money(l.unitMonthly), money(l.monthly), l.basis]);
        rows.push(["  every release at its peak at once", "", "", money(estimate.release.monthly), `$${estimate.release.hourly.toFixed(4)}/h while held; ${estimate.release.movingPods} pods more for the minutes of a switch back or rollback`]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const table = rows.map((r) => r.map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd());
    return [
        `estimated monthly cost of stack ${stack}: ${money(estimate.total)} (${estimate.region} prices of ${estimate.pricesAsOf}, ${estimate.hoursPerMonth} h/month, spot assumed ${Math.round(estimate.spotDiscount * 100)}% off on-demand)`,
        "",
        ...table,
        "",
        `not included: ${estimate.excluded.join("; ")}`,
    ].join("\n");
}
