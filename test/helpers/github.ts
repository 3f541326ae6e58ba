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

/** The OpenAPI operation of a GET path, as GitHub documents it. */
const OPERATIONS: { re: RegExp; path: string }[] = [
    { re: /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+$/, path: "/repos/{owner}/{repo}/pulls/{pull_number}" },
    { re: /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+\/reviews$/, path: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews" },
    { re: /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/timeline$/, path: "/repos/{owner}/{repo}/issues/{issue_number}/timeline" },
    { re: /^\/orgs\/[^/]+\/teams\/[^/]+\/memberships\/[^/]+$/, path: "/orgs/{org}/teams/{team_slug}/memberships/{username}" },
    { re: /^\/orgs\/[^/]+\/teams\/[^/]+$/, path: "/orgs/{org}/teams/{team_slug}" },
    { re: /^\/repos\/[^/]+\/[^/]+\/commits\/[0-9a-f]{40}\/pulls$/, path: "/repos/{owner}/{repo}/commits/{commit_sha}/pulls" },
];

/** The validator of GET `pathname`'s response with `status`, from GitHub's OpenAPI description. */
export function responseValidator(pathname: string, status: number): ValidateFunction {
    const op = OPERATIONS.find((o) => o.re.test(pathname));
    if (!op) throw new Error(`no GitHub operation known for GET ${pathname}`);
    const key = `${op.path} ${status}`;
    let v = validators.get(key);
    if (v) return v;
    if (!spec) {
        spec = JSON.parse(fs.readFileSync(SPEC_PATH, "utf8"));
        ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
        ajv.addSchema({ components: { schemas: jsonSchema(spec.components.schemas) } }, "gh");
    }
    let response = spec.paths[op.path].get.responses[String(status)];
    if (!response) throw new Error(`GitHub documents no ${status} answer for GET ${op.path}`);
    if (response.$ref) response = spec.components.responses[response.$ref.split("/").pop()];
    // A documented answer without a body (team membership's 404): GitHub sends its basic error.
    const schema = response.content?.["application/json"]?.schema ?? { $ref: "#/components/schemas/basic-error" };
    v = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"gh#/components/')));
    validators.set(key, v);
    return v;
}

/** Throws naming what does not match when `body` is not what GitHub documents for GET `pathname` answering `status`. */
export function checkRecorded(pathname: string, status: number, body: unknown): void {
    const v = responseValidator(pathname, status);
    if (!v(body)) throw new Error(`recorded answer to GET ${pathname} (${status}) does not match GitHub's schema: ${v.errors!.slice(0, 3).map((e) => `${e.instancePath} ${e.message}`).join("; ")}`);
}

export interface Answer {
    status?: number;
    body: unknown;
    headers?: Record<string, string>;
}

export interface FakeGitHub {
    url: string;
    /** Every request: method, path with query, Authorization header. */
    requests: { method: string; url: string; authorization?: string; accept?: string }[];
    close(): Promise<void>;
}

/**
 * Serves `routes` (path with query, e.g. "/repos/acme/stagehand/pulls/17/reviews?per_page=100" → answer; a path
 * without its query matches any query). `{{base}}` in a header is the server's URL. Unknown paths answer 404 as
 * GitHub does. Every body is checked against GitHub's schema before it is served.
 */
export async function fakeGitHub(routes: Record<string, Answer>): Promise<FakeGitHub> {
    for (const [route, answer] of Object.entries(routes)) checkRecorded(route.split("?")[0], answer.status ?? 200, answer.body);
    const requests: FakeGitHub["requests"] = [];
    let base = "";
    const server = http.createServer((req, res) => {
        requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, accept: req.headers.accept });
        const answer = routes[req.url!] ?? routes[req.url!.split("?")[0]];
        const { status, body, headers } = answer ?? { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };
        const h: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
        for (const [k, v] of Object.entries(headers ?? {})) h[k] = v.replace(/\{\{base\}\}/g, base);
        res.writeHead(status ?? 200, h);
        res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url: base, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
