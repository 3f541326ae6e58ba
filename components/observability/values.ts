// Pure: what the observability addons install — Prometheus, Grafana (with Istio's dashboards) and Kiali from
// their own Helm charts, Prometheus alone in `prometheus`, Grafana and Kiali in `observability`: the pinned charts,
// their values, their order and what they request (the cost model prices it). How they are reached (the stack's
// `observability` output, the viewers' port-forward to Prometheus) is ./access.ts.
// Kiali and Grafana read Prometheus at `prometheus.prometheus:9090` (PROMETHEUS_URL), Kiali finds Istio in its root
// namespace (istio-system), and `npm run verdict` reads it through `kubectl port-forward` on http://127.0.0.1:9090.
import { PlatformReleaseSpec } from "../shared/helm";
import { createHash } from "crypto";
import { ISTIO_ROOT_NAMESPACE, OBSERVABILITY_NAMESPACE, PROMETHEUS_NAMESPACE } from "../shared/namespaces";

export { OBSERVABILITY_NAMESPACE, PROMETHEUS_NAMESPACE };
import { ObservabilityConfig } from "./config";
import { JAEGER_RESOURCES, kialiTracing } from "./tracing";
import { ALERTMANAGER_RESOURCES, ALERTMANAGER_TARGET, alertmanagerValues } from "./alertmanager";
import { RuleFile } from "./alerts";

/**
 * The charts, pinned to the versions whose archives are in ../shared/charts, so what is deployed is what the tests
 * render with these values (test/observability/upstream-charts.test.ts). Bump them deliberately, one stack at a time
 * like Istio, with the new archive, and read the chart's changelog:
 * - prometheus 27.20.0 (Prometheus v3.4.1). Not what Istio's addon samples use: Istio 1.30's
 *   manifests/addons/gen.sh renders chart 28.13.0, which has no archive here to be tested against;
 * - grafana 9.2.2 (Grafana 12.0.1), the grafana chart archived here; no claim about Istio's samples;
 * - kiali-server 2.24.0: a Kiali of the Istio 1.29/1.30 era; Kiali tests each release against every Istio release
 *   supported at the time (kiali.io "Version Compatibility"). Check that table when Istio moves a minor.
 */
export const PROMETHEUS_CHART = { chart: "prometheus", repo: "https://prometheus-community.github.io/helm-charts", version: "27.20.0" } as const;
export const GRAFANA_CHART = { chart: "grafana", repo: "https://grafana.github.io/helm-charts", version: "9.2.2" } as const;
export const KIALI_CHART = { chart: "kiali-server", repo: "https://kiali.org/helm-charts", version: "2.24.0" } as const;

/** Where each addon lives: Prometheus alone, so a port-forward into its namespace reaches nothing else. */
export const ADDON_NAMESPACES = { prometheus: PROMETHEUS_NAMESPACE, grafana: OBSERVABILITY_NAMESPACE, kiali: OBSERVABILITY_NAMESPACE } as const;

/**
 * The Services the charts create. The prometheus chart would call its server `<release>-server` on port 80; the
 * values below make it `prometheus` on 9090, what Istio's docs, Kiali's default and the verdict command expect.
 */
export const PROMETHEUS_SERVICE = { name: "prometheus", port: 9090 } as const;
export const GRAFANA_SERVICE = { name: "grafana", port: 3000 } as const;
/** kiali-server names everything after `deployment.instance_name` (default `kiali`); the UI is under `/kiali`. */
export const KIALI_SERVICE = { name: "kiali", port: 20001, webRoot: "/kiali" } as const;

const inCluster = (svc: { name: string; port: number }, namespace: string) => `http://${svc.name}.${namespace}:${svc.port}`;
/** In-cluster URL of the installed Prometheus (Grafana's data source, Kiali's `external_services.prometheus.url`). */
export const PROMETHEUS_URL = inCluster(PROMETHEUS_SERVICE, PROMETHEUS_NAMESPACE);
export const GRAFANA_URL = inCluster(GRAFANA_SERVICE, OBSERVABILITY_NAMESPACE);

