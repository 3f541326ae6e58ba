// What every rule of the pack is made of: the Rule type, reading resource inputs that may be unknown during
// preview, the rule's config with its defaults, and the resource shapes more than one domain judges
// (Helm release names, workloads' containers). Pure: no rule lives here.
import { EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy, UnknownValueError } from "@pulumi/policy";

/**
 * A rule of the pack. Every rule carries its level, `mandatory` by default: a preview run without a config
 * file is as strict as prod; the per-stack files `config.<stack>.json` relax some rules for staging and UAT.
 */
export type Rule = (ResourceValidationPolicy | StackValidationPolicy) & { enforcementLevel: EnforcementLevel };

/** Workload kinds whose pod template the rules read. */
export const WORKLOADS = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet"];

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string | undefined {
    return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

/** The value `read` returns, or undefined when it is not known yet (during preview). */
export function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (e) {
        if (e instanceof UnknownValueError) return undefined;
        throw e;
    }
}

/** The policy's config with its defaults (the CLI fills defaults from the schema too; this makes it certain). */
export function configOf<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
    return { ...defaults, ...args.getConfig<Partial<T>>() };
}

/** A resource validation that runs `validate` only for resources of the given types. */
export function forTypes(types: readonly string[], validate: (args: ResourceValidationArgs, report: ReportViolation) => void) {
    return (args: ResourceValidationArgs, report: ReportViolation) => {
        if (types.includes(args.type)) validate(args, report);
    };
}

/** A value as a violation message shows what it found. */
export function describe(value: unknown): string {
    if (value === undefined) return "nothing";
    if (value === "") return "an empty string";
    return JSON.stringify(value);
}

/** The Helm release name (`name` input), else the Pulumi resource name. */
export function releaseName(args: { name: string; props: Record<string, any> }): string {
    const name = known(() => args.props.name);
    return typeof name === "string" && name !== "" ? name : args.name;
}

/** Containers of a workload's pod template, with a label each for messages. */
export function containersOf(props: Record<string, any>): { label: string; container: any }[] {
    const containers = known(() => props.spec?.template?.spec?.containers);
    if (!Array.isArray(containers)) return [];
    return containers.map((c: any, i: number) => ({ label: `container ${typeof c?.name === "string" ? c.name : `#${i}`}`, container: c }));
}
