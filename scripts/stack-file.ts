// Reads a stack's config straight from Pulumi.<stack>.yaml, so offline commands need no Pulumi CLI.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const projectRoot = path.resolve(__dirname, "..");
export const NAMESPACE = "stagehand";

export function stackFilePath(stack: string, root = projectRoot): string {
    return path.join(root, `Pulumi.${stack}.yaml`);
}

/** The environments a release goes through, in order: what staging finished starts in uat, then in prod. */
export const PROMOTION_CHAIN = ["staging", "uat", "prod"] as const;

/** Orders stacks as a change is promoted through them: the chain's, in its order, then any other by name. */
export function byPromotionOrder(a: string, b: string): number {
    const rank = (s: string) => {
        const i = (PROMOTION_CHAIN as readonly string[]).indexOf(s);
        return i < 0 ? PROMOTION_CHAIN.length : i;
    };
    return rank(a) - rank(b) || a.localeCompare(b);
}

/** The stacks that have a Pulumi.<stack>.yaml in the project. */
export function knownStacks(root = projectRoot): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => !!s)
        .sort();
}

/** `stagehand:*` keys of a stack file's text, without the prefix: { services: …, cluster: … }. */
export function stackConfigFromText(text: string, where: string): Record<string, unknown> {
    let doc: any;
    try {
        doc = parse(text);
    } catch (e: any) {
        throw new Error(`${where} is not valid YAML: ${e.message}`);
    }
    const config = (doc && doc.config) || {};
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith(`${NAMESPACE}:`)) out[key.slice(NAMESPACE.length + 1)] = value;
    }
    return out;
}

/** Reads Pulumi.<stack>.yaml; fails naming the stacks that do exist. */
export function readStackConfig(stack: string, root = projectRoot): Record<string, unknown> {
    const file = stackFilePath(stack, root);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack ${JSON.stringify(stack)}: ${path.basename(file)} does not exist (stacks here: ${knownStacks(root).join(", ") || "none"})`);
    }
    return stackConfigFromText(fs.readFileSync(file, "utf8"), path.basename(file));
}

/**
 * `aws:region` of a stack file's text (not a `stagehand:*` key, so not in `stackConfigFromText`), or undefined when
 * the file does not set it.
 */
export function stackRegionFromText(text: string, where: string): string | undefined {
    let doc: any;
    try {
        doc = parse(text);
    } catch (e: any) {
        throw new Error(`${where} is not valid YAML: ${e.message}`);
    }
    const region = doc?.config?.["aws:region"];
    return typeof region === "string" && region !== "" ? region : undefined;
}

/** `aws:region` of Pulumi.<stack>.yaml in the working tree, or undefined (no file, or no region in it). */
export function readStackRegion(stack: string, root = projectRoot): string | undefined {
    const file = stackFilePath(stack, root);
    if (!fs.existsSync(file)) return undefined;
    return stackRegionFromText(fs.readFileSync(file, "utf8"), path.basename(file));
}
