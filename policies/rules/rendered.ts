// The rules about what Helm installs for a service: where its chart may come from (per stack), and what the
// rendered objects may contain (policies/rendered.ts renders them with the project's helm).
import { chartOrigin, chartSourceAllowed, describeOrigin, REFERENCE_CHART, renderedProblems, renderRelease } from "../rendered";
import { configOf, forTypes, releaseName, Rule, stackOfUrn } from "./common";
import { HELM_RELEASE, serviceValues } from "../services";

/** The chart sources a stack allows when its policy config names none: the project's own charts. */
export const DEFAULT_ALLOWED_CHART_SOURCES = ["charts/"];

export const chartSourceAllowedRule: Rule = {
    name: "service-chart-source-allowed",
    description:
        "A service's chart comes from a source the stack's policy config allows (local paths under charts/, Helm repository URL prefixes, OCI registries): what a chart installs is reviewed where it is kept.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedSources: {
                type: "array",
                items: { type: "string", minLength: 1 },
                default: DEFAULT_ALLOWED_CHART_SOURCES,
                description: "Allowed chart sources: a local path under the project (`charts/`), a Helm repository URL prefix (`https://charts.acme.example/`) or an OCI prefix (`oci://ghcr.io/acme/charts`).",
            },
        },
    },
    validateResource: forTypes([HELM_RELEASE], (args, report) => {
        if (!serviceValues(args.type, args.props)) return;
        const origin = chartOrigin(args.props);
        if (!origin) return;
        const { allowedSources } = configOf(args, { allowedSources: DEFAULT_ALLOWED_CHART_SOURCES });
        if (chartSourceAllowed(origin, allowedSources)) return;
        const stack = stackOfUrn(args.urn) ?? "<stack>";
        report(
            `release ${releaseName(args)}: chart ${describeOrigin(origin)} is not from a source stack ${stack} allows (${allowedSources.join(", ") || "none"}): ` +
                `a chart from elsewhere installs what no reviewer of this repository has read. Use a chart under charts/ or from an allowed source, ` +
                `or add its source to "allowedSources" of ${chartSourceAllowedRule.name} in policies/config.${stack}.json (reviewed by the platform owners)`,
        );
    }),
};

export const renderedRestricted: Rule = {
    name: "service-rendered-restricted",
    description:
        "What Helm installs for a service release (its chart rendered with its values) runs restricted pods inside the mesh: no privilege, added capabilities, host namespaces or hostPath, seccomp RuntimeDefault or Localhost, non-root, read-only root filesystem, no sidecar-bypass annotations, ClusterIP Services only, no cluster-wide RBAC or team mesh security objects.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([HELM_RELEASE], (args, report) => {
        const values = serviceValues(args.type, args.props);
        if (!values) return;
        const origin = chartOrigin(args.props);
        if (!origin) return;
        const release = releaseName(args);
        const namespace = typeof args.props.namespace === "string" && args.props.namespace !== "" ? args.props.namespace : "default";
        // Reading every value through the proxy: a value unknown at preview makes the rule advisory "can't run".
        const plain = JSON.parse(JSON.stringify(values));
        const rendering = renderRelease({ name: release, namespace, origin, values: plain });
        if ("error" in rendering) {
            report(
                `release ${release}: chart ${describeOrigin(origin)} could not be rendered (${rendering.error}): the pack judges what Helm installs, so a chart it cannot fetch or render is refused. ` +
                    `Make the chart reachable from where the preview runs (repository, version and credentials), fix its values, or use a chart under charts/`,
            );
            return;
        }
        const referenceChart = origin.kind === "local" && origin.path === REFERENCE_CHART;
        for (const p of renderedProblems(rendering.objects, { referenceChart })) {
            report(`release ${release}: ${p.object}: ${p.field}: found ${p.found}; ${p.why}. To fix: ${p.todo}`);
        }
    }),
};
