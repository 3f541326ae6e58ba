// Secrets in env values: Pulumi secrets in the stack file, a Kubernetes Secret for the pods, [secret] in words.
import * as assert from "assert";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { parseServices } from "../../components/service/config";
import { stagePlan } from "../../components/service/stages";
import { serviceReleaseSpecs } from "../../components/service/values";
import { fieldChanges } from "../../components/shared/field-diff";
import { markSecrets, secureLeaves, undecryptedSecrets } from "../../components/shared/secrets";
import { diffStack } from "../../scripts/diff";
import { helmTemplate } from "../../scripts/helm";
import { formatPlan } from "../../scripts/plan";
import { ofType, runProgram } from "../helpers/mocks";
import { problemsOf } from "../helpers/problems";
import { validateAll } from "../helpers/schemas";

const CHART = path.resolve(__dirname, "../../charts/service");
const STACK_FILE = `config:
  aws:region: us-east-1
  stagehand:services:
    payments:
      image: ghcr.io/acme/payments
      stable: "1.0.0"
      stage: 1
      replicas: 2
      env:
        LOG_LEVEL: info
        DB_PASSWORD:
          secure: v1:c2VjcmV0LWNpcGhlcnRleHQ=
`;
const payments = (env: Record<string, unknown>, over: Record<string, unknown> = {}) => ({ image: "ghcr.io/acme/payments", stable: "1.0.0", stage: 1, replicas: 2, env, ...over });

