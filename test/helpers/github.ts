// A stand-in for GitHub's REST API on 127.0.0.1 (random port), serving recorded responses, each checked against
// GitHub's own OpenAPI description (@octokit/openapi) before it is served: a recording that does not have the
// documented shape fails the test instead of testing the client against a shape GitHub never sends.
import Ajv, { ValidateFunction } from "ajv";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";

const SPEC_PATH = require.resolve("@octokit/openapi/generated/api.github.com.json");
export const RECORDINGS = path.join(__dirname, "..", "scripts", "github-recordings");

/** A recorded response body (test/scripts/github-recordings/<name>.json), a fresh copy per call. */
export function recording(name: string): any {
    return JSON.parse(fs.readFileSync(path.join(RECORDINGS, `${name}.json`), "utf8"));
}

/** OpenAPI 3.0's `nullable` as JSON Schema (what ajv reads); examples dropped. */
function jsonSchema(s: any): any {
    if (Array.isArray(s)) return s.map(jsonSchema);
    if (!s || typeof s !== "object") return s;
    const out: any = {};
    for (const [k, v] of Object.entries(s)) if (k !== "nullable" && k !== "example" && k !== "examples") out[k] = jsonSchema(v);
    if (s.nullable !== true) return out;
    if (typeof out.type === "string") {
        out.type = [out.type, "null"];
        if (out.enum && !out.enum.includes(null)) out.enum = [...out.enum, null];
        return out;
    }
    return { anyOf: [out, { type: "null" }] };
}

let spec: any;
let ajv: Ajv;
const validators = new Map<string, ValidateFunction>();

