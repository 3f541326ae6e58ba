// TLS at the edge: a stack with an ACM certificate (`cluster.istio.gateway.tls.certificateArn`) has its NLB terminate
// HTTPS on 443 and closes port 80; the shared Gateway serves the Service's 443 (HTTP behind the NLB), and the sticky
// cookies are Secure. Checked on the config's validation, on the gateway chart 1.30.3 rendered by the real helm with
// the program's values, on the Istio Gateway against Istio's schema, and on a service's rendered VirtualService.
import * as assert from "assert";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { certificateProblems, parseCluster } from "../../components/platform/config";
import { edgeTls, TLS_NEGOTIATION_POLICY } from "../../components/platform/ingress";
import { gatewayValues, ingressGateway } from "../../components/platform/istio";
import { helmTemplate } from "../../scripts/helm";
import { readStackConfig } from "../../scripts/stack-file";
import { one, programReleases, renderRelease } from "../helpers/charts";
import { ofType, runProgram } from "../helpers/mocks";
import { problemsOf } from "../helpers/problems";
import { validateAll, validateObject } from "../helpers/schemas";

const ARN = "arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-4333-8444-555555555555";
const TLS_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": ARN,
    "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "443",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "tcp",
};
const ARN_WORDS = 'an ACM certificate ARN such as "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"';

describe("edge TLS: config", () => {
    it("accepts an ACM certificate ARN; none is allowed (plain HTTP, as staging ships)", () => {
        const cluster = parseCluster("prod", { istio: { gateway: { tls: { certificateArn: ARN } } } });
        assert.deepStrictEqual(cluster.istio.gateway.tls, { certificateArn: ARN });
        assert.strictEqual(edgeTls(cluster.istio, "eks"), true);
        assert.strictEqual(parseCluster("staging", {}).istio.gateway.tls, undefined);
        assert.strictEqual(edgeTls(parseCluster("staging", {}).istio, "eks"), false);
    });

    it("refuses what is not an ACM certificate ARN, and tls without an NLB, naming the field", () => {
        const problems = (tls: unknown, extra: Record<string, unknown> = {}) => problemsOf(() => parseCluster("prod", { istio: { gateway: { ...extra, tls } } }));
        for (const bad of ["arn:aws:iam::111122223333:server-certificate/web", "arn:aws:acm:us-east-1:1111:certificate/11111111-2222-4333-8444-555555555555", "11111111-2222-4333-8444-555555555555"]) {
            assert.deepStrictEqual(problems({ certificateArn: bad }), [`stack prod, field cluster.istio.gateway.tls.certificateArn: expected ${ARN_WORDS}, found ${JSON.stringify(bad)}`], bad);
        }
        assert.deepStrictEqual(problems({ certificateArn: ARN }, { serviceType: "NodePort" }), [
            "stack prod, field cluster.istio.gateway.tls: expected no tls with serviceType NodePort (TLS is terminated by the NLB of serviceType LoadBalancer: remove tls, or set serviceType: LoadBalancer), found an object",
        ]);
    });

    it("refuses a certificate of another region, and one on a cluster stagehand does not create", () => {
        const other = "arn:aws:acm:eu-west-1:111122223333:certificate/11111111-2222-4333-8444-555555555555";
        const prod = readStackConfig("prod");
        const cluster = prod.cluster as Record<string, any>;
        const withArn = { ...prod, cluster: { ...cluster, istio: { ...cluster.istio, gateway: { ...cluster.istio.gateway, tls: { certificateArn: other } } } } };
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("prod", withArn, { region: "us-east-1" })), [
            `stack prod, field cluster.istio.gateway.tls.certificateArn: expected an ACM certificate of the stack's region us-east-1 (aws:region; an NLB uses only certificates of its own region): request one there and write its ARN, found "${other}"`,
        ]);
        assert.deepStrictEqual(certificateProblems("prod", parseCluster("prod", { istio: { gateway: { tls: { certificateArn: ARN } } } }), "us-east-1"), []);
        const existing = parseCluster("dev", { kind: "existing", istio: { gateway: { tls: { certificateArn: ARN } } } });
        assert.deepStrictEqual(certificateProblems("dev", existing, undefined), [
            `stack dev, field cluster.istio.gateway.tls: expected no tls with kind: existing (the edge of a cluster stagehand does not create is not its NLB; terminate TLS where that cluster's load balancer is), found {"certificateArn":"${ARN}"}`,
        ]);
    });

    it("the shipped uat and prod name a certificate of their region; staging none", () => {
        for (const [stack, tls] of [["staging", false], ["uat", true], ["prod", true]] as const) {
            const config = parseStackConfig(stack, readStackConfig(stack), { region: "us-east-1" });
            assert.strictEqual(edgeTls(config.cluster.istio, config.cluster.kind), tls, stack);
        }
    });
});

