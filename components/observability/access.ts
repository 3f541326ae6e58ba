// Pure: how the observability addons are reached — the `observability` stack output (which addons are on, their
// port-forward commands, URLs and login) and the one door the cluster's viewers get: a Role and RoleBinding in
// Prometheus's namespace letting PROMETHEUS_READERS_GROUP port-forward to Prometheus, for the metrics verdict.
// What the addons install is ./values.ts.
import { OBSERVABILITY_NAMESPACE, PROMETHEUS_NAMESPACE } from "../shared/namespaces";
import { ObservabilityConfig } from "./config";
import { tracingAccess } from "./tracing";
import { ALERTMANAGER_NAMESPACE, ALERTMANAGER_SERVICE, receiverWords } from "./alertmanager";
import { GRAFANA_ADMIN_USER, GRAFANA_PASSWORD_REF, GRAFANA_SERVICE, ISTIO_DASHBOARDS, KIALI_SERVICE, PROMETHEUS_SERVICE, PROMETHEUS_URL } from "./values";

const portForward = (svc: { name: string; port: number }, namespace = OBSERVABILITY_NAMESPACE) => `kubectl -n ${namespace} port-forward svc/${svc.name} ${svc.port}:${svc.port}`;

/** What the stack exports as `observability`: which addons are on and how to open them. */
export function observabilityAccess(config: ObservabilityConfig): Record<string, unknown> {
    const { prometheus, grafana, kiali, alertmanager } = config;
    return {
        prometheus: prometheus.enabled
            ? {
                  enabled: true,
                  url: PROMETHEUS_URL,
                  retention: prometheus.retention,
                  storage: prometheus.storageGi > 0 ? `${prometheus.storageGi}Gi persistent volume` : "emptyDir (lost when the pod moves)",
                  portForward: portForward(PROMETHEUS_SERVICE, PROMETHEUS_NAMESPACE),
                  open: `http://127.0.0.1:${PROMETHEUS_SERVICE.port}`,
              }
            : { enabled: false },
        grafana: grafana.enabled
            ? {
                  enabled: true,
                  dashboards: grafana.dashboards ? ISTIO_DASHBOARDS.map((d) => d.title) : [],
                  portForward: portForward(GRAFANA_SERVICE),
                  open: `http://127.0.0.1:${GRAFANA_SERVICE.port}`,
                  login: `user ${GRAFANA_ADMIN_USER}, password: kubectl -n ${OBSERVABILITY_NAMESPACE} get secret ${GRAFANA_SERVICE.name} -o jsonpath='{.data.admin-password}' | base64 -d`,
              }
            : { enabled: false },
        kiali: kiali.enabled
            ? {
                  enabled: true,
                  portForward: portForward(KIALI_SERVICE),
                  open: `http://127.0.0.1:${KIALI_SERVICE.port}${KIALI_SERVICE.webRoot}`,
                  login: `a Kubernetes token, e.g. kubectl -n ${OBSERVABILITY_NAMESPACE} create token ${KIALI_SERVICE.name}`,
              }
            : { enabled: false },
        tracing: tracingAccess(config),
        // The receivers by name and type: never a credential.
        alertmanager: alertmanager.enabled
            ? {
                  enabled: true,
                  receivers: receiverWords(alertmanager),
                  portForward: portForward(ALERTMANAGER_SERVICE, ALERTMANAGER_NAMESPACE),
                  open: `http://127.0.0.1:${ALERTMANAGER_SERVICE.port}`,
              }
            : { enabled: false },
    };
}

/**
 * The Kubernetes group of the stack's `viewers` (CI's preview role): every viewer's EKS access entry names it
 * (components/platform/cluster.ts), and on EKS with Prometheus on a RoleBinding in Prometheus's namespace gives it
 * PROMETHEUS_PORT_FORWARD_RULES, so the metrics verdict on a pull request can run
 * `kubectl -n prometheus port-forward svc/prometheus 9090:9090`. EKS's view access policy (AmazonEKSViewPolicy),
 * like Kubernetes' `view` ClusterRole, grants no port-forward. A group in an access entry may not start with
 * `system:` (EKS refuses it); `stagehand:` keeps it apart from Kubernetes' and EKS's own groups.
 */