/** Scrape interval: the chart's 1m default leaves `rate()` over the verdict's windows too few samples. */
export const SCRAPE_INTERVAL = "15s";

/** Requests and limits of Grafana and Kiali (Prometheus's come from the stack config). */
export const GRAFANA_RESOURCES = { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } } as const;
export const KIALI_RESOURCES = { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } } as const;

/** Grafana's admin user; the chart generates the password into the Secret `grafana` (key `admin-password`) and keeps it. */
export const GRAFANA_ADMIN_USER = "admin";
/** Kiali's reference to that password: kiali-server mounts `secret:<name>:<key>` values from the Secret itself. */
export const GRAFANA_PASSWORD_REF = `secret:${GRAFANA_SERVICE.name}:admin-password`;

/**
 * Istio's dashboards as Istio's release tooling publishes them on grafana.com (organisation "istio"): Mesh 7639,
 * Service 7636, Workload 7630, Performance 11829, Control Plane 7645 (23411 is not Istio's). grafana.com numbers
 * revisions per upload, one per Istio release (release candidates included), the same number for all five; the
 * description of each revision names its Istio release. Pinned, so a Grafana restart never fetches a different
 * dashboard: revision 300, the one a public configuration pins for Istio 1.29.2. The revision of 1.30.3 could not be
 * looked up from here; find it, and check 300, with
 *   curl -s https://grafana.com/api/dashboards/7639/revisions | jq '.items[] | select(.description | contains("1.30.3")) | .revision'
 */
export const ISTIO_DASHBOARDS = [
    { key: "istio-mesh", title: "Istio Mesh Dashboard", gnetId: 7639 },
    { key: "istio-service", title: "Istio Service Dashboard", gnetId: 7636 },
    { key: "istio-workload", title: "Istio Workload Dashboard", gnetId: 7630 },
    { key: "istio-performance", title: "Istio Performance Dashboard", gnetId: 11829 },
    { key: "istio-control-plane", title: "Istio Control Plane Dashboard", gnetId: 7645 },
] as const;
export const ISTIO_DASHBOARD_REVISION = 300;
/** The variable the published dashboards name their data source by (their `__inputs`), replaced by ours. */
export const DASHBOARD_DATASOURCE_INPUT = "DS_PROMETHEUS";
/** Where the Istio dashboards are written, one `<key>.json` each (the file provider's path). */
export const ISTIO_DASHBOARDS_PATH = "/var/lib/grafana/dashboards/istio";
/**
 * curl's options for each download: fail on an HTTP error (-f), quietly but printing the error (-sS), verifying TLS
 * (the chart's default `-skf` does not), retrying a flaky network.
 */
export const DASHBOARD_CURL_OPTIONS = "-sSf --retry 3 --retry-connrefused";
/** The Grafana data source the dashboards are bound to. */
export const GRAFANA_DATASOURCE = "Prometheus";

/** The cluster-autoscaler's annotation: "false" keeps it from draining the pod's node to scale down. */
export const SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict";

/** Pods of the addons stay out of the mesh: Prometheus scrapes sidecars in plain HTTP on their metrics port. */
const NO_SIDECAR = { "sidecar.istio.io/inject": "false" };

export type AddonKey = "prometheus" | "grafana" | "kiali";

/** One Helm release of an addon: what it installs and which addons it waits for. */
export type AddonReleaseSpec = PlatformReleaseSpec<AddonKey>;

/** Helm's annotation that keeps a resource when its release no longer renders it, or is uninstalled. */
export const HELM_KEEP = "helm.sh/resource-policy";

/** Whether a persistent volume is asked for (otherwise an emptyDir). */
export function prometheusPersistent(config: ObservabilityConfig): boolean {
    return config.prometheus.enabled && config.prometheus.storageGi > 0;
}

/** How often Prometheus re-reads its configuration and rule files when alerting is on (auto-reload-config). */
export const RULES_RELOAD_INTERVAL = "30s";

