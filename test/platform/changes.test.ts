import * as assert from "assert";
import { parseStackConfig } from "../../components/config";
import { OBSERVABILITY_OFF, parseObservability } from "../../components/observability/config";
import {
    Acknowledgements,
    checkPlatformChange,
    judgePlatform,
    parseAcknowledge,
    PlatformChangeError,
    platformState,
    PlatformState,
    PlatformStateError,
    readPlatformState,
    RISKY_PATHS,
} from "../../components/platform/changes";
import { platformDiff, platformFieldChanges, PlatformRevision } from "../../components/platform/platform-diff";
import { parseCluster } from "../../components/platform/config";
import { readStackConfig } from "../../scripts/stack-file";
import { problemsOf, refusal } from "../helpers/problems";

/** A stack file's platform, with `edit` applied to a deep copy of its raw config first. */
function revision(stack: string, edit: (raw: any) => void = () => {}, region = "us-east-1"): PlatformRevision & { acknowledge: Acknowledgements } {
    const raw = JSON.parse(JSON.stringify(readStackConfig(stack)));
    edit(raw);
    const c = parseStackConfig(stack, raw);
    return { cluster: c.cluster, observability: c.observability, allowSkip: c.allowSkip, settleSeconds: c.settleSeconds, production: c.production, region, acknowledge: c.acknowledge };
}
const stateOf = (r: PlatformRevision) => platformState(r.cluster, r.observability, r.region);
/** The refusals of moving stack `stack` from its file as it is to the file with `edit` applied. */
function refusals(stack: string, edit: (raw: any) => void, region?: string): string[] {
    const after = revision(stack, edit, region);
    return judgePlatform(stack, stateOf(revision(stack)), stateOf(after), after.acknowledge).refused;
}

