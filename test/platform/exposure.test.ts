// What the internet can reach. Staging's nodes sit in public subnets with public IPv4 addresses (no NAT gateway, to
// save its cost): nothing on them may answer the internet except through the load balancer. Checked on what the
// program registers for every stack and on the gateway Service the real gateway chart renders.
import * as assert from "assert";
import { GATEWAY_SERVICE_PORTS } from "../../components/platform/ingress";
import { gatewayValues } from "../../components/platform/istio";
import { parseCluster } from "../../components/platform/config";
import { readStackConfig } from "../../scripts/stack-file";
import { kind, one, programReleases, renderRelease } from "../helpers/charts";
import { ofType, Registered, runProgram } from "../helpers/mocks";

const STACKS = ["staging", "uat", "prod"];
const OPEN = ["0.0.0.0/0", "::/0"];

/** Every ingress rule a stack's resources declare, with the sources it lets in. */
function ingressRules(resources: Registered[]): { name: string; sources: string[]; ports: string }[] {
    const rules: { name: string; sources: string[]; ports: string }[] = [];
    for (const r of ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
        rules.push({ name: r.name, sources: [r.inputs.cidrIpv4, r.inputs.cidrIpv6, r.inputs.referencedSecurityGroupId, r.inputs.prefixListId].filter(Boolean), ports: `${r.inputs.fromPort}-${r.inputs.toPort}` });
    }
    for (const r of ofType(resources, "aws:ec2/securityGroupRule:SecurityGroupRule").filter((x) => x.inputs.type === "ingress")) {
        rules.push({ name: r.name, sources: [...(r.inputs.cidrBlocks ?? []), ...(r.inputs.ipv6CidrBlocks ?? [])], ports: `${r.inputs.fromPort}-${r.inputs.toPort}` });
    }
    for (const g of ofType(resources, "aws:ec2/securityGroup:SecurityGroup")) {
        for (const i of g.inputs.ingress ?? []) rules.push({ name: g.name, sources: [...(i.cidrBlocks ?? []), ...(i.ipv6CidrBlocks ?? [])], ports: `${i.fromPort}-${i.toPort}` });
    }
    return rules;
}

describe("exposure: nothing on the nodes answers the internet but through the load balancer", () => {
    for (const stack of STACKS) {
        it(`${stack}: no security group rule of the stack lets in 0.0.0.0/0 or ::/0; the only one lets the VPC reach the API`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            const rules = ingressRules(resources);
            for (const rule of rules) for (const source of rule.sources) assert.ok(!OPEN.includes(source), `${rule.name} lets in ${source} on ${rule.ports}`);
            assert.deepStrictEqual(rules, [{ name: "cluster-api-from-vpc", sources: ["10.0.0.0/16"], ports: "443-443" }]);
        });

        it(`${stack}: nodes carry only the cluster security group EKS gives them, and no SSH access`, async () => {
            const { resources } = await runProgram(stack, readStackConfig(stack));
            for (const t of ofType(resources, "aws:ec2/launchTemplate:LaunchTemplate")) {
                for (const field of ["vpcSecurityGroupIds", "securityGroupNames", "networkInterfaces", "keyName"]) assert.strictEqual(t.inputs[field], undefined, `${t.name}.${field}`);
            }
            for (const g of ofType(resources, "aws:eks/nodeGroup:NodeGroup")) assert.strictEqual(g.inputs.remoteAccess, undefined, g.name);
        });

        it(`${stack}: the gateway's Service opens no NodePort and no port but the Gateway's (HTTPS 443 where the stack has a certificate, else HTTP 80)`, async () => {
            const { releases, kubernetesVersion } = await programReleases(stack);
            const gateway = releases.find((r) => r.resource === "istio-gateway")!;
            const service = one(renderRelease(gateway, kubernetesVersion), "Service", "istio-ingress");
            assert.strictEqual(service.spec.type, "LoadBalancer");
            assert.strictEqual(service.spec.allocateLoadBalancerNodePorts, false);
            const ports = stack === "staging" ? [{ name: "http2", port: 80, protocol: "TCP", targetPort: 80 }] : [{ name: "http2-tls", port: 443, protocol: "TCP", targetPort: 80 }];
            assert.deepStrictEqual(service.spec.ports, ports);
            assert.ok(service.spec.ports.every((p: any) => p.nodePort === undefined));
            assert.deepStrictEqual(kind(renderRelease(gateway, kubernetesVersion), "Service").length, 1);
        });
    }

    it("staging's nodes are the public ones (public subnets, public IPs), which is why the rules above matter", async () => {
        const { resources } = await runProgram("staging", readStackConfig("staging"));
        const subnets = ofType(resources, "aws:ec2/subnet:Subnet");
        assert.ok(subnets.length > 0 && subnets.every((s) => s.inputs.mapPublicIpOnLaunch === true));
    });

    it("the ports follow the shared Gateway; NodePort allocation is kept where the Service has no load balancer", () => {
        assert.deepStrictEqual(GATEWAY_SERVICE_PORTS.map((p) => p.port), [80]);
        const nodePort = gatewayValues(parseCluster("t", { istio: { gateway: { serviceType: "NodePort" } } }).istio, "eks") as any;
        assert.strictEqual(nodePort.service.allocateLoadBalancerNodePorts, undefined);
        const existing = gatewayValues(parseCluster("t", { kind: "existing" }).istio, "existing") as any;
        assert.strictEqual(existing.service.allocateLoadBalancerNodePorts, undefined, "another cluster's load balancer may rely on NodePorts");
    });
});
