// `stagehand:cluster.istio`: the Istio a stack runs — its pinned release (and a canary release beside it, with the
// namespaces moved to it one pull request at a time), who may call whom by default, istiod's and the ingress
// gateway's sizes, and TLS at the edge. Pure: part of the cluster section (./config.ts), read by the program, `npm
// run plan`, the policies and the revision upgrade (./revisions.ts).
import { z } from "zod";
import { dnsLabel, quantity, wholeNumber } from "../shared/schema";
import { ACM_CERTIFICATE_ARN } from "./ingress";

/**
 * Istio release used when a stack does not pin one (the stack files all pin theirs): the newest 1.30 release whose
 * charts are in ../shared/charts, so what is deployed is what the tests render (test/platform/upstream-charts.test.ts).
 */
export const DEFAULT_ISTIO_VERSION = "1.30.3";
/** Service types of the Istio ingress gateway. `LoadBalancer` on EKS is an internet-facing NLB. */
export const GATEWAY_SERVICE_TYPES = ["LoadBalancer", "NodePort", "ClusterIP"] as const;

const ISTIO_VERSION_WORDS = "a pinned Istio release such as \"1.30.3\" (major.minor.patch: no range, no \"latest\")";
const istioVersion = z.string({ error: ISTIO_VERSION_WORDS }).regex(/^1\.\d+\.\d+$/, { error: ISTIO_VERSION_WORDS });

/** Minor version of "1.30.3": 30. */
export function istioMinor(version: string): number {
    return Number(version.split(".")[1]);
}

/** Orders two "major.minor.patch" versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

const replicaFields = {
    replicas: wholeNumber("a replica count", 1, 20).default(1),
    maxReplicas: wholeNumber("the autoscaling maximum", 1, 50).default(1),
};
const autoscaleRefine = (c: { replicas: number; maxReplicas: number }, ctx: z.RefinementCtx) => {
    if (c.maxReplicas < c.replicas) {
        ctx.addIssue({ code: "custom", path: ["maxReplicas"], input: c.maxReplicas, message: `a maxReplicas of at least replicas (${c.replicas})` });
    }
};

const ACM_ARN_WORDS = `an ACM certificate ARN such as "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"`;
const acmCertificateArn = z.string({ error: ACM_ARN_WORDS }).regex(ACM_CERTIFICATE_ARN, { error: ACM_ARN_WORDS });
/** What the mesh does with a call no AuthorizationPolicy allows: refuse it (uat, prod) or let it through (staging). */
export const ISTIO_AUTHORIZATION_MODES = ["deny-by-default", "open"] as const;
export type IstioAuthorization = (typeof ISTIO_AUTHORIZATION_MODES)[number];

export const istioSchema = z
    .strictObject(
        {
            version: istioVersion.default(DEFAULT_ISTIO_VERSION),
            // deny-by-default: each service namespace gets an allow-nothing AuthorizationPolicy, so only a service's
            // `callers` may call it (and every service must name them); open: a service without `callers` takes any call.
            authorization: z.enum(ISTIO_AUTHORIZATION_MODES, { error: "deny-by-default or open" }).default("open"),
            canaryVersion: istioVersion.optional(),
            // Namespaces moved to canaryVersion's control plane, one pull request at a time (their pods restart).
            canaryNamespaces: z
                .array(z.string({ error: "a namespace name" }).regex(dnsLabel, { error: "a namespace name (a DNS label)" }), { error: "a list of service namespaces" })
                .default([]),
            istiod: z
                .strictObject(
                    { ...replicaFields, cpu: quantity.default("100m"), memory: quantity.default("256Mi") },
                    { error: "an object with `replicas`, `maxReplicas`, `cpu` and `memory`" },
                )
                .superRefine(autoscaleRefine)
                .prefault({}),
            gateway: z
                .strictObject(
                    {
                        ...replicaFields,
                        serviceType: z.enum(GATEWAY_SERVICE_TYPES, { error: "LoadBalancer, NodePort or ClusterIP" }).default("LoadBalancer"),
                        // TLS at the edge: the NLB terminates it with this ACM certificate (components/platform/ingress.ts).
                        tls: z.strictObject({ certificateArn: acmCertificateArn }, { error: "an object with `certificateArn`" }).optional(),
                    },
                    { error: "an object with `replicas`, `maxReplicas`, `serviceType` and `tls`" },
                )
                .superRefine(autoscaleRefine)
                .superRefine((g, ctx) => {
                    if (g.tls && g.serviceType !== "LoadBalancer") {
                        ctx.addIssue({ code: "custom", path: ["tls"], input: g.tls, message: `no tls with serviceType ${g.serviceType} (TLS is terminated by the NLB of serviceType LoadBalancer: remove tls, or set serviceType: LoadBalancer)` });
                    }
                })
                .prefault({}),
        },
        { error: "an object with `version`, and optionally `authorization`, `canaryVersion`, `canaryNamespaces`, `istiod` and `gateway`" },
    )
    .superRefine((istio, ctx) => {
        const canary = istio.canaryVersion;
        istio.canaryNamespaces.forEach((ns, i) => {
            if (istio.canaryNamespaces.indexOf(ns) !== i) ctx.addIssue({ code: "custom", path: ["canaryNamespaces", i], input: ns, message: "each namespace once" });
        });
        if (canary === undefined) {
            if (istio.canaryNamespaces.length > 0) {
                ctx.addIssue({ code: "custom", path: ["canaryNamespaces"], input: istio.canaryNamespaces, message: "no canaryNamespaces without a canaryVersion (there is no second control plane to move them to)" });
            }
            return;
        }
        if (compareVersions(canary, istio.version) <= 0) {
            ctx.addIssue({ code: "custom", path: ["canaryVersion"], input: canary, message: `a canaryVersion newer than version (${istio.version})` });
        } else if (istioMinor(canary) > istioMinor(istio.version) + 1) {
            ctx.addIssue({
                code: "custom",
                path: ["canaryVersion"],
                input: canary,
                message: `a canaryVersion at most one minor release above version ${istio.version} (Istio upgrades one minor at a time)`,
            });
        }
    });

export type IstioConfig = z.output<typeof istioSchema>;