describe("platform changes (components/platform/changes.ts)", () => {
    describe("the diff lists every platform field that changes, before -> after", () => {
        it("names node pools by name, lists and nested maps by path, and the stack settings", () => {
            const before = revision("prod");
            const after = revision("prod", (raw) => {
                raw.cluster.nodePools[0].maxSize = 60;
                raw.cluster.nodePools[0].instanceTypes = ["m6i.large"];
                raw.cluster.logging = ["api"];
                raw.cluster.istio.gateway.replicas = 4;
                raw.observability.prometheus.retention = "60d";
                raw.allowSkip = true;
                raw.settleSeconds = 10;
                raw.production = "follows-traffic";
            });
            assert.deepStrictEqual(platformFieldChanges(before, after), [
                "cluster.nodePools[general].instanceTypes: [m6i.large, m5.large] -> [m6i.large]",
                "cluster.nodePools[general].maxSize: 12 -> 60",
                "cluster.logging: [api, audit, authenticator] -> [api]",
                "cluster.istio.gateway.replicas: 3 -> 4",
                "observability.prometheus.retention: 30d -> 60d",
                "allowSkip: false -> true",
                "settleSeconds: 5 -> 10",
                "production: full -> follows-traffic",
            ]);
        });

        it("says a node pool is added with its fields, and removed in one line", () => {
            const before = revision("uat");
            const pool = { name: "batch", capacityType: "ON_DEMAND", instanceTypes: ["m6i.large"], minSize: 1, desiredSize: 1, maxSize: 2, diskSize: 30 };
            const added = revision("uat", (raw) => raw.cluster.nodePools.push(pool));
            assert.deepStrictEqual(platformFieldChanges(before, added), [
                "cluster.nodePools[batch]: added",
                "cluster.nodePools[batch].capacityType: (not set) -> ON_DEMAND",
                "cluster.nodePools[batch].instanceTypes: (not set) -> [m6i.large]",
                "cluster.nodePools[batch].minSize: (not set) -> 1",
                "cluster.nodePools[batch].desiredSize: (not set) -> 1",
                "cluster.nodePools[batch].maxSize: (not set) -> 2",
                "cluster.nodePools[batch].diskSize: (not set) -> 30",
            ]);
            assert.deepStrictEqual(platformFieldChanges(added, before), ["cluster.nodePools[batch]: removed"]);
        });

        it("includes aws:region, and nothing when nothing changed", () => {
            assert.deepStrictEqual(platformFieldChanges(revision("staging"), revision("staging", () => {}, "eu-west-1")), ["aws:region: us-east-1 -> eu-west-1"]);
            assert.deepStrictEqual(platformFieldChanges(revision("staging"), revision("staging")), []);
        });

        it("prints the cost before and after, and says in words when the platform is unchanged", () => {
            const before = revision("prod");
            const more = platformDiff("prod", "HEAD", before, revision("prod", (raw) => (raw.cluster.nodePools[0].desiredSize = 12)));
            assert.strictEqual(more.headline, "platform: 1 field changed against HEAD");
            assert.deepStrictEqual(more.lines, [
                "cluster.nodePools[general].desiredSize: 6 -> 12",
                "monthly cost $698.16 -> $1142.64 (+$444.48); ceiling with every pool at maxSize $1142.64 -> $1142.64 (estimate: components/cost/cost.ts)",
            ]);
            assert.deepStrictEqual(more.refused, []);
            const same = platformDiff("prod", "origin/main", before, revision("prod"));
            assert.strictEqual(
                same.headline,
                "platform: unchanged (cluster, Istio, observability, allowSkip, autoRollback, settleSeconds, production, owners and aws:region as at origin/main; monthly cost $698.16); the services are listed above, on their own",
            );
            assert.deepStrictEqual(same.lines, []);
        });
    });

    describe("risky changes are refused unless acknowledged with exactly the new value", () => {
        it("refuses an Istio downgrade with what to write to do it on purpose", () => {
            assert.deepStrictEqual(
                refusals("prod", (raw) => (raw.cluster.istio.version = "1.29.6")),
                [
                    'stack prod, field cluster.istio.version: "1.30.3" -> "1.29.6" is an Istio downgrade: every namespace and the ingress gateway move to the older istiod-1-29-6 at once (their pods restart), and Istio does not support going back a release: its CRDs and config may not be read by the older control plane. To do it on purpose, add to Pulumi.prod.yaml: stagehand:acknowledge: { cluster.istio.version: "1.29.6" }',
                ],
            );
        });

        it("refuses a direct Istio upgrade and names the revision path; the revision path passes", () => {
            const [direct] = refusals("uat", (raw) => (raw.cluster.istio.version = "1.31.0"));
            assert.strictEqual(
                direct,
                'stack uat, field cluster.istio.version: "1.30.3" -> "1.31.0" is a direct Istio upgrade: every namespace and the ingress gateway move to istiod-1-31-0 in one update: all their pods restart onto the new sidecars at once, with no namespace checked on it first. Instead, upgrade by revision: set canaryVersion: "1.31.0" beside version "1.30.3", move namespaces one pull request at a time with canaryNamespaces, then set version: "1.31.0" (docs/upgrades.md "Upgrading Istio"). To do it on purpose, add to Pulumi.uat.yaml: stagehand:acknowledge: { cluster.istio.version: "1.31.0" }',
            );
            // Step 1 (install the canary revision), step 2 (move a namespace), step 3 (make it the default) pass.
            const step1 = revision("uat", (raw) => (raw.cluster.istio.canaryVersion = "1.31.0"));
            const step2 = revision("uat", (raw) => Object.assign(raw.cluster.istio, { canaryVersion: "1.31.0", canaryNamespaces: ["checkout"] }));
            const step3 = revision("uat", (raw) => (raw.cluster.istio.version = "1.31.0"));
            assert.deepStrictEqual(judgePlatform("uat", stateOf(revision("uat")), stateOf(step1)).refused, []);
            assert.deepStrictEqual(judgePlatform("uat", stateOf(step1), stateOf(step2)).refused, []);
            assert.deepStrictEqual(judgePlatform("uat", stateOf(step2), stateOf(step3)).refused, []);
            // Making the canary the default before any namespace moved to it is the direct change.
            assert.match(judgePlatform("uat", stateOf(step1), stateOf(step3)).refused[0], /direct Istio upgrade: .*\(canaryVersion 1\.31\.0 is installed, but no namespace has moved to it yet\)/);
            // Giving up (step 4) passes.
            assert.deepStrictEqual(judgePlatform("uat", stateOf(step2), stateOf(step1)).refused, []);
            assert.deepStrictEqual(judgePlatform("uat", stateOf(step1), stateOf(revision("uat"))).refused, []);
        });

        it("refuses Prometheus switched off where the verdict gate judges, and not where it never ran", () => {
            assert.deepStrictEqual(refusals("uat", (raw) => delete raw.observability), [
                "stack uat, field observability.prometheus.enabled: true -> false is Prometheus switched off: the verdict gate judges this stack's canaries with the Prometheus it runs (scripts/verdict-gate.ts): without it every later pull request moves canaries on unjudged, and the metrics kept so far are deleted. Instead, keep observability.prometheus.enabled: true. To do it on purpose, add to Pulumi.uat.yaml: stagehand:acknowledge: { observability.prometheus.enabled: false }",
            ]);
            // Grafana and Kiali alone are not what the gate needs.
            assert.deepStrictEqual(refusals("prod", (raw) => Object.assign(raw.observability, { grafana: { enabled: false }, kiali: { enabled: false } })), []);
            // Staging has no Prometheus: turning it on and off again is the staging's own business.
            const on = revision("staging", (raw) => (raw.observability = { prometheus: { enabled: true } }));
            assert.deepStrictEqual(judgePlatform("staging", stateOf(revision("staging")), stateOf(on)).refused, []);
        });

        it("refuses giving up or shrinking Prometheus's volume unless acknowledged; a larger one, or none before, passes", () => {
            const none = "stack prod, field observability.prometheus.storageGi: 50 -> 0 is Prometheus's volume given up: Prometheus stops using its volume (the metrics the verdict judges restart from nothing, on the node), and its claim is left in the cluster, still billed, until someone deletes it. Instead, keep observability.prometheus.storageGi: 50. To do it on purpose, add to Pulumi.prod.yaml: stagehand:acknowledge: { observability.prometheus.storageGi: 0 }";
            assert.deepStrictEqual(refusals("prod", (raw) => (raw.observability.prometheus.storageGi = 0)), [none]);
            assert.match(refusals("prod", (raw) => (raw.observability.prometheus.storageGi = 20))[0], /^stack prod, field observability\.prometheus\.storageGi: 50 -> 20 is a smaller Prometheus volume: a Kubernetes volume cannot shrink/);
            // Switching Prometheus off gives up the volume too: both are said, both must be acknowledged.
            assert.deepStrictEqual(
                refusals("prod", (raw) => (raw.observability = { prometheus: { enabled: false }, tracing: raw.observability.tracing })).map((r) => r.split(":")[0]),
                ["stack prod, field observability.prometheus.enabled", "stack prod, field observability.prometheus.storageGi"],
            );
            assert.deepStrictEqual(refusals("prod", (raw) => Object.assign(raw, { acknowledge: { "observability.prometheus.storageGi": 0 } }, { observability: { ...raw.observability, prometheus: { ...raw.observability.prometheus, storageGi: 0 } } })), []);
            assert.deepStrictEqual(refusals("prod", (raw) => (raw.observability.prometheus.storageGi = 100)), []);
            // uat keeps its metrics on the node: nothing to lose.
            assert.deepStrictEqual(refusals("uat", (raw) => (raw.observability.prometheus.storageGi = 0)), []);
            // A state written before the volume was recorded judges no change of it.
            const before = stateOf(revision("prod"));
            delete before.prometheusVolumeGi;
            assert.deepStrictEqual(judgePlatform("prod", before, stateOf(revision("prod", (raw) => (raw.observability.prometheus.storageGi = 0)))).refused, []);
        });

        it("refuses giving up or shrinking Jaeger's volume unless acknowledged; growing it, or uat's emptyDir, passes", () => {
            assert.deepStrictEqual(refusals("prod", (raw) => (raw.observability.tracing.storageGi = 0)), [
                "stack prod, field observability.tracing.storageGi: 20 -> 0 is Jaeger's volume given up: Jaeger's claim is deleted, and with it the volume and every span kept on it. Instead, keep observability.tracing.storageGi: 20. To do it on purpose, add to Pulumi.prod.yaml: stagehand:acknowledge: { observability.tracing.storageGi: 0 }",
            ]);
            assert.match(refusals("prod", (raw) => (raw.observability.tracing.storageGi = 10))[0], /^stack prod, field observability\.tracing\.storageGi: 20 -> 10 is a smaller Jaeger volume: a Kubernetes volume cannot shrink: the update fails on Jaeger's claim\. Instead, keep observability\.tracing\.storageGi: 20, or give the volume up first/);
            assert.deepStrictEqual(refusals("prod", (raw) => (raw.observability.tracing.enabled = false)).map((r) => r.split(":")[0]), ["stack prod, field observability.tracing.storageGi"]);
            assert.deepStrictEqual(refusals("prod", (raw) => Object.assign(raw, { acknowledge: { "observability.tracing.storageGi": 0 } }, { observability: { ...raw.observability, tracing: { ...raw.observability.tracing, storageGi: 0 } } })), []);
            assert.deepStrictEqual(refusals("prod", (raw) => (raw.observability.tracing.storageGi = 40)), []);
            assert.deepStrictEqual(refusals("uat", (raw) => (raw.observability.tracing.enabled = false)), []);
            // A state written before Jaeger's volume was recorded judges no change of it.
            const before = stateOf(revision("prod"));
            delete before.tracingVolumeGi;
            assert.deepStrictEqual(judgePlatform("prod", before, stateOf(revision("prod", (raw) => (raw.observability.tracing.storageGi = 0)))).refused, []);
            assert.match(refusal(() => readPlatformState("prod", { ...before, tracingVolumeGi: -1 }), PlatformStateError).problems[0], /expected tracingVolumeGi, when present, to be a whole number of GiB/);
        });

        it("refuses a change of cluster kind, naming what is deleted", () => {
            // An existing cluster's edge is not stagehand's NLB: its istio block carries no gateway.tls.
            const [kind] = refusals("prod", (raw) => (raw.cluster = { kind: "existing", istio: { ...raw.cluster.istio, gateway: { ...raw.cluster.istio.gateway, tls: undefined } } }));
            assert.match(kind, /^stack prod, field cluster\.kind: "eks" -> "existing" is a change of cluster kind: the stack stops managing its EKS cluster: Pulumi deletes the cluster/);
            assert.match(kind, /To do it on purpose, add to Pulumi\.prod\.yaml: stagehand:acknowledge: \{ cluster\.kind: "existing" \}$/);
        });

        it("refuses what replaces the cluster or its network: name, Kubernetes downgrade, zones, node subnets, region", () => {
            const fields = (lines: string[]) => lines.map((l) => /field (\S+):/.exec(l)![1]);
            assert.deepStrictEqual(fields(refusals("prod", (raw) => (raw.cluster.name = "prod-2"))), ["cluster.name"]);
            assert.deepStrictEqual(
                fields(refusals("prod", (raw) => Object.assign(raw.cluster, { kubernetesVersion: "1.34", addons: { "kube-proxy": "v1.34.1-eksbuild.2", "cluster-autoscaler": "v1.34.0", "eks-pod-identity-agent": "v1.3.10-eksbuild.3", "vpc-cni": "v1.22.1-eksbuild.2", coredns: "v1.14.3-eksbuild.2", "aws-ebs-csi-driver": "v1.61.1-eksbuild.1" } }))),
                ["cluster.kubernetesVersion"],
            );
            assert.deepStrictEqual(fields(refusals("prod", (raw) => (raw.cluster.availabilityZones = 4))), ["cluster.availabilityZones"]);
            assert.deepStrictEqual(fields(refusals("uat", (raw) => Object.assign(raw.cluster, { nodeSubnets: "public", natGateways: "none" }))), ["cluster.nodeSubnets"]);
            assert.deepStrictEqual(fields(refusals("prod", () => {}, "eu-west-1")), ["aws:region"]);
            // The VPC's range is the program's, not a config field: compared from the deployed state.
            const moved: PlatformState = { ...stateOf(revision("prod")), cluster: { ...stateOf(revision("prod")).cluster!, vpcCidr: "10.1.0.0/16" } };
            assert.deepStrictEqual(fields(judgePlatform("prod", moved, stateOf(revision("prod"))).refused), ["cluster.vpcCidr"]);
            // A Kubernetes upgrade and more nodes replace nothing.
            assert.deepStrictEqual(refusals("prod", (raw) => (raw.cluster.nodePools[0].maxSize = 60)), []);
        });

        it("lets through exactly the acknowledged value, and says a stale acknowledgement acknowledges only its own", () => {
            const downgrade = (ack: unknown) => (raw: any) => {
                raw.cluster.istio.version = "1.29.6";
                raw.acknowledge = ack;
            };
            assert.deepStrictEqual(refusals("prod", downgrade({ "cluster.istio.version": "1.29.6" })), []);
            const [stale] = refusals("prod", downgrade({ "cluster.istio.version": "1.29.5" }));
            assert.match(stale, /stagehand:acknowledge: \{ cluster\.istio\.version: "1\.29\.6" \} \(stagehand:acknowledge has cluster\.istio\.version: "1\.29\.5", which acknowledges only a change to "1\.29\.5"\)$/);
            const after = revision("prod", downgrade({ "cluster.istio.version": "1.29.6", "cluster.kind": "existing" }));
            const diff = platformDiff("prod", "HEAD", revision("prod"), after, after.acknowledge);
            assert.deepStrictEqual(diff.refused, []);
            assert.deepStrictEqual(diff.lines.slice(-2), [
                'cluster.istio.version "1.30.3" -> "1.29.6": an Istio downgrade, acknowledged in stagehand:acknowledge',
                'stagehand:acknowledge cluster.kind: "existing" acknowledges no change against HEAD (remove it once the change it was for is deployed)',
            ]);
        });

        it("the program's check throws every refusal at once; no previous state passes", () => {
            const before = stateOf(revision("prod"));
            const after = stateOf(revision("prod", (raw) => Object.assign(raw.cluster, { name: "x", istio: { ...raw.cluster.istio, version: "1.29.6" } })));
            const e = refusal(() => checkPlatformChange("prod", before, after), PlatformChangeError);
            assert.deepStrictEqual(
                e.problems.map((p) => p.split(":")[0] + ":" + p.split(":")[1]),
                ["stack prod, field cluster.name: \"stagehand-prod\" -> \"x\" is a new EKS cluster name", "stack prod, field cluster.istio.version: \"1.30.3\" -> \"1.29.6\" is an Istio downgrade"],
            );
            assert.match(e.message, /^refused platform change in stack prod:\n {2}- stack prod, field cluster\.name/);
            assert.doesNotThrow(() => checkPlatformChange("prod", undefined, after));
        });
    });

    describe("stagehand:acknowledge", () => {
        it("takes a map of known paths to values", () => {
            assert.deepStrictEqual(parseAcknowledge("prod", { "cluster.kind": "existing", "cluster.istio.version": "1.29.6" }), { "cluster.kind": "existing", "cluster.istio.version": "1.29.6" });
            assert.deepStrictEqual(parseAcknowledge("prod", undefined), {});
        });

        it("names the paths that can be acknowledged for an unknown one, and the expected value for a bad one", () => {
            assert.deepStrictEqual(problemsOf(() => parseAcknowledge("prod", { "cluster.knd": "existing", "cluster.nodePools": 3, "cluster.istio.version": 1.3 })), [
                `stack prod, field stagehand:acknowledge.cluster.knd: unknown path; did you mean cluster.kind? (the changes that can be acknowledged are ${RISKY_PATHS.join(", ")})`,
                `stack prod, field stagehand:acknowledge.cluster.nodePools: unknown path (the changes that can be acknowledged are cluster.kind, cluster.name, cluster.kubernetesVersion, cluster.availabilityZones, cluster.nodeSubnets, cluster.vpcCidr, cluster.istio.version, observability.prometheus.enabled, observability.prometheus.storageGi, observability.tracing.storageGi, aws:region, serviceStages)`,
                'stack prod, field stagehand:acknowledge.cluster.istio.version: expected a version in quotes, such as "1.30.3" (unquoted, YAML reads 1.30 as the number 1.3), found 1.3',
            ]);
            assert.deepStrictEqual(problemsOf(() => parseAcknowledge("uat", ["cluster.kind"])), [
                'stack uat, field stagehand:acknowledge: expected a map of changed field to the value it is acknowledged to become, such as { cluster.kind: existing }, found ["cluster.kind"]',
            ]);
        });

        it("is validated with the rest of the stack config", () => {
            const raw = { ...readStackConfig("staging"), acknowledge: { "cluster.kindd": "existing" } };
            assert.match(problemsOf(() => parseStackConfig("staging", raw))[0], /^stack staging, field stagehand:acknowledge\.cluster\.kindd: unknown path; did you mean cluster\.kind\?/);
        });
    });

    describe("the exported platform state", () => {
        it("holds kind, region, istio, the fields that replace the cluster, and Prometheus; no secrets", () => {
            const prod = readStackConfig("prod");
            assert.deepStrictEqual(platformState(parseCluster("prod", prod.cluster), parseObservability("prod", prod.observability), "us-east-1"), {
                version: 1,
                kind: "eks",
                region: "us-east-1",
                istio: { version: "1.30.3", canaryNamespaces: [] },
                prometheus: true,
                prometheusVolumeGi: 50,
                tracingVolumeGi: 20,
                cluster: { name: "stagehand-prod", kubernetesVersion: "1.35", availabilityZones: 3, nodeSubnets: "private", vpcCidr: "10.0.0.0/16" },
            });
            assert.deepStrictEqual(platformState(parseCluster("dev", { kind: "existing", kubeconfig: "~/.kube/dev" }), OBSERVABILITY_OFF), {
                version: 1,
                kind: "existing",
                istio: { version: "1.30.3", canaryNamespaces: [] },
                prometheus: false,
                prometheusVolumeGi: 0,
                tracingVolumeGi: 0,
            });
        });

        it("reads back what it wrote; nothing is no state; anything else is an error, never a pass", () => {
            const state = stateOf(revision("uat", (raw) => Object.assign(raw.cluster.istio, { canaryVersion: "1.31.0", canaryNamespaces: ["checkout"] })));
            assert.deepStrictEqual(readPlatformState("uat", JSON.parse(JSON.stringify(state))), state);
            assert.strictEqual(readPlatformState("uat", undefined), undefined);
            assert.match(refusal(() => readPlatformState("uat", { ...state, version: 2 }), PlatformStateError).problems[0], /^stack uat, output platformState: expected a platform state of version 1 \(it was written by another stagehand/);
            assert.match(refusal(() => readPlatformState("uat", { version: 1, kind: "eks", istio: state.istio, prometheus: true }), PlatformStateError).problems[0], /for eks, cluster\.\{name, kubernetesVersion/);
        });
    });
});
