// The two Deployments of every service and the parts one Helm release of the chart can render: the vocabulary
// of the stage plan, the chart values, the verdict and the policies.

/** `production` runs the `stable` tag (and the released tag from promote on); `canary` the tag being released. */
export const TRACKS = ["production", "canary"] as const;
export type Track = (typeof TRACKS)[number];

/** What one Helm release of the service chart renders: a track's workloads, or the routing. */
export const PARTS = [...TRACKS, "routing"] as const;
export type Part = (typeof PARTS)[number];
