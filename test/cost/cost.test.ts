import * as assert from "assert";
import { CostLine, estimateMonthlyCost, formatCost, nodeHourly } from "../../components/cost/cost";
import * as prices from "../../components/cost/prices";
import { parseObservability } from "../../components/observability/config";
import { formatAddonVersions } from "../../components/platform/addons";
import { ClusterInput, parseCluster } from "../../components/platform/config";
import { readStackConfig } from "../../scripts/stack-file";
import { manualText } from "../helpers/manual";

const stackCluster = (stack: string) => parseCluster(stack, readStackConfig(stack).cluster);
/** The whole stack file's estimate: its cluster and the observability addons on it. */
const stackEstimate = (stack: string) => estimateMonthlyCost(stackCluster(stack), { observability: parseObservability(stack, readStackConfig(stack).observability) });
const byItem = (lines: CostLine[]) => Object.fromEntries(lines.map((l) => [l.item, l]));

describe("cost model (components/cost/cost.ts)", () => {
    it("the price table says its region, date and spot assumption, and every price is a positive number", () => {
        assert.strictEqual(prices.PRICE_REGION, "us-east-1");
        assert.match(prices.PRICES_AS_OF, /^\d{4}-\d{2}$/);
        assert.strictEqual(prices.HOURS_PER_MONTH, 730);
        assert.ok(prices.SPOT_DISCOUNT > 0 && prices.SPOT_DISCOUNT < 1);
        for (const [type, price] of Object.entries(prices.INSTANCE_HOURLY_USD)) assert.ok(price > 0 && price < 1, `${type}: ${price}`);
        const estimate = estimateMonthlyCost(parseCluster("t", {}));
        assert.deepStrictEqual(
            [estimate.region, estimate.pricesAsOf, estimate.hoursPerMonth, estimate.spotDiscount, estimate.currency],
            ["us-east-1", prices.PRICES_AS_OF, 730, prices.SPOT_DISCOUNT, "USD"],
        );
    });

    it("a node costs its first instance type on-demand, or the mean of its spot types less the spot discount", () => {
        assert.strictEqual(nodeHourly({ capacityType: "ON_DEMAND", instanceTypes: ["m5.large", "t3.medium"] }), 0.096);
        const spot = nodeHourly({ capacityType: "SPOT", instanceTypes: ["t3.medium", "t3a.medium", "t2.medium"] });
        assert.ok(Math.abs(spot - ((0.0416 + 0.0376 + 0.0464) / 3) * 0.35) < 1e-9, String(spot));
        assert.throws(() => nodeHourly({ capacityType: "SPOT", instanceTypes: ["x9.huge"] }), /no price for instance type x9\.huge/);
    });

    it("staging's stack file: control plane, 2 spot nodes, their disks, the NLB and 4 public IPv4 addresses; no NAT", () => {
        const estimate = estimateMonthlyCost(stackCluster("staging"));
        assert.deepStrictEqual(
            estimate.lines.map((l) => [l.item, l.quantity, l.unitMonthly, l.monthly]),
            [
                ["EKS control plane", 1, 73, 73],
                ["nodes, pool spot (SPOT)", 2, 10.7, 21.4],
                ["node disks (EBS gp3)", 40, 0.08, 3.2],
                ["load balancer (NLB, Istio ingress)", 1, 16.43, 16.43],
                // 2 public nodes + the NLB's address in each of the 2 zones
                ["public IPv4 addresses", 4, 3.65, 14.6],
                // The platform's controllers as a share of a t3.medium (2 vCPU, 4 GiB) at the spot price.
                ["metrics-server (share of a node)", 0.05, 10.7, 0.54],
                ["cluster-autoscaler (share of a node)", 0.073, 10.7, 0.78],
                ["aws-load-balancer-controller (share of a node)", 0.031, 10.7, 0.33],
                ["EKS add-ons", 5, 0, 0],
            ],
        );
        assert.strictEqual(estimate.total, 130.28);
    });

    it("a private, 3-zone on-demand cluster: a NAT gateway and an address per zone", () => {
        const cluster = parseCluster("t", {
            availabilityZones: 3,
            nodeSubnets: "private",
            natGateways: "perAz",
            nodePools: [{ capacityType: "ON_DEMAND", instanceTypes: ["m6i.large"], minSize: 3, desiredSize: 3, maxSize: 3, diskSize: 50 }],
        } satisfies ClusterInput);
        const lines = byItem(estimateMonthlyCost(cluster).lines);
        assert.deepStrictEqual(lines["nodes, pool default (ON_DEMAND)"].monthly, 210.24); // 3 × 0.096 × 730
        assert.deepStrictEqual(lines["node disks (EBS gp3)"].monthly, 12);
        assert.deepStrictEqual([lines["NAT gateways"].quantity, lines["NAT gateways"].monthly], [3, 98.55]); // 3 × 0.045 × 730
        assert.deepStrictEqual(lines["public IPv4 addresses"].quantity, 6); // 3 NAT EIPs + 3 NLB addresses, private nodes have none
        assert.strictEqual(estimateMonthlyCost(cluster).total, 440.87);
    });

    it("uat and prod stack files: one NAT gateway, and one per zone", () => {
        const uat = estimateMonthlyCost(stackCluster("uat"));
        const prod = estimateMonthlyCost(stackCluster("prod"));
        assert.strictEqual(byItem(uat.lines)["NAT gateways"].quantity, 1);
        assert.strictEqual(byItem(prod.lines)["NAT gateways"].quantity, 3);
        assert.strictEqual(uat.total, 365.68); // with the $1 KMS key of Secrets encryption
        assert.strictEqual(prod.total, 669.37); // with the $1 KMS key
    });

    it("with the stack files' configs (observability included), staging costs at most 40% of prod (and less than uat)", () => {
        const [staging, uat, prod] = ["staging", "uat", "prod"].map((s) => stackEstimate(s).total);
        assert.ok(staging / prod <= 0.4, `staging $${staging} is ${Math.round((staging / prod) * 100)}% of prod $${prod}`);
        assert.ok(staging < uat && uat < prod, `${staging} < ${uat} < ${prod}`);
    });

    it("the schema's defaults are staging's cheap choices: no NAT, spot nodes", () => {
        const defaults = estimateMonthlyCost(parseCluster("any", undefined));
        assert.ok(!defaults.lines.some((l) => l.item === "NAT gateways"));
        assert.deepStrictEqual(defaults.total, estimateMonthlyCost(stackCluster("staging")).total);
    });

    it("no load balancer when the ingress gateway is not a LoadBalancer Service", () => {
        const lines = estimateMonthlyCost(parseCluster("t", { istio: { gateway: { serviceType: "NodePort" } } })).lines;
        assert.ok(!lines.some((l) => l.item.startsWith("load balancer")));
        assert.strictEqual(byItem(lines)["public IPv4 addresses"].quantity, 2); // just the 2 public nodes
    });

    it("the cluster-autoscaler's ceiling: the same stack with every pool at maxSize (nodes, their disks and public addresses)", () => {
        const staging = stackEstimate("staging");
        // 2 more spot nodes ($10.70 each), 40 GiB more disk ($0.08), 2 more public addresses ($3.65).
        assert.strictEqual(staging.ceiling, Math.round((staging.total + 2 * 10.7 + 40 * 0.08 + 2 * 3.65) * 100) / 100);
        assert.strictEqual(staging.ceiling, 162.18);
        assert.ok(stackEstimate("prod").ceiling > stackEstimate("prod").total);
        const fixed = estimateMonthlyCost(parseCluster("t", { nodePools: [{ minSize: 2, desiredSize: 2, maxSize: 2 }] }));
        assert.strictEqual(fixed.ceiling, fixed.total, "a pool at its maxSize cannot grow");
        const existing = estimateMonthlyCost(parseCluster("dev", { kind: "existing" }));
        assert.deepStrictEqual([existing.total, existing.ceiling], [0, 0]);
        assert.match(formatCost("staging", staging), /^ceiling: every pool at maxSize\s+\$162\.18\s+as far as the cluster-autoscaler may scale the nodes$/m);
        assert.ok(!/ceiling/.test(formatCost("t", fixed)));
    });

    it("the platform's controllers are priced as the node share their requests need; EKS add-ons cost nothing", () => {
        const uat = byItem(stackEstimate("uat").lines);
        // Two metrics-server replicas of 100m on a 2-vCPU m6i.large: 10% of a node.
        assert.deepStrictEqual([uat["metrics-server (share of a node)"].quantity, uat["metrics-server (share of a node)"].monthly], [0.1, 7.01]);
        assert.match(uat["metrics-server (share of a node)"].basis, /requests 2 × 100m CPU \/ 200Mi of a m6i\.large/);
        assert.deepStrictEqual([uat["cluster-autoscaler (share of a node)"].quantity, uat["EKS add-ons"].monthly], [0.05, 0]);
        assert.match(uat["EKS add-ons"].basis, /eks-pod-identity-agent, vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver/);
    });

    it("an existing cluster costs nothing here, and says why", () => {
        const estimate = estimateMonthlyCost(parseCluster("dev", { kind: "existing" }));
        assert.deepStrictEqual([estimate.lines, estimate.total], [[], 0]);
        assert.match(estimate.excluded.join(), /existing cluster/);
    });

    it("addon lines (the extension point for later installs) count in the total", () => {
        const addon: CostLine = { item: "observability", quantity: 1, unit: "stack", unitMonthly: 20, monthly: 20, basis: "test" };
        const base = estimateMonthlyCost(stackCluster("staging"));
        const withAddon = estimateMonthlyCost(stackCluster("staging"), { addons: [addon] });
        assert.strictEqual(withAddon.total, Math.round((base.total + 20) * 100) / 100);
        assert.deepStrictEqual(withAddon.lines.at(-1), addon);
    });

    it("formatCost prints every line, the total and the assumptions", () => {
        const text = formatCost("staging", estimateMonthlyCost(stackCluster("staging")));
        assert.match(text, /estimated monthly cost of stack staging: \$130\.28 \(us-east-1 prices of \d{4}-\d{2}, 730 h\/month, spot assumed 65% off on-demand\)/);
        assert.match(text, /nodes, pool spot \(SPOT\)\s+2 nodes\s+\$10\.70\s+\$21\.40/);
        assert.match(text, /^total\s+\$130\.28$/m);
        assert.match(text, /not included: data transfer/);
    });
});

