// ServiceRelease: one microservice at one stage, in its namespace (registered by the program, one per namespace:
// service-namespace.ts): three Helm releases of the same chart — the production workloads, the canary workloads and the routing
// (Service, DestinationRule, VirtualService) — ordered make-before-break for the move being made.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";
import { helmRelease } from "../shared/helm-release";
import { Part, Track, TRACKS } from "../shared/tracks";
import { ServiceStageSummary, stageSummary, trafficOf } from "./deployed";
import { JudgedMove } from "./moves";
import { SERVICE_RELEASE_TYPE } from "./namespaces";
import { randomUUID } from "crypto";
import { growsBackWords, heldWords, holdForUnknownPast, nextWait, operationOrder, OperationOrder, Wait, waitTrigger } from "./order";
import { PlannedService, Traffic } from "./stages";
import { ONLY, releaseRevision, secretEnvName, serviceReleaseSpecs, splitEnv } from "./values";

export interface ServiceReleaseArgs {
    /** The service with its stage plans (components/service/stages.ts `planServices`). */
    planned: PlannedService;
    /** The judged move (components/service/moves.ts `judgeMoves`): where it comes from, in words. */
    move: JudgedMove;
    /** The Namespace the service runs in (service-namespace.ts `serviceNamespace`): every child waits for it. */
    namespaceResource?: pulumi.Resource;
    provider?: k8s.Provider;
    /** The Istio revision the service's namespace injects from (components/platform/revisions.ts). */
    istioRevision: string;
    /** Whether the stack terminates TLS at its edge: the sticky cookie is then `Secure`. */
    secureCookies?: boolean;
    /** Resources every child waits for (e.g. Istio being ready). */
    waitFor?: pulumi.Input<pulumi.Resource>[];
    /** This update's identity, carried by the waits of a cautious move (default: a fresh random UUID per update). */
    updateId?: string;
}

export class ServiceRelease extends pulumi.ComponentResource {
    /** True once every Helm release of the service reports `deployed`. */
    public readonly completed: pulumi.Output<boolean>;
    /**
     * What the stack exports for this service: read by reviewers in the preview diff, and read back by the
     * next update to judge its move (components/service/deployed.ts).
     */
    public readonly summary: pulumi.Output<ServiceStageSummary>;
    /** The order this update follows (make, settle, routing, drain, break). */
    public readonly order: OperationOrder;
    public readonly workloads: Record<Track, k8s.helm.v3.Release>;
    public readonly routing: k8s.helm.v3.Release;
    /** Waits between the make releases and the routing (settle), and between the routing and the break (drain). */
    public readonly settle: time.Sleep;
    public readonly drain: time.Sleep;
    /** The Kubernetes Secrets of the service's secret env, by name (one per set of secrets its tracks run). */
    public readonly secrets: Record<string, k8s.core.v1.Secret>;
    /** What the wait Sleeps hold after this move (components/service/order.ts `nextWait`). */
    public readonly waits: { settle: Wait; drain: Wait };

    constructor(name: string, args: ServiceReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        // Its inputs are what the policy pack judges of the service as a whole: whether it may skip stages
        // (`allowSkip`, the service's own or the stack-wide default: policies/rules/services.ts).
        // And how production is sized through a release (`production`: policies/rules/services.ts, service-production-full).
        super(SERVICE_RELEASE_TYPE, name, { allowSkip: args.move.allowSkip, allowSkipFrom: args.planned.service.allowSkip !== undefined ? "service" : "stack", production: args.planned.service.production }, opts);
        const { service, plan } = args.planned;
        const childOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };

        const ready: pulumi.Input<pulumi.Resource>[] = [...(args.waitFor ?? []), ...(args.namespaceResource ? [args.namespaceResource] : [])];

        // What is applied: the plan, with tracks held at full size when the previous state is unknown.
        const previous = args.move.previous && trafficOf(args.move.previous);
        const applied = previous ? plan : holdForUnknownPast(plan, service.replicas);
        const specs = serviceReleaseSpecs({ name: args.planned.name, service, plan: applied }, { istioRevision: args.istioRevision, secureCookies: args.secureCookies });

