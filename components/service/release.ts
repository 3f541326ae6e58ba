// ServiceRelease: one microservice at one stage. Its namespace (labelled for Istio sidecar injection) and
// three Helm releases of the same chart — the production workloads, the canary workloads and the routing
// (Service, DestinationRule, VirtualService) — ordered make-before-break for the move being made.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";
import { helmRelease } from "../shared/helm-release";
import { Part, Track, TRACKS } from "../shared/tracks";
import { ServiceStageSummary, stageSummary, trafficOf } from "./deployed";
import { JudgedMove } from "./moves";
import { Drain, nextDrain, operationOrder, OperationOrder } from "./order";
import { PlannedService, Traffic } from "./stages";
import { serviceReleaseSpecs } from "./values";

export interface ServiceReleaseArgs {
    /** The service with its stage plans (components/service/stages.ts `planServices`). */
    planned: PlannedService;
    /** The judged move (components/service/moves.ts `judgeMoves`): where it comes from, in words. */
    move: JudgedMove;
    /**
     * Whether this release creates its namespace. Several services may share a namespace; exactly one of
     * them owns it (see `namespaceOwners`) and the others pass the owner's `namespaceResource`.
     */
    ownsNamespace: boolean;
    namespaceResource?: pulumi.Resource;
    provider?: k8s.Provider;
    /** Resources every child waits for (e.g. Istio being ready). */
    waitFor?: pulumi.Input<pulumi.Resource>[];
}

export class ServiceRelease extends pulumi.ComponentResource {
    /** True once every Helm release of the service reports `deployed`. */
    public readonly completed: pulumi.Output<boolean>;
    /**
     * What the stack exports for this service: read by reviewers in the preview diff, and read back by the
     * next update to judge its move (components/service/deployed.ts).
     */
    public readonly summary: pulumi.Output<ServiceStageSummary>;
    /** The order this update follows (make, routing, drain, break). */
    public readonly order: OperationOrder;
    public readonly namespaceResource?: k8s.core.v1.Namespace;
    public readonly workloads: Record<Track, k8s.helm.v3.Release>;
    public readonly routing: k8s.helm.v3.Release;
    public readonly drain: time.Sleep;
    /** What the drain Sleep holds after this move (components/service/order.ts `nextDrain`). */
    public readonly drainState: Drain;

    constructor(name: string, args: ServiceReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stagehand:index:ServiceRelease", name, {}, opts);
        const { service, plan } = args.planned;
        const childOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };

        this.namespaceResource = args.ownsNamespace
            ? new k8s.core.v1.Namespace(
                  `${name}-namespace`,
                  {
                      metadata: {
                          name: service.namespace,
                          labels: {
                              // Sidecars are what let VirtualService weights split traffic at all.
                              "istio-injection": "enabled",
                              "app.kubernetes.io/managed-by": "stagehand",
                          },
                      },
                  },
                  { ...childOpts, dependsOn: args.waitFor ?? [] },
              )
            : undefined;
        const ready: pulumi.Input<pulumi.Resource>[] = [...(args.waitFor ?? []), this.namespaceResource ?? args.namespaceResource].filter(
            (r): r is pulumi.Input<pulumi.Resource> => r !== undefined,
        );

        const specs = serviceReleaseSpecs(args.planned);
        const release = (part: Part, dependsOn: pulumi.Input<pulumi.Resource>[]) => helmRelease(`${name}-${part}`, specs[part], { ...childOpts, dependsOn });
        const previous = args.move.previous && trafficOf(args.move.previous);

        // Make before break: workloads that gain pods or change tag are applied (Helm waits for readiness)
        // before the routing; the routing before the drain delay; the drain before any scale-down.
        this.order = operationOrder(previous, plan, service.drainSeconds);
        const made = Object.fromEntries(this.order.make.map((t) => [t, release(t, ready)])) as Partial<Record<Track, k8s.helm.v3.Release>>;
        this.routing = release("routing", [...ready, ...Object.values(made)]);
        this.drainState = nextDrain(args.move.previous?.drain, this.order);
        this.drain = new time.Sleep(
            `${name}-drain`,
            {
                createDuration: `${this.drainState.seconds}s`,
                // Replaced (and so waiting again) only when this move removes pods that carried traffic.
                triggers: { drains: String(this.drainState.count) },
            },
            { parent: this, dependsOn: [this.routing] },
        );
        const broken = Object.fromEntries(this.order.break.map((t) => [t, release(t, [...ready, this.drain])]));
        this.workloads = { ...made, ...broken } as Record<Track, k8s.helm.v3.Release>;

        const all = [...TRACKS.map((t) => this.workloads[t]), this.routing];
        this.completed = pulumi.all(all.map((r) => r.status)).apply((statuses) => statuses.every((s) => s?.status === "deployed"));
        this.summary = this.completed.apply((completed) => stageSummary(service, plan, completed, args.move, this.drainState));
        this.registerOutputs({ completed: this.completed, summary: this.summary });
    }
}
