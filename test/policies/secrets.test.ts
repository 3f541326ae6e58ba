// The secrets rule, passing and violating cases, and how policies/secrets.ts reads key names and values.
import * as assert from "assert";
import { ALL_PARTS as ALL } from "../../components/service/values";
import { noPlaintextSecrets } from "../../policies/rules/secrets";
import { findSecrets, keyWords, secretLookingKey } from "../../policies/secrets";
import { deployment, istiod, readyContainer, release, valuesAt } from "./fixtures";
import { checkResource, CONFIG_MAP, passes, Res, UNKNOWN } from "./harness";

describe("policy no-plaintext-secrets", () => {
    it("passes env and values that only name or reference secrets, and Istio's values", async () => {
        const values = valuesAt(2, ALL, { env: { LOG_LEVEL: "debug", SECRET_NAME: "db-credentials", PASSWORD_FILE: "/run/secrets/db", AUTH_TOKEN_TTL: "300", PWD: "/app" } });
        values.extraEnv = [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }];
        values.tolerations = [{ key: "dedicated", operator: "Equal", value: "checkout", effect: "NoSchedule" }];
        passes(await checkResource(noPlaintextSecrets, release("checkout", values)));
        passes(await checkResource(noPlaintextSecrets, istiod));
        // A Pulumi secret in env: the release carries only its reference (secretEnv), never the value.
        const secret = valuesAt(2, ALL, { env: { LOG_LEVEL: "debug", DB_PASSWORD: { secure: "v1:abc", value: "hunter2" } } as any });
        assert.deepStrictEqual(Object.keys(secret.secretEnv), ["DB_PASSWORD"]);
        passes(await checkResource(noPlaintextSecrets, release("checkout", secret)));
    });

    it("refuses secret-looking values in env and extra values, without repeating the value", async () => {
        const values = valuesAt(2, ALL, { env: { DB_PASSWORD: "hunter2" }, values: { payment: { apiKey: "sk_live_abc" } } });
        values.extraEnv = [{ name: "GITHUB_TOKEN", value: "t0ken" }];
        const out = await checkResource(noPlaintextSecrets, release("checkout", values));
        const fix = "Helm keeps values readable in the cluster (`helm get values`) and the preview shows them; make it a Pulumi secret in the service's env (`pulumi config set --secret --path 'stagehand:services.<service>.env.<NAME>' <value>`): stagehand hands it to the pods through a Kubernetes Secret";
        assert.deepStrictEqual(out.messages.sort(), [
            `release checkout: values.env.DB_PASSWORD is passed in plain text (its name "DB_PASSWORD" says it is a secret). ${fix}`,
            `release checkout: values.extraEnv[0](GITHUB_TOKEN) is passed in plain text (its name "GITHUB_TOKEN" says it is a secret). ${fix}`,
            `release checkout: values.payment.apiKey is passed in plain text (its name "apiKey" says it is a secret). ${fix}`,
        ]);
        for (const m of out.messages) assert.ok(!/hunter2|sk_live_abc|t0ken/.test(m), "the message never shows the value");
    });

    it("recognises secret-shaped values under any key, in ConfigMaps and Deployments too", async () => {
        const cm: Res = { type: CONFIG_MAP, name: "settings", props: { data: { "aws.id": "AKIAABCDEFGHIJKLMNOP", "db.password": "x", region: "us-east-1" } } };
        assert.deepStrictEqual((await checkResource(noPlaintextSecrets, cm)).messages, [
            "ConfigMap settings: data.aws.id is passed in plain text (the value looks like an AWS access key id). ConfigMap data is plain text; put it in a Kubernetes Secret and mount or reference that instead",
            'ConfigMap settings: data.db.password is passed in plain text (its name "db.password" says it is a secret). ConfigMap data is plain text; put it in a Kubernetes Secret and mount or reference that instead',
        ]);
        const dep = deployment({ ...readyContainer, env: [{ name: "API_KEY", value: "abc" }, { name: "MODE", value: "fast" }] });
        assert.deepStrictEqual((await checkResource(noPlaintextSecrets, dep)).messages, [
            'Deployment worker: spec.template.spec.containers[0].env[0](API_KEY) is passed in plain text (its name "API_KEY" says it is a secret). put it in a Kubernetes Secret and reference it with valueFrom.secretKeyRef',
        ]);
    });

    it("skips paths listed in config, and values unknown at preview", async () => {
        const values = valuesAt(2, ALL, { env: { SESSION_SECRET: "s3cr3t", API_TOKEN: "x" } });
        values.env.API_TOKEN = UNKNOWN;
        passes(await checkResource(noPlaintextSecrets, release("checkout", values), { ignorePaths: ["values.env.SESSION_SECRET"] }));
        assert.strictEqual((await checkResource(noPlaintextSecrets, release("checkout", values))).messages.length, 1);
    });

    it("reads key names into words", () => {
        assert.deepStrictEqual(keyWords("dbPassword"), ["db", "password"]);
        assert.deepStrictEqual(keyWords("API_KEY"), ["api", "key"]);
        assert.deepStrictEqual(keyWords("OAuthClientSecret"), ["o", "auth", "client", "secret"]);
        const secret = ["password", "DB_PASSWORD", "apiKey", "api-key", "privateKey", "clientSecret", "GITHUB_TOKEN", "credentials", "AWS_SECRET_ACCESS_KEY", "secretKey"];
        const notSecret = ["key", "topologyKey", "SECRET_NAME", "existingSecret.name", "PASSWORD_FILE", "tokenAudience", "credentialName", "PWD", "LOG_LEVEL", "secretKeyRef", "jwtPolicy"];
        for (const k of secret) assert.ok(secretLookingKey(k), `${k} looks like a secret`);
        for (const k of notSecret.map((k) => k.split(".").pop()!)) assert.ok(!secretLookingKey(k), `${k} does not look like a secret`);
        assert.deepStrictEqual(findSecrets({ a: { b: "-----BEGIN RSA PRIVATE KEY-----\nMII" } }), [{ path: "a.b", why: "the value looks like a PEM private key" }]);
    });
});