describe("secrets in env values (components/shared/secrets.ts)", () => {
    it("finds the secure values of a stack file and marks the decrypted ones the program receives", () => {
        const leaves = secureLeaves(STACK_FILE);
        assert.deepStrictEqual(leaves, [{ key: "services", path: ["payments", "env", "DB_PASSWORD"], secure: "v1:c2VjcmV0LWNpcGhlcnRleHQ=" }]);
        // What the Pulumi CLI hands over: the decrypted text in place of the ciphertext.
        const decrypted = { services: { payments: payments({ LOG_LEVEL: "info", DB_PASSWORD: "hunter2" }) } };
        const marked = markSecrets("staging", decrypted, leaves, ["services"]) as any;
        assert.deepStrictEqual(marked.services.payments.env, { LOG_LEVEL: "info", DB_PASSWORD: { secure: "v1:c2VjcmV0LWNpcGhlcnRleHQ=", value: "hunter2" } });
        assert.strictEqual((decrypted.services.payments.env as any).DB_PASSWORD, "hunter2", "the input is left as it was");
    });

    it("refuses a key Pulumi holds as secret when the stack file shows no secure value under it", () => {
        assert.deepStrictEqual(problemsOf(() => markSecrets("prod", { services: {} }, [], ["services"])), [
            "stack prod, field stagehand:services: expected its secrets as `secure:` values in Pulumi.prod.yaml (where the program finds which values are secret), found a secret key with none in the file",
        ]);
    });

    it("accepts secrets only as env values, saying where they go instead", () => {
        assert.deepStrictEqual(problemsOf(() => parseStackConfig("prod", { cluster: { kind: "existing" }, services: { payments: { ...payments({}), image: { secure: "v1:abc" } } } })), [
            "stack prod, field stagehand:services.payments.image: expected a plain value (secrets are accepted only as env values: services.<service>.env.<NAME>, or services.<service>.canary.env.<NAME>, and as alert receivers' credentials: observability.alertmanager.receivers[<index>].url, .routingKey or .password), found a secret (secure:)",
        ]);
        const config = parseStackConfig("prod", { cluster: { kind: "existing" }, services: { payments: payments({ A: { secure: "v1:abc" } }, { canary: { tag: "1.1.0", env: { B: { secure: "v1:def" } } }, stage: 2 }) } });
        assert.deepStrictEqual(config.services.payments.env, { A: { secure: "v1:abc" } });
    });

    it("says which secrets the program was not given the value of", () => {
        const services = parseServices("prod", { payments: payments({ A: { secure: "v1:abc" }, B: { secure: "v1:def", value: "x" } }) });
        assert.deepStrictEqual(undecryptedSecrets("prod", services), [
            "stack prod, service payments, field env.A: expected a secret Pulumi decrypts (set it with `pulumi config set --secret --path 'stagehand:services.payments.env.A' <value>`), found a ciphertext the program was not given the value of",
        ]);
    });

    it("hands a secret to the pods through a Kubernetes Secret: the chart values carry a reference, never the value", () => {
        const service = parseServices("prod", { payments: payments({ LOG_LEVEL: "info", DB_PASSWORD: { secure: "v1:abc", value: "hunter2" } }) }).payments;
        const specs = serviceReleaseSpecs({ name: "payments", service, plan: stagePlan(service) });
        const values = specs.production.values as any;
        assert.deepStrictEqual(values.env, { LOG_LEVEL: "info" });
        assert.deepStrictEqual(Object.keys(values.secretEnv), ["DB_PASSWORD"]);
        const { secretName, key } = values.secretEnv.DB_PASSWORD;
        assert.match(secretName, /^payments-env-[0-9a-f]{10}$/);
        assert.strictEqual(key, "DB_PASSWORD");
        assert.ok(!JSON.stringify(specs).includes("hunter2"), "no release carries the value");
        const objects = helmTemplate(CHART, { releaseName: specs.production.name, namespace: "payments", values });
        validateAll(objects);
        const container = objects.find((o) => o.kind === "Deployment").spec.template.spec.containers[0];
        assert.deepStrictEqual(container.env, [
            { name: "LOG_LEVEL", value: "info" },
            { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: secretName, key: "DB_PASSWORD" } } },
        ]);
        // A changed secret (a new ciphertext) is a new Secret name: the pod template changes, so the pods roll.
        const rotated = parseServices("prod", { payments: payments({ LOG_LEVEL: "info", DB_PASSWORD: { secure: "v1:xyz", value: "hunter3" } }) }).payments;
        const rotatedValues = serviceReleaseSpecs({ name: "payments", service: rotated, plan: stagePlan(rotated) }).production.values as any;
        assert.notStrictEqual(rotatedValues.secretEnv.DB_PASSWORD.secretName, secretName);
    });

    it("the program registers the Secret (its data a Pulumi secret) before the release that names it, and exports no value", async () => {
        const config = { cluster: { kind: "existing" }, services: { payments: payments({ LOG_LEVEL: "info", DB_PASSWORD: { secure: "v1:abc", value: "hunter2" } }) } };
        const { resources, outputs } = await runProgram("uat", config);
        const [secret] = ofType(resources, "kubernetes:core/v1:Secret");
        assert.match(secret.name, /^payments-env-[0-9a-f]{10}$/);
        assert.deepStrictEqual(secret.inputs.metadata, { name: secret.name, namespace: "payments", labels: { "app.kubernetes.io/name": "payments", "app.kubernetes.io/managed-by": "stagehand" } });
        // Sent to the engine as a secret (the SDK's secret signature), so the state and the preview keep it encrypted.
        const { specialSigKey, specialSecretSig } = require("@pulumi/pulumi/runtime/rpc");
        assert.deepStrictEqual(secret.inputs.stringData, { [specialSigKey]: specialSecretSig, value: { DB_PASSWORD: "hunter2" } });
        const releases = ofType(resources, "kubernetes:helm.sh/v3:Release");
        const production = releases.find((r) => r.name === "payments-production")!;
        assert.ok(production.dependencies.includes(secret.urn), "the production release waits for its Secret");
        for (const r of releases) assert.ok(!JSON.stringify(r.inputs).includes("hunter2"), `${r.name} carries no secret value`);
        assert.ok(!JSON.stringify(outputs).includes("hunter2"), "no output carries the value");
        assert.ok(!JSON.stringify(outputs).includes("v1:abc"), "nor its ciphertext");
    });

    it("plan shows [secret], and the diff names a changed secret without its value", () => {
        const config = parseStackConfig("uat", { cluster: { kind: "existing" }, services: { payments: payments({ LOG_LEVEL: "info", DB_PASSWORD: { secure: "v1:abc" } }) } });
        assert.ok(formatPlan("uat", config.planned).split("\n").includes("  secret env: DB_PASSWORD=[secret] (to the pods through a Kubernetes Secret)"));
        assert.deepStrictEqual(fieldChanges({ A: { secure: "v1:abc" } }, { A: { secure: "v1:xyz" } }), [{ path: "A", before: "[secret]", after: "[secret] (changed)" }]);
        const [d] = diffStack(
            "uat",
            { services: { payments: payments({ DB_PASSWORD: { secure: "v1:abc" } }) } },
            { services: { payments: payments({ DB_PASSWORD: { secure: "v1:abc" } }, { canary: { tag: "1.0.0", env: { DB_PASSWORD: { secure: "v1:xyz" } } }, stage: 2 }) } },
        );
        assert.strictEqual(d.ok, true, d.line);
        assert.deepStrictEqual(d.fields, ["canary.env.DB_PASSWORD: (not set) -> [secret] (reaches canary pods)", "canary.tag: (not set) -> 1.0.0 (reaches canary pods)"]);
        const [rotated] = diffStack("uat", { services: { payments: payments({ DB_PASSWORD: { secure: "v1:abc" } }) } }, { services: { payments: payments({ DB_PASSWORD: { secure: "v1:xyz" } }) } });
        assert.strictEqual(rotated.ok, false, "a rotated secret reaches production's pods: through a release, or allowSkip");
        assert.deepStrictEqual(rotated.fields, ["env.DB_PASSWORD: [secret] -> [secret] (changed) (reaches production pods, the canary's Deployment (0 pods))"]);
    });
});
