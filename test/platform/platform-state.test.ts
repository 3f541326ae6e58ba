// The program (index.ts) judges its platform change against the platform state the stack last deployed, read back
// from its own outputs, with the same words as `npm run plan -- <stack> --diff`.
import * as assert from "assert";
import { judgePlatform, PlatformChangeError, PlatformStateError, platformState } from "../../components/platform/changes";
import { parseCluster } from "../../components/platform/config";
import { parseObservability } from "../../components/observability/config";
import { readStackConfig } from "../../scripts/stack-file";
import { runProgram } from "../helpers/mocks";

// Callers too: uat and prod deny calls by default (cluster.istio.authorization), so every service names who may call it.
const svc = { image: "ghcr.io/acme/checkout", stable: "01", stage: 1, replicas: 2, callers: { ingress: true } };
/** A stack's platform from its file, with one service. */
const stackOf = (stack: string) => {
    const raw = readStackConfig(stack);
    return { cluster: raw.cluster as any, observability: raw.observability as any, services: { checkout: svc } };
};

/** What the program registered before it stopped (the stack resource aside): must be nothing. */
const registered = (e: unknown) => (e as { registered?: unknown[] }).registered;

describe("program: platform changes judged against the deployed platform state", () => {
    it("exports the platform state, with aws:region, and reads it back on the next update", async () => {
        const config = { ...stackOf("uat"), "aws:region": "us-east-1" };
        const first = await runProgram("uat", config);
        assert.deepStrictEqual(first.outputs.platformState, {
            version: 1,
            kind: "eks",
            region: "us-east-1",
            istio: { version: "1.30.3", canaryNamespaces: [] },
            prometheus: true,
            prometheusVolumeGi: 0,
            tracingVolumeGi: 0,
            cluster: { name: "stagehand-uat", kubernetesVersion: "1.35", availabilityZones: 2, nodeSubnets: "private", vpcCidr: "10.0.0.0/16" },
        });
        // A move to another region, judged against it: refused, nothing registered.
        // (With the edge certificate of the new region: one of the old region is refused as config, before any judging.)
        const cluster = config.cluster;
        const certificateArn = cluster.istio.gateway.tls.certificateArn.replace(":us-east-1:", ":eu-west-1:");
        const moved = { ...config, "aws:region": "eu-west-1", cluster: { ...cluster, istio: { ...cluster.istio, gateway: { ...cluster.istio.gateway, tls: { certificateArn } } } } };
        await assert.rejects(runProgram("uat", moved, first.outputs), (e: any) => {
            assert.ok(e instanceof PlatformChangeError, String(e));
            assert.match(e.problems[0], /^stack uat, field aws:region: "us-east-1" -> "eu-west-1" is a move to another AWS region/);
            assert.deepStrictEqual(registered(e), []);
            return true;
        });
    });

    it("refuses an Istio downgrade and Prometheus switched off with the diff's own words, and registers nothing", async () => {
        const uat = stackOf("uat");
        const first = await runProgram("uat", uat);
        const next = { ...uat, cluster: { ...uat.cluster, istio: { ...uat.cluster.istio, version: "1.29.6" } }, observability: undefined };
        // What the diff says of the same change (components/platform/changes.ts judgePlatform).
        const expected = judgePlatform(
            "uat",
            platformState(parseCluster("uat", uat.cluster), parseObservability("uat", uat.observability)),
            platformState(parseCluster("uat", next.cluster), parseObservability("uat", undefined)),
        ).refused;
        assert.strictEqual(expected.length, 2);
        await assert.rejects(runProgram("uat", next, first.outputs), (e: any) => {
            assert.ok(e instanceof PlatformChangeError, String(e));
            assert.deepStrictEqual(e.problems, expected);
            assert.match(e.message, /^refused platform change in stack uat:\n {2}- stack uat, field cluster\.istio\.version: "1\.30\.3" -> "1\.29\.6" is an Istio downgrade/);
            assert.deepStrictEqual(registered(e), []);
            return true;
        });
    });

    it("lets through exactly the acknowledged change, and not a later different one", async () => {
        const prod = stackOf("prod");
        const first = await runProgram("prod", prod);
        // An existing cluster's edge is not stagehand's NLB: its istio block carries no gateway.tls.
        const existing = { kind: "existing", istio: { ...prod.cluster.istio, gateway: { ...prod.cluster.istio.gateway, tls: undefined } } };
        const moved = await runProgram("prod", { ...prod, cluster: existing, acknowledge: { "cluster.kind": "existing" } }, first.outputs);
        assert.strictEqual(moved.outputs.platformState.kind, "existing");
        assert.ok(!moved.resources.some((r) => r.type === "aws:eks/cluster:Cluster"), "no EKS cluster any more");
        // The acknowledgement left in the file: a later change back to eks is a different change, refused.
        await assert.rejects(
            runProgram("prod", { ...prod, acknowledge: { "cluster.kind": "existing" } }, moved.outputs),
            /stack prod, field cluster\.kind: "existing" -> "eks" is a change of cluster kind: .* \(stagehand:acknowledge has cluster\.kind: "existing", which acknowledges only a change to "existing"\)/,
        );
    });

    it("passes the Istio upgrade by revision, step by step", async () => {
        const uat = stackOf("uat");
        const istio = (over: object) => ({ ...uat, cluster: { ...uat.cluster, istio: { ...uat.cluster.istio, ...over } } });
        let outputs = (await runProgram("uat", uat)).outputs;
        for (const step of [{ canaryVersion: "1.31.0" }, { canaryVersion: "1.31.0", canaryNamespaces: ["checkout"] }, { version: "1.31.0" }]) {
            outputs = (await runProgram("uat", istio(step), outputs)).outputs;
        }
        assert.deepStrictEqual(outputs.platformState.istio, { version: "1.31.0", canaryNamespaces: [] });
    });

    it("passes any platform without a previous state (first deploy, or a stack deployed before platformState)", async () => {
        const staging = stackOf("staging");
        const old = await runProgram("staging", staging);
        delete old.outputs.platformState;
        const renamed = await runProgram("staging", { ...staging, cluster: { ...staging.cluster, name: "other" } }, old.outputs);
        assert.strictEqual(renamed.outputs.platformState.cluster.name, "other");
    });

    it("refuses to judge against a platform state it cannot read", async () => {
        const staging = stackOf("staging");
        await assert.rejects(runProgram("staging", staging, { platformState: { version: 9 } }), (e: any) => {
            assert.ok(e instanceof PlatformStateError, String(e));
            assert.deepStrictEqual(registered(e), []);
            return true;
        });
    });

    it("refuses a bad stagehand:acknowledge with the config errors", async () => {
        await assert.rejects(runProgram("staging", { ...stackOf("staging"), acknowledge: { "cluster.knd": "existing" } }), /stack staging, field stagehand:acknowledge\.cluster\.knd: unknown path; did you mean cluster\.kind\?/);
    });
});
