// Schema validation of rendered Kubernetes and Istio objects, for every test that renders manifests.
//
// validateObject(obj) dispatches on apiVersion/kind:
// - Kubernetes built-in kinds: the OpenAPI schemas of `kubernetes-models`;
// - Istio kinds: the CRD openAPIV3Schemas in shared/istio/istio-v1-crd-schemas.json, made *strict*
//   (unknown fields are errors, as with `kubectl apply --validate=strict`), except where the CRD
//   itself preserves unknown fields;
// - for every kind: what the API server checks beyond those schemas and the schemas do not say —
//   metadata.name/namespace syntax, label keys and values, and that a workload's selector matches its
//   pod template.
// A kind with no schema here throws, so nothing escapes validation: add it to KUBERNETES_MODELS.
import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import * as fs from "fs";
import * as path from "path";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { Job } from "kubernetes-models/batch/v1/Job";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition";
import { MutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration";
import { ValidatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration";
import { APIService } from "kubernetes-models/apiregistration.k8s.io/v1/APIService";
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1/StorageClass";
import { PriorityClass } from "kubernetes-models/scheduling.k8s.io/v1/PriorityClass";
import { IngressClass } from "kubernetes-models/networking.k8s.io/v1/IngressClass";

/**
 * The Istio CRD schemas: the OpenAPI schemas of Istio's own v1 CRDs from its crd-all.gen.yaml (1.31 line), kept in
 * the repository (test/fixtures/README.md) so a clone from GitHub validates without shared/ beside it; the copy is
 * checked against ../shared/istio when that is there (test/scripts/fetch-charts.test.ts).
 */
export const ISTIO_SCHEMAS_PATH = path.resolve(__dirname, "../fixtures/istio-v1-crd-schemas.json");
/** Where this workplace keeps the original. */
export const SHARED_ISTIO_SCHEMAS_PATH = path.resolve(__dirname, "../../../shared/istio/istio-v1-crd-schemas.json");

type Model = { validate(): void };
type AnyObject = Record<string, any>;

/** Kubernetes built-in kinds, by "apiVersion/kind". */
const KUBERNETES_MODELS: Record<string, (obj: AnyObject) => Model> = {
    "v1/ConfigMap": (o) => new ConfigMap(o as any),
    "v1/Namespace": (o) => new Namespace(o as any),
    "v1/Secret": (o) => new Secret(o as any),
    "v1/Service": (o) => new Service(o as any),
    "v1/ServiceAccount": (o) => new ServiceAccount(o as any),
    "v1/PersistentVolumeClaim": (o) => new PersistentVolumeClaim(o as any),
    "apiextensions.k8s.io/v1/CustomResourceDefinition": (o) => new CustomResourceDefinition(o as any),
    "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": (o) => new MutatingWebhookConfiguration(o as any),
    "admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration": (o) => new ValidatingWebhookConfiguration(o as any),
    "apiregistration.k8s.io/v1/APIService": (o) => new APIService(o as any),
    "storage.k8s.io/v1/StorageClass": (o) => new StorageClass(o as any),
    "scheduling.k8s.io/v1/PriorityClass": (o) => new PriorityClass(o as any),
    "networking.k8s.io/v1/IngressClass": (o) => new IngressClass(o as any),
    "apps/v1/DaemonSet": (o) => new DaemonSet(o as any),
    "apps/v1/Deployment": (o) => new Deployment(o as any),
    "apps/v1/StatefulSet": (o) => new StatefulSet(o as any),
    "autoscaling/v2/HorizontalPodAutoscaler": (o) => new HorizontalPodAutoscaler(o as any),
    "batch/v1/CronJob": (o) => new CronJob(o as any),
    "batch/v1/Job": (o) => new Job(o as any),
    "networking.k8s.io/v1/Ingress": (o) => new Ingress(o as any),
    "networking.k8s.io/v1/NetworkPolicy": (o) => new NetworkPolicy(o as any),
    "policy/v1/PodDisruptionBudget": (o) => new PodDisruptionBudget(o as any),
    "rbac.authorization.k8s.io/v1/ClusterRole": (o) => new ClusterRole(o as any),
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": (o) => new ClusterRoleBinding(o as any),
    "rbac.authorization.k8s.io/v1/Role": (o) => new Role(o as any),
    "rbac.authorization.k8s.io/v1/RoleBinding": (o) => new RoleBinding(o as any),
};

/** Cluster-scoped kinds: the only ones that may (and must) go without a namespace. */
const CLUSTER_SCOPED = new Set([
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
]);

/** Kinds whose name must be a DNS-1035 label (it becomes a DNS name). Others take a DNS-1123 subdomain. */
const DNS1035_NAMED = new Set(["Service"]);
/** RBAC kinds: the API server checks their names as path segments only (`system:metrics-server` is valid). */
const PATH_SEGMENT_NAMED = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);
/** Kinds whose name must be a DNS-1123 label. */
const DNS1123_LABEL_NAMED = new Set(["Namespace"]);

/** Thrown by validateObject; `problems` holds one line per schema error. */
export class SchemaError extends Error {
    constructor(
        readonly object: string,
        readonly problems: string[],
    ) {
        super(`${object} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "SchemaError";
    }
}

// ---------------------------------------------------------------- Istio

let istio: { source: string; validators: Record<string, ValidateFunction> } | undefined;

/**
 * A CRD schema made strict: every object that lists `properties` and neither allows additional
 * properties nor preserves unknown fields gets `additionalProperties: false`. This is what the API server
 * does with unknown fields of a structural schema (prunes them, or rejects them with strict field
 * validation); without it a misspelt field such as `mirrorPercentge` would pass silently.
 */
function strict(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map(strict);
    if (!schema || typeof schema !== "object") return schema;
    const out: AnyObject = {};
    for (const [key, value] of Object.entries(schema as AnyObject)) {
        // `properties` maps names to schemas: recurse into the values, never treat the map as a schema.
        out[key] =
            key === "properties" && value && typeof value === "object"
                ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strict(v)]))
                : strict(value);
    }
    if (out.properties && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) {
        out.additionalProperties = false;
    }
    return out;
}

function istioValidators(): { source: string; validators: Record<string, ValidateFunction> } {
    if (istio) return istio;
    if (!fs.existsSync(ISTIO_SCHEMAS_PATH)) {
        throw new Error(`Istio CRD schemas not found at ${ISTIO_SCHEMAS_PATH} (shared/ must sit beside the repository)`);
    }
    const file = JSON.parse(fs.readFileSync(ISTIO_SCHEMAS_PATH, "utf8")) as { source: string; schemas: Record<string, AnyObject> };
    // strict: false because the schemas carry Kubernetes extension keywords (x-kubernetes-*);
    // formats such as int32/double are not checked (the types are).
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validators: Record<string, ValidateFunction> = {};
    for (const [gvk, schema] of Object.entries(file.schemas)) {
        const top = strict(schema) as AnyObject;
        // The CRD schema describes spec and status; apiVersion, kind and metadata are the API server's.
        top.properties = {
            apiVersion: { type: "string" },
            kind: { type: "string" },
            metadata: { type: "object" },
            ...top.properties,
        };
        top.required = [...new Set([...(top.required ?? []), "apiVersion", "kind", "metadata"])];
        validators[gvk] = ajv.compile(top);
    }
    istio = { source: file.source, validators };
    return istio;
}

function ajvProblems(errors: ErrorObject[] | null | undefined): string[] {
    return (errors ?? []).map((e) => {
        const where = e.instancePath || "(root)";
        const extra =
            e.keyword === "additionalProperties"
                ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
                : e.keyword === "enum"
                  ? ` (${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)})`
                  : "";
        return `${where} ${e.message ?? e.keyword}${extra}`;
    });
}

// ---------------------------------------------------------------- API server checks beyond the schemas

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function labelProblems(where: string, labels: unknown, problems: string[]): void {
    if (labels === undefined || labels === null) return;
    if (typeof labels !== "object" || Array.isArray(labels)) {
        problems.push(`${where} must be a map of strings`);
        return;
    }
    for (const [key, value] of Object.entries(labels as AnyObject)) {
        const slash = key.lastIndexOf("/");
        const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
        const name = slash >= 0 ? key.slice(slash + 1) : key;
        if (prefix !== undefined && !(prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix))) {
            problems.push(`${where}: key ${JSON.stringify(key)} has an invalid prefix (a DNS subdomain)`);
        }
        if (!(name.length <= 63 && LABEL_NAME.test(name))) problems.push(`${where}: key ${JSON.stringify(key)} is not a valid label name`);
        if (typeof value !== "string") {
            problems.push(`${where}.${key} must be a string, found ${JSON.stringify(value)}`);
        } else if (!(value.length <= 63 && LABEL_VALUE.test(value))) {
            problems.push(`${where}.${key}: ${JSON.stringify(value)} is not a valid label value (at most 63 of [A-Za-z0-9_.-], alphanumeric at both ends)`);
        }
    }
}

function annotationProblems(where: string, annotations: unknown, problems: string[]): void {
    if (annotations === undefined || annotations === null) return;
    for (const [key, value] of Object.entries(annotations as AnyObject)) {
        if (typeof value !== "string") problems.push(`${where}.${key} must be a string, found ${JSON.stringify(value)}`);
    }
}

function metadataProblems(obj: AnyObject, problems: string[]): void {
    const meta = obj.metadata;
    if (!meta || typeof meta !== "object") {
        problems.push("metadata is required");
        return;
    }
    const name = meta.name;
    if (typeof name !== "string" || name === "") {
        problems.push("metadata.name is required");
    } else if (DNS1035_NAMED.has(obj.kind)) {
        if (!(name.length <= 63 && DNS1035_LABEL.test(name))) problems.push(`metadata.name ${JSON.stringify(name)} is not a DNS-1035 label`);
    } else if (PATH_SEGMENT_NAMED.has(obj.kind)) {
        if (name === "." || name === ".." || /[/%]/.test(name)) problems.push(`metadata.name ${JSON.stringify(name)} is not a valid path segment`);
    } else if (DNS1123_LABEL_NAMED.has(obj.kind)) {
        if (!(name.length <= 63 && DNS1123_LABEL.test(name))) problems.push(`metadata.name ${JSON.stringify(name)} is not a DNS-1123 label`);
    } else if (!(name.length <= 253 && DNS1123_SUBDOMAIN.test(name))) {
        problems.push(`metadata.name ${JSON.stringify(name)} is not a DNS-1123 subdomain`);
    }
    if (CLUSTER_SCOPED.has(obj.kind)) {
        if (meta.namespace !== undefined) problems.push(`metadata.namespace must be absent on cluster-scoped ${obj.kind}`);
    } else if (meta.namespace !== undefined && !(typeof meta.namespace === "string" && meta.namespace.length <= 63 && DNS1123_LABEL.test(meta.namespace))) {
        problems.push(`metadata.namespace ${JSON.stringify(meta.namespace)} is not a DNS-1123 label`);
    }
    labelProblems("metadata.labels", meta.labels, problems);
    annotationProblems("metadata.annotations", meta.annotations, problems);
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

function workloadProblems(obj: AnyObject, problems: string[]): void {
    const spec = obj.spec ?? {};
    const template = spec.template?.metadata ?? {};
    labelProblems("spec.template.metadata.labels", template.labels, problems);
    annotationProblems("spec.template.metadata.annotations", template.annotations, problems);
    labelProblems("spec.selector.matchLabels", spec.selector?.matchLabels, problems);
    // The API server refuses a workload whose selector does not select its own pod template.
    const podLabels: AnyObject = template.labels ?? {};
    for (const [key, value] of Object.entries((spec.selector?.matchLabels ?? {}) as AnyObject)) {
        if (podLabels[key] !== value) problems.push(`spec.selector.matchLabels.${key}=${JSON.stringify(value)} does not match the pod template labels`);
    }
    if (spec.selector && !spec.selector.matchLabels && !spec.selector.matchExpressions) problems.push("spec.selector selects nothing");
}

// ---------------------------------------------------------------- entry point

/** "Kind namespace/name" of an object, for messages. */
export function describeObject(obj: AnyObject): string {
    const kind = obj?.kind ?? "(no kind)";
    const name = obj?.metadata?.name ?? "(no name)";
    return obj?.metadata?.namespace ? `${kind} ${obj.metadata.namespace}/${name}` : `${kind} ${name}`;
}

/** The "apiVersion/kind" keys validateObject knows. */
export function knownKinds(): string[] {
    return [...Object.keys(KUBERNETES_MODELS), ...Object.keys(istioValidators().validators)].sort();
}

/**
 * Validates one rendered object against the schema of its apiVersion/kind. Throws a SchemaError naming the
 * kind and name and listing every problem; throws for a kind it has no schema for.
 */
export function validateObject(obj: unknown): void {
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new SchemaError(`object ${JSON.stringify(obj)}`, ["not an object"]);
    const o = obj as AnyObject;
    const what = `${o.apiVersion ?? "(no apiVersion)"} ${describeObject(o)}`;
    if (typeof o.apiVersion !== "string" || typeof o.kind !== "string") throw new SchemaError(what, ["apiVersion and kind are required"]);
    const gvk = `${o.apiVersion}/${o.kind}`;
    const problems: string[] = [];

    const model = KUBERNETES_MODELS[gvk];
    const istioValidator = istioValidators().validators[gvk];
    if (model) {
        try {
            model(o).validate();
        } catch (e: any) {
            if (Array.isArray(e?.errors)) problems.push(...ajvProblems(e.errors));
            else problems.push(String(e?.message ?? e));
        }
    } else if (istioValidator) {
        if (!istioValidator(o)) problems.push(...ajvProblems(istioValidator.errors));
    } else {
        throw new SchemaError(what, [`no schema for ${gvk}: add it to test/helpers/schemas.ts so nothing escapes validation (known: ${knownKinds().join(", ")})`]);
    }

    metadataProblems(o, problems);
    if (WORKLOADS.has(o.kind)) workloadProblems(o, problems);
    if (problems.length > 0) throw new SchemaError(what, problems);
}

/** Validates every object; throws one SchemaError listing the problems of all invalid objects. */
export function validateAll(objects: unknown[]): void {
    const failures: string[] = [];
    for (const obj of objects) {
        try {
            validateObject(obj);
        } catch (e: any) {
            failures.push(e instanceof SchemaError ? e.message : String(e));
        }
    }
    if (failures.length > 0) throw new SchemaError(`${failures.length} of ${objects.length} objects`, failures);
}
