// The user's manual: README.md (the front door) and docs/*.md. Every link between them, and to files of the
// repository, leads somewhere: the file exists, and an anchor names a heading (GitHub's slug of it) or an explicit
// <a id> of the page it points into. External links are not followed (nothing here reaches the internet).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const PAGES = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** The lines of a page outside fenced code blocks. */
function prose(text: string): string[] {
    let inCode = false;
    return text.split("\n").filter((line) => {
        if (line.startsWith("```")) {
            inCode = !inCode;
            return false;
        }
        return !inCode;
    });
}

/** GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces as hyphens. */
export function headingSlug(heading: string): string {
    return heading
        .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
        .toLowerCase()
        .replace(/`/g, "")
        .replace(/[^\p{L}\p{N}_\- ]/gu, "")
        .replace(/ /g, "-");
}

/** Every anchor a page defines: its headings' slugs (a repeated one numbered as GitHub numbers it) and its <a id>s. */
function anchorsOf(text: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    for (const line of prose(text)) {
        const heading = /^#{1,6} (.*)$/.exec(line);
        if (heading) {
            const slug = headingSlug(heading[1]);
            const n = seen.get(slug) ?? 0;
            seen.set(slug, n + 1);
            anchors.add(n === 0 ? slug : `${slug}-${n}`);
        }
        for (const m of line.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(m[1]);
    }
    return anchors;
}

/** Every markdown link of a page outside code: its target as written. */
function linksOf(text: string): string[] {
    return prose(text).flatMap((line) => [...line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]));
}

describe("the manual: README.md and docs/", () => {
    it("GitHub's heading anchors", () => {
        assert.strictEqual(headingSlug("Zero downtime: make before break"), "zero-downtime-make-before-break");
        assert.strictEqual(headingSlug("Release ledger: `npm run history`"), "release-ledger-npm-run-history");
        assert.strictEqual(headingSlug("Using an existing (local) cluster"), "using-an-existing-local-cluster");
        assert.strictEqual(headingSlug("### `stagehand.fleet.yaml` (the project's, not a stack's)".slice(4)), "stagehandfleetyaml-the-projects-not-a-stacks");
    });

    for (const page of PAGES) {
        it(`${page}: every link leads to a file of the repository, and every anchor to a heading there`, () => {
            const text = fs.readFileSync(path.join(ROOT, page), "utf8");
            const broken: string[] = [];
            for (const link of linksOf(text)) {
                if (/^[a-z][a-z+.-]*:/.test(link)) continue; // https:, mailto: …: not followed offline
                const [file, anchor] = link.split("#", 2);
                const target = file === "" ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), file);
                if (!target.startsWith(ROOT) || !fs.existsSync(target)) {
                    broken.push(`${link}: no file ${path.relative(ROOT, target)}`);
                    continue;
                }
                if (anchor !== undefined && target.endsWith(".md") && !anchorsOf(fs.readFileSync(target, "utf8")).has(anchor)) {
                    broken.push(`${link}: no heading or anchor #${anchor} in ${path.relative(ROOT, target)}`);
                }
            }
            assert.deepStrictEqual(broken, []);
        });
    }

    it("the README is the front door: what it is, what you need, the quick start, a release in one screen, and the way into every page of docs/", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const headings = prose(readme).filter((l) => l.startsWith("## ")).map((l) => l.slice(3));
        assert.deepStrictEqual(headings, ["What you need", "Quick start", "A team's release, in one screen", "Commands", "The manual"]);
        for (const page of PAGES.filter((p) => p.startsWith("docs/"))) assert.ok(linksOf(readme).includes(page), `README links ${page}`);
        // Every npm script a user runs is in the commands table.
        const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts).filter((s) => !["typecheck", "test:unit"].includes(s));
        for (const script of scripts) assert.ok(readme.includes(script === "test" ? "`npm test`" : `npm run ${script}`), `the README names npm run ${script}`);
        assert.ok(Buffer.byteLength(readme) < 16_000, `the front door stays short (${Buffer.byteLength(readme)} bytes)`);
    });
});
