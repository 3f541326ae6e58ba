// Pure: IAM documents of the platform. Every controller that calls AWS gets its own role, assumed through EKS Pod
// Identity by its ServiceAccount only, never the node's role: nodes' metadata service answers one network hop
// (components/platform/nodes.ts), so a pod cannot borrow the node's credentials either.

/** The trust policy of a role assumed through EKS Pod Identity (the association names the ServiceAccount). */
export function podIdentityTrustPolicy(): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
    });
}