describe("edge TLS: the gateway chart 1.30.3 rendered with the program's values", () => {
    for (const [stack, tls] of [["staging", false], ["uat", true], ["prod", true]] as const) {
        it(`${stack}: ${tls ? "the NLB terminates TLS on 443 with the stack's certificate, port 80 closed" : "plain HTTP on 80, no certificate"}`, async () => {
            const { releases, kubernetesVersion } = await programReleases(stack);
            const gateway = releases.find((r) => r.resource === "istio-gateway")!;
            const objects = renderRelease(gateway, kubernetesVersion);
            validateAll(objects);
            const service = one(objects, "Service", "istio-ingress");
            const annotations = service.metadata.annotations ?? {};
            if (tls) {
                assert.deepStrictEqual(service.spec.ports, [{ name: "http2-tls", port: 443, protocol: "TCP", targetPort: 80 }]);
                for (const [k, v] of Object.entries(TLS_ANNOTATIONS)) {
                    if (k.endsWith("ssl-cert")) assert.match(annotations[k], /^arn:aws:acm:us-east-1:111122223333:certificate\//);
                    else assert.strictEqual(annotations[k], v, k);
                }
            } else {
                assert.deepStrictEqual(service.spec.ports, [{ name: "http2", port: 80, protocol: "TCP", targetPort: 80 }]);
                assert.ok(Object.keys(annotations).every((k) => !k.includes("ssl")), JSON.stringify(annotations));
            }
            // The NLB's health check stays on the pods' readiness endpoint, whatever the listener.
            assert.strictEqual(annotations["service.beta.kubernetes.io/aws-load-balancer-healthcheck-port"], "15021");
        });
    }

    it("TLS annotations only on the NLB: a NodePort gateway and an existing cluster's keep plain ports", () => {
        const eks = gatewayValues(parseCluster("t", { istio: { gateway: { tls: { certificateArn: ARN } } } }).istio, "eks") as any;
        assert.deepStrictEqual(eks.service.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"], ARN);
        assert.strictEqual(TLS_NEGOTIATION_POLICY, "ELBSecurityPolicy-TLS13-1-2-2021-06");
        // Parsed as eks, rendered for another platform: no NLB, so neither TLS annotations nor the 443-only port.
        const elsewhere = gatewayValues(parseCluster("t", { istio: { gateway: { tls: { certificateArn: ARN } } } }).istio, "existing") as any;
        assert.deepStrictEqual(elsewhere.service, { type: "LoadBalancer", annotations: {}, ports: [{ name: "http2", port: 80, protocol: "TCP", targetPort: 80 }] });
    });
});

describe("edge TLS: the shared Istio Gateway", () => {
    it("serves the Service's port 443 as HTTP with TLS at the NLB (Istio listens on its targetPort, 80), port 80 without; both valid Istio objects", () => {
        const tls = ingressGateway(true);
        validateObject(tls);
        assert.deepStrictEqual(tls.spec.servers, [{ port: { number: 443, name: "http-tls", protocol: "HTTP" }, hosts: ["*"] }]);
        const plain = ingressGateway(false);
        validateObject(plain);
        assert.deepStrictEqual(plain.spec.servers, [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }]);
    });

    it("the program registers the Gateway on the Service's port: 443 in prod, 80 in staging", async () => {
        for (const [stack, port] of [["staging", 80], ["prod", 443]] as const) {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const gw = ofType(resources, "kubernetes:networking.istio.io/v1:Gateway")[0].inputs;
            validateObject({ apiVersion: gw.apiVersion, kind: gw.kind, metadata: gw.metadata, spec: gw.spec });
            assert.deepStrictEqual(gw.spec.servers.map((s: any) => s.port.number), [port], stack);
        }
    });
});

describe("edge TLS: sticky cookies are Secure where the edge is HTTPS", () => {
    const CHART = path.resolve(__dirname, "../../charts/service");
    /** A stack file with one service sticky by cookie at its 10% canary stage, as the program registers it. */
    async function setCookies(stack: string): Promise<Record<string, string>> {
        const raw = readStackConfig(stack);
        const services = raw.services as Record<string, any>;
        const [name] = Object.keys(services);
        const config = { ...raw, services: { ...services, [name]: { ...services[name], canary: "9.9.9", stage: 2, sticky: { cookie: `${name}-track` } } } };
        const { resources } = await runProgram(stack, config, {});
        const routing = ofType(resources, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "./charts/service" && r.inputs.values?.parts?.routing && r.inputs.values.fullnameOverride === name)!;
        const objects = helmTemplate(CHART, { releaseName: name, namespace: routing.inputs.namespace, values: routing.inputs.values });
        validateAll(objects);
        const vs = objects.find((o) => o.kind === "VirtualService")!;
        const route = vs.spec.http.find((r: any) => r.name === "default");
        return Object.fromEntries(route.route.map((d: any) => [d.destination.subset, d.headers.response.add["set-cookie"]]));
    }

    it("prod (certificate): Secure on both tracks' cookies", async () => {
        const cookies = await setCookies("prod");
        assert.deepStrictEqual(Object.keys(cookies).sort(), ["canary", "production"]);
        for (const c of Object.values(cookies)) assert.match(c, /; HttpOnly; SameSite=Lax; Secure$/);
    });

    it("staging (no certificate, plain HTTP): not Secure, or browsers would drop the cookie", async () => {
        const cookies = await setCookies("staging");
        assert.ok(Object.keys(cookies).length === 2);
        for (const c of Object.values(cookies)) assert.match(c, /; HttpOnly; SameSite=Lax$/);
    });
});
