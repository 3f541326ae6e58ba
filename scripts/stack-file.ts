// Reads a stack's config straight from Pulumi.<stack>.yaml, so offline commands need no Pulumi CLI.
import { DEFAULT_CHAIN } from "../components/fleet/waves";
import * as fs from "fs";
import * as path from "path";
import { Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from "yaml";

export const projectRoot = path.resolve(__dirname, "..");
export const NAMESPACE = "stagehand";

export function stackFilePath(stack: string, root = projectRoot): string {
    return path.join(root, `Pulumi.${stack}.yaml`);
}

/** The default chain (components/fleet/waves.ts DEFAULT_CHAIN), for callers that have no fleet at hand. */
export const PROMOTION_CHAIN = DEFAULT_CHAIN;

/** Orders stacks as a change is promoted through them: the chain's, in its order, then any other by name. */
export function byPromotionOrder(a: string, b: string): number {
    const rank = (s: string) => {
        const i = (PROMOTION_CHAIN as readonly string[]).indexOf(s);
        return i < 0 ? PROMOTION_CHAIN.length : i;
    };
    return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * What a stack may be called: lower-case letters, digits and hyphens, starting and ending with a letter or a digit,
 * at most 63 characters (a DNS label). CI puts stack names in runner labels, artifact names, concurrency groups and
 * shell commands: a name outside this set is refused, never quoted around or skipped.
 */
export const STACK_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `name` cannot be a stack's name, or undefined when it can. */
export function stackNameProblem(name: string): string | undefined {
    if (STACK_NAME.test(name)) return undefined;
    return `${JSON.stringify(name)} is not a stack name: a stack is named with lower-case letters, digits and hyphens (a-z, 0-9, -), starting and ending with a letter or a digit, at most 63 characters`;
}

/** A stack file whose name does not name a stack the way CI can use it (see STACK_NAME). */
export class StackNameError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackNameError";
    }
}

/** The stack a file name is the stack file of (`Pulumi.<stack>.yaml`), or undefined; the name is not checked. */
export function stackOfFileName(file: string): string | undefined {
    return /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1];
}

/** Throws a StackNameError naming every stack file (in `files`) whose stack name is refused, with what to rename it to. */
export function checkStackFileNames(files: string[]): void {
    const bad = files.flatMap((f) => {
        const stack = stackOfFileName(path.basename(f));
        const problem = stack === undefined ? undefined : stackNameProblem(stack);
        return problem === undefined ? [] : [`${f}: ${problem}`];
    });
    if (bad.length > 0) throw new StackNameError(`refusing stack files with names CI cannot use:\n${bad.map((b) => `  - ${b}`).join("\n")}\nrename each to Pulumi.<stack>.yaml with a stack name such as staging, uat, prod or eu-prod-2`);
}

/** The stacks that have a Pulumi.<stack>.yaml in the project; throws a StackNameError for a file whose name is refused. */
export function knownStacks(root = projectRoot): string[] {
    const files = fs.readdirSync(root).filter((f) => stackOfFileName(f) !== undefined);
    checkStackFileNames(files);
    return files.map((f) => stackOfFileName(f)!).sort();
}

/** A stack file as the offline commands read it: its `stagehand:*` keys (without the prefix) and its `aws:region`. */
export interface StackFile {
    config: Record<string, unknown>;
    /** `config: aws:region`, when the file sets it: zones named in the cluster config must be in it. */
    region?: string;
}

/** A stack file Pulumi would not read as this one reads it; the message says what to write instead. */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

const CONFIG_EXAMPLE = "config:\n  aws:region: us-east-1\n  stagehand:services:\n    checkout: {...}";

function isMergeSource(node: unknown, doc: Document): boolean {
    const target = isAlias(node) ? node.resolve(doc) : node;
    return isMap(target);
}

/**
 * Every `<<:` merge key whose value is not a map, an alias of one, or a list of those, in words with the fix.
 * The `yaml` package says only "Merge sources must be maps or map aliases", without where or what to write.
 */
export function mergeKeyProblems(doc: Document, lines: LineCounter, where: string): string[] {
    const problems: string[] = [];
    visit(doc, {
        Pair(_, pair) {
            // With `merge: true` a `<<` key is a scalar whose value is a symbol (a quoted "<<" is a plain key).
            if (!(isScalar(pair.key) && (pair.key.source === "<<" || pair.key.value === "<<") && pair.key.type === "PLAIN")) return;
            const at = pair.key.range ? `line ${lines.linePos(pair.key.range[0]).line}` : "a merge key";
            const value = pair.value;
            const fix = "a merge key takes a map anchor, e.g. `defaults: &defaults {replicas: 2}` then `<<: *defaults`, or a list of them (`<<: [*a, *b]`)";
            if (isAlias(value) && value.resolve(doc) === undefined) {
                problems.push(`${where}, ${at}: \`<<: *${value.source}\` names no anchor; define \`&${value.source}\` on a map above it (${fix})`);
                return;
            }
            const items = isSeq(value) ? value.items : [value];
            const bad = items.find((item) => !isMergeSource(item, doc));
            if (bad === undefined) return;
            const target = isAlias(bad) ? bad.resolve(doc) : bad;
            const found = isSeq(target) ? "a list" : isScalar(target) ? `the value ${JSON.stringify(target.toJSON())}` : "something that is not a map";
            const alias = isAlias(bad) ? ` (*${bad.source})` : "";
            problems.push(`${where}, ${at}: \`<<:\` merges ${found}${alias} into a map; ${fix}; write a list or a value out under its own key instead`);
        },
    });
    return problems;
}

