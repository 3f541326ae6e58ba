// The stacks as configured: the program (index.ts) run under Pulumi mocks for each stack, and every enabled
// rule of the pack, with that stack's config file, run over the resources it registers.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { rules } from "../../policies/rules";
import { meshMtlsStrict } from "../../policies/rules/mesh";
import { readStackConfig } from "../../scripts/stack-file";
import { runProgram } from "../helpers/mocks";
import { checkResource, checkStack, CLUSTER, PACK, PEER_AUTH, RELEASE, StackRes, STACKS } from "./harness";

/**
 * Rules every configured stack must pass under mocks, with its own config file. Infra rules only judge what the
 * program registers (a rule about node groups does not apply to a stack without them); mTLS is judged once the
 * program installs Istio. The EKS control-plane rules judge the cluster the stack file configures: prod passes
 * them (mandatory there); staging and uat knowingly keep an API endpoint open to the internet, and staging keeps no
 * control-plane logs, which their config files make advisory — those warnings are listed below, and expected. uat
 * keeps its audit log: its config requires `audit` (mandatory).
 */
const EXCLUDED = new Set(["policy-config-matches-stack"]);
/** The advisory warnings (by rule) a stack's policy config accepts knowingly; any other violation fails. */
const ACCEPTED_ADVISORIES: Record<string, string[]> = {
    staging: ["eks-control-plane-logging", "eks-api-endpoint-restricted", "ingress-tls"],
    uat: ["eks-api-endpoint-restricted"],
    prod: [],
};

/** What each enabled rule (with its level and parameters from config.<stack>.json) reports on a program run. */
async function programViolations(stack: string, stackConfig: Record<string, unknown>): Promise<{ level: Map<string, string>; messages: Map<string, string[]>; resources: StackRes[] }> {
    const config = JSON.parse(fs.readFileSync(path.join(PACK, `config.${stack}.json`), "utf8"));
    const { resources } = await runProgram(stack, stackConfig);
    // Custom resources with their inputs; the mocks give each the id `<name>-id`.
    const stackResources: StackRes[] = resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, props: { ...r.inputs, id: `${r.name}-id` } }));
    const hasIstio = stackResources.some((r) => r.type === PEER_AUTH || (r.type === RELEASE && r.props.chart === "istiod"));
    const level = new Map<string, string>();
    const messages = new Map<string, string[]>();
    for (const rule of rules) {
        const entry = config[rule.name];
        const { enforcementLevel, ...ruleConfig } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
        if (EXCLUDED.has(rule.name) || enforcementLevel === "disabled" || (rule === meshMtlsStrict && !hasIstio)) continue;
        level.set(rule.name, enforcementLevel);
        const found: string[] = [];
        if ("validateStack" in rule) {
            found.push(...(await checkStack(rule, stack, stackResources, ruleConfig)).messages);
        } else {
            for (const r of stackResources) found.push(...(await checkResource(rule, { ...r, stack }, ruleConfig)).messages);
        }
        messages.set(rule.name, found);
    }
    return { level, messages, resources: stackResources };
}

