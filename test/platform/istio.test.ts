import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parseCluster } from "../../components/platform/config";
import { IstioConfig } from "../../components/platform/istio-config";
import {
    gatewayValues,
    ingressGateway,
    Istio,
    ISTIO_CHART_REPO,
    istiodValues,
    istioReleases,
    meshMtls,
} from "../../components/platform/istio";
import { readStackConfig } from "../../scripts/stack-file";
import { dependencyNames, ofType, Registered, runMocked, runProgram } from "../helpers/mocks";
import { validateObject } from "../helpers/schemas";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const istioOf = (stack: string): IstioConfig => parseCluster(stack, readStackConfig(stack).cluster).istio;
const istioFrom = (raw: unknown): IstioConfig => parseCluster("t", { istio: raw }).istio;

interface Captured {
    type: string;
    name: string;
    dependsOn: string[];
    provider?: pulumi.ProviderResource;
}

/** Runs the Istio component alone, capturing every child's options with a per-resource transformation. */
async function runIstio(config: IstioConfig, platform: "eks" | "existing" = "eks") {
    const captured: Captured[] = [];
    const names = new Map<pulumi.Resource, string>();
    const capture: pulumi.ResourceTransformation = (args) => {
        names.set(args.resource, args.name);
        const deps = ([] as unknown[]).concat(args.opts.dependsOn ?? []);
        captured.push({
            type: args.type,
            name: args.name,
            dependsOn: deps.map((d) => names.get(d as pulumi.Resource) ?? "<unknown>"),
            provider: (args.opts as pulumi.CustomResourceOptions).provider,
        });
        return undefined;
    };
    const run = await runMocked("staging", {}, () => {
        const provider = new k8s.Provider("test-k8s", {});
        new Istio("istio", { config, platform, provider }, { transformations: [capture] });
        return provider;
    });
    return { ...run, captured, provider: run.value };
}