/**
 * Values of the prometheus-community `prometheus` chart: the server, and with `alertmanager.enabled` the alert rules
 * of ./alerts.ts (`serverFiles`, alerting_rules.yml) and Alertmanager (./alertmanager.ts), which Prometheus sends
 * them to. Its default `kubernetes-pods` job keeps pods annotated `prometheus.io/scrape: "true"`, which Istio sets
 * on every sidecar (and on istiod and the gateway) when metrics merging is on, Istio's default: proxies' and apps'
 * metrics on `:15020/stats/prometheus`. Pushgateway, node-exporter and kube-state-metrics are off.
 *
 * The rules name each canary's stage, so they change with every stage change: Prometheus 3's `auto-reload-config`
 * re-reads them (and its configuration) when their checksum changes, without the lifecycle API (off: see below) and
 * without a restart, which on an emptyDir would lose the metrics the verdict judges. The rules are therefore left out
 * of the fingerprint that rolls the pod (PROMETHEUS_CONFIG_ANNOTATION).
 */
export function prometheusValues(config: ObservabilityConfig, storageClass?: string, rules?: RuleFile): Record<string, unknown> {
    const { retention, storageGi, resources } = config.prometheus;
    const alerting = config.alertmanager.enabled;
    if (alerting && !rules) throw new Error("prometheusValues: alertmanager.enabled needs the stack's alert rules");
    const values = {
        server: {
            fullnameOverride: PROMETHEUS_SERVICE.name,
            service: { servicePort: PROMETHEUS_SERVICE.port },
            retention,
            global: { scrape_interval: SCRAPE_INTERVAL },
            persistentVolume:
                // The claim is Helm's to create, never to delete: kept when the release is uninstalled or stops asking
                // for it (storageGi: 0), so the metrics the verdict judges survive (docs/observability.md "Observability").
                storageGi > 0 ? { enabled: true, size: `${storageGi}Gi`, ...(storageClass ? { storageClass } : {}), annotations: { [HELM_KEEP]: "keep" } } : { enabled: false },
            resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
            podLabels: { ...NO_SIDECAR },
            // No lifecycle API (the chart's default turns it on: a POST to /-/quit stops Prometheus) and no admin API
            // (deleting series): nothing that reaches the port may stop it or erase its data. With alerting on, the
            // rule files are re-read by Prometheus itself (auto-reload-config), which needs neither.
            extraFlags: alerting ? ["enable-feature=auto-reload-config"] : [],
            ...(alerting
                ? {
                      extraArgs: { "config.auto-reload-interval": RULES_RELOAD_INTERVAL },
                      // Alertmanager by its Service, in its own namespace: no pod discovery (and no RBAC for it).
                      alertmanagers: [{ static_configs: [{ targets: [ALERTMANAGER_TARGET] }] }],
                  }
                : {}),
        },
        // The reloader POSTs to /-/reload, the lifecycle API: off with it. A change of configuration restarts the pod
        // instead (PROMETHEUS_CONFIG_ANNOTATION).
        configmapReload: { prometheus: { enabled: false } },
        alertmanager: alerting ? alertmanagerValues(config.alertmanager, storageClass) : { enabled: false },
        "prometheus-pushgateway": { enabled: false },
        "prometheus-node-exporter": { enabled: false },
        "kube-state-metrics": { enabled: false },
    };
    const podAnnotations = {
        // Alertmanager's own values stay out: a change of receivers rolls Alertmanager's pod, not Prometheus's.
        [PROMETHEUS_CONFIG_ANNOTATION]: createHash("sha256").update(JSON.stringify({ ...values, alertmanager: { enabled: alerting } })).digest("hex").slice(0, 16),
        // Data on the node's emptyDir: the cluster-autoscaler does not remove the node from under it.
        ...(storageGi > 0 ? {} : { [SAFE_TO_EVICT]: "false" }),
    };
    return { ...values, server: { ...values.server, podAnnotations }, ...(alerting ? { serverFiles: { "alerting_rules.yml": rules } } : {}) };
}

/**
 * A fingerprint of Prometheus's values on its pod: with the lifecycle API off nothing reloads its configuration, so a
 * change of it rolls the pod, which reads the new one when it starts.
 */
