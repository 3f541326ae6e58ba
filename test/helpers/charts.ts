// The real upstream charts (scripts/upstream-charts.ts: $STAGEHAND_CHARTS_DIR, ../shared/charts with its README of
// exact released versions and provenance, or what `npm run fetch-charts` pulled), rendered
// with the real helm and the program's own values. A release whose chart and version have no archive there cannot
// be rendered: `vendoredArchive` throws, so a pinned version that was never tested fails the tests.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { helm } from "../../scripts/helm";
import { ofType, runProgram } from "./mocks";
import { readStackConfig } from "../../scripts/stack-file";
import { archivesIn, ChartArchive, chartSource, howToGetCharts } from "../../scripts/upstream-charts";

/** Where the chart archives are read from (scripts/upstream-charts.ts: $STAGEHAND_CHARTS_DIR, ../shared/charts, the fetch cache). */
export const CHART_SOURCE = chartSource();
export const VENDORED_CHARTS_DIR = CHART_SOURCE.dir;

export type { ChartArchive };

/** Every archive where the tests read them, by its file name `<chart>-<version>.tgz`. */
export function vendoredArchives(): ChartArchive[] {
    if (!fs.existsSync(VENDORED_CHARTS_DIR)) throw new Error(`no chart archives at ${VENDORED_CHARTS_DIR}: ${howToGetCharts(CHART_SOURCE)}`);
    return archivesIn(VENDORED_CHARTS_DIR);
}

/** The archive of `chart` at exactly `version`; throws, naming what is there, when there is none. */
export function vendoredArchive(chart: string, version: string): string {
    const all = vendoredArchives();
    const found = all.find((a) => a.chart === chart && a.version === version);
    if (!found) {
        const have = all.filter((a) => a.chart === chart).map((a) => a.version);
        throw new Error(
            `chart ${chart} ${version} has no archive in ${VENDORED_CHARTS_DIR} (${have.length > 0 ? `there: ${have.join(", ")}` : "none of that chart"}): ` +
                `what is deployed must be what the tests render; pin a version that is there, or ${howToGetCharts(CHART_SOURCE)}`,
        );
    }
    return found.file;
}

/** What a Helm release renders: its chart at its version, its name, namespace and values. */
export interface ReleaseToRender {
    chart: string;
    version: string;
    name: string;
    namespace: string;
    values: unknown;
}

const renders = new Map<string, any[]>();

/**
 * `helm template` of a release with its vendored archive, for a Kubernetes version (the capabilities charts test).
 * helm enforces the chart's values.schema.json: values it refuses make this throw with helm's message. Items of a
 * `v1/List` are returned as the objects the API server receives. Cached per release and values.
 */
export function renderRelease(release: ReleaseToRender, kubernetesVersion = "1.35"): any[] {
    const key = JSON.stringify([release.chart, release.version, release.name, release.namespace, release.values, kubernetesVersion]);
    const cached = renders.get(key);
    if (cached) return cached;
    const archive = vendoredArchive(release.chart, release.version);
    const result = helm(
        ["template", release.name, archive, "--namespace", release.namespace, "--kube-version", `${kubernetesVersion}.0`, "--values", "-"],
        JSON.stringify(release.values ?? {}),
    );
    if (result.status !== 0) throw new Error(`helm template ${release.name} (${release.chart} ${release.version}) exited ${result.status}:\n${result.stderr}`);
    const objects = parseAllDocuments(result.stdout)
        .map((d) => d.toJSON())
        .filter((o) => o && typeof o === "object")
        .flatMap((o: any) => (o.kind === "List" && Array.isArray(o.items) ? o.items : [o]));
    renders.set(key, objects);
    return objects;
}

/** Objects of one kind. */
export const kind = (objects: any[], k: string): any[] => objects.filter((o) => o.kind === k);

/** The one object of a kind (and name); fails when there is none or several. */
export function one(objects: any[], k: string, name?: string): any {
    const found = objects.filter((o) => o.kind === k && (name === undefined || o.metadata?.name === name));
    assert.strictEqual(found.length, 1, `one ${k}${name ? ` ${name}` : ""}, found ${found.length}: ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ")}`);
    return found[0];
}

/** Every container (init containers too) of a workload object. */
export function containersOf(workload: any): any[] {
    const spec = workload.spec?.template?.spec ?? {};
    return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** An image reference pinned to a fixed tag or a digest: never untagged, never `latest`. */
export function imagePinned(image: string): boolean {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
    const lastSlash = image.lastIndexOf("/");
    const colon = image.lastIndexOf(":");
    if (colon <= lastSlash) return false;
    const tag = image.slice(colon + 1);
    return tag !== "" && tag !== "latest";
}

/** A third-party Helm release the program registers: the chart from a repository, at a version. */
export interface ProgramRelease extends ReleaseToRender {
    /** Pulumi resource name. */
    resource: string;
    repo: string;
}

const programRuns = new Map<string, Promise<{ releases: ProgramRelease[]; kubernetesVersion: string }>>();

/**
 * Every Helm release of a stack's program (index.ts under Pulumi mocks, with the stack file's config) whose chart
 * comes from a chart repository — every third-party chart the stack installs — with the values the program gives it.
 */
export function programReleases(stack: string): Promise<{ releases: ProgramRelease[]; kubernetesVersion: string }> {
    let run = programRuns.get(stack);
    if (!run) {
        const config = readStackConfig(stack);
        run = runProgram(stack, config).then(({ resources }) => ({
            kubernetesVersion: String((config.cluster as Record<string, unknown> | undefined)?.kubernetesVersion ?? "1.35"),
            releases: ofType(resources, "kubernetes:helm.sh/v3:Release")
                .filter((r) => r.inputs.repositoryOpts?.repo)
                .map((r) => ({
                    resource: r.name,
                    repo: r.inputs.repositoryOpts.repo,
                    chart: r.inputs.chart,
                    version: r.inputs.version,
                    name: r.inputs.name,
                    namespace: r.inputs.namespace,
                    values: r.inputs.values ?? {},
                })),
        }));
        programRuns.set(stack, run);
    }
    return run;
}
