// Pure: the Kubernetes Pod Security Standards as a checker of rendered pod specs, written from
// https://kubernetes.io/docs/concepts/security/pod-security-standards/ (the policy Pod Security Admission enforces
// when a namespace is labelled `pod-security.kubernetes.io/enforce: <level>`). Each rule cites the control it
// implements. "Containers" means containers, initContainers and ephemeralContainers, as the standard says.
// `privileged` allows everything; `baseline` forbids the known privilege escalations; `restricted` is baseline
// plus the hardening rules.

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** Baseline "Capabilities": the only capabilities a container may add. */
const BASELINE_CAPABILITIES = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"];
/** Baseline "Sysctls": the safe set (including those added up to Kubernetes 1.29). */
const SAFE_SYSCTLS = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
/** Baseline "SELinux": the allowed `seLinuxOptions.type` values. */
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
/** Restricted "Volume Types": the only volume sources allowed. */
const RESTRICTED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/** The pod spec of a Pod or of any workload's template (Deployment, DaemonSet, StatefulSet, Job, CronJob). */
export function podSpecOf(object: any): { spec: any; annotations: Record<string, string> } | undefined {
    if (object?.kind === "Pod") return { spec: object.spec, annotations: object.metadata?.annotations ?? {} };
    const template = object?.kind === "CronJob" ? object.spec?.jobTemplate?.spec?.template : object?.spec?.template;
    if (template?.spec?.containers) return { spec: template.spec, annotations: template.metadata?.annotations ?? {} };
    return undefined;
}

