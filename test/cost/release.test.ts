// What the services' releases add to the cluster while they run (components/cost/release.ts): the pods a release holds
// beyond each service's full size, priced as the share of a node their requests need — apart from the total.
import * as assert from "assert";
import { estimateMonthlyCost, formatCost } from "../../components/cost/cost";
import { releaseCost } from "../../components/cost/release";
import { EksClusterConfig, parseCluster } from "../../components/platform/config";
import { parseServices } from "../../components/service/config";
import { planServices } from "../../components/service/stages";

// One on-demand m5.large pool (2 vCPU, 8 GiB, $0.096/h = $70.08 a month).
const cluster = parseCluster("t", { nodePools: [{ name: "general", capacityType: "ON_DEMAND", instanceTypes: ["m5.large"], minSize: 2, desiredSize: 2, maxSize: 4 }] }) as EksClusterConfig;
const resources = { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
const block = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 20, resources };
const planned = (services: Record<string, unknown>, production?: "full" | "follows-traffic") => planServices(parseServices("t", services, { settleSeconds: 5, production }));

describe("release cost (components/cost/release.ts)", () => {
    it("prices the pods a release holds beyond the full size: all of them in full mode, about the headroom in follows-traffic", () => {
        const full = releaseCost(cluster, planned({ checkout: block }))!;
        // 20 extra pods × 250m = 5 vCPU: 2.5 m5.large nodes.
        assert.deepStrictEqual(
            full.lines.map((l) => [l.item, l.quantity, l.unitMonthly, l.monthly]),
            [["release of checkout: 20 pods beyond x20 (production full)", 2.5, 70.08, 175.2]],
        );
        assert.match(full.lines[0].basis, /^requests 20 × 250m CPU \/ 256Mi of a m5\.large \(2 vCPU, 8 GiB\): CPU share 250%$/);
        assert.deepStrictEqual([full.monthly, full.hourly, full.movingPods], [175.2, 0.24, 0]);

        const lean = releaseCost(cluster, planned({ checkout: block }, "follows-traffic"))!;
        // 4 extra pods × 250m = 1 vCPU: half a node. A switch back or rollback needs 16 more, for minutes.
        assert.deepStrictEqual(
            lean.lines.map((l) => [l.item, l.quantity, l.monthly]),
            [["release of checkout: 4 pods beyond x20 (production follows-traffic)", 0.5, 35.04]],
        );
        assert.deepStrictEqual([lean.monthly, lean.movingPods], [35.04, 16]);
    });

    it("prices the extra pods at the larger request of production's and the canary's revisions", () => {
        const bigger = releaseCost(cluster, planned({ checkout: { ...block, canary: { tag: "02", resources: { requests: { memory: "4Gi" }, limits: { memory: "4Gi" } } } } }, "follows-traffic"))!;
        // 4 pods × 4 GiB = 16 GiB of an 8 GiB node: memory decides.
        assert.deepStrictEqual([bigger.lines[0].quantity, bigger.lines[0].monthly], [2, 140.16]);
        assert.match(bigger.lines[0].basis, /4 × 250m CPU \/ 4Gi .*memory share 200%/);
    });

    it("is not in the monthly total, leaves services with nothing extra out, and is absent without a node to price", () => {
        const services = planned({ checkout: block, single: { ...block, replicas: 1, stage: 1, canary: undefined, steps: [100] } });
        const without = estimateMonthlyCost(cluster);
        const withReleases = estimateMonthlyCost(cluster, { services });
        assert.strictEqual(withReleases.total, without.total);
        assert.strictEqual(without.release, undefined);
        // A service of one replica runs two pods at its canary's 100% step: one extra.
        assert.deepStrictEqual(withReleases.release!.lines.map((l) => l.item), ["release of checkout: 20 pods beyond x20 (production full)", "release of single: 1 pod beyond x1 (production full)"]);
        assert.strictEqual(estimateMonthlyCost(parseCluster("dev", { kind: "existing" }), { services }).release, undefined);
        const text = formatCost("t", withReleases);
        assert.match(text, /^during a release \(not in the total\):$/m);
        assert.match(text, /^ {2}release of checkout: 20 pods beyond x20 \(production full\)\s+2\.5 nodes\s+\$70\.08\s+\$175\.20\s+requests 20 × 250m CPU/m);
        assert.match(text, /^ {2}every release at its peak at once\s+\$\d+\.\d\d\s+\$\d\.\d{4}\/h while held; 0 pods more for the minutes of a switch back or rollback$/m);
        assert.ok(!/during a release/.test(formatCost("t", without)));
    });
});
