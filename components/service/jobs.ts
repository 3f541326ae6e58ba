// Pure: a service's one-off Jobs — which ones a move runs, what refuses a migration, and the values of the Helm
// release that runs each (charts/service/templates/jobs.yaml).
// - The smoke test runs when the move makes new canary pods that the routing then gives traffic (OperationOrder
//   `smoke`): after the canary's release, before the settle wait and the routing, which wait for it.
// - `expand` runs once per canary revision, before that revision's first canary pods start (the canary's release
//   waits for it); `contract` once per production revision, only once nothing older serves or can come back (the
//   release finished), after everything else of the update.
// A Job's release is registered only by the update that runs it: an update that runs none removes the last one (the
// finished Job's objects; the Job itself stays for its logs until its TTL). So a config edit never re-runs a Job by
// changing a standing release's values, and a failed run (its release rolled back by `atomic`) runs again on retry.
import { ReleaseSpec } from "../shared/helm";
import { TRUST_DOMAIN } from "../shared/mesh";
import type { ServiceConfig } from "./config";
import type { DeployedService } from "./deployed";
import type { Run } from "./order";
import { canaryRevision, Revision, RevisionName, RevisionRecord, revisionRecords, stableRevision } from "./revision";
import { StagePlan, TrackPlan } from "./stages";
import { chartSource, chartValues, ONLY, PlatformContext } from "./values";

/** The revisions whose migrations have run: the last expanded and the last contracted, by revision id. */
export interface MigrationRecord {
    expand?: string;
    contract?: string;
}

export type MigrationPhase = "expand" | "contract";
export type JobName = "smoke" | MigrationPhase;

/** A migration a move runs: its phase and the revision it migrates for. */
export interface MigrationRun {
    phase: MigrationPhase;
    revision: RevisionRecord;
}

/** What a service's config asks of migrations and where it stands: the part of a service the checks read. */
interface MigrationIntent {
    stage: number;
    migrate?: ServiceConfig["migrate"];
    revisions?: Record<RevisionName, RevisionRecord>;
}

/** Whether a migration of `phase` for `revision` has not run yet and the config asks for it. */
function asks(phase: MigrationPhase, next: MigrationIntent, record: MigrationRecord | undefined): RevisionRecord | undefined {
    if (!next.migrate?.[phase] || !next.revisions) return undefined;
    const revision = phase === "expand" ? next.revisions.canary : next.revisions.stable;
    // `expand` runs for a release: the canary has pods at every stage after the first.
    if (phase === "expand" && next.stage === 1) return undefined;
    return record?.[phase] === revision.id ? undefined : revision;
}

/** The migration this move runs, if any (a refused one never gets here: `migrationRefusal` is judged first). */
export function migrationToRun(next: MigrationIntent, previous: DeployedService | undefined): MigrationRun | undefined {
    for (const phase of ["expand", "contract"] as const) {
        const revision = asks(phase, next, previous?.migrations);
        // A contract asked during a release is refused (`migrationRefusal`), never run.
        if (revision && (phase === "expand" || next.stage === 1)) return { phase, revision };
    }
    return undefined;
}

/** The migrations recorded after a move: the one it ran, on top of the previous record. */
export function nextMigrations(previous: MigrationRecord | undefined, ran: MigrationRun | undefined): MigrationRecord {
    return { ...(previous ?? {}), ...(ran ? { [ran.phase]: ran.revision.id } : {}) };
}

/**
 * The migrations a service's config has run once it is deployed, as far as the config tells (`npm run plan -- --diff`
 * judges offline, without the stack's outputs): expand for its canary revision during a release, contract for its
 * production revision at stage 1 (when it was not refused).
 */
export function migrationsRanBy(service: Pick<ServiceConfig, "stage" | "migrate" | "stable" | "canary" | "canaryOverrides"> & object): MigrationRecord {
    const revisions = revisionRecords(service as ServiceConfig);
    return {
        ...(service.migrate?.expand && service.stage > 1 ? { expand: revisions.canary.id } : {}),
        ...(service.migrate?.contract && service.stage === 1 ? { contract: revisions.stable.id } : {}),
    };
}

const serving = (t: TrackPlan) => t.replicas > 0 || t.weight > 0;

