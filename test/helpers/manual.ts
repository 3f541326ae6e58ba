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
