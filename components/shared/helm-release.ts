// The one way the program installs a Helm release (services, Istio, addons): `releaseArgs` gives every one of
// them the same rollback guarantees, so `service-release-atomic` holds by construction.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { platformRelease, PlatformReleaseSpec, releaseArgs, ReleaseSpec } from "./helm";

export function helmRelease(resourceName: string, spec: ReleaseSpec, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(resourceName, releaseArgs(spec), opts);
}

/**
 * Platform releases in their order: each waits for the releases its spec names in `after`, and for what
 * `dependsOn` gives it. Resource names are `<prefix>-<key>`.
 */
export function platformReleases<K extends string>(
    prefix: string,
    specs: PlatformReleaseSpec<K>[],
    opts: pulumi.CustomResourceOptions,
    dependsOn: (spec: PlatformReleaseSpec<K>) => pulumi.Input<pulumi.Resource>[],
): Partial<Record<K, k8s.helm.v3.Release>> {
    const releases: Partial<Record<K, k8s.helm.v3.Release>> = {};
    for (const spec of specs) {
        const after = spec.after.map((k) => {
            const release = releases[k];
            if (!release) throw new Error(`release ${spec.key} waits for ${k}, which is not installed before it`);
            return release;
        });
        releases[spec.key] = helmRelease(`${prefix}-${spec.key}`, platformRelease(spec), { ...opts, dependsOn: [...dependsOn(spec), ...after] });
    }
    return releases;
}
