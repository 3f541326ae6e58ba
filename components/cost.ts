// Pure: a cluster config → its estimated monthly cost in USD, line by line, from the price table in
// components/prices.ts. What is not estimated (traffic, data processed, logs, LCUs) is named in `excluded`.
import { azCount, ClusterConfig, EksClusterConfig, NodePoolConfig, natGatewayCount } from "./config";
import {
    EBS_GP3_GB_MONTH_USD,
    EKS_CONTROL_PLANE_HOURLY_USD,
    HOURS_PER_MONTH,
    INSTANCE_HOURLY_USD,
    NAT_GATEWAY_HOURLY_USD,
    NLB_HOURLY_USD,
    PRICE_REGION,
    PRICES_AS_OF,
    PUBLIC_IPV4_HOURLY_USD,
    SPOT_DISCOUNT,
} from "./prices";

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
    /** Costs that depend on usage and are not in the total. */
    excluded: string[];
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
    if (price === undefined) throw new RangeError(`no price for instance type ${instanceType} in components/prices.ts`);
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
    const ips = publicIpv4Count(cluster);
    if (ips > 0) lines.push(line("public IPv4 addresses", ips, "address", hourly(PUBLIC_IPV4_HOURLY_USD), `${rate(PUBLIC_IPV4_HOURLY_USD)}/h each`));
    return lines;
}

const EXCLUDED_EKS = [
    "data transfer out and across AZs",
    "NAT gateway data processed ($0.045/GB)",
    "load balancer capacity units",
    "CloudWatch Logs for control-plane logging",
    "EBS volumes of workloads",
];

/**
 * The estimated monthly cost of a cluster config. `addons` are further lines added as they are
 * (the extension point for things installed later, e.g. observability); they count in the total.
 * An existing cluster is not created by the stack and costs nothing here.
 */
export function estimateMonthlyCost(cluster: ClusterConfig, addons: CostLine[] = []): CostEstimate {
    const lines = [...(cluster.kind === "eks" ? eksLines(cluster) : []), ...addons];
    return {
        currency: "USD",
        region: PRICE_REGION,
        pricesAsOf: PRICES_AS_OF,
        hoursPerMonth: HOURS_PER_MONTH,
        spotDiscount: SPOT_DISCOUNT,
        lines,
        total: cents(lines.reduce((sum, l) => sum + l.monthly, 0)),
        excluded: cluster.kind === "eks" ? [...EXCLUDED_EKS] : ["the existing cluster itself (not created by this stack)"],
    };
}

function plural(unit: string, n: number): string {
    if (n === 1 || unit === "GiB" || unit === "NLB") return unit;
    return unit.endsWith("s") ? `${unit}es` : `${unit}s`;
}

/** The estimate as a table, as `npm run plan` prints it. */
export function formatCost(stack: string, estimate: CostEstimate): string {
    const money = (n: number) => `$${n.toFixed(2)}`;
    const rows = [["ITEM", "QTY", "UNIT/MONTH", "MONTHLY", "BASIS"]];
    for (const l of estimate.lines) rows.push([l.item, `${l.quantity} ${plural(l.unit, l.quantity)}`, money(l.unitMonthly), money(l.monthly), l.basis]);
    rows.push(["total", "", "", money(estimate.total), ""]);
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
