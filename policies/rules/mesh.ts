// The rule about the mesh: mesh-wide STRICT mTLS in Istio's root namespace, and nothing that weakens it.
import { PolicyResource } from "@pulumi/policy";
import { ISTIO_ROOT_NAMESPACE } from "../../components/shared/namespaces";
import { HELM_RELEASE, serviceValues } from "../services";
import { configOf, describe, known, Rule } from "./common";

/** PeerAuthentication of any served version, whether registered typed or as a CustomResource. */
const PEER_AUTHENTICATION = /^kubernetes:security\.istio\.io\/v[0-9a-z]+:PeerAuthentication$/;

export const meshMtlsStrict: Rule = {
    name: "mesh-mtls-strict",
    description:
        "The stack has mesh-wide STRICT mTLS: a PeerAuthentication `default` without selector in Istio's root namespace with mode STRICT, and no other PeerAuthentication that weakens it.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            rootNamespace: { type: "string", default: ISTIO_ROOT_NAMESPACE, description: "Istio's root namespace (meshConfig.rootNamespace)." },
            permissiveExceptions: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "PeerAuthentications (\"namespace/name\") allowed to be PERMISSIVE or DISABLE.",
            },
        },
    },
    validateStack: (args, report) => {
        const { rootNamespace, permissiveExceptions } = configOf(args, {
            rootNamespace: ISTIO_ROOT_NAMESPACE,
            permissiveExceptions: [] as string[],
        });
        const peers = args.resources.filter((r) => PEER_AUTHENTICATION.test(r.type));
        const meshInStack = args.resources.some(
            (r) => serviceValues(r.type, r.props) !== undefined || (r.type === HELM_RELEASE && /^istiod?$|^istio-base$|^base$/.test(String(known(() => r.props.chart)))),
        );
        if (peers.length === 0 && !meshInStack) args.notApplicable("no Istio mesh or service releases in this stack");

        const nameOf = (r: PolicyResource) => `${known(() => r.props.metadata?.namespace) ?? "default"}/${known(() => r.props.metadata?.name) ?? r.name}`;
        const hasSelector = (r: PolicyResource) => {
            const labels = known(() => r.props.spec?.selector?.matchLabels);
            return labels !== undefined && labels !== null && Object.keys(labels).length > 0;
        };
        const meshWide = peers.filter((r) => known(() => r.props.metadata?.namespace) === rootNamespace && !hasSelector(r));
        const strictDefault = meshWide.find((r) => known(() => r.props.metadata?.name) === "default" && known(() => r.props.spec?.mtls?.mode) === "STRICT");
        if (!strictDefault) {
            const found = meshWide.map((r) => `${nameOf(r)} mode ${describe(known(() => r.props.spec?.mtls?.mode))}`).join(", ");
            report(
                `no mesh-wide STRICT mTLS: expected a PeerAuthentication "default" in namespace ${rootNamespace} without selector and spec.mtls.mode STRICT` +
                    (found ? `, found ${found}` : ", found none in this stack"),
            );
        }
        for (const r of peers) {
            if (r === strictDefault || permissiveExceptions.includes(nameOf(r))) continue;
            const mode = known(() => r.props.spec?.mtls?.mode);
            if (mode !== undefined && mode !== "STRICT" && mode !== "UNSET") {
                report(`PeerAuthentication ${nameOf(r)} sets mTLS mode ${mode}, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)`, r.urn);
            }
            const ports = known(() => r.props.spec?.portLevelMtls);
            if (ports && typeof ports === "object") {
                for (const port of Object.keys(ports)) {
                    const portMode = known(() => ports[port]?.mode);
                    if (portMode !== undefined && portMode !== "STRICT" && portMode !== "UNSET") {
                        report(`PeerAuthentication ${nameOf(r)} sets mTLS mode ${portMode} on port ${port}, weakening the mesh-wide STRICT mTLS (list it in permissiveExceptions if intended)`, r.urn);
                    }
                }
            }
        }
    },
};