describe("npm run plan shows the estimate", () => {
    it("below the services table, for the whole stack", () => {
        const { main } = require("../../scripts/plan");
        const printed: string[] = [];
        const log = console.log;
        console.log = (...args: unknown[]) => printed.push(args.join(" "));
        try {
            assert.strictEqual(main(["staging"]), 0);
        } finally {
            console.log = log;
        }
        const text = printed.join("\n");
        assert.ok(text.indexOf("SERVICE") < text.indexOf("estimated monthly cost"), text);
        assert.match(text, /estimated monthly cost of stack staging: \$130\.28/);
        assert.match(text, /^total\s+\$130\.28$/m);
    });
});

describe("npm run plan shows the cluster's add-on versions", () => {
    it("after the estimate, each with where it comes from", () => {
        const { main } = require("../../scripts/plan");
        const printed: string[] = [];
        const log = console.log;
        console.log = (...args: unknown[]) => printed.push(args.join(" "));
        try {
            assert.strictEqual(main(["prod"]), 0);
        } finally {
            console.log = log;
        }
        const text = printed.join("\n");
        assert.ok(text.indexOf("estimated monthly cost") < text.indexOf("cluster add-ons of Kubernetes 1.35"), text);
        for (const line of formatAddonVersions(stackCluster("prod"))) assert.ok(text.includes(line), line);
        assert.match(text, /^ {2}vpc-cni +v1\.22\.1-eksbuild\.2 +default for Kubernetes 1\.35$/m);
    });
});

