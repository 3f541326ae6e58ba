import * as assert from "assert";
import { parseStackConfig } from "../../components/config";
import { parseServices } from "../../components/service/config";
import { catchAllRegexProblem } from "../../components/service/routing-config";
import { nonStringTagProblem } from "../../components/shared/image";
import { editDistance, nearestName } from "../../components/shared/errors";
import { problemsOf } from "../helpers/problems";

const good = { image: "ghcr.io/acme/checkout", stable: "01", canary: "02", stage: 2, replicas: 3, port: 8080 };

function servicesProblems(services: Record<string, unknown>, stack = "staging"): string[] {
    return problemsOf(() => parseServices(stack, services));
}

/** Asserts exactly one problem, naming stack, service and field, with what was expected and found. */
function assertOneProblem(service: Record<string, unknown>, expected: RegExp) {
    const problems = servicesProblems({ checkout: service });
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
            canaryOverrides: {},
            chart: "./charts/service",
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
            probes: { readiness: "/healthz", liveness: "/healthz" },
            env: {},
            values: {},
            drainSeconds: 30,
            settleSeconds: 5,
            production: "full",
            productionHeadroomPercent: 20,
            mesh: {
                timeout: "15s",
                retries: { attempts: 2 },
                idempotent: true,
                outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
            },
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
        const problems = servicesProblems({ Check_Out: good });
        assert.deepStrictEqual(problems, [
            `stack staging, service "Check_Out", name: expected a DNS label (lower-case letters, digits and '-', starting with a letter), found "Check_Out"`,
        ]);
    });

    it("refuses an image with a tag, wrong types, unknown fields and platform-owned values", () => {
        assertOneProblem({ ...good, image: "ghcr.io/acme/checkout:1.0" }, /field image: expected an image repository without tag or digest.*found "ghcr.io\/acme\/checkout:1.0"$/);
        assertOneProblem({ ...good, replicas: "3" }, /field replicas: expected the production replica count, a whole number from 1 to 1000, found "3"$/);
        assertOneProblem({ ...good, port: 70000 }, /field port: expected the container port, a whole number from 1 to 65535, found 70000$/);
        assertOneProblem({ ...good, stagee: 3 }, /^stack staging, service checkout, field stagee: unknown field; did you mean stage\?$/);
        assertOneProblem({ ...good, values: { tracks: {} } }, /field values.tracks: expected no `tracks` \(stagehand sets it from the stage/);
        assertOneProblem({ ...good, resources: { requests: { cpu: "lots", memory: "128Mi" } } }, /field resources.requests.cpu: expected a Kubernetes quantity.*found "lots"$/);
        assertOneProblem({ ...good, probes: { readiness: "ready" } }, /field probes.readiness: expected an HTTP path starting with '\/', found "ready"$/);
    });

    it("reports every problem of every service together", () => {
        const problems = servicesProblems({ a: { ...good, stage: 9 }, b: { ...good, stable: "latest" }, c: good }, "prod");
        assert.strictEqual(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /^stack prod, service a, field stage/);
        assert.match(problems[1], /^stack prod, service b, field stable/);
    });

    it("says where the services are missing", () => {
        assert.throws(() => parseServices("uat", undefined), /stack uat, stagehand:services: expected a map of service name to service config, found nothing \(add it to Pulumi.uat.yaml\)/);
        assert.throws(() => parseServices("uat", ["checkout"]), /found \["checkout"\]/);
    });
});