/**
 * A stack file's text, read as Pulumi reads it (anchors and `<<:` merge keys resolved), or refused with what to
 * write instead: invalid YAML, a misused merge key, several documents, a file that is not a map or has no `config:`.
 */
export function parseStackFile(text: string, where: string): StackFile {
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { merge: true, lineCounter: lines });
    const all = Array.isArray(docs) ? docs : [docs];
    for (const d of all) {
        if (d.errors.length > 0) throw new StackFileError(`${where} is not valid YAML: ${d.errors[0].message}`);
    }
    // A trailing `---` starts an empty document: nothing written there.
    const written = all.filter((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null && d.contents.source === ""));
    if (written.length > 1) {
        throw new StackFileError(
            `${where} holds ${written.length} YAML documents (separated by ---); Pulumi reads a stack file as one: remove the --- lines and keep everything under one config: map`,
        );
    }
    const [doc] = written;
    const merges = doc ? mergeKeyProblems(doc as Document, lines, where) : [];
    if (merges.length > 0) throw new StackFileError(merges.join("\n"));
    let value: unknown;
    try {
        value = doc ? doc.toJS() : null;
    } catch (e: any) {
        throw new StackFileError(`${where} cannot be read as Pulumi reads it (${e.message}); check its anchors (&name) and merge keys (<<: *name)`);
    }
    if (value === null || value === undefined) throw new StackFileError(`${where} is empty; a stack file is a map with a config: key, e.g.\n${CONFIG_EXAMPLE}`);
    if (typeof value !== "object" || Array.isArray(value)) {
        const found = Array.isArray(value) ? "a list" : `a single value (${JSON.stringify(value)})`;
        throw new StackFileError(`${where} is ${found}, not a map; a stack file is a map with a config: key, e.g.\n${CONFIG_EXAMPLE}`);
    }
    const config = (value as Record<string, unknown>).config;
    if (config === undefined) throw new StackFileError(`${where} has no config: map; Pulumi reads a stack's settings from one, e.g.\n${CONFIG_EXAMPLE}`);
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
        throw new StackFileError(`${where}: config: is ${Array.isArray(config) ? "a list" : config === null ? "empty" : `a single value (${JSON.stringify(config)})`}, not a map of settings; write them under it, e.g.\n${CONFIG_EXAMPLE}`);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(config)) {
        if (key.startsWith(`${NAMESPACE}:`)) out[key.slice(NAMESPACE.length + 1)] = v;
    }
    const region = (config as Record<string, unknown>)["aws:region"];
    return typeof region === "string" ? { config: out, region } : { config: out };
}

/** `stagehand:*` keys of a stack file's text, without the prefix: { services: …, cluster: … } (see parseStackFile). */
export function stackConfigFromText(text: string, where: string): Record<string, unknown> {
    return parseStackFile(text, where).config;
}

/** Reads Pulumi.<stack>.yaml: its `stagehand:*` keys and its region; fails naming the stacks that do exist. */
export function readStackFile(stack: string, root = projectRoot): StackFile {
    const file = stackFilePath(stack, root);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack ${JSON.stringify(stack)}: ${path.basename(file)} does not exist (stacks here: ${knownStacks(root).join(", ") || "none"})`);
    }
    return parseStackFile(fs.readFileSync(file, "utf8"), path.basename(file));
}

/** Reads Pulumi.<stack>.yaml's `stagehand:*` keys; fails naming the stacks that do exist. */
export function readStackConfig(stack: string, root = projectRoot): Record<string, unknown> {
    return readStackFile(stack, root).config;
}

/** `aws:region` of a stack file's text (not a `stagehand:*` key), or undefined when the file does not set it. */
export function stackRegionFromText(text: string, where: string): string | undefined {
    return parseStackFile(text, where).region;
}

/** `aws:region` of Pulumi.<stack>.yaml in the working tree, or undefined (no file, or no region in it). */
export function readStackRegion(stack: string, root = projectRoot): string | undefined {
    if (!fs.existsSync(stackFilePath(stack, root))) return undefined;
    return readStackFile(stack, root).region;
}