describe("README's cost table", () => {
    it("holds the numbers the cost model gives for the stack files", () => {
        const readme = manualText();
        const row = (item: string) => {
            const section = readme.slice(readme.indexOf("## What it costs"), readme.indexOf("\n## ", readme.indexOf("## What it costs") + 1));
            const line = section.split("\n").find((l) => l.startsWith(`| ${item} |`));
            assert.ok(line, `README has a "${item}" row in "What it costs"`);
            return line.split("|").slice(2, 5).map((cell) => cell.trim().replace(/\*/g, "").split(" ")[0]);
        };
        const estimates = ["staging", "uat", "prod"].map((s) => byItem(stackEstimate(s).lines));
        const money = (l?: CostLine) => (l ? l.monthly.toFixed(2) : "—");
        assert.deepStrictEqual(row("EKS control plane"), estimates.map((e) => money(e["EKS control plane"])));
        assert.deepStrictEqual(row("node disks (EBS gp3)"), estimates.map((e) => money(e["node disks (EBS gp3)"])));
        assert.deepStrictEqual(row("NAT gateways"), estimates.map((e) => money(e["NAT gateways"])));
        assert.deepStrictEqual(row("public IPv4 addresses"), estimates.map((e) => money(e["public IPv4 addresses"])));
        assert.deepStrictEqual(row("load balancer (NLB)"), estimates.map((e) => money(e["load balancer (NLB, Istio ingress)"])));
        const nodes = (e: Record<string, CostLine>) => Object.values(e).filter((l) => l.item.startsWith("nodes")).reduce((sum, l) => sum + l.monthly, 0).toFixed(2);
        assert.deepStrictEqual(row("nodes"), estimates.map(nodes));
        // Node shares: the platform's controllers together, the observability addons together ("—" where they are off).
        const shares = (e: Record<string, CostLine>, observability: boolean) => {
            const found = Object.values(e).filter((l) => l.item.endsWith("(share of a node)") && /^(Prometheus|Grafana|Kiali|Jaeger) /.test(l.item) === observability);
            return found.length === 0 ? "—" : found.reduce((sum, l) => sum + l.monthly, 0).toFixed(2);
        };
        assert.deepStrictEqual(row("platform controllers (node share)"), estimates.map((e) => shares(e, false)));
        assert.deepStrictEqual(row("EKS add-ons"), estimates.map((e) => money(e["EKS add-ons"])));
        assert.deepStrictEqual(row("observability (node share)"), estimates.map((e) => shares(e, true)));
        assert.deepStrictEqual(row("Prometheus volume (EBS gp3)"), estimates.map((e) => money(e["Prometheus volume (EBS gp3)"])));
        assert.deepStrictEqual(row("Jaeger volume (EBS gp3)"), estimates.map((e) => money(e["Jaeger volume (EBS gp3)"])));
        assert.deepStrictEqual(row("KMS key (Secrets encryption)"), estimates.map((e) => money(e["KMS key (Kubernetes Secrets encryption)"])));
        assert.deepStrictEqual(
            row("**total**"),
            ["staging", "uat", "prod"].map((s) => stackEstimate(s).total.toFixed(2)),
        );
        assert.deepStrictEqual(
            row("ceiling: every pool at maxSize"),
            ["staging", "uat", "prod"].map((s) => stackEstimate(s).ceiling.toFixed(2)),
        );
        // Every line of every stack is in one of the rows above.
        const rowed = /^(EKS control plane|nodes, |node disks|NAT gateways|load balancer|public IPv4|.* \(share of a node\)$|EKS add-ons$|Prometheus volume|Jaeger volume|KMS key)/;
        for (const e of estimates) for (const item of Object.keys(e)) assert.match(item, rowed);
    });
});
