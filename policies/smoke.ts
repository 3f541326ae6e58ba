// Smoke check of the pack as the Pulumi CLI runs it, without the CLI: starts the pack with Pulumi's own
// policy-pack runner (which type-checks and compiles it with ts-node from this directory), then talks to
// its analyzer over gRPC the way the engine does — info, configure with config.<stack>.json, analyze one
// resource, analyze a stack — and checks the answers.
//
//   npx ts-node --transpile-only policies/smoke.ts [stack]      (stack: staging | uat | prod, default prod)
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

/* eslint-disable @typescript-eslint/no-var-requires */
const grpc = require("@grpc/grpc-js");
const analyzerpb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const structpb = require("google-protobuf/google/protobuf/struct_pb");
const emptypb = require("google-protobuf/google/protobuf/empty_pb");

const packDir = __dirname;
const LEVELS: Record<string, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };
const LEVEL_NAMES = Object.fromEntries(Object.entries(LEVELS).map(([k, v]) => [v, k]));

function startPack(): Promise<{ child: ChildProcess; port: number }> {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    return new Promise((resolve, reject) => {
        child.stdout!.once("data", (d) => resolve({ child, port: Number(String(d).trim()) }));
        child.once("exit", (code) => reject(new Error(`the policy pack exited with ${code} before serving:\n${stderr}`)));
    });
}

/** A diagnostic's message is the policy's description, a newline, then the violation. */
function lastLine(message: string): string {
    return message.split("\n").pop()!;
}

function call<T>(client: any, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

function options(): any {
    const opts = new analyzerpb.AnalyzerResourceOptions();
    opts.setProtect(false);
    return opts;
}

function resource(kind: "AnalyzeRequest" | "AnalyzerResource", stack: string, type: string, name: string, props: object): any {
    const r = new analyzerpb[kind]();
    r.setType(type);
    r.setName(name);
    r.setUrn(`urn:pulumi:${stack}::stagehand::${type}::${name}`);
    r.setProperties(structpb.Struct.fromJavaScript(props));
    r.setOptions(options());
    return r;
}

function serviceValues(tag: string, canaryReplicas: number, canaryWeight: number) {
    return {
        fullnameOverride: "checkout",
        image: { repository: "ghcr.io/acme/checkout" },
        tracks: { production: { tag: "1.4.2", replicas: 2, weight: 100 - canaryWeight }, canary: { tag, replicas: canaryReplicas, weight: canaryWeight } },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        probes: { readiness: { path: "/healthz" } },
        env: {},
    };
}

async function main(stack: string): Promise<void> {
    const config = JSON.parse(fs.readFileSync(path.join(packDir, `config.${stack}.json`), "utf8"));
    const { child, port } = await startPack();
    try {
        const client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

        const info: any = await call(client, "getAnalyzerInfo", new emptypb.Empty());
        const names = info.getPoliciesList().map((p: any) => p.getName());
        assert.strictEqual(info.getName(), "stagehand");
        console.log(`pack ${info.getName()} serves ${names.length} policies: ${names.join(", ")}`);

        const configure = new analyzerpb.ConfigureAnalyzerRequest();
        for (const [policy, value] of Object.entries<any>(config)) {
            const pc = new analyzerpb.PolicyConfig();
            const { enforcementLevel, ...props } = typeof value === "string" ? { enforcementLevel: value } : value;
            pc.setEnforcementlevel(LEVELS[enforcementLevel]);
            pc.setProperties(structpb.Struct.fromJavaScript(props));
            configure.getPolicyconfigMap().set(policy, pc);
        }
        await call(client, "configure", configure);

        // One resource: a service release whose canary runs `latest`.
        const analyzed: any = await call(client, "analyze", resource("AnalyzeRequest", stack, "kubernetes:helm.sh/v3:Release", "checkout", {
            name: "checkout", namespace: "checkout", chart: "./charts/service", atomic: true, timeout: 600, values: serviceValues("latest", 1, 10),
        }));
        const diags = analyzed.getDiagnosticsList().map((d: any) => `${d.getPolicyname()} [${LEVEL_NAMES[d.getEnforcementlevel()]}]: ${lastLine(d.getMessage())}`);
        console.log(`analyze (canary tag "latest"):\n  ${diags.join("\n  ")}`);
        assert.ok(diags.some((d: string) => d.startsWith("service-image-tag-pinned [mandatory]: release checkout: tracks.canary.tag")), "the latest tag is refused");

        // A stack: 10% of traffic to a canary with no replicas.
        const stackReq = new analyzerpb.AnalyzeStackRequest();
        stackReq.setResourcesList([
            resource("AnalyzerResource", stack, "pulumi:pulumi:Stack", `stagehand-${stack}`, {}),
            resource("AnalyzerResource", stack, "kubernetes:helm.sh/v3:Release", "checkout", {
                name: "checkout", namespace: "checkout", atomic: true, timeout: 600, values: serviceValues("1.5.0", 0, 10),
            }),
        ]);
        const stackRes: any = await call(client, "analyzeStack", stackReq);
        const stackDiags = stackRes.getDiagnosticsList().map((d: any) => `${d.getPolicyname()} [${LEVEL_NAMES[d.getEnforcementlevel()]}]: ${lastLine(d.getMessage())}`);
        console.log(`analyzeStack (10% to a canary with 0 replicas):\n  ${stackDiags.join("\n  ")}`);
        assert.ok(stackDiags.some((d: string) => d.startsWith("service-traffic-routes-ready-tracks [mandatory]: service checkout (namespace checkout): 10% of traffic")));
        client.close();
        console.log("ok");
    } finally {
        child.kill();
    }
}

main(process.argv[2] ?? "prod").catch((e) => {
    console.error(e);
    process.exit(1);
});