/** The violations of `level` by one pod spec (empty: it is admitted). */
export function podSecurityViolations(pod: { spec: any; annotations?: Record<string, string> }, level: PodSecurityLevel): string[] {
    if (level === "privileged") return [];
    const spec = pod.spec ?? {};
    const podSc = spec.securityContext ?? {};
    const containers: any[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
    const out: string[] = [];
    const each = (check: (c: any, sc: any) => string | undefined) => {
        for (const c of containers) {
            const v = check(c, c.securityContext ?? {});
            if (v) out.push(`container ${c.name}: ${v}`);
        }
    };

    // ---- baseline ----
    // HostProcess: windowsOptions.hostProcess undefined or false.
    if (podSc.windowsOptions?.hostProcess) out.push("hostProcess (baseline: HostProcess)");
    each((_, sc) => (sc.windowsOptions?.hostProcess ? "hostProcess (baseline: HostProcess)" : undefined));
    // Host Namespaces: hostNetwork, hostPID, hostIPC undefined or false.
    for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[f]) out.push(`${f} (baseline: Host Namespaces)`);
    // Privileged Containers: securityContext.privileged undefined or false.
    each((_, sc) => (sc.privileged ? "privileged (baseline: Privileged Containers)" : undefined));
    // Capabilities: add only the baseline set.
    each((_, sc) => {
        const extra = (sc.capabilities?.add ?? []).filter((cap: string) => !BASELINE_CAPABILITIES.includes(cap));
        return extra.length > 0 ? `adds ${extra.join(", ")} (baseline: Capabilities)` : undefined;
    });
    // HostPath Volumes: none.
    for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`volume ${v.name} is a hostPath (baseline: HostPath Volumes)`);
    // Host Ports: hostPort undefined or 0.
    each((c) => ((c.ports ?? []).some((p: any) => p.hostPort) ? "hostPort (baseline: Host Ports)" : undefined));
    // AppArmor: profile type undefined, RuntimeDefault or Localhost; the annotation runtime/default or localhost/*.
    const appArmorOk = (t: unknown) => t === undefined || t === "RuntimeDefault" || t === "Localhost";
    if (!appArmorOk(podSc.appArmorProfile?.type)) out.push(`AppArmor ${podSc.appArmorProfile.type} (baseline: AppArmor)`);
    each((_, sc) => (appArmorOk(sc.appArmorProfile?.type) ? undefined : `AppArmor ${sc.appArmorProfile.type} (baseline: AppArmor)`));
    for (const [k, v] of Object.entries(pod.annotations ?? {})) {
        if (k.startsWith("container.apparmor.security.beta.kubernetes.io/") && v !== "runtime/default" && !v.startsWith("localhost/")) out.push(`annotation ${k}: ${v} (baseline: AppArmor)`);
    }
    // SELinux: type one of the container types; user and role unset.
    const seLinux = (o: any) => o && (!SELINUX_TYPES.includes(o.type ?? "") || (o.user ?? "") !== "" || (o.role ?? "") !== "");
    if (seLinux(podSc.seLinuxOptions)) out.push("seLinuxOptions (baseline: SELinux)");
    each((_, sc) => (seLinux(sc.seLinuxOptions) ? "seLinuxOptions (baseline: SELinux)" : undefined));
    // /proc Mount Type: undefined or Default.
    each((_, sc) => (sc.procMount !== undefined && sc.procMount !== "Default" ? `procMount ${sc.procMount} (baseline: /proc Mount Type)` : undefined));
    // Seccomp: never Unconfined.
    if (podSc.seccompProfile?.type === "Unconfined") out.push("seccomp Unconfined (baseline: Seccomp)");
    each((_, sc) => (sc.seccompProfile?.type === "Unconfined" ? "seccomp Unconfined (baseline: Seccomp)" : undefined));
    // Sysctls: only the safe set.
    for (const s of podSc.sysctls ?? []) if (!SAFE_SYSCTLS.includes(s.name)) out.push(`sysctl ${s.name} (baseline: Sysctls)`);

    if (level === "baseline") return out;

    // ---- restricted ----
    // Volume Types: only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret.
    for (const v of spec.volumes ?? []) {
        const source = Object.keys(v).filter((k) => k !== "name");
        if (!source.every((k) => RESTRICTED_VOLUMES.includes(k))) out.push(`volume ${v.name} is ${source.join(", ")} (restricted: Volume Types)`);
    }
    // Privilege Escalation: allowPrivilegeEscalation must be false.
    each((_, sc) => (sc.allowPrivilegeEscalation === false ? undefined : "allowPrivilegeEscalation is not false (restricted: Privilege Escalation)"));
    // Running as Non-root: runAsNonRoot true on the pod, or on every container (a container may not set false).
    each((_, sc) => (sc.runAsNonRoot === true || (podSc.runAsNonRoot === true && sc.runAsNonRoot !== false) ? undefined : "runAsNonRoot is not true (restricted: Running as Non-root)"));
    // Running as Non-root user: runAsUser undefined or non-zero.
    if (podSc.runAsUser === 0) out.push("runAsUser 0 (restricted: Running as Non-root user)");
    each((_, sc) => (sc.runAsUser === 0 ? "runAsUser 0 (restricted: Running as Non-root user)" : undefined));
    // Seccomp: RuntimeDefault or Localhost on the pod, or on every container.
    const seccompSet = (t: unknown) => t === "RuntimeDefault" || t === "Localhost";
    each((_, sc) => (seccompSet(sc.seccompProfile?.type) || (seccompSet(podSc.seccompProfile?.type) && sc.seccompProfile?.type === undefined) ? undefined : "no RuntimeDefault/Localhost seccomp profile (restricted: Seccomp)"));
    // Capabilities: drop ALL; add only NET_BIND_SERVICE.
    each((_, sc) => {
        if (!(sc.capabilities?.drop ?? []).includes("ALL")) return "does not drop ALL capabilities (restricted: Capabilities)";
        const extra = (sc.capabilities?.add ?? []).filter((cap: string) => cap !== "NET_BIND_SERVICE");
        return extra.length > 0 ? `adds ${extra.join(", ")} (restricted: Capabilities)` : undefined;
    });
    return out;
}

/** The strictest level a pod spec passes. */
export function strictestLevel(pod: { spec: any; annotations?: Record<string, string> }): PodSecurityLevel {
    if (podSecurityViolations(pod, "restricted").length === 0) return "restricted";
    if (podSecurityViolations(pod, "baseline").length === 0) return "baseline";
    return "privileged";
}
