// Edits a service's block in Pulumi.<stack>.yaml the way a person would: only the values that change, every
// other byte of the file — comments, blank lines, quoting, flow collections, key order — as it was.
//
// The yaml package's Document API finds the nodes and their source offsets; the edit is spliced into the text at
// those offsets. Re-printing the whole document (String(doc)) would not keep the layout: it pads flow sequences
// (`[10, 25]` becomes `[ 10, 25 ]`) and may re-wrap long flow maps, so unrelated lines would show in the diff a
// reviewer reads.
import { isMap, isScalar, parse, parseDocument, Scalar } from "yaml";

export interface FieldEdit {
    key: string;
    value: string | number;
}

/** The source text of a scalar holding `value`, in `style` where the value allows it. */
function scalarText(value: string | number, style: Scalar.Type | undefined): string {
    if (typeof value === "number") return String(value);
    if (style === "QUOTE_SINGLE") return `'${value.replace(/'/g, "''")}'`;
    // Plain only when it reads back as the same string (a tag "1.10" plain would be the number 1.1).
    if (style === "PLAIN" && /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(value) && parse(value) === value) return value;
    return JSON.stringify(value);
}

interface Splice {
    at: number;
    end: number;
    text: string;
}

/**
 * Sets `edits` in the block of `service` under `config.stagehand:services`: an existing key's value is
 * replaced in place (keeping its quoting and any comment on its line); a missing key is added on its own line
 * after `stable` (or after it inside a flow map `{…}`), quoted as `stable` is. Throws when the block is not
 * there or the result does not read back as exactly these changes.
 */
export function setServiceFields(text: string, service: string, edits: FieldEdit[], where: string): string {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`${where} is not valid YAML: ${doc.errors[0].message}`);
    const block = doc.getIn(["config", "stagehand:services", service], true);
    if (!isMap(block)) throw new Error(`${where} has no block for service ${service} under stagehand:services`);
    const pairOf = (key: string) => block.items.find((p) => isScalar(p.key) && p.key.value === key);
    const stable = pairOf("stable");
    if (!stable || !isScalar(stable.key) || !isScalar(stable.value) || !stable.key.range || !stable.value.range) {
        throw new Error(`${where}: service ${service} has no \`stable\` tag to place new fields after`);
    }
    const stableValue = stable.value as Scalar;

    const splices: Splice[] = [];
    const added: string[] = [];
    for (const edit of edits) {
        const pair = pairOf(edit.key);
        if (pair) {
            const node = pair.value;
            if (!isScalar(node) || !node.range) throw new Error(`${where}: service ${service}, field ${edit.key} is not a single value, so it is not changed here`);
            splices.push({ at: node.range[0], end: node.range[1], text: scalarText(edit.value, typeof edit.value === "number" ? undefined : node.type) });
        } else {
            added.push(`${edit.key}: ${scalarText(edit.value, stableValue.type)}`);
        }
    }
    if (added.length > 0) {
        if (block.flow) {
            const at = stableValue.range![1];
            splices.push({ at, end: at, text: added.map((a) => `, ${a}`).join("") });
        } else {
            const keyStart = stable.key.range[0];
            const lineStart = text.lastIndexOf("\n", keyStart - 1) + 1;
            const indent = text.slice(lineStart, keyStart);
            if (!/^[ ]*$/.test(indent)) throw new Error(`${where}: service ${service}: \`stable\` does not start its own line, so new fields are not added after it`);
            const eol = text.indexOf("\n", stableValue.range![1]);
            const at = eol < 0 ? text.length : eol + 1;
            const lines = added.map((a) => `${indent}${a}\n`).join("");
            splices.push({ at, end: at, text: eol < 0 ? `\n${lines}` : lines });
        }
    }

    let out = text;
    for (const s of [...splices].sort((a, b) => b.at - a.at)) out = out.slice(0, s.at) + s.text + out.slice(s.end);

    // The edit must read back as exactly these changes and nothing else.
    const before: any = parse(text);
    const after: any = parse(out);
    const expected = structuredClone(before);
    for (const edit of edits) expected.config["stagehand:services"][service][edit.key] = edit.value;
    if (JSON.stringify(sortKeys(after)) !== JSON.stringify(sortKeys(expected))) {
        throw new Error(`${where}: editing service ${service} did not give the expected file (${edits.map((e) => e.key).join(", ")}); left unchanged`);
    }
    return out;
}

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object") {
        return Object.fromEntries(
            Object.keys(v as object)
                .sort()
                .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        );
    }
    return v;
}