/** The OpenAPI operation of a method and path, as GitHub documents it. */
const OPERATIONS: { method?: string; re: RegExp; path: string }[] = [
    { re: /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+$/, path: "/repos/{owner}/{repo}/pulls/{pull_number}" },
    { re: /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+\/reviews$/, path: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews" },
    { re: /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/timeline$/, path: "/repos/{owner}/{repo}/issues/{issue_number}/timeline" },
    { re: /^\/orgs\/[^/]+\/teams\/[^/]+\/memberships\/[^/]+$/, path: "/orgs/{org}/teams/{team_slug}/memberships/{username}" },
    { re: /^\/orgs\/[^/]+\/teams\/[^/]+$/, path: "/orgs/{org}/teams/{team_slug}" },
    // The automatic rollback's (scripts/rollback-pulls.ts).
    { re: /^\/repos\/[^/]+\/[^/]+\/pulls$/, path: "/repos/{owner}/{repo}/pulls" },
    { method: "post", re: /^\/repos\/[^/]+\/[^/]+\/pulls$/, path: "/repos/{owner}/{repo}/pulls" },
    { method: "post", re: /^\/repos\/[^/]+\/[^/]+\/git\/refs$/, path: "/repos/{owner}/{repo}/git/refs" },
    { method: "patch", re: /^\/repos\/[^/]+\/[^/]+\/git\/refs\/.+$/, path: "/repos/{owner}/{repo}/git/refs/{ref}" },
    { method: "put", re: /^\/repos\/[^/]+\/[^/]+\/contents\/.+$/, path: "/repos/{owner}/{repo}/contents/{path}" },
    { method: "post", re: /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/labels$/, path: "/repos/{owner}/{repo}/issues/{issue_number}/labels" },
    { re: /^\/repos\/[^/]+\/[^/]+\/commits\/[^/]+\/check-runs$/, path: "/repos/{owner}/{repo}/commits/{ref}/check-runs" },
    { re: /^\/repos\/[^/]+\/[^/]+\/commits\/[^/]+\/status$/, path: "/repos/{owner}/{repo}/commits/{ref}/status" },
    { method: "put", re: /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+\/merge$/, path: "/repos/{owner}/{repo}/pulls/{pull_number}/merge" },
    { method: "put", re: /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+\/update-branch$/, path: "/repos/{owner}/{repo}/pulls/{pull_number}/update-branch" },
    { method: "post", re: /^\/repos\/[^/]+\/[^/]+\/actions\/workflows\/[^/]+\/dispatches$/, path: "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches" },
];

/** The validator of `method pathname`'s response with `status`, from GitHub's OpenAPI description. */
export function responseValidator(pathname: string, status: number, method = "GET"): ValidateFunction {
    const m = method.toLowerCase();
    const op = OPERATIONS.find((o) => (o.method ?? "get") === m && o.re.test(pathname));
    if (!op) throw new Error(`no GitHub operation known for ${method} ${pathname}`);
    const key = `${m} ${op.path} ${status}`;
    let v = validators.get(key);
    if (v) return v;
    if (!spec) {
        spec = JSON.parse(fs.readFileSync(SPEC_PATH, "utf8"));
        ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
        ajv.addSchema({ components: { schemas: jsonSchema(spec.components.schemas) } }, "gh");
    }
    let response = spec.paths[op.path][m].responses[String(status)];
    if (!response) throw new Error(`GitHub documents no ${status} answer for ${method} ${op.path}`);
    if (response.$ref) response = spec.components.responses[response.$ref.split("/").pop()];
    // A documented answer without a body (team membership's 404): GitHub sends its basic error; 204 sends nothing.
    const schema = status === 204 ? { type: "null" } : (response.content?.["application/json"]?.schema ?? { $ref: "#/components/schemas/basic-error" });
    v = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"gh#/components/')));
    validators.set(key, v);
    return v;
}

/** Throws naming what does not match when `body` is not what GitHub documents for `method pathname` answering `status`. */
export function checkRecorded(pathname: string, status: number, body: unknown, method = "GET"): void {
    const v = responseValidator(pathname, status, method);
    if (!v(body)) throw new Error(`recorded answer to ${method} ${pathname} (${status}) does not match GitHub's schema: ${v.errors!.slice(0, 3).map((e) => `${e.instancePath} ${e.message}`).join("; ")}`);
}

export interface Answer {
    status?: number;
    body: unknown;
    headers?: Record<string, string>;
}

export interface FakeGitHub {
    url: string;
    /** Every request: method, path with query, Authorization header, and the JSON body of a write. */
    requests: { method: string; url: string; authorization?: string; accept?: string; body?: any }[];
    close(): Promise<void>;
}

/**
 * Serves `routes` (path with query, e.g. "/repos/acme/stagehand/pulls/17/reviews?per_page=100" → answer; a path
 * without its query matches any query; a route of another method than GET starts with it: "PUT /repos/…/merge").
 * `{{base}}` in a header is the server's URL. Unknown routes answer 404 as GitHub does. Every body is checked
 * against GitHub's schema before it is served.
 */
export async function fakeGitHub(routes: Record<string, Answer>): Promise<FakeGitHub> {
    const split = (route: string) => (/^[A-Z]+ /.test(route) ? route.split(" ") : ["GET", route]);
    for (const [route, answer] of Object.entries(routes)) {
        const [method, url] = split(route);
        checkRecorded(url.split("?")[0], answer.status ?? 200, answer.body, method);
    }
    const requests: FakeGitHub["requests"] = [];
    let base = "";
    const server = http.createServer((req, res) => {
        let raw = "";
        req.on("data", (chunk) => (raw += chunk));
        req.on("end", () => {
            const entry: FakeGitHub["requests"][number] = { method: req.method!, url: req.url!, authorization: req.headers.authorization, accept: req.headers.accept };
            if (raw) entry.body = JSON.parse(raw);
            requests.push(entry);
            const prefix = req.method === "GET" ? "" : `${req.method} `;
            const answer = routes[`${prefix}${req.url!}`] ?? routes[`${prefix}${req.url!.split("?")[0]}`];
            const { status, body, headers } = answer ?? { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };
            const h: Record<string, string> = status === 204 ? {} : { "content-type": "application/json; charset=utf-8" };
            for (const [k, v] of Object.entries(headers ?? {})) h[k] = v.replace(/\{\{base\}\}/g, base);
            res.writeHead(status ?? 200, h);
            res.end(status === 204 ? undefined : JSON.stringify(body));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url: base, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
