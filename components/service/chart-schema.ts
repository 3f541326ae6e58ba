// Pure: a service's chart values checked against its chart's own `values.schema.json` before anything is
// registered, the way Helm checks them at install (the chart's values.yaml under the values stagehand passes).
// A value the chart refuses then fails the preview with the stack, service and field, not `pulumi up` inside
// Helm. Charts from a repository are not fetched here: Helm checks those at install.
import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { describeFound, nearestName } from "../shared/errors";
import { PROJECT_ROOT } from "./config";
import { PlannedService } from "./stages";
import { chartValues } from "./values";

interface LocalChart {
    defaults: Record<string, unknown>;
    validate: ValidateFunction;
    schema: Record<string, any>;
}

const charts = new Map<string, LocalChart | undefined>();

/** The values.yaml and values.schema.json of a local chart directory; undefined when it has no schema. */
function localChart(chart: string): LocalChart | undefined {
    const dir = path.resolve(PROJECT_ROOT, chart);
    if (!charts.has(dir)) {
        const schemaFile = path.join(dir, "values.schema.json");
        if (!fs.existsSync(schemaFile)) {
            charts.set(dir, undefined);
        } else {
            const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
            const valuesFile = path.join(dir, "values.yaml");
            const defaults = fs.existsSync(valuesFile) ? (parse(fs.readFileSync(valuesFile, "utf8")) ?? {}) : {};
            // allErrors: every refused value at once, like every config problem.
            const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
            charts.set(dir, { defaults, validate, schema });
        }
    }
    return charts.get(dir);
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Helm's coalescing of supplied values over a chart's defaults: maps merge, anything else replaces, null deletes. */
export function coalesceValues(defaults: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...defaults };
    for (const [key, value] of Object.entries(over)) {
        if (value === null) delete out[key];
        else out[key] = isMap(out[key]) && isMap(value) ? coalesceValues(out[key] as Record<string, unknown>, value) : value;
    }
    return out;
}

/** The schemas along a JSON pointer, root first (following $ref within the schema). */
function schemasAlong(root: Record<string, any>, pointer: string): any[] {
    const deref = (n: any) => (n && typeof n.$ref === "string" && n.$ref.startsWith("#/") ? n.$ref.slice(2).split("/").reduce((o: any, k: string) => o?.[k], root) : n);
    const along = [root];
    for (const segment of pointer.split("/").filter(Boolean)) {
        const node = deref(along[along.length - 1]);
        along.push(deref(node?.properties?.[segment] ?? (node?.items && /^\d+$/.test(segment) ? node.items : node?.additionalProperties)));
    }
    return along;
}

/** The properties a schema knows at a JSON pointer, for "did you mean". */
function propertiesAt(root: Record<string, any>, pointer: string): string[] {
    const node = schemasAlong(root, pointer).pop();
    return node?.properties ? Object.keys(node.properties) : [];
}

/** The description nearest a JSON pointer: the value's own, else its closest parent's (the chart's own, not). */
function descriptionAt(root: Record<string, any>, pointer: string): string | undefined {
    return schemasAlong(root, pointer)
        .slice(1)
        .reverse()
        .find((n) => typeof n?.description === "string")?.description;
}

function expected(error: ErrorObject, root: Record<string, any>): string {
    const words = descriptionAt(root, error.instancePath);
    const description = words ? ` (${words.replace(/\.$/, "")})` : "";
    const p = error.params as Record<string, any>;
    switch (error.keyword) {
        case "const":
            return `${JSON.stringify(p.allowedValue)}${description}`;
        case "enum":
            return `one of ${p.allowedValues.map((v: unknown) => JSON.stringify(v)).join(", ")}${description}`;
        case "type":
            return `a value of type ${p.type}${description}`;
        case "pattern":
            return `a string matching ${p.pattern}${description}`;
        case "not":
            return `no such value${description}`;
        default:
            return `a value that ${error.message}${description}`;
    }
}

/** Fields of the service block that stagehand passes as chart values under the same name. */
const TYPED_FIELDS = new Set(["port", "resources", "probes", "env"]);

/**
 * Every value of every service that its chart's values.schema.json refuses, one line each with the stack,
 * service and field (a team's own `values.*`, or the typed field that set it), what the chart expects and what
 * was found. Checks the configured stage's values; the platform-set values follow the plan.
 */
export function chartValuesProblems(stack: string, planned: PlannedService[]): string[] {
    const problems: string[] = [];
    for (const { name, service, plan } of planned) {
        if (typeof service.chart !== "string") continue;
        const chart = localChart(service.chart);
        if (!chart) continue;
        const values = coalesceValues(chart.defaults, chartValues(name, service, plan));
        if (chart.validate(values)) continue;
        const seen = new Set<string>();
        for (const error of chart.validate.errors ?? []) {
            // anyOf/oneOf report each branch and then themselves: one line per place is enough.
            const p = error.params as Record<string, any>;
            const segments = error.instancePath.split("/").filter(Boolean).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
            if (error.keyword === "additionalProperties") segments.push(p.additionalProperty);
            if (error.keyword === "required") segments.push(p.missingProperty);
            // A key the chart refuses by its name (propertyNames): the field is the key itself.
            const refusedKey = error.keyword === "propertyNames" ? p.propertyName : (error as { propertyName?: string }).propertyName;
            if (refusedKey !== undefined) segments.push(refusedKey);
            const top = segments[0];
            const field = (top !== undefined && TYPED_FIELDS.has(top) && !(top in service.values) ? segments : ["values", ...segments]).join(".");
            if (seen.has(field)) continue;
            seen.add(field);
            const where = `stack ${stack}, service ${name}, field ${field}`;
            if (error.keyword === "additionalProperties") {
                const near = nearestName(p.additionalProperty, propertiesAt(chart.schema, error.instancePath));
                problems.push(`${where}: unknown value of chart ${service.chart}; ${near ? `did you mean ${near}?` : "see the chart's values contract (charts/service/README.md for the reference chart)"}`);
            } else if (error.keyword === "required") {
                problems.push(`${where}: expected a value (the chart ${service.chart} requires it), found nothing`);
            } else {
                const found = segments.reduce((o: any, k) => (o === undefined || o === null ? undefined : o[k]), values);
                problems.push(`${where}: expected ${expected(error, chart.schema)}, found ${describeFound(found)}`);
            }
        }
    }
    return problems;
}
