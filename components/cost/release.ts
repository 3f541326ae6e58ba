// Pure: what the services' releases add to the cluster while they run — the pods a release holds beyond each
// service's full size (components/service/overhead.ts), priced as the share of a node their requests need, as the
// addons are (cost.ts `nodeShareLine`). Apart from the monthly total: a release holds its peak for the days it runs,
// so the line reads as "this much per month while held", with the hourly rate beside it.
import type { EksClusterConfig } from "../platform/config";
import { releaseOverhead } from "../service/overhead";
import { canaryRevision, stableRevision } from "../service/revision";
import type { PlannedService } from "../service/stages";
import { cpuCores, memoryGiB } from "../shared/quantity";
import { CostLine, nodeShareLine } from "./cost";
import { HOURS_PER_MONTH } from "./prices";

/** The release overhead of a stack: one line per service whose release holds extra pods, and their sum. */
export interface ReleaseCost {
    /** One line per service: its peak extra pods held at a stage, as the share of a node their requests need. */
    lines: CostLine[];
    /** USD per month if every service held its peak at once, rounded to cents. */
    monthly: number;
    /** The same per hour. */
    hourly: number;
    /** Pods beyond the held peak for the minutes of a switch back or rollback, summed over the services. */
    movingPods: number;
}

/** The larger of two quantities, as written. */
const larger = (a: string, b: string, parse: (q: string) => number) => (parse(b) > parse(a) ? b : a);

/**
 * The pods a release holds beyond a service's full size run either revision (production's stable, or the canary's),
 * so each is priced at the larger request of the two, CPU and memory apart: the capacity they need whichever runs.
 */
function podRequests(planned: PlannedService): { cpu: string; memory: string } {
    const stable = stableRevision(planned.service).resources.requests;
    const canary = canaryRevision(planned.service).resources.requests;
    return { cpu: larger(stable.cpu, canary.cpu, cpuCores), memory: larger(stable.memory, canary.memory, memoryGiB) };
}

/** The release overhead of every service of an EKS stack; undefined when no release holds pods beyond full size. */
export function releaseCost(cluster: EksClusterConfig, services: readonly PlannedService[]): ReleaseCost | undefined {
    const lines: CostLine[] = [];
    let movingPods = 0;
    for (const planned of services) {
        const overhead = releaseOverhead(planned.plans, planned.service.replicas);
        if (overhead.heldExtra === 0) continue;
        movingPods += overhead.movingExtra - overhead.heldExtra;
        const requests = podRequests(planned);
        lines.push(
            nodeShareLine(cluster, `release of ${planned.name}: ${overhead.heldExtra} pod${overhead.heldExtra === 1 ? "" : "s"} beyond x${overhead.fullReplicas} (production ${planned.service.production})`, {
                ...requests,
                replicas: overhead.heldExtra,
            }),
        );
    }
    if (lines.length === 0) return undefined;
    const monthly = Math.round(lines.reduce((sum, l) => sum + l.monthly, 0) * 100) / 100;
    return { lines, monthly, hourly: Math.round((monthly / HOURS_PER_MONTH) * 10000) / 10000, movingPods };
}