export const PROMETHEUS_READERS_GROUP = "stagehand:prometheus-readers";
/** The Role (and its RoleBinding) in Prometheus's namespace that gives PROMETHEUS_READERS_GROUP the port-forward to Prometheus. */
export const PROMETHEUS_PORT_FORWARD_ROLE = "stagehand-prometheus-port-forward";

/** An RBAC PolicyRule (rbac.authorization.k8s.io/v1). */
export interface RbacRule {
    apiGroups: string[];
    resources: string[];
    resourceNames?: string[];
    verbs: string[];
}

/**
 * What `kubectl port-forward svc/prometheus` asks of the API server, and nothing more:
 * - `get` the Service `prometheus` (resourceNames: only that Service), to read its selector and target port;
 * - `list` the pods its selector matches and `get` the one chosen (kubectl checks it is Running). A pod's name is
 *   random (`prometheus-<hash>-<id>`), so neither can be narrowed by resourceNames; `list` cannot be at all.
 *   No `watch`: kubectl watches only when no pod matches yet, and then there is no Prometheus to judge with anyway
 *   (the view access policy grants watch, so kubectl still waits for one);
 * - `create` on `pods/portforward`, which SPDY's POST needs, and `get` on it: kubectl (1.31 and later) tries a
 *   WebSocket first, a GET that the API server authorizes as `get` and, from Kubernetes 1.35
 *   (AuthorizePodWebsocketUpgradeCreatePermission), as `create` too. With `create` alone the WebSocket is refused
 *   and kubectl falls back to SPDY; `get` spares the refusal and grants nothing `create` does not: either verb on
 *   this subresource opens a port-forward.
 * pods/portforward cannot be narrowed to Prometheus's pod: RBAC matches a subresource by the pod's name, which is
 * random. So the group can port-forward to any pod in Prometheus's namespace: which is why Prometheus runs alone in
 * it (PROMETHEUS_NAMESPACE), with its lifecycle and admin APIs off (prometheusValues). docs/security.md, "CI credentials".
 */
export const PROMETHEUS_PORT_FORWARD_RULES: readonly Readonly<RbacRule>[] = [
    { apiGroups: [""], resources: ["services"], resourceNames: [PROMETHEUS_SERVICE.name], verbs: ["get"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
    { apiGroups: [""], resources: ["pods/portforward"], verbs: ["get", "create"] },
];

const RBAC_API_GROUP = "rbac.authorization.k8s.io";

/**
 * The Role and RoleBinding, in Prometheus's namespace, that let PROMETHEUS_READERS_GROUP port-forward to
 * Prometheus (fresh objects, the rules copied): what the Observability component creates on EKS with Prometheus on.
 */
export function prometheusPortForwardRbac(): {
    role: { apiVersion: string; kind: "Role"; metadata: { name: string; namespace: string }; rules: RbacRule[] };
    roleBinding: {
        apiVersion: string;
        kind: "RoleBinding";
        metadata: { name: string; namespace: string };
        roleRef: { apiGroup: string; kind: "Role"; name: string };
        subjects: { apiGroup: string; kind: "Group"; name: string }[];
    };
} {
    const metadata = () => ({ name: PROMETHEUS_PORT_FORWARD_ROLE, namespace: PROMETHEUS_NAMESPACE });
    const rules: RbacRule[] = PROMETHEUS_PORT_FORWARD_RULES.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
        verbs: [...r.verbs],
    }));
    return {
        role: { apiVersion: `${RBAC_API_GROUP}/v1`, kind: "Role", metadata: metadata(), rules },
        roleBinding: {
            apiVersion: `${RBAC_API_GROUP}/v1`,
            kind: "RoleBinding",
            metadata: metadata(),
            roleRef: { apiGroup: RBAC_API_GROUP, kind: "Role", name: PROMETHEUS_PORT_FORWARD_ROLE },
            subjects: [{ apiGroup: RBAC_API_GROUP, kind: "Group", name: PROMETHEUS_READERS_GROUP }],
        },
    };
}