export const PROMETHEUS_CONFIG_ANNOTATION = "stagehand.dev/prometheus-values";

/** The image of the chart's own download container (curlimages/curl, a shell with grep): the check runs in it too. */
export const DASHBOARD_CHECK_IMAGE = "docker.io/curlimages/curl:8.9.1";

/**
 * The shell script of the init container that runs after the chart's `download-dashboards`: it fails, naming each
 * one, when a dashboard file is missing, empty or not a dashboard, so the pod does not start without them and Helm's
 * atomic release rolls back, instead of Grafana showing empty dashboards.
 */
export function dashboardCheckScript(): string {
    const files = ISTIO_DASHBOARDS.map((d) => `${ISTIO_DASHBOARDS_PATH}/${d.key}.json`);
    return [
        "failed=0",
        `for f in ${files.join(" ")}; do`,
        `  if [ ! -s "$f" ] || ! grep -q '"panels"' "$f"; then echo "dashboard $f is missing, empty or not a dashboard: its download failed (see the download-dashboards container's log)" >&2; failed=1; fi`,
        "done",
        'exit "$failed"',
    ].join("\n");
}

/** The check as an init container of the grafana chart (`extraInitContainers`, after `download-dashboards`). */
function dashboardCheckContainer(): Record<string, unknown> {
    return {
        name: "check-dashboards",
        image: DASHBOARD_CHECK_IMAGE,
        command: ["/bin/sh", "-c", dashboardCheckScript()],
        volumeMounts: [{ name: "storage", mountPath: "/var/lib/grafana" }],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
    };
}

/** Values of the `grafana` chart: Prometheus as its data source and, with `dashboards`, Istio's dashboards. */
export function grafanaValues(config: ObservabilityConfig): Record<string, unknown> {
    const dashboards = config.grafana.dashboards;
    return {
        fullnameOverride: GRAFANA_SERVICE.name,
        service: { port: GRAFANA_SERVICE.port },
        adminUser: GRAFANA_ADMIN_USER,
        resources: { requests: { ...GRAFANA_RESOURCES.requests }, limits: { ...GRAFANA_RESOURCES.limits } },
        podLabels: { ...NO_SIDECAR },
        testFramework: { enabled: false },
        datasources: {
            "datasources.yaml": {
                apiVersion: 1,
                datasources: [
                    {
                        name: GRAFANA_DATASOURCE,
                        uid: "prometheus",
                        type: "prometheus",
                        url: PROMETHEUS_URL,
                        access: "proxy",
                        isDefault: true,
                        editable: false,
                        jsonData: { timeInterval: SCRAPE_INTERVAL },
                    },
                ],
            },
        },
        ...(dashboards
            ? {
                  // The chart's init container downloads each dashboard from grafana.com into the provider's path.
                  dashboardProviders: {
                      "dashboardproviders.yaml": {
                          apiVersion: 1,
                          providers: [
                              { name: "istio", orgId: 1, folder: "Istio", type: "file", disableDeletion: false, editable: false, options: { path: ISTIO_DASHBOARDS_PATH } },
                          ],
                      },
                  },
                  // The chart's script pipes each download through sed (`${DS_PROMETHEUS}` → our data source) without
                  // pipefail: a failed download leaves an empty file and exits 0. The check after it fails the pod.
                  defaultCurlOptions: DASHBOARD_CURL_OPTIONS,
                  dashboards: {
                      istio: Object.fromEntries(
                          ISTIO_DASHBOARDS.map((d) => [
                              d.key,
                              { gnetId: d.gnetId, revision: ISTIO_DASHBOARD_REVISION, datasource: [{ name: DASHBOARD_DATASOURCE_INPUT, value: GRAFANA_DATASOURCE }] },
                          ]),
                      ),
                  },
                  extraInitContainers: [dashboardCheckContainer()],
              }
            : {}),
    };
}

/**
 * Values of the `kiali-server` chart. Login with a Kubernetes token (`auth.strategy: token`), never anonymous:
 * whoever can reach the UI could otherwise read, and change, the mesh's config. Prometheus is the one installed
 * here; Grafana, when on, is linked from Kiali's metrics pages and read with its admin password from its Secret.
 */