describe("service config: what Helm, Kubernetes or Istio would refuse later is refused at config time", () => {
    const base = { image: "ghcr.io/acme/checkout", stable: "1.0.0", stage: 1, replicas: 2 };
    /** Every problem the stack-level parse (what the program and `npm run plan` run) reports for one service. */
    function stackProblems(service: unknown, name = "checkout"): string[] {
        return problemsOf(() => parseStackConfig("staging", { services: { [name]: service }, cluster: { kind: "existing" } }));
    }

    it("values the reference chart's values.schema.json refuses, with the field under `values`", () => {
        assert.deepStrictEqual(stackProblems({ ...base, values: { replicaCount: 3, podSecurityContext: { runAsNonRoot: false } } }), [
            "stack staging, service checkout, field values.replicaCount: unknown value of chart ./charts/service; see the chart's values contract (charts/service/README.md for the reference chart)",
            "stack staging, service checkout, field values.podSecurityContext.runAsNonRoot: expected true (Pod securityContext; must keep runAsNonRoot: true), found false",
        ]);
        assert.deepStrictEqual(stackProblems({ ...base, values: { autoscaling: { canary: { enabled: true, maxReplica: 4 } } } }), [
            "stack staging, service checkout, field values.autoscaling.canary.maxReplica: unknown value of chart ./charts/service; did you mean maxReplicas?",
        ]);
        assert.deepStrictEqual(stackProblems({ ...base, values: { terminationGracePeriodSeconds: "30" } }), [
            'stack staging, service checkout, field values.terminationGracePeriodSeconds: expected a value of type integer, found "30"',
        ]);
        // Values the chart takes pass, and so does what every stack file configures (checked by the program tests).
        assert.doesNotThrow(() => parseStackConfig("staging", { services: { checkout: { ...base, values: { autoscaling: { production: { enabled: true, maxReplicas: 4 } } } } }, cluster: { kind: "existing" } }));
    });

    it("`npm run plan` exits non-zero on a value the chart refuses, printing the problem and no table", () => {
        const { main } = require("../../scripts/plan") as typeof import("../../scripts/plan");
        const stackFile = require("../../scripts/stack-file") as typeof import("../../scripts/stack-file");
        const original = stackFile.readStackFile;
        const { error, log } = console;
        let stderr = "";
        let stdout = "";
        (stackFile as any).readStackFile = () => ({ config: { services: { checkout: { ...base, values: { replicaCount: 3 } } }, cluster: { kind: "existing" } } });
        console.error = (m: string) => void (stderr += `${m}\n`);
        console.log = (m: string) => void (stdout += `${m}\n`);
        try {
            assert.strictEqual(main(["staging"]), 1);
        } finally {
            (stackFile as any).readStackFile = original;
            Object.assign(console, { error, log });
        }
        assert.strictEqual(stdout, "");
        assert.match(stderr, /^invalid stagehand config for stack staging:\n {2}- stack staging, service checkout, field values\.replicaCount: unknown value of chart/);
    });

    it("an image repository with a scheme, or with a digest (one message, not two)", () => {
        assert.deepStrictEqual(stackProblems({ ...base, image: "https://ghcr.io/acme/app" }), [
            'stack staging, service checkout, field image: expected an image repository without a scheme, such as "ghcr.io/acme/app" (images are pulled by registry/path/name, not by URL), found "https://ghcr.io/acme/app"',
        ]);
        const digest = `ghcr.io/acme/app@sha256:${"a".repeat(64)}`;
        assert.deepStrictEqual(stackProblems({ ...base, image: digest }), [
            `stack staging, service checkout, field image: expected an image repository without tag or digest (the tags go in \`stable\` and \`canary\`), found "${digest}"`,
        ]);
        // A registry port is not a tag.
        assert.doesNotThrow(() => parseServices("staging", { checkout: { ...base, image: "registry.local:5000/acme/app" } }));
    });

    it("a test-route header regex RE2 refuses: lookarounds, backreferences, unbalanced parentheses", () => {
        const route = (regex: string) => ({ ...base, testRoutes: [{ header: "x-user", regex }] });
        assert.deepStrictEqual(stackProblems(route("(?=beta)")), [
            'stack staging, service checkout, field testRoutes[0].regex: expected an RE2 regular expression, the syntax Istio matches headers with (invalid or unsupported Perl syntax: `(?=`), found "(?=beta)"',
        ]);
        assert.match(stackProblems(route("(a)\\1"))[0], /field testRoutes\[0\]\.regex: expected an RE2 regular expression.*\(invalid escape sequence: `\\1`\), found "\(a\)\\\\1"$/);
        assert.match(stackProblems(route("^beta-(.*"))[0], /field testRoutes\[0\]\.regex: .*missing closing \)/);
        assert.doesNotThrow(() => parseServices("staging", { checkout: route("^(beta|canary)-[0-9]+$") }));
    });

    it("a resource request above its limit", () => {
        assert.deepStrictEqual(stackProblems({ ...base, resources: { requests: { cpu: "2", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } } }), [
            'stack staging, service checkout, field resources.requests.cpu: expected a cpu request no greater than its limit (limits.cpu: "500m"; Kubernetes refuses a request above its limit), found "2"',
        ]);
        assert.match(stackProblems({ ...base, resources: { requests: { cpu: "100m", memory: "1Gi" } } })[0], /field resources\.requests\.memory: expected a memory request no greater than its limit \(limits\.memory: "256Mi"/);
        assert.doesNotThrow(() => parseServices("staging", { checkout: { ...base, resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } } } }));
    });

    it("a system namespace as the service's namespace, given or defaulted from its name", () => {
        for (const ns of ["istio-system", "istio-ingress", "kube-system", "kube-public", "kube-node-lease", "default"]) {
            assert.deepStrictEqual(stackProblems({ ...base, namespace: ns }), [
                `stack staging, service checkout, field namespace: expected a namespace of the service's own, not one the platform or Kubernetes runs in (default, kube-system, kube-public, kube-node-lease, istio-system, istio-ingress, prometheus, observability): removing the service would delete it, found "${ns}"`,
            ]);
        }
        assert.match(stackProblems(base, "kube-system")[0], /^stack staging, service kube-system, field namespace \(defaults to the service name\): expected a namespace of the service's own/);
    });

    it("a chart repository that is neither https:// nor oci://, and a local chart path that is no chart", () => {
        const chart = (c: unknown) => ({ ...base, chart: c });
        assert.deepStrictEqual(stackProblems(chart({ repo: "http://charts.example.com", name: "app", version: "1.0.0" })), [
            'stack staging, service checkout, field chart.repo: expected a chart repository URL starting with https:// (a Helm repository) or oci:// (an OCI registry), found "http://charts.example.com"',
        ]);
        assert.match(stackProblems(chart({ repo: "charts.example.com", name: "app", version: "1.0.0" }))[0], /field chart\.repo: expected a chart repository URL starting with https:\/\//);
        assert.match(stackProblems(chart("./charts/nope"))[0], /^stack staging, service checkout, field chart: expected a chart directory with a Chart\.yaml \(or a \.tgz\), relative to the project directory; .*charts\/nope is none, found "\.\/charts\/nope"$/);
        for (const ok of [{ repo: "https://charts.example.com", name: "app", version: "1.0.0" }, { repo: "oci://ghcr.io/acme/charts", name: "app", version: "1.0.0" }, "./charts/service", "charts/service"]) {
            assert.doesNotThrow(() => parseServices("staging", { checkout: chart(ok) }), JSON.stringify(ok));
        }
    });

    it("an unknown field suggests the nearest known one, at any depth", () => {
        assert.deepStrictEqual(stackProblems({ ...base, stag: 2, resources: { requests: { cpu: "100m", memory: "128Mi" }, limit: {} }, probes: { readyness: "/ready" } }), [
            "stack staging, service checkout, field resources.limit: unknown field; did you mean limits?",
            "stack staging, service checkout, field probes.readyness: unknown field; did you mean readiness?",
            "stack staging, service checkout, field stag: unknown field; did you mean stage?",
        ]);
        assert.deepStrictEqual(stackProblems({ ...base, shadow: { pct: 10 } }), [
            "stack staging, service checkout, field shadow.percent: expected the percentage of requests mirrored to the canary, a whole number from 1 to 100, found nothing (the field is missing)",
            "stack staging, service checkout, field shadow.pct: unknown field; the fields here are percent",
        ]);
    });

    it("a service block written as null or as a list says what a service block is", () => {
        const words =
            "expected a service block: a map with image, stable, stage and replicas, and optionally canary, port, namespace, strategy, steps, shadow, testRoutes, chart, resources, probes, env, values, drainSeconds, settleSeconds, production, productionHeadroomPercent, mesh, sticky, allowSkip, autoRollback, owners, verdict, callers";
        assert.deepStrictEqual(stackProblems(null), [`stack staging, service checkout: ${words}, found null`]);
        assert.deepStrictEqual(stackProblems(["image: x"]), [`stack staging, service checkout: ${words}, found ["image: x"]`]);
    });
});

