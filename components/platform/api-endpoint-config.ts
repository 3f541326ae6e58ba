// `cluster.apiEndpoint` of `stagehand:cluster`: how the EKS API is reached, with the IPv4 CIDR check its allow-list
// uses. A section of components/platform/config.ts in its own module. Pure.
import { z } from "zod";

// The EKS API endpoint: public (optionally limited to listed CIDR blocks), private (reached from the VPC), or
// both. AWS's defaults are a public endpoint open to 0.0.0.0/0; private access is on here by default so nodes
// reach the API through the VPC.
/** AWS's own default for the sources a public API endpoint accepts: the whole internet. */
export const DEFAULT_PUBLIC_ACCESS_CIDRS = ["0.0.0.0/0"];
const CIDR_WORDS = "an IPv4 CIDR block such as \"203.0.113.0/24\" (address/prefix length)";

/** Why `cidr` is not an IPv4 CIDR block whose address starts its range, in words; undefined when it is one. */
export function ipv4CidrProblem(cidr: string): string | undefined {
    if (cidr.includes(":")) return `${CIDR_WORDS}; the cluster is IPv4, so EKS takes no IPv6 blocks`;
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(cidr)) return `${CIDR_WORDS}; a single address is "${cidr}/32"`;
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m) return CIDR_WORDS;
    const octets = m.slice(1, 5).map(Number);
    const bits = Number(m[5]);
    if (m.slice(1, 6).some((n) => n.length > 1 && n.startsWith("0")) || octets.some((o) => o > 255)) {
        return `${CIDR_WORDS}, each of its four numbers from 0 to 255 without leading zeros`;
    }
    if (bits > 32) return `${CIDR_WORDS} with a prefix length from 0 to 32`;
    const address = octets.reduce((a, o) => a * 256 + o, 0);
    const size = 2 ** (32 - bits);
    const start = address - (address % size);
    if (start !== address) {
        const network = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256).join(".");
        return `the CIDR block "${network}/${bits}" (a block's address starts its range: the bits after the prefix are zero)`;
    }
    return undefined;
}

const ipv4Cidr = z.string({ error: CIDR_WORDS }).superRefine((cidr, ctx) => {
    const problem = ipv4CidrProblem(cidr);
    if (problem) ctx.addIssue({ code: "custom", input: cidr, message: problem });
});

export const apiEndpointSchema = z
    .strictObject(
        {
            // Absent: public only when asked for (publicAccessCidrs listed, or private: false); otherwise a new
            // stack's API answers only inside the VPC.
            public: z.boolean({ error: "true or false" }).optional(),
            publicAccessCidrs: z
                .array(ipv4Cidr, { error: "a list of IPv4 CIDR blocks, e.g. [\"203.0.113.0/24\"]" })
                .min(1, { error: "at least one CIDR block (leave publicAccessCidrs out for AWS's default 0.0.0.0/0, or set public: false)" })
                .superRefine((cidrs, ctx) => {
                    cidrs.forEach((c, i) => {
                        if (cidrs.indexOf(c) !== i) ctx.addIssue({ code: "custom", path: [i], input: c, message: "each CIDR block once" });
                    });
                })
                .optional(),
            private: z.boolean({ error: "true or false" }).default(true),
        },
        { error: "an object with `public`, `publicAccessCidrs` and `private`" },
    )
    .transform((e) => ({ ...e, public: e.public ?? (e.publicAccessCidrs !== undefined || !e.private) }))
    .superRefine((e, ctx) => {
        if (!e.public && !e.private) {
            ctx.addIssue({
                code: "custom",
                path: ["private"],
                input: e.private,
                message: "true when public is false (with neither endpoint, neither the nodes nor kubectl reach the API server)",
            });
        }
        if (!e.public && e.publicAccessCidrs !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["publicAccessCidrs"],
                input: e.publicAccessCidrs,
                message: "no publicAccessCidrs with public: false (they only limit the public endpoint); remove them, or set public: true",
            });
        }
        const restricted = e.publicAccessCidrs !== undefined && !e.publicAccessCidrs.includes("0.0.0.0/0");
        if (e.public && restricted && !e.private) {
            ctx.addIssue({
                code: "custom",
                path: ["private"],
                input: e.private,
                message: "true when publicAccessCidrs limit the public endpoint (without private access the nodes reach the API server through the public endpoint, from addresses not listed)",
            });
        }
    })
    // Resolved: the CIDRs the public endpoint accepts (none when it is off).
    .transform((e) => ({ public: e.public, publicAccessCidrs: e.public ? (e.publicAccessCidrs ?? [...DEFAULT_PUBLIC_ACCESS_CIDRS]) : [], private: e.private }));

export type ApiEndpointConfig = z.output<typeof apiEndpointSchema>;