describe("Istio releases (pure)", () => {
    it("base → istiod → gateway from the official repository, at the stack's pinned version", () => {
        for (const stack of ["staging", "uat", "prod"]) {
            const config = istioOf(stack);
            const releases = istioReleases(config, "eks");
            assert.deepStrictEqual(
                releases.map((r) => [r.key, r.name, r.chart, r.version, r.namespace, r.after]),
                [
                    ["base", "istio-base", "base", config.version, "istio-system", []],
                    ["cni", "istio-cni", "cni", config.version, "kube-system", []],
                    [`istiod-1-30-3`, "istiod-1-30-3", "istiod", config.version, "istio-system", ["base", "cni"]],
                    ["gateway", "istio-ingress", "gateway", config.version, "istio-ingress", ["istiod-1-30-3"]],
                ],
                stack,
            );
        }
        assert.strictEqual(ISTIO_CHART_REPO, "https://blob.istio.io/istio-release/charts");
        assert.deepStrictEqual(
            ["staging", "uat", "prod"].map((s) => istioOf(s).version),
            ["1.30.3", "1.30.3", "1.30.3"],
            "each stack pins the release the tests render (../shared/charts)",
        );
    });

    it("staging: one small istiod and one gateway replica, no autoscaler, no PodDisruptionBudget", () => {
        const config = istioOf("staging");
        assert.deepStrictEqual(istiodValues(config, "1-30-3"), {
            revision: "1-30-3",
            pilot: {
                replicaCount: 1,
                autoscaleEnabled: false,
                autoscaleMin: 1,
                autoscaleMax: 1,
                resources: { requests: { cpu: "100m", memory: "256Mi" } },
                cni: { enabled: true },
                seccompProfile: { type: "RuntimeDefault" },
            },
            global: { istioNamespace: "istio-system", defaultPodDisruptionBudget: { enabled: false }, proxy: { seccompProfile: { type: "RuntimeDefault" } } },
        });
        const gw = gatewayValues(config, "eks");
        assert.deepStrictEqual([gw.replicaCount, gw.autoscaling, gw.podDisruptionBudget, gw.topologySpreadConstraints], [1, { enabled: false, minReplicas: 1, maxReplicas: 1 }, {}, []]);
    });

    it("prod: istiod and the gateway replicated, with PodDisruptionBudgets and autoscaling; the gateway spread over zones", () => {
        const config = istioOf("prod");
        const istiod = istiodValues(config, "1-30-3") as any;
        assert.deepStrictEqual(istiod.pilot, {
            replicaCount: 2,
            autoscaleEnabled: true,
            autoscaleMin: 2,
            autoscaleMax: 5,
            resources: { requests: { cpu: "500m", memory: "2Gi" } },
            cni: { enabled: true },
            seccompProfile: { type: "RuntimeDefault" },
        });
        assert.deepStrictEqual(istiod.global.defaultPodDisruptionBudget, { enabled: true });
        const gw = gatewayValues(config, "eks") as any;
        assert.strictEqual(gw.replicaCount, 3);
        assert.deepStrictEqual(gw.autoscaling, { enabled: true, minReplicas: 3, maxReplicas: 10 });
        assert.deepStrictEqual(gw.podDisruptionBudget, { minAvailable: 1 });
        assert.deepStrictEqual(gw.topologySpreadConstraints[0].topologyKey, "topology.kubernetes.io/zone");
        assert.deepStrictEqual(gw.topologySpreadConstraints[0].labelSelector.matchLabels, { app: "istio-ingress", istio: "ingress" });
    });

    it("the ingress is an NLB of the AWS Load Balancer Controller on EKS; an existing cluster gets the Service type it asks for, unannotated", () => {
        assert.deepStrictEqual((gatewayValues(istioFrom({}), "eks") as any).service.annotations, {
            "service.beta.kubernetes.io/aws-load-balancer-type": "external",
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "http",
            "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": "15021",
            "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": "/healthz/ready",
        });
        assert.strictEqual((gatewayValues(istioFrom({}), "eks") as any).service.type, "LoadBalancer");
        // A NodePort gateway on EKS gets no load balancer, so no annotations either.
        assert.deepStrictEqual((gatewayValues(istioFrom({ gateway: { serviceType: "NodePort" } }), "eks") as any).service.annotations, {});
        assert.deepStrictEqual((gatewayValues(istioFrom({ gateway: { serviceType: "NodePort" } }), "existing") as any).service, {
            type: "NodePort",
            annotations: {},
            ports: [{ name: "http2", port: 80, protocol: "TCP", targetPort: 80 }],
        });
        assert.deepStrictEqual((gatewayValues(istioFrom({}), "existing") as any).service.annotations, {});
    });

    it("canaryVersion: a second istiod, revision 1-30-3, beside the default 1-29-6; CRDs (base) at the newer version", () => {
        const releases = istioReleases(istioFrom({ version: "1.29.6", canaryVersion: "1.30.3" }), "eks");
        assert.deepStrictEqual(
            releases.map((r) => [r.key, r.name, r.version, r.after]),
            [
                ["base", "istio-base", "1.30.3", []],
                // One CNI node agent per cluster, at the default (older) version: see test/platform/pod-security.test.ts.
                ["cni", "istio-cni", "1.29.6", []],
                ["istiod-1-29-6", "istiod-1-29-6", "1.29.6", ["base", "cni"]],
                ["istiod-1-30-3", "istiod-1-30-3", "1.30.3", ["base", "cni"]],
                ["gateway", "istio-ingress", "1.29.6", ["istiod-1-29-6"]],
            ],
        );
        assert.strictEqual((releases[3].values as any).revision, "1-30-3");
        assert.strictEqual((releases[2].values as any).revision, "1-29-6");
        // Config validation and the gateway's proxies stay with the default revision until it changes.
        assert.deepStrictEqual((releases[0].values as any).defaultRevision, "1-29-6");
        assert.deepStrictEqual((releases[4].values as any).revision, "1-29-6");
    });

    it("mesh-wide STRICT mTLS and the shared ingress Gateway are valid Istio objects", () => {
        const mtls = meshMtls();
        assert.deepStrictEqual(mtls, {
            apiVersion: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: { name: "default", namespace: "istio-system" },
            spec: { mtls: { mode: "STRICT" } },
        });
        validateObject(mtls);
        const gw = ingressGateway();
        validateObject(gw);
        assert.deepStrictEqual(gw.spec.selector, { istio: "ingress" });
        // The validator is not a rubber stamp.
        assert.throws(() => validateObject({ ...mtls, spec: { mtls: { mode: "STRICTEST" } } }));
    });
});

