// Pod security of the platform: the Istio CNI node agent (rendered from its real archive with the program's values),
// istiod told to inject without istio-init, the Pod Security Standards level of each platform namespace and every
// pod the platform installs checked against it (a checker written from the standard: test/helpers/pod-security.ts).
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import { parseCluster } from "../../components/platform/config";
import { IstioConfig } from "../../components/platform/istio-config";
import { cniVersion, Istio, istiodValues, istioReleases } from "../../components/platform/istio";
import { PLATFORM_NAMESPACE_LEVELS, podSecurityLabels } from "../../components/shared/pod-security";
import { readStackConfig } from "../../scripts/stack-file";
import { containersOf, imagePinned, kind, one, programReleases, renderRelease } from "../helpers/charts";
import { dependencyNames, ofType, runMocked, runProgram } from "../helpers/mocks";
import { podSecurityViolations, podSpecOf, strictestLevel } from "../helpers/pod-security";
import { validateAll } from "../helpers/schemas";

const STACKS = ["staging", "uat", "prod"];
const RELEASE = "kubernetes:helm.sh/v3:Release";
const istioOf = (stack: string): IstioConfig => parseCluster(stack, readStackConfig(stack).cluster).istio;
const istioFrom = (raw: unknown): IstioConfig => parseCluster("t", { istio: raw }).istio;

/** The sidecar injector's values, as istiod renders them into its ConfigMap (what the injection templates read). */
function injectorValues(objects: any[], revision: string): any {
    return JSON.parse(one(objects, "ConfigMap", `istio-sidecar-injector-${revision}`).data.values);
}

describe("pod security checker (Kubernetes Pod Security Standards)", () => {
    const restrictedContainer = (name: string) => ({
        name,
        securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    });
    const pod = (containers: any[], extra: any = {}) => ({ spec: { securityContext: { seccompProfile: { type: "RuntimeDefault" } }, containers, ...extra } });

    it("admits a restricted pod; a pod-level seccomp profile and runAsNonRoot cover every container", () => {
        assert.deepStrictEqual(podSecurityViolations(pod([restrictedContainer("app")]), "restricted"), []);
        const inherited = { spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, containers: [{ name: "app", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }] } };
        assert.deepStrictEqual(podSecurityViolations(inherited, "restricted"), []);
    });

    it("refuses what Istio's istio-init container is (root, NET_ADMIN and NET_RAW): not restricted, not even baseline", () => {
        const istioInit = {
            name: "istio-init",
            securityContext: { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] } },
        };
        const p = pod([istioInit, restrictedContainer("app")]);
        assert.deepStrictEqual(podSecurityViolations(p, "baseline"), ["container istio-init: adds NET_ADMIN, NET_RAW (baseline: Capabilities)"]);
        assert.deepStrictEqual(podSecurityViolations(p, "restricted"), [
            "container istio-init: adds NET_ADMIN, NET_RAW (baseline: Capabilities)",
            "container istio-init: runAsNonRoot is not true (restricted: Running as Non-root)",
            "container istio-init: runAsUser 0 (restricted: Running as Non-root user)",
            "container istio-init: adds NET_ADMIN, NET_RAW (restricted: Capabilities)",
        ]);
        assert.strictEqual(strictestLevel(p), "privileged");
    });

    it("tells baseline from restricted: no seccomp profile, escalation allowed, a hostPath, host networking", () => {
        const noSeccomp = { spec: { containers: [restrictedContainer("app")] } };
        assert.strictEqual(strictestLevel(noSeccomp), "baseline");
        assert.deepStrictEqual(podSecurityViolations(noSeccomp, "restricted"), ["container app: no RuntimeDefault/Localhost seccomp profile (restricted: Seccomp)"]);
        const escalating = pod([{ name: "app", securityContext: { runAsNonRoot: true, capabilities: { drop: ["ALL"] } } }]);
        assert.deepStrictEqual(podSecurityViolations(escalating, "restricted"), ["container app: allowPrivilegeEscalation is not false (restricted: Privilege Escalation)"]);
        const overridden = { spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, containers: [{ ...restrictedContainer("app"), securityContext: { ...restrictedContainer("app").securityContext, runAsNonRoot: false } }] } };
        assert.deepStrictEqual(podSecurityViolations(overridden, "restricted"), ["container app: runAsNonRoot is not true (restricted: Running as Non-root)"]);
        assert.strictEqual(strictestLevel(pod([restrictedContainer("app")], { volumes: [{ name: "h", hostPath: { path: "/" } }] })), "privileged");
        assert.strictEqual(strictestLevel(pod([restrictedContainer("app")], { hostNetwork: true })), "privileged");
        assert.strictEqual(strictestLevel(pod([restrictedContainer("app")], { securityContext: { seccompProfile: { type: "RuntimeDefault" }, sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }] } })), "restricted");
        assert.strictEqual(strictestLevel(pod([restrictedContainer("app")], { securityContext: { seccompProfile: { type: "RuntimeDefault" }, sysctls: [{ name: "kernel.msgmax", value: "1" }] } })), "privileged");
    });
});