describe("policy pack on the stacks as configured (index.ts under Pulumi mocks)", () => {
    for (const stack of STACKS) {
        const accepted = ACCEPTED_ADVISORIES[stack];
        const but = accepted.length > 0 ? `, but for the advisory ${accepted.join(" and ")}` : "";
        it(`${stack}: the program's resources pass every enabled rule${but}`, async () => {
            const { level, messages, resources } = await programViolations(stack, readStackConfig(stack));
            assert.ok(resources.some((r) => r.type === RELEASE), "the program registers service releases");
            assert.ok(resources.some((r) => r.type === CLUSTER), "the program registers the EKS cluster");
            for (const name of ["eks-control-plane-logging", "eks-api-endpoint-restricted"]) assert.ok(level.has(name), `${name} runs for ${stack}`);
            // The platform's rules judge every stack's cluster, mandatory everywhere.
            for (const name of ["node-groups-hardened", "eks-core-addons-managed", "eks-control-plane-log-retention", "no-public-ingress", "storage-classes-encrypted", "chart-versions-pinned", "ingress-nlb-ip-targets"]) {
                assert.strictEqual(level.get(name), "mandatory", `${name} runs for ${stack}`);
            }
            // TLS at the edge: mandatory in prod, advisory elsewhere (staging ships without a certificate).
            assert.strictEqual(level.get("ingress-tls"), stack === "prod" ? "mandatory" : "advisory", `ingress-tls runs for ${stack}`);
            for (const name of accepted) {
                assert.strictEqual(level.get(name), "advisory", `${stack} accepts ${name} only as advisory`);
                assert.ok(messages.get(name)!.length > 0, `${stack} still warns of ${name} (else drop it from ACCEPTED_ADVISORIES)`);
            }
            const violations = [...messages].filter(([name]) => !accepted.includes(name)).flatMap(([name, found]) => found.map((m) => `${name}: ${m}`));
            assert.deepStrictEqual(violations, []);
        });
    }

    it("uat requires its audit log: without it the cluster violates the mandatory eks-control-plane-logging", async () => {
        const uat = readStackConfig("uat");
        const { level, messages } = await programViolations("uat", { ...uat, cluster: { ...(uat.cluster as Record<string, unknown>), logging: [] } });
        assert.strictEqual(level.get("eks-control-plane-logging"), "mandatory");
        assert.deepStrictEqual(messages.get("eks-control-plane-logging"), ["EKS cluster cluster-eks: control-plane logging is missing audit (enabledClusterLogTypes is []; required: audit)"]);
    });

    const prod = readStackConfig("prod");
    const prodWithCluster = (edit: Record<string, unknown>) => ({ ...prod, cluster: { ...(prod.cluster as Record<string, unknown>), ...edit } });
    const eksRules = (messages: Map<string, string[]>) => ({
        "eks-api-endpoint-restricted": messages.get("eks-api-endpoint-restricted"),
        "eks-control-plane-logging": messages.get("eks-control-plane-logging"),
    });

    it("prod: a gateway without a certificate fails ingress-tls, mandatory there", async () => {
        const cluster = prod.cluster as Record<string, any>;
        const { gateway } = cluster.istio;
        const withoutTls = prodWithCluster({ istio: { ...cluster.istio, gateway: { replicas: gateway.replicas, maxReplicas: gateway.maxReplicas, serviceType: gateway.serviceType } } });
        const { level, messages } = await programViolations("prod", withoutTls);
        assert.strictEqual(level.get("ingress-tls"), "mandatory");
        assert.deepStrictEqual(messages.get("ingress-tls"), [
            'gateway release istio-gateway: its Service annotation service.beta.kubernetes.io/aws-load-balancer-ssl-cert is nothing, so the internet reaches the gateway over plain HTTP; set cluster.istio.gateway.tls.certificateArn to the stack\'s ACM certificate (docs/operations.md "Bootstrapping a stack")',
        ]);
    });

    it("prod: a cluster config with an API endpoint open to the internet and no control-plane logs fails both EKS rules, mandatory there", async () => {
        const { level, messages } = await programViolations("prod", prodWithCluster({ apiEndpoint: { public: true }, logging: [] }));
        assert.deepStrictEqual([level.get("eks-api-endpoint-restricted"), level.get("eks-control-plane-logging")], ["mandatory", "mandatory"]);
        assert.deepStrictEqual(eksRules(messages), {
            "eks-api-endpoint-restricted": [
                "EKS cluster cluster-eks: the public API endpoint is open to 0.0.0.0/0. Set vpcConfig.endpointPublicAccess to false (with endpointPrivateAccess), or list the allowed CIDR blocks in vpcConfig.publicAccessCidrs, or opt in explicitly with allowPublicApiEndpoint: true in this stack's policy config",
            ],
            "eks-control-plane-logging": ["EKS cluster cluster-eks: control-plane logging is missing api, audit, authenticator (enabledClusterLogTypes is []; required: api, audit, authenticator)"],
        });
    });

    it("prod: a public endpoint limited to listed CIDR blocks passes", async () => {
        const { messages } = await programViolations("prod", prodWithCluster({ apiEndpoint: { public: true, publicAccessCidrs: ["203.0.113.0/24", "198.51.100.7/32"] } }));
        assert.deepStrictEqual(eksRules(messages), { "eks-api-endpoint-restricted": [], "eks-control-plane-logging": [] });
    });
});
