// The Namespace of a service namespace: one per namespace, `namespace-<ns>`, registered by the program (not by a
// ServiceRelease), labelled for Istio sidecar injection by revision and
// for the `restricted` Pod Security Standard. It adopts, without replacement, the
// `<service>-namespace` an earlier stagehand created as a child of the ServiceRelease of whichever service of the
// namespace came first by name (components/service/namespaces.ts).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { podSecurityLabels, SERVICE_NAMESPACE_LEVEL } from "../shared/pod-security";
import { allowNothingPolicy } from "./authorization";
import { legacyNamespaceName, NamespacePlan, namespaceResourceName, SERVICE_RELEASE_TYPE } from "./namespaces";

export interface ServiceNamespaceArgs {
    /** The namespace and the services it adopts from (`planNamespaces`). */
    plan: NamespacePlan;
    /** The Istio revision the namespace injects from (components/platform/revisions.ts `namespaceRevision`). */
    istioRevision: string;
    /** The cluster's Kubernetes minor ("1.35"): the version of the Pod Security Standards enforced; absent: `latest`. */
    kubernetesVersion?: string;
    provider?: k8s.Provider;
    /** Resources the namespace waits for (Istio being ready). */
    waitFor?: pulumi.Input<pulumi.Resource>[];
}

/** The aliases of a namespace: `<service>-namespace` under the ServiceRelease `<service>`, for every service it adopts. */
export function namespaceAliases(plan: NamespacePlan): pulumi.Alias[] {
    // The ServiceRelease was a child of the stack itself: its URN has no parent type.
    return plan.adopts.map((service) => ({ name: legacyNamespaceName(service), parent: pulumi.createUrn(service, SERVICE_RELEASE_TYPE) }));
}

/** Registers the Namespace of one service namespace (at the stack's root). */
export function serviceNamespace(args: ServiceNamespaceArgs, opts: pulumi.CustomResourceOptions = {}): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
        namespaceResourceName(args.plan.namespace),
        {
            metadata: {
                name: args.plan.namespace,
                labels: {
                    // Sidecars are what let VirtualService weights split traffic at all. By revision, never
                    // `istio-injection: enabled` (which overrides it): an Istio upgrade moves namespaces one at a time.
                    "istio.io/rev": args.istioRevision,
                    "app.kubernetes.io/managed-by": "stagehand",
                    // Pod Security Admission enforces (and warns and audits) `restricted` on every pod of the namespace.
                    ...podSecurityLabels(SERVICE_NAMESPACE_LEVEL, args.kubernetesVersion),
                },
            },
        },
        { ...opts, provider: args.provider, dependsOn: args.waitFor ?? [], aliases: [...(opts.aliases ?? []), ...namespaceAliases(args.plan)] },
    );
}

/**
 * A deny-by-default stack's allow-nothing AuthorizationPolicy in one service namespace (`authorization.ts`): after the
 * routing releases of its services (`waitFor`), so each service's own ALLOW policy is in place before the namespace
 * stops taking calls no policy allows.
 */
export function namespaceAllowNothing(
    namespace: string,
    args: { provider?: k8s.Provider; namespaceResource: k8s.core.v1.Namespace; waitFor: pulumi.Input<pulumi.Resource>[] },
): k8s.apiextensions.CustomResource {
    const policy = allowNothingPolicy(namespace);
    return new k8s.apiextensions.CustomResource(
        `${namespaceResourceName(namespace)}-allow-nothing`,
        { apiVersion: policy.apiVersion, kind: policy.kind, metadata: policy.metadata, spec: policy.spec },
        { provider: args.provider, dependsOn: [args.namespaceResource, ...args.waitFor] },
    );
}