describe("Istio CNI: the node agent replaces istio-init", () => {
    for (const stack of STACKS) {
        it(`${stack}: the CNI chart ${"(cni 1.30.3)"} renders with the program's values in kube-system, chained into the VPC CNI's configuration`, async () => {
            const { releases, kubernetesVersion } = await programReleases(stack);
            const cni = releases.filter((r) => r.chart === "cni");
            assert.deepStrictEqual(cni.map((r) => [r.resource, r.name, r.version, r.namespace, r.repo]), [["istio-cni", "istio-cni", istioOf(stack).version, "kube-system", "https://blob.istio.io/istio-release/charts"]]);
            const objects = renderRelease(cni[0], kubernetesVersion);
            validateAll(objects);
            const daemonSet = one(objects, "DaemonSet", "istio-cni-node");
            assert.deepStrictEqual(containersOf(daemonSet).map((c) => c.image), ["registry.istio.io/release/install-cni:1.30.3"]);
            assert.ok(containersOf(daemonSet).every((c) => imagePinned(c.image)));
            const config = one(objects, "ConfigMap", "istio-cni-config").data;
            assert.deepStrictEqual([config.CHAINED_CNI_PLUGIN, config.EXCLUDE_NAMESPACES, config.REPAIR_INIT_CONTAINER_NAME], ["true", "kube-system", "istio-validation"]);
            const hostPaths = Object.fromEntries(daemonSet.spec.template.spec.volumes.filter((v: any) => v.hostPath).map((v: any) => [v.name, v.hostPath.path]));
            assert.deepStrictEqual([hostPaths["cni-bin-dir"], hostPaths["cni-net-dir"]], ["/opt/cni/bin", "/etc/cni/net.d"], "where EKS's VPC CNI keeps its plugins and its configuration list");
            // The agent itself is privileged: that is why its namespace is.
            assert.strictEqual(strictestLevel(podSpecOf(daemonSet)!), "privileged");
            assert.strictEqual(PLATFORM_NAMESPACE_LEVELS["kube-system"], "privileged");
        });

        it(`${stack}: istiod renders its injector with CNI on (istio-validation instead of istio-init) and RuntimeDefault seccomp for the proxies`, async () => {
            const { releases, kubernetesVersion } = await programReleases(stack);
            const istiod = releases.find((r) => r.resource === "istio-istiod-1-30-3")!;
            const values = injectorValues(renderRelease(istiod, kubernetesVersion), "1-30-3");
            assert.strictEqual(values.pilot.cni.enabled, true);
            assert.deepStrictEqual(values.global.proxy.seccompProfile, { type: "RuntimeDefault" });
            assert.strictEqual(values.global.proxy.privileged, false);
            // The same chart without the program's CNI value injects istio-init: the assertion above can fail.
            const { cni: _cni, ...pilot } = (istiod.values as any).pilot;
            const without = injectorValues(renderRelease({ ...istiod, values: { ...(istiod.values as any), pilot } }, kubernetesVersion), "1-30-3");
            assert.strictEqual(without.pilot.cni.enabled, false);
        });
    }

    it("the CNI node agent installs before every istiod, under Pulumi mocks; a canary revision waits for the same agent", async () => {
        for (const config of [istioOf("prod"), istioFrom({ version: "1.29.6", canaryVersion: "1.30.3" })]) {
            const { resources } = await runMocked("staging", {}, () => {
                new Istio("istio", { config, platform: "eks", kubernetesVersion: "1.35", provider: new k8s.Provider("test-k8s", {}) });
            });
            const releases = ofType(resources, RELEASE);
            const cni = releases.filter((r) => r.inputs.chart === "cni");
            assert.deepStrictEqual(cni.map((r) => [r.name, r.inputs.version, r.inputs.namespace]), [["istio-cni", config.version, "kube-system"]]);
            const istiods = releases.filter((r) => r.inputs.chart === "istiod");
            assert.strictEqual(istiods.length, config.canaryVersion ? 2 : 1);
            for (const istiod of istiods) {
                assert.ok(dependencyNames(istiod).includes("istio-cni"), `${istiod.name} waits for istio-cni: ${dependencyNames(istiod).join()}`);
                assert.strictEqual(istiod.inputs.values.pilot.cni.enabled, true, istiod.name);
            }
            // The agent waits for kube-system's Pod Security labels, which let its privileged pods in.
            assert.deepStrictEqual(dependencyNames(cni[0]), ["istio-kube-system"]);
        }
    });

    it("a canaryVersion has no CNI of its own: the agent is a cluster singleton, at the default (older) version, which the 1.29.6 archive renders", () => {
        const config = istioFrom({ version: "1.29.6", canaryVersion: "1.30.3" });
        assert.strictEqual(cniVersion(config), "1.29.6");
        const cni = istioReleases(config, "eks").filter((r) => r.chart === "cni");
        assert.strictEqual(cni.length, 1);
        const old = renderRelease(cni[0]);
        validateAll(old);
        assert.deepStrictEqual(containersOf(one(old, "DaemonSet", "istio-cni-node")).map((c) => c.image), ["docker.io/istio/install-cni:1.29.6"]);
        // Why one: whatever its `revision`, the chart names its cluster-wide objects and its DaemonSet the same, so a
        // second release (even in another namespace) would collide with the first; and a node has one CNI chain.
        const clusterScoped = (objects: any[]) => objects.filter((o) => ["ClusterRole", "ClusterRoleBinding"].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`).sort();
        const canary = renderRelease({ ...cni[0], version: "1.30.3", name: "istio-cni-1-30-3", namespace: "istio-system", values: { ...cni[0].values, revision: "1-30-3" } });
        assert.deepStrictEqual(clusterScoped(canary), clusterScoped(old));
        assert.ok(clusterScoped(old).length > 0);
        assert.strictEqual(one(canary, "DaemonSet").metadata.name, one(old, "DaemonSet").metadata.name);
        // Both istiods inject without istio-init.
        for (const r of istioReleases(config, "eks").filter((x) => x.chart === "istiod")) assert.strictEqual((r.values as any).pilot.cni.enabled, true);
        assert.strictEqual((istiodValues(config, "1-30-3") as any).pilot.cni.enabled, true);
    });
});

describe("Pod Security Standards: every platform pod passes its namespace's level", () => {
    for (const stack of STACKS) {
        it(`${stack}: each pod the platform's charts render passes the level its namespace enforces; istiod passes restricted`, async () => {
            const { releases, kubernetesVersion } = await programReleases(stack);
            let pods = 0;
            for (const r of releases) {
                for (const o of renderRelease(r, kubernetesVersion)) {
                    const p = podSpecOf(o);
                    if (!p) continue;
                    pods++;
                    const namespace = o.metadata.namespace ?? r.namespace;
                    const level = PLATFORM_NAMESPACE_LEVELS[namespace];
                    assert.ok(level, `${stack}: ${o.kind}/${o.metadata.name} in ${namespace}, which has no Pod Security level`);
                    assert.deepStrictEqual(podSecurityViolations(p, level), [], `${stack}: ${o.kind}/${o.metadata.name} in ${namespace} (${level})`);
                    if (o.kind === "Deployment" && /^istiod-/.test(o.metadata.name)) assert.deepStrictEqual(podSecurityViolations(p, "restricted"), [], o.metadata.name);
                }
            }
            assert.ok(pods >= 5, `${stack}: ${pods} pods`);
        });

        it(`${stack}: istio-system, istio-ingress, kube-system and the observability namespaces carry their levels, pinned to the cluster's Kubernetes minor`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const labelsOf = (type: string, name: string) => ofType(resources, type).find((n) => n.inputs.metadata.name === name)?.inputs.metadata.labels;
            assert.deepStrictEqual(labelsOf("kubernetes:core/v1:Namespace", "istio-system"), podSecurityLabels("restricted", "1.35"));
            if (stack !== "staging") {
                // Where the stack runs observability: Prometheus alone in its namespace, Grafana and Kiali in theirs.
                for (const ns of ["prometheus", "observability"]) {
                    const got = labelsOf("kubernetes:core/v1:Namespace", ns);
                    assert.deepStrictEqual(got && Object.fromEntries(Object.entries(got).filter(([k]) => k.startsWith("pod-security"))), podSecurityLabels("baseline", "1.35"), ns);
                }
            }
            assert.deepStrictEqual(labelsOf("kubernetes:core/v1:Namespace", "istio-ingress"), podSecurityLabels("restricted", "1.35"));
            assert.deepStrictEqual(labelsOf("kubernetes:core/v1:NamespacePatch", "kube-system"), podSecurityLabels("privileged", "1.35"));
            assert.deepStrictEqual(podSecurityLabels("restricted", "1.35"), {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "v1.35",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/warn-version": "v1.35",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/audit-version": "v1.35",
            });
        });
    }
});