export function kialiValues(config: ObservabilityConfig): Record<string, unknown> {
    return {
        auth: { strategy: "token" },
        deployment: {
            pod_labels: { ...NO_SIDECAR },
            resources: { requests: { ...KIALI_RESOURCES.requests }, limits: { ...KIALI_RESOURCES.limits } },
            ingress: { enabled: false },
        },
        server: { port: KIALI_SERVICE.port, web_root: KIALI_SERVICE.webRoot },
        external_services: {
            // Istio's root namespace: by default Kiali takes its own.
            istio: { root_namespace: ISTIO_ROOT_NAMESPACE },
            prometheus: { url: PROMETHEUS_URL },
            grafana: config.grafana.enabled
                ? {
                      enabled: true,
                      internal_url: GRAFANA_URL,
                      // What a browser opens: Grafana through the port-forward README gives.
                      external_url: `http://127.0.0.1:${GRAFANA_SERVICE.port}`,
                      auth: { type: "basic", username: GRAFANA_ADMIN_USER, password: GRAFANA_PASSWORD_REF },
                  }
                : { enabled: false },
            // Jaeger when the stack traces (./tracing.ts): Kiali shows a workload's traces and links to Jaeger's UI.
            tracing: kialiTracing(config),
        },
    };
}

const describe = (c: { chart: string; version: string }) => `${c.chart} ${c.version} (stagehand observability)`;

/**
 * The addons' Helm releases of a config, in install order; none when everything is off. `rules`: the stack's alert
 * rules (./alerts.ts), needed when `alertmanager.enabled` (Alertmanager is part of Prometheus's release).
 */
export function observabilityReleases(config: ObservabilityConfig, storageClass?: string, rules?: RuleFile): AddonReleaseSpec[] {
    const releases: AddonReleaseSpec[] = [];
    if (config.prometheus.enabled) {
        releases.push({ key: "prometheus", name: "prometheus", ...PROMETHEUS_CHART, namespace: ADDON_NAMESPACES.prometheus, values: prometheusValues(config, storageClass, rules), after: [], description: describe(PROMETHEUS_CHART) });
    }
    if (config.grafana.enabled) {
        releases.push({ key: "grafana", name: "grafana", ...GRAFANA_CHART, namespace: ADDON_NAMESPACES.grafana, values: grafanaValues(config), after: ["prometheus"], description: describe(GRAFANA_CHART) });
    }
    if (config.kiali.enabled) {
        // After Grafana too: Kiali mounts Grafana's admin password from the Secret the grafana release creates.
        releases.push({
            key: "kiali",
            name: "kiali",
            ...KIALI_CHART,
            namespace: ADDON_NAMESPACES.kiali,
            values: kialiValues(config),
            after: config.grafana.enabled ? ["prometheus", "grafana"] : ["prometheus"],
            description: describe(KIALI_CHART),
        });
    }
    return releases;
}

/** Whether any addon is on (otherwise the program creates no Observability component). */
export function anyAddonOn(config: ObservabilityConfig): boolean {
    return config.prometheus.enabled || config.grafana.enabled || config.kiali.enabled || config.tracing.enabled;
}

/** CPU and memory requests of each addon that is on, as its chart values set them: what the cost model prices. */
export function addonRequests(config: ObservabilityConfig): { addon: string; cpu: string; memory: string }[] {
    const out: { addon: string; cpu: string; memory: string }[] = [];
    if (config.prometheus.enabled) out.push({ addon: "Prometheus", ...config.prometheus.resources.requests });
    if (config.grafana.enabled) out.push({ addon: "Grafana", ...GRAFANA_RESOURCES.requests });
    if (config.kiali.enabled) out.push({ addon: "Kiali", ...KIALI_RESOURCES.requests });
    if (config.tracing.enabled) out.push({ addon: "Jaeger", ...JAEGER_RESOURCES.requests });
    if (config.alertmanager.enabled) out.push({ addon: "Alertmanager", ...ALERTMANAGER_RESOURCES.requests });
    return out;
}
