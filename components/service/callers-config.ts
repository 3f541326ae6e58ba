// `callers` of a service block: who may call the service. Its own module beside the other sections of the block
// (config.ts, routing-config.ts, jobs-config.ts); components/service/authorization.ts turns it into the routing
// release's AuthorizationPolicy. Pure.
import { z } from "zod";
import { dnsLabel } from "../shared/schema";

// Who may call the service (an Istio AuthorizationPolicy the routing release renders, ALLOW from these only):
// whole namespaces, single workloads by ServiceAccount ("<namespace>/<serviceaccount>"), and the ingress gateway.
// Kubernetes ServiceAccount names are DNS subdomains; namespaces DNS labels.
const SERVICE_ACCOUNT_WORDS = 'a ServiceAccount as "<namespace>/<serviceaccount>", e.g. "checkout/checkout" (a service\'s pods run as its own name\'s ServiceAccount)';
const serviceAccountRef = z
    .string({ error: SERVICE_ACCOUNT_WORDS })
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { error: SERVICE_ACCOUNT_WORDS });
const CALLERS_WORDS = "an object naming who may call the service: {namespaces?: [<namespace>, …], serviceAccounts?: [\"<namespace>/<serviceaccount>\", …], ingress?: true}";
const uniqueList = <T extends z.ZodType<string>>(item: T, words: string) =>
    z.array(item, { error: words }).superRefine((list, ctx) => {
        list.forEach((v, i) => {
            if (list.indexOf(v) !== i) ctx.addIssue({ code: "custom", path: [i], input: v, message: `each one once (${JSON.stringify(v)} is listed twice)` });
        });
    });
export const callersSchema = z
    .strictObject(
        {
            namespaces: uniqueList(z.string({ error: "a namespace name" }).regex(dnsLabel, { error: "a namespace name (a DNS label)" }), "a list of namespaces, e.g. [storefront]").default([]),
            serviceAccounts: uniqueList(serviceAccountRef, 'a list of ServiceAccounts, e.g. ["storefront/storefront"]').default([]),
            // The ingress gateway (istio-ingress/istio-ingress): what the shared Gateway forwards from the internet.
            ingress: z.boolean({ error: "true or false" }).default(false),
        },
        { error: CALLERS_WORDS },
    )
    .superRefine((c, ctx) => {
        if (c.namespaces.length === 0 && c.serviceAccounts.length === 0 && !c.ingress) {
            ctx.addIssue({ code: "custom", input: c, message: `at least one caller (an empty list lets no one call the service): ${CALLERS_WORDS}` });
        }
    });
export type CallersConfig = z.output<typeof callersSchema>;
