// The rule about secrets: no secret-looking value in plain text where the cluster and the preview keep it
// readable — Helm values, ConfigMap data, container env. What looks like a secret is decided in ../secrets.ts.
import { findSecrets, SecretFinding } from "../secrets";
import { HELM_RELEASE } from "../services";
import { configOf, containersOf, forTypes, known, releaseName, Rule, WORKLOADS } from "./common";

export const HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart";
export const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

export const noPlaintextSecrets: Rule = {
    name: "no-plaintext-secrets",
    description:
        "No secret-looking value (password, token, API or private key, credentials) is passed in plain text in Helm values, ConfigMaps or container env: Helm and ConfigMaps keep them readable in the cluster and the preview shows them.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            ignorePaths: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "Exact paths (as printed in the violation, e.g. `values.env.TOKEN_HINT`) that are known not to be secrets.",
            },
        },
    },
    validateResource: forTypes([HELM_RELEASE, HELM_CHART_V4, CONFIG_MAP, ...WORKLOADS], (args, report) => {
        const { ignorePaths } = configOf(args, { ignorePaths: [] as string[] });
        const where = args.type === HELM_RELEASE ? `release ${releaseName(args)}` : `${args.type.split(":").pop()} ${args.name}`;
        const fix =
            args.type === CONFIG_MAP
                ? "ConfigMap data is plain text; put it in a Kubernetes Secret and mount or reference that instead"
                : args.type.includes("helm.sh")
                  ? "Helm keeps values readable in the cluster (`helm get values`) and the preview shows them; make it a Pulumi secret in the service's env (`pulumi config set --secret --path 'stagehand:services.<service>.env.<NAME>' <value>`): stagehand hands it to the pods through a Kubernetes Secret"
                  : "put it in a Kubernetes Secret and reference it with valueFrom.secretKeyRef";
        const findings: SecretFinding[] = [];
        if (args.type === CONFIG_MAP) {
            findings.push(...findSecrets(known(() => args.props.data), ignorePaths, "data"));
        } else if (WORKLOADS.includes(args.type)) {
            containersOf(args.props).forEach(({ container }, i) => {
                findings.push(...findSecrets(known(() => container?.env), ignorePaths, `spec.template.spec.containers[${i}].env`));
            });
        } else {
            findings.push(...findSecrets(known(() => args.props.values), ignorePaths, "values"));
        }
        for (const f of findings) report(`${where}: ${f.path} is passed in plain text (${f.why}). ${fix}`);
    }),
};
