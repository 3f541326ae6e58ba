// The user's manual as one text: README.md (the front door) and every page of docs/, for the tests that check it
// says what the code does (a cost table, a rule table, the defaults of a config block).
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");

/** README.md, then docs/*.md in name order, each separated by a blank line. */
export function manualText(): string {
    const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => path.join("docs", f));
    return ["README.md", ...docs].map((f) => fs.readFileSync(path.join(ROOT, f), "utf8")).join("\n\n");
}

/** The text under a heading of the manual (written whole, e.g. "## Observability"), up to the next ## or ### heading. */
export function manualSection(heading: string): string {
    const manual = manualText();
    const start = manual.indexOf(`\n${heading}\n`);
    if (start < 0) throw new Error(`the manual (README.md, docs/) has no heading "${heading}"`);
    const rest = manual.slice(start + heading.length + 2);
    const end = rest.search(/\n#{2,3} /);
    return end < 0 ? rest : rest.slice(0, end);
}