        // Secret env values reach the pods only through a Kubernetes Secret, one per set of secrets (named by their
        // fingerprint), created before the track releases that name it; the chart values carry only the reference.
        this.secrets = {};
        const secretOf: Partial<Record<Track, k8s.core.v1.Secret>> = {};
        for (const track of TRACKS) {
            const env = releaseRevision(service, applied, ONLY[track]).env;
            const secretName = secretEnvName(args.planned.name, env);
            if (!secretName) continue;
            this.secrets[secretName] ??= new k8s.core.v1.Secret(
                secretName,
                {
                    metadata: {
                        name: secretName,
                        namespace: service.namespace,
                        labels: { "app.kubernetes.io/name": args.planned.name, "app.kubernetes.io/managed-by": "stagehand" },
                    },
                    type: "Opaque",
                    stringData: pulumi.secret(Object.fromEntries(Object.entries(splitEnv(env).secret).map(([k, v]) => [k, secretPlaintext(args.planned.name, k, v.value)]))),
                },
                { ...childOpts, dependsOn: ready },
            );
            secretOf[track] = this.secrets[secretName];
        }
        const release = (part: Part, dependsOn: pulumi.Input<pulumi.Resource>[]) =>
            helmRelease(`${name}-${part}`, specs[part], { ...childOpts, dependsOn: part === "routing" || !secretOf[part] ? dependsOn : [...dependsOn, secretOf[part]!] });

        // Make before break: workloads whose pods the routing will rely on are applied (Helm waits for readiness),
        // then the settle wait, then the routing, then the drain wait, then the workloads that lose pods.
        this.order = operationOrder(previous, applied, { drainSeconds: service.drainSeconds, settleSeconds: service.settleSeconds });
        const made = Object.fromEntries(this.order.make.map((t) => [t, release(t, ready)])) as Partial<Record<Track, k8s.helm.v3.Release>>;
        // Each wait is a Sleep, replaced (and so waiting) only by a move that needs it; otherwise unchanged.
        // With the previous state unknown, a wait it needs carries this update's identity, so its trigger differs
        // from whatever Sleep is deployed: it is replaced, and waits (components/service/order.ts `Wait`).
        const cautiousUpdate = this.order.cautious ? (args.updateId ?? randomUUID()) : undefined;
        this.waits = {
            settle: nextWait(args.move.previous?.settle, this.order.settleSeconds, cautiousUpdate),
            drain: nextWait(args.move.previous?.drain, this.order.drainSeconds, cautiousUpdate),
        };
        const sleep = (wait: "settle" | "drain", dependsOn: pulumi.Input<pulumi.Resource>[]) =>
            new time.Sleep(
                `${name}-${wait}`,
                { createDuration: `${this.waits[wait].seconds}s`, triggers: { [`${wait}s`]: waitTrigger(this.waits[wait]) } },
                { parent: this, dependsOn },
            );
        this.settle = sleep("settle", [...ready, ...Object.values(made)]);
        this.routing = release("routing", [...ready, ...Object.values(made), this.settle]);
        this.drain = sleep("drain", [this.routing]);
        const broken = Object.fromEntries(this.order.break.map((t) => [t, release(t, [...ready, this.drain])]));
        this.workloads = { ...made, ...broken } as Record<Track, k8s.helm.v3.Release>;

        const all = [...TRACKS.map((t) => this.workloads[t]), this.routing];
        this.completed = pulumi.all(all.map((r) => r.status)).apply((statuses) => statuses.every((s) => s?.status === "deployed"));
                // A cautious update says so in the move, with the tracks it held above their plan.
        const notes = this.order.cautious ? ["previous stage unknown: cautious order", ...heldWords(plan, applied)] : growsBackWords(previous, applied, this.order);
        this.summary = this.completed.apply((completed) => stageSummary({ ...service, revisions: args.planned.revisions }, applied, completed, args.move, { waits: this.waits, notes }));
        this.registerOutputs({ completed: this.completed, summary: this.summary });
    }
}

/** A secret's decrypted value; the program checks every one was decrypted before registering anything. */
function secretPlaintext(service: string, key: string, value: string | undefined): string {
    if (value === undefined) throw new Error(`service ${service}, env ${key}: the secret was not decrypted (components/shared/secrets.ts marks Pulumi's decrypted values)`);
    return value;
}