describe("Istio component under Pulumi mocks", () => {
    it("installs the releases in order, each waiting for the ones before (captured dependsOn); the CNI node agent before istiod", async () => {
        const { resources, captured } = await runIstio(istioOf("staging"));
        const releases = captured.filter((c) => c.type === RELEASE);
        assert.deepStrictEqual(
            releases.map((r) => [r.name, r.dependsOn]),
            [
                ["istio-base", ["istio-system"]],
                ["istio-cni", ["istio-kube-system"]],
                ["istio-istiod-1-30-3", ["istio-system", "istio-base", "istio-cni"]],
                ["istio-gateway", ["istio-ingress", "istio-istiod-1-30-3"]],
            ],
        );
        const registered = Object.fromEntries(ofType(resources, RELEASE).map((r) => [r.name, r.inputs]));
        for (const [name, chart, namespace] of [
            ["istio-base", "base", "istio-system"],
            ["istio-cni", "cni", "kube-system"],
            ["istio-istiod-1-30-3", "istiod", "istio-system"],
            ["istio-gateway", "gateway", "istio-ingress"],
        ]) {
            const r = registered[name];
            assert.deepStrictEqual([r.chart, r.version, r.repositoryOpts, r.namespace], [chart, "1.30.3", { repo: "https://blob.istio.io/istio-release/charts" }, namespace], name);
            assert.strictEqual(r.atomic, true);
        }
        assert.deepStrictEqual(ofType(resources, "kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name).sort(), ["istio-ingress", "istio-system"]);
    });

    it("STRICT mTLS is a PeerAuthentication that waits for istiod and validates", async () => {
        const { resources, captured } = await runIstio(istioOf("prod"));
        assert.deepStrictEqual(captured.find((c) => c.type === "kubernetes:security.istio.io/v1:PeerAuthentication")!.dependsOn, ["istio-istiod-1-30-3"]);
        const registered = ofType(resources, "kubernetes:security.istio.io/v1:PeerAuthentication");
        assert.strictEqual(registered.length, 1);
        const { apiVersion, kind, metadata, spec } = registered[0].inputs;
        assert.deepStrictEqual(spec, { mtls: { mode: "STRICT" } });
        validateObject({ apiVersion, kind, metadata, spec });
        const gateway = ofType(resources, "kubernetes:networking.istio.io/v1:Gateway")[0].inputs;
        validateObject({ apiVersion: gateway.apiVersion, kind: gateway.kind, metadata: gateway.metadata, spec: gateway.spec });
        assert.deepStrictEqual(captured.find((c) => c.type === "kubernetes:networking.istio.io/v1:Gateway")!.dependsOn, ["istio-gateway"]);
    });

    it("every child goes through the given provider", async () => {
        const { captured, provider } = await runIstio(istioOf("staging"), "existing");
        const children = captured.filter((c) => c.type.startsWith("kubernetes:"));
        assert.ok(children.length >= 7);
        for (const c of children) assert.strictEqual(c.provider, provider, c.name);
    });

    it("a canary control plane installs after base, beside istiod", async () => {
        const { resources, captured } = await runIstio(istioFrom({ version: "1.29.6", canaryVersion: "1.30.3" }));
        assert.deepStrictEqual(captured.find((c) => c.name === "istio-istiod-1-30-3")!.dependsOn, ["istio-system", "istio-base", "istio-cni"]);
        const canary = ofType(resources, RELEASE).find((r) => r.name === "istio-istiod-1-30-3")!.inputs;
        assert.deepStrictEqual([canary.name, canary.version, canary.values.revision], ["istiod-1-30-3", "1.30.3", "1-30-3"]);
    });
});

describe("program: services wait for Istio", () => {
    for (const stack of ["staging", "prod"]) {
        it(`${stack}: every service release and namespace depends on every Istio release and on mesh mTLS`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const istioParts = ["istio-base", "istio-cni", "istio-istiod-1-30-3", "istio-gateway", "istio-mesh-mtls"];
            const services = resources.filter(
                (r: Registered) => (r.type === RELEASE && r.inputs.chart === "./charts/service") || (r.type === "kubernetes:core/v1:Namespace" && r.name.startsWith("namespace-")),
            );
            assert.strictEqual(services.filter((r) => r.type === RELEASE).length, 9);
            for (const r of services) {
                const deps = dependencyNames(r);
                for (const part of istioParts) assert.ok(deps.includes(part), `${r.name} waits for ${part} (it waits for: ${deps.join(", ")})`);
            }
            // And Istio itself waits for nothing of the services: only for itself and the platform on the cluster.
            for (const r of ofType(resources, RELEASE).filter((x) => istioParts.includes(x.name))) {
                assert.ok(dependencyNames(r).every((d) => d.startsWith("istio-") || d.startsWith("cluster-addons-")), `${r.name}: ${dependencyNames(r).join()}`);
                assert.ok(dependencyNames(r).includes("cluster-addons-gp3"), `${r.name} waits for the platform's add-ons`);
            }
        });
    }
});