describe("service config: guardrails a team cannot grant itself, each refusal saying what to write instead", () => {
    const base = { image: "ghcr.io/acme/checkout", stable: "1.0.0", stage: 1, replicas: 2 };
    const problems = (service: Record<string, unknown>) => servicesProblems({ checkout: { ...base, ...service } });
    const route = (header: string, regex: string) => ({ testRoutes: [{ header, regex }] });

    it("a test route regex that matches the empty value and any value, on any header", () => {
        for (const regex of [".*", "^.*$", "(.*)", ".*?", "[\\s\\S]*", "(?s).*", "(|.+)", "x*|.*"]) {
            assert.deepStrictEqual(problems(route("x-user", regex)), [
                `stack staging, service checkout, field testRoutes[0].regex: expected a regex that picks out test requests, not every request: it matches any value of x-user, empty or not, so nearly all traffic would go to the canary, which runs only a few pods; match a dedicated header with an exact value instead, e.g. {header: x-canary, exact: "true"}, found ${JSON.stringify(regex)}`,
            ], regex);
        }
    });

    it("a test route regex that matches any non-empty value, on a header every client sends", () => {
        for (const header of ["user-agent", "host", "accept", "accept-encoding", "x-request-id"]) {
            for (const regex of [".+", "^.+$", "(.+)", "[\\s\\S]+"]) {
                assert.deepStrictEqual(problems(route(header, regex)), [
                    `stack staging, service checkout, field testRoutes[0].regex: expected a regex that picks out test requests, not every request: it matches any value of ${header}, a header every client sends, so nearly all traffic would go to the canary, which runs only a few pods; match a dedicated header with an exact value instead, e.g. {header: x-canary, exact: "true"}, found ${JSON.stringify(regex)}`,
                ], `${header} ${regex}`);
            }
        }
        // On a header only test clients send, a present value is the test: allowed.
        assert.doesNotThrow(() => parseServices("staging", { checkout: { ...base, ...route("x-canary", ".+") } }));
    });

    it("test route regexes that pick out some requests are allowed", () => {
        for (const [header, regex] of [["user-agent", ".*canary-tester.*"], ["x-user", "beta-.*"], ["x-user", "^(alice|bob)$"], ["accept", "[a-z]+"]]) {
            assert.doesNotThrow(() => parseServices("staging", { checkout: { ...base, ...route(header, regex) } }), `${header} ${regex}`);
        }
    });

    it("the catch-all check itself: RE2 tried on probe values, not the pattern's text", () => {
        assert.match(catchAllRegexProblem("x-user", "(?:)|(?s:.)+") ?? "", /matches any value of x-user, empty or not/);
        assert.strictEqual(catchAllRegexProblem("x-user", ".+"), undefined);
        assert.strictEqual(catchAllRegexProblem("user-agent", "[^\\n]{0,10}"), undefined, "a length bound lets the long probe through");
        assert.strictEqual(catchAllRegexProblem("user-agent", "(?=x)"), undefined, "a regex RE2 refuses is re2Problem's to report");
    });

    it("exact: true (a boolean) says to quote it", () => {
        assert.deepStrictEqual(problems({ testRoutes: [{ header: "x-canary", exact: true }] }), [
            'stack staging, service checkout, field testRoutes[0].exact: expected a header value to match exactly in quotes (YAML reads an unquoted true as a boolean, not text): write exact: "true", found true',
        ]);
        assert.deepStrictEqual(problems({ testRoutes: [{ cookie: "canary", value: 1 }] }), [
            'stack staging, service checkout, field testRoutes[0].value: expected a cookie value in quotes (YAML reads an unquoted 1 as a number, not text): write value: "1", found 1',
        ]);
        const { checkout } = parseServices("staging", { checkout: { ...base, testRoutes: [{ header: "x-canary", exact: "true" }, { cookie: "canary", value: "always" }] } });
        assert.deepStrictEqual(checkout.testRoutes, [{ header: "x-canary", exact: "true" }, { cookie: "canary", value: "always" }]);
    });

    it("a test route mixing a header and a cookie match, or a cookie without its value", () => {
        assert.deepStrictEqual(problems({ testRoutes: [{ header: "x-canary", cookie: "canary", value: "1" }] }), [
            "stack staging, service checkout, field testRoutes[0]: expected a header match {header, exact | regex} or a cookie match {cookie, value}, found an object",
        ]);
        assert.deepStrictEqual(problems({ testRoutes: [{ cookie: "canary" }] }), [
            "stack staging, service checkout, field testRoutes[0].value: expected the cookie value that marks a test user, e.g. {cookie: canary, value: always}, found nothing (the field is missing)",
        ]);
    });

    it("latest in any case", () => {
        for (const tag of ["latest", "Latest", "LATEST"]) {
            assert.deepStrictEqual(problems({ stable: tag }), [`stack staging, service checkout, field stable: expected a fixed image tag or digest, not "latest" (it cannot be reviewed or rolled back), found "${tag}"`]);
        }
    });

    it("a tag YAML read as a number or a boolean says to quote it", () => {
        assert.deepStrictEqual(problems({ stable: 1.1 }), [
            'stack staging, service checkout, field stable: expected an image tag in quotes (YAML reads an unquoted number as a number: 1.10 as 1.1, 2.0 as 2, so the tag would not be the one written); write the tag in quotes exactly as it is released, e.g. "1.10" or "1.1", found 1.1',
        ]);
        assert.deepStrictEqual(problems({ stable: "1.0", canary: 2, stage: 2 }), [
            'stack staging, service checkout, field canary: expected an image tag in quotes (YAML reads an unquoted number as a number: 1.10 as 1.1, 2.0 as 2, so the tag would not be the one written); write the tag in quotes exactly as it is released, e.g. "1.10" or "2", found 2',
        ]);
        assert.deepStrictEqual(problems({ stable: true }), ['stack staging, service checkout, field stable: expected an image tag in quotes (YAML reads an unquoted true as a boolean); write it in quotes, e.g. "true", found true']);
        assert.strictEqual(nonStringTagProblem(undefined), 'an image tag such as "1.4.2" or a digest "sha256:<64 hex>"');
    });

    it("memory without a unit, in requests and limits; cpu without a unit stays legal", () => {
        assert.deepStrictEqual(problems({ resources: { requests: { cpu: 0.5, memory: 256 }, limits: { cpu: "1", memory: "512" } } }), [
            'stack staging, service checkout, field resources.requests.memory: expected a memory quantity with a unit, such as "256Mi" (a bare number is bytes to Kubernetes: 256 means 256 bytes), found "256"',
            'stack staging, service checkout, field resources.limits.memory: expected a memory quantity with a unit, such as "512Mi" (a bare number is bytes to Kubernetes: 512 means 512 bytes), found "512"',
        ]);
        const { checkout } = parseServices("staging", { checkout: { ...base, resources: { requests: { cpu: 0.5, memory: "256Mi" }, limits: { cpu: "1", memory: "1G" } } } });
        assert.deepStrictEqual(checkout.resources, { requests: { cpu: "0.5", memory: "256Mi" }, limits: { cpu: "1", memory: "1G" } });
    });

    it("a port Istio's sidecar owns (15000-15090)", () => {
        for (const port of [15000, 15001, 15006, 15021, 15090]) {
            assert.deepStrictEqual(problems({ port }), [
                `stack staging, service checkout, field port: expected the container port, a whole number from 1 to 65535 outside 15000-15090: Istio's sidecar owns those ports in every pod (15001 outbound, 15006 inbound, 15020/15021 health, 15090 metrics), so the app could not listen there; use e.g. 8080, found ${port}`,
            ]);
        }
        for (const port of [14999, 15091, 8080]) assert.strictEqual(parseServices("staging", { checkout: { ...base, port } }).checkout.port, port);
    });

    it("a huge stage number says the valid range of stages, once", () => {
        for (const [stage, found] of [[99999999999999999999, "100000000000000000000"], [1e21, "1e+21"], [Number.MAX_SAFE_INTEGER + 2, "9007199254740992"]] as const) {
            assert.deepStrictEqual(problems({ stage, canary: undefined }), [`stack staging, service checkout, field stage: expected a stage from 1 to 6 (steps [10, 90, 100] give 6 stages), found ${found}`]);
        }
        assert.deepStrictEqual(problems({ stage: 2.5 }), [
            "stack staging, service checkout, field stage: expected a stage number, a whole number from 1 to the number of stages (6 with the default steps [10, 90, 100]), found 2.5",
        ]);
        assert.deepStrictEqual(problems({ stage: 0 }), [
            "stack staging, service checkout, field stage: expected a stage number, a whole number from 1 to the number of stages (6 with the default steps [10, 90, 100]), found 0",
        ]);
    });
});

describe("nearest names (components/shared/errors.ts)", () => {
    it("suggests within two edits and less than half the word, transpositions counting one", () => {
        assert.strictEqual(editDistance("namesapce", "namespace"), 1);
        assert.strictEqual(nearestName("namesapce", ["name", "namespace", "stage"]), "namespace");
        assert.strictEqual(nearestName("Stage", ["stage"]), "stage");
        assert.strictEqual(nearestName("replicaCount", ["replicas", "resources"]), undefined);
        assert.strictEqual(nearestName("ab", ["cd"]), undefined);
    });
});
