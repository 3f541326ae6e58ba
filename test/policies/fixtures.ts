// Resources the policy tests judge, built by the project's own pure code: service `checkout`'s Helm releases
// with the chart values and release inputs the program gives them, Istio's istiod release, a plain Deployment.
import { parseServices, ServiceInput } from "../../components/service/config";
import { stagePlan } from "../../components/service/stages";
import { ALL_PARTS, ChartParts, chartValues, ONLY } from "../../components/service/values";
import { releaseArgs } from "../../components/shared/helm";
import { ISTIO_ROOT_NAMESPACE } from "../../components/shared/namespaces";
import { Part, PARTS } from "../../components/shared/tracks";
import { DEPLOYMENT, RELEASE, Res, StackRes } from "./harness";

export function service(overrides: Partial<ServiceInput> = {}) {
    return parseServices("prod", { checkout: { image: "ghcr.io/acme/checkout", stable: "1.4.2", canary: "1.5.0", stage: 2, replicas: 2, ...overrides } }).checkout;
}

/** Chart values of service `checkout` at `stage` (2 = canary 10%), as components/service/values.ts computes them. */
export function valuesAt(stage: number, parts: ChartParts = ALL_PARTS, overrides: Partial<ServiceInput> = {}): Record<string, any> {
    const svc = service({ stage, ...overrides });
    return JSON.parse(JSON.stringify(chartValues("checkout", svc, stagePlan(svc), parts)));
}

/** A service release with the inputs every release of the program gets (`releaseArgs`), then `extra`. */
export function release(name: string, values: Record<string, any>, extra: Record<string, unknown> = {}): StackRes {
    const args = releaseArgs({ name, namespace: "checkout", chart: "./charts/service", values, description: `service checkout: release ${name}` });
    return { type: RELEASE, name, props: { ...args, ...extra } };
}

/** The three Releases of a split service, each with the values of its part. */
export function splitReleases(stage: number, edit: (parts: Record<Part, Record<string, any>>) => void = () => {}): StackRes[] {
    const values = { production: valuesAt(stage, ONLY.production), canary: valuesAt(stage, ONLY.canary), routing: valuesAt(stage, ONLY.routing) };
    edit(values);
    return PARTS.map((p) => release(`checkout-${p}`, values[p]));
}

export const istiod: StackRes = {
    type: RELEASE,
    name: "istiod",
    props: { name: "istiod", namespace: ISTIO_ROOT_NAMESPACE, chart: "istiod", repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" }, values: { pilot: { image: "pilot", tag: "latest" }, global: { jwtPolicy: "third-party-jwt" } } },
};

export function deployment(container: Record<string, unknown>): Res {
    return { type: DEPLOYMENT, name: "worker", props: { metadata: { name: "worker" }, spec: { template: { spec: { containers: [{ name: "worker", ...container }] } } } } };
}

export const readyContainer = {
    image: "ghcr.io/acme/worker:2.0.1",
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } },
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
};
