import * as assert from "assert";
import { parseServices } from "../../components/service/config";
import { ConfigError } from "../../components/shared/errors";

const good = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3, port: 8080 };

function problemsOf(services: Record<string, unknown>, stack = "staging"): string[] {
    try {
        parseServices(stack, services);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("config was accepted");
}

/** Asserts exactly one problem, naming stack, service and field, with what was expected and found. */
function assertOneProblem(service: Record<string, unknown>, expected: RegExp) {
    const problems = problemsOf({ checkout: service });
    assert.strictEqual(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], expected);
}

describe("service config (components/service/config.ts)", () => {
    it("fills in defaults for the optional fields", () => {
        const { checkout } = parseServices("staging", { checkout: { image: "ghcr.io/acme/checkout", stable: "01", stage: 1, replicas: 2 } });
        assert.deepStrictEqual(checkout, {
            image: "ghcr.io/acme/checkout",
            stable: "01",
            stage: 1,
            replicas: 2,
            port: 8080,
            namespace: "checkout",
            strategy: "canary",
            steps: [10, 90, 100],
            testRoutes: [],
            chart: "./charts/service",
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
            probes: { readiness: "/healthz", liveness: "/healthz" },
            env: {},
            values: {},
            drainSeconds: 30,
        });
    });

    it("accepts digests, registries with ports, custom steps, chart references and extra values", () => {
        const { checkout } = parseServices("uat", {
            checkout: {
                ...good,
                image: "registry.local:5000/acme/checkout",
                stable: `sha256:${"a".repeat(64)}`,
                steps: [10, 25, 50, 75, 100],
                chart: { repo: "oci://ghcr.io/acme/charts", name: "service", version: "1.2.0" },
                values: { podAnnotations: { team: "payments" } },
                env: { LOG_LEVEL: "debug", WORKERS: 4 },
            },
        });
        assert.strictEqual(checkout.env.WORKERS, "4");
        assert.deepStrictEqual(checkout.steps, [10, 25, 50, 75, 100]);
    });

    it("refuses stage 7 when only 6 exist", () => {
        assertOneProblem({ ...good, stage: 7 }, /^stack staging, service checkout, field stage: expected a stage from 1 to 6 \(steps \[10, 90, 100\] give 6 stages\), found 7$/);
    });

    it("refuses a latest tag", () => {
        assertOneProblem({ ...good, canary: "latest" }, /^stack staging, service checkout, field canary: expected a fixed image tag or digest, not "latest".*found "latest"$/);
    });

    it("refuses an empty tag", () => {
        assertOneProblem({ ...good, stable: "" }, /^stack staging, service checkout, field stable: expected an image tag such as "1.4.2".*found an empty string$/);
    });

    it("requires canary from stage 2", () => {
        const { canary, ...noCanary } = good;
        assertOneProblem(noCanary, /^stack staging, service checkout, field canary: expected a canary tag, required at stage 2 .*found nothing \(the field is missing\)$/);
    });

    it("refuses steps that are not strictly increasing", () => {
        assertOneProblem({ ...good, steps: [10, 50, 50, 100] }, /field steps: expected weights strictly increasing.*found \[10,50,50,100\]$/);
    });

    it("refuses steps that do not end at 100", () => {
        assertOneProblem({ ...good, steps: [10, 50] }, /field steps: expected weights ending at 100.*found \[10,50\]$/);
    });

    it("refuses a service name that is not a DNS label", () => {
        const problems = problemsOf({ Check_Out: good });
        assert.deepStrictEqual(problems, [
            `stack staging, service "Check_Out", name: expected a DNS label (lower-case letters, digits and '-', starting with a letter), found "Check_Out"`,
        ]);
    });

    it("refuses an image with a tag, wrong types, unknown fields and platform-owned values", () => {
        assertOneProblem({ ...good, image: "ghcr.io/acme/checkout:1.0" }, /field image: expected an image repository without tag or digest.*found "ghcr.io\/acme\/checkout:1.0"$/);
        assertOneProblem({ ...good, replicas: "3" }, /field replicas: expected the production replica count, a whole number from 1 to 1000, found "3"$/);
        assertOneProblem({ ...good, port: 70000 }, /field port: expected the container port, a whole number from 1 to 65535, found 70000$/);
        assertOneProblem({ ...good, stagee: 3 }, /^stack staging, service checkout: expected no unknown fields \(found `stagee`/);
        assertOneProblem({ ...good, values: { tracks: {} } }, /field values.tracks: expected no `tracks` \(stagehand sets it from the stage/);
        assertOneProblem({ ...good, resources: { requests: { cpu: "lots", memory: "1Gi" } } }, /field resources.requests.cpu: expected a Kubernetes quantity.*found "lots"$/);
        assertOneProblem({ ...good, probes: { readiness: "ready" } }, /field probes.readiness: expected an HTTP path starting with '\/', found "ready"$/);
    });

    it("reports every problem of every service together", () => {
        const problems = problemsOf({ a: { ...good, stage: 9 }, b: { ...good, stable: "latest" }, c: good }, "prod");
        assert.strictEqual(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /^stack prod, service a, field stage/);
        assert.match(problems[1], /^stack prod, service b, field stable/);
    });

    it("says where the services are missing", () => {
        assert.throws(() => parseServices("uat", undefined), /stack uat, stagehand:services: expected a map of service name to service config, found nothing \(add it to Pulumi.uat.yaml\)/);
        assert.throws(() => parseServices("uat", ["checkout"]), /found \["checkout"\]/);
    });
});
