// What a stack protects (components/platform/protection.ts, `cluster.protect`): the resource options the components
// really give their children, captured under Pulumi mocks. Resource options are not passed to mocks, so a
// `transformations` hook on each component records every child's `protect` and `retainOnDelete`.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../../components/config";
import { Observability } from "../../components/observability/observability";
import { HELM_KEEP } from "../../components/observability/values";
import { Cluster } from "../../components/platform/cluster";
import { EksClusterConfig, parseCluster } from "../../components/platform/config";
import { protectedWords, protectionOf } from "../../components/platform/protection";
import { protectionLine } from "../../scripts/plan";
import { readStackConfig } from "../../scripts/stack-file";
import { kind, programReleases, renderRelease } from "../helpers/charts";
import { runMocked } from "../helpers/mocks";
import { validateAll } from "../helpers/schemas";

interface Options {
    type: string;
    protect: boolean;
    retainOnDelete: boolean;
}

/** The Cluster and Observability components of a stack's file, with each child's protect and retainOnDelete. */
async function capturedOptions(stack: string): Promise<Map<string, Options>> {
    const config = parseStackConfig(stack, readStackConfig(stack));
    const captured = new Map<string, Options>();
    const capture: pulumi.ResourceTransformation = (args) => {
        // Keyed by type and name: a NAT gateway and its Elastic IP share a name.
        captured.set(`${args.type} ${args.name}`, { type: args.type, protect: args.opts.protect === true, retainOnDelete: args.opts.retainOnDelete === true });
        return undefined;
    };
    await runMocked(stack, {}, async () => {
        new Cluster("cluster", { config: config.cluster as EksClusterConfig, tags: {} }, { transformations: [capture] });
        // Prometheus's release gets its options through the component's own transformation, applied first.
        new Observability("observability", { config: config.observability, platform: "eks", protection: protectionOf(config.cluster, "prometheusVolume") }, { transformations: [capture] });
    });
    return captured;
}

const LISTED = ["aws:ec2/vpc:Vpc", "aws:ec2/eip:Eip", "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:cloudwatch/logGroup:LogGroup"];
const protectedOf = (c: Map<string, Options>) => [...c].filter(([, o]) => o.protect).map(([key]) => key).sort();

describe("protected resources (cluster.protect)", () => {
    it("prod protects its VPC, NAT addresses, cluster, node groups, log group and Prometheus with its volume, and nothing else", async () => {
        const captured = await capturedOptions("prod");
        assert.deepStrictEqual(protectedOf(captured), [
            "aws:cloudwatch/logGroup:LogGroup cluster-control-plane-logs",
            "aws:ec2/eip:Eip cluster-nat-0",
            "aws:ec2/eip:Eip cluster-nat-1",
            "aws:ec2/eip:Eip cluster-nat-2",
            "aws:ec2/vpc:Vpc cluster-vpc",
            "aws:eks/cluster:Cluster cluster-eks",
            "aws:eks/nodeGroup:NodeGroup cluster-general",
            "kubernetes:helm.sh/v3:Release observability-prometheus",
        ]);
        for (const [name, o] of captured) if (LISTED.includes(o.type)) assert.ok(o.protect, `${name} protected`);
        // Only the audit log is kept in AWS on delete: the rest holds no data of its own.
        assert.deepStrictEqual([...captured].filter(([, o]) => o.retainOnDelete).map(([key]) => key), ["aws:cloudwatch/logGroup:LogGroup cluster-control-plane-logs"]);
    });

    it("uat protects its cluster but has no Prometheus volume to protect; staging protects nothing", async () => {
        const uat = await capturedOptions("uat");
        assert.ok(protectedOf(uat).includes("aws:eks/cluster:Cluster cluster-eks"));
        assert.ok(!protectedOf(uat).some((n) => n.includes("observability-")), "uat's Prometheus keeps its data on the node");
        const staging = await capturedOptions("staging");
        assert.ok([...staging.values()].some((o) => LISTED.includes(o.type)), "staging registers the listed kinds");
        assert.deepStrictEqual(protectedOf(staging), []);
        assert.deepStrictEqual([...staging].filter(([, o]) => o.retainOnDelete), []);
    });

    it("is on by default, off with protect: false, and nothing on an existing cluster", () => {
        const on = parseCluster("new", { kind: "eks" });
        assert.deepStrictEqual(protectionOf(on, "vpc"), { protect: true, retainOnDelete: false });
        assert.deepStrictEqual(protectionOf(on, "controlPlaneLogs"), { protect: true, retainOnDelete: true });
        assert.deepStrictEqual(protectionOf(parseCluster("new", { kind: "eks", protect: false }), "controlPlaneLogs"), { protect: false, retainOnDelete: false });
        assert.deepStrictEqual(protectionOf(parseCluster("dev", { kind: "existing" }), "cluster"), { protect: false, retainOnDelete: false });
    });

    it("npm run plan says what each stack protects, on one line", () => {
        const line = (stack: string) => {
            const c = parseStackConfig(stack, readStackConfig(stack));
            return protectionLine(stack, c.cluster, c.observability);
        };
        assert.strictEqual(
            line("prod"),
            "protected in prod: VPC, NAT gateways' Elastic IPs, EKS cluster stagehand-prod, node groups (general), control-plane log group (kept on delete), Prometheus and its 50Gi volume",
        );
        assert.strictEqual(line("uat"), "protected in uat: VPC, NAT gateways' Elastic IPs, EKS cluster stagehand-uat, node groups (general), control-plane log group (kept on delete)");
        assert.strictEqual(line("staging"), "protected in staging: nothing (cluster.protect: false)");
        const c = parseStackConfig("dev", { cluster: { kind: "existing" }, services: {} });
        assert.deepStrictEqual(protectedWords(c.cluster, c.observability), []);
        assert.strictEqual(protectionLine("dev", c.cluster, c.observability), "protected in dev: nothing (an existing cluster: the stack creates no AWS resources)");
    });

    it("prod's Prometheus claim, rendered by the prometheus 27.20.0 chart, is kept by Helm (helm.sh/resource-policy: keep)", async () => {
        const { releases, kubernetesVersion } = await programReleases("prod");
        const release = releases.find((r) => r.resource === "observability-prometheus");
        assert.ok(release, "prod installs Prometheus");
        const objects = renderRelease(release, kubernetesVersion);
        const claims = kind(objects, "PersistentVolumeClaim");
        assert.strictEqual(claims.length, 1);
        assert.strictEqual(claims[0].metadata.annotations?.[HELM_KEEP], "keep");
        validateAll(claims);
    });
});