/**
 * Why a migration the config asks for may not run in this move, with the field to name, or undefined. A contract
 * removes what the old revision needs: it runs only when the last update completed with every pod that serves (or
 * drains) on the revision contracted for, and this move starts no release (stage 1). An expand runs before the
 * canary revision's first pods start: not when they already run.
 */
export function migrationRefusal(previous: DeployedService | undefined, next: MigrationIntent): { reason: string; field: string } | undefined {
    const contract = asks("contract", next, previous?.migrations);
    if (contract) {
        const field = "migrate.contract";
        const after = `the contract of ${contract.label} runs only after its release has finished, when nothing older serves`;
        if (next.stage > 1) return { field, reason: `a release is in progress at stage ${next.stage}: production's revision ${contract.label} and the canary's both serve, and a rollback returns to production's (${after}; finish the release, then set migrate.contract)` };
        if (!previous) return { field, reason: `what the service ran before this update is unknown (a first deployment, or the stack's outputs are lost), so an older revision may still serve (${after}; leave migrate.contract out of this update and add it in the next one)` };
        const older = (["production", "canary"] as const).filter((t) => serving(previous.tracks[t]) && previous.tracks[t].revision?.id !== contract.id);
        if (older.length > 0) {
            const words = older.map((t) => `${t} x${previous.tracks[t].replicas} on ${previous.tracks[t].revision?.label ?? previous.tracks[t].tag} (${previous.tracks[t].weight}%)`).join(", ");
            return { field, reason: `the old revision still serves: ${words} at stage ${previous.stage} (${after}; apply this update without migrate.contract, then add it)` };
        }
        if (!previous.completed) return { field, reason: `the last update (stage ${previous.stage}) did not complete its rollout (${after}; stay at ${previous.stage} to complete it first)` };
    }
    const expand = asks("expand", next, previous?.migrations);
    if (expand && previous && previous.stage > 1 && previous.tracks.canary.replicas > 0 && previous.tracks.canary.revision?.id === expand.id) {
        return {
            field: "migrate.expand",
            reason: `the canary already runs ${expand.label} (stage ${previous.stage}): expand runs before a revision's first pods start (roll back to stage 1 and start the release again to run it, or leave migrate.expand out of this release)`,
        };
    }
    return undefined;
}

/** Helm release names of a service's Jobs. */
export function jobReleaseName(service: string, job: JobName): string {
    return `${service}-${job}`;
}

const NO_PARTS = { production: false, canary: false, routing: false };

/**
 * The chart every Job release installs: stagehand's reference chart, whatever chart the service's tracks use. The
 * Jobs are the platform's machinery, not the team's app: a team chart without `jobs` would render no Job, and the
 * smoke test would pass without running.
 */
export const JOBS_CHART = "./charts/service";

/**
 * The values of the revision a Job runs for that the reference chart's Jobs read: its env, resources, pull policy,
 * and the team's Service port, ServiceAccount, security contexts and scheduling. Nothing else of a team's values
 * (they may be another chart's).
 */
const JOB_VALUE_KEYS = ["fullnameOverride", "image", "port", "env", "secretEnv", "extraEnv", "resources", "service", "serviceAccount", "podSecurityContext", "containerSecurityContext", "nodeSelector", "tolerations"];

/** A full image reference of a revision's tag (or digest) in a repository. */
function imageOf(repository: string, tag: string): string {
    return tag.startsWith("sha256:") ? `${repository}@${tag}` : `${repository}:${tag}`;
}

/** A Job release's values: the chart values of the revision it runs for (its port, env, resources …), every part off. */
function jobChartValues(name: string, service: ServiceConfig, plan: StagePlan, track: "production" | "canary", platform: PlatformContext, jobs: Record<string, unknown>): Record<string, unknown> {
    const values = chartValues(name, service, plan, ONLY[track], platform);
    const kept = Object.fromEntries(JOB_VALUE_KEYS.filter((k) => values[k] !== undefined).map((k) => [k, values[k]]));
    return { ...kept, parts: { ...NO_PARTS }, jobs };
}

/**
 * The smoke test's release at a plan: the canary revision's checks and address. `authorize`: whether an ALLOW
 * policy guards the canary's pods (the service's `callers`, or the stack's deny-by-default), so the test's identity
 * must be allowed too. `run` makes each run's values differ from the last (components/service/order.ts `Run`).
 */
export function smokeReleaseSpec(name: string, service: ServiceConfig, plan: StagePlan, run: Run, options: PlatformContext & { denyByDefault?: boolean }): ReleaseSpec {
    const smoke = service.smoke;
    if (!smoke) throw new TypeError(`service ${name} has no smoke test`);
    const revision = plan.canary.revision;
    const jobs = {
        trustDomain: TRUST_DOMAIN,
        smoke: {
            enabled: true,
            revision: revision?.id ?? plan.canary.tag,
            run: run.update ? `${run.count} (update ${run.update})` : String(run.count),
            authorize: service.callers !== undefined || options.denyByDefault === true,
            http: (smoke.http ?? []).map((c) => ({ path: c.path, status: c.status, ...(c.headers ? { headers: { ...c.headers } } : {}) })),
            ...(smoke.image ? { image: smoke.image } : {}),
            ...(smoke.command ? { command: [...smoke.command] } : {}),
            timeoutSeconds: smoke.timeoutSeconds,
        },
    };
    return {
        name: jobReleaseName(name, "smoke"),
        namespace: service.namespace,
        ...chartSource(JOBS_CHART),
        values: jobChartValues(name, service, plan, "canary", options, jobs),
        description: `smoke test of ${revision?.label ?? plan.canary.tag} (canary x${plan.canary.replicas}), run ${run.count}`,
    };
}

/** A migration's release: the Job runs the revision's image (or `migrate.image` at the revision's tag) with its env. */
export function migrationReleaseSpec(name: string, service: ServiceConfig, plan: StagePlan, migration: MigrationRun, platform: PlatformContext = {}): ReleaseSpec {
    const migrate = service.migrate;
    const command = migrate?.[migration.phase];
    if (!migrate || !command) throw new TypeError(`service ${name} has no ${migration.phase} migration`);
    const track = migration.phase === "expand" ? "canary" : "production";
    const revision: Revision = track === "canary" ? canaryRevision(service) : stableRevision(service);
    const jobs = {
        migrate: {
            enabled: true,
            phase: migration.phase,
            revision: migration.revision.id,
            run: migration.revision.id,
            image: imageOf(migrate.image ?? revision.image, revision.tag),
            command: [...command],
            timeoutSeconds: migrate.timeoutSeconds,
        },
    };
    return {
        name: jobReleaseName(name, migration.phase),
        namespace: service.namespace,
        ...chartSource(JOBS_CHART),
        values: jobChartValues(name, service, plan, track, platform, jobs),
        description: `${migration.phase} migration of ${migration.revision.label}`,
    };
}

/** The smoke test in words, for `npm run plan`: its checks and its image. */
export function smokeWords(smoke: ServiceConfig["smoke"]): string | undefined {
    if (!smoke) return undefined;
    const checks = (smoke.http ?? []).map((c) => `GET ${c.path} -> ${c.status}${c.headers ? ` (${Object.keys(c.headers).join(", ")})` : ""}`);
    if (smoke.image) checks.push(`${smoke.image}${smoke.command ? ` ${smoke.command.join(" ")}` : ""}`);
    return `smoke test of new canary pods before traffic moves onto them (deadline ${smoke.timeoutSeconds}s): ${checks.join(", ")}`;
}

/** The migrations in words, for `npm run plan`: what each phase runs, and which one this stage's update would run. */
export function migrationWords(service: ServiceConfig, revisions: Record<RevisionName, RevisionRecord>, previous?: DeployedService): string | undefined {
    const migrate = service.migrate;
    if (!migrate) return undefined;
    const phases = (["expand", "contract"] as const).filter((p) => migrate[p]).map((p) => `${p} \`${migrate[p]!.join(" ")}\``);
    const image = migrate.image ? ` in ${migrate.image}` : "";
    const run = migrationToRun({ stage: service.stage, migrate, revisions }, previous);
    const now = run ? `; this update runs ${run.phase} for ${run.revision.label}` : previous ? "; this update runs none" : "";
    return `migrations${image}: ${phases.join(", ")}${now}`;
}
