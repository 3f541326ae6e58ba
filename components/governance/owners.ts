// Who must approve a pull request (docs/reviewing.md "Who may change what"): pure, no git and no GitHub here. The command
// (scripts/owners.ts) reads the stack files at the pull request's revisions with git and the reviews with
// GitHub's API, and hands them to these functions.
//
// - A service block that changed (any field, added or removed) needs its owners as of the base revision: the
//   pull request cannot name its own approvers. A block with no owners of its own, and a new block, need the
//   stack's platform owners (`stagehand:owners`) as of the base revision.
// - Anything else in a stack file (stack-level keys, other config keys, top-level keys, comments) needs that
//   stack's platform owners as of the base revision; a stack file the base revision does not have needs the
//   platform owners of every stack, as code does.
// - Code and every file outside the stack files needs the platform owners of every stack of the base revision:
//   code reaches every stack, so a staging-only platform owner does not approve what prod will run.
// - A rollback of a service whose `autoRollback` is on at the base revision (its block's, else the stack's
//   `stagehand:autoRollback`) — the block's only change is `stage` back to 1 — needs no further approval: its owners
//   (and the platform owners, for the stack's default) approved rollbacks without a person when they turned it on
//   (docs/releasing.md "Automatic rollback"). Everything else in the same pull request still needs its owners.
import { isDeepStrictEqual } from "util";
import { parse } from "yaml";
import { ownersSchema } from "../shared/schema";

/** `Pulumi.<stack>.yaml` at the project's root: the stack's name, or undefined for any other path. */
export function stackOfPath(file: string): string | undefined {
    return /^Pulumi\.([^/.]+)\.yaml$/.exec(file)?.[1];
}

/** What a stack file says about owners: the platform owners and each service block's own (undefined: none). */
export interface StackOwners {
    platform: string[];
    services: Record<string, string[] | undefined>;
}

interface ParsedStack {
    /** The whole document, anchors and merge keys resolved. */
    doc: Record<string, unknown>;
    config: Record<string, unknown>;
    services: Record<string, unknown>;
}

const SERVICES_KEY = "stagehand:services";
const OWNERS_KEY = "stagehand:owners";

function isMap(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A stack file's text as Pulumi reads it, or why it cannot be read so. */
function parseStack(text: string): ParsedStack | string {
    let doc: unknown;
    try {
        doc = parse(text, { merge: true });
    } catch (e: any) {
        return `it is not valid YAML (${String(e.message).split("\n")[0]})`;
    }
    if (!isMap(doc)) return "it is not a map";
    const config = doc.config ?? {};
    if (!isMap(config)) return "its config: is not a map";
    const services = config[SERVICES_KEY] ?? {};
    if (!isMap(services)) return `its ${SERVICES_KEY} is not a map`;
    return { doc, config, services };
}

/** A valid owners list, or undefined (absent or invalid: an invalid list names nobody). */
function ownersList(v: unknown): string[] | undefined {
    const parsed = ownersSchema.safeParse(v);
    return parsed.success ? parsed.data : undefined;
}

/** The owners a stack file's text names; no one when it cannot be read. */
export function stackOwners(text: string | undefined): StackOwners {
    const parsed = text === undefined ? "absent" : parseStack(text);
    if (typeof parsed === "string") return { platform: [], services: {} };
    const services: StackOwners["services"] = {};
    for (const [name, block] of Object.entries(parsed.services)) services[name] = isMap(block) ? ownersList(block.owners) : undefined;
    return { platform: ownersList(parsed.config[OWNERS_KEY]) ?? [], services };
}

/** What a pull request changes in one stack file: the service blocks, and what else (in words). */
export interface StackChange {
    /** Each changed block and its changed fields (empty for a block added or removed). */
    services: { service: string; change: "added" | "removed" | "changed"; fields: string[] }[];
    /** Everything else that changed in the file, in words; empty when nothing else did. */
    platform: string[];
}

function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !isDeepStrictEqual(a[k], b[k])).sort();
}

/**
 * What changed in a stack file between `before` (the merge base: where the pull request's branch started from
 * the base branch) and `after` (its head); undefined text is a file that does not exist at that revision.
 */
export function stackChange(before: string | undefined, after: string | undefined): StackChange {
    if (before === after) return { services: [], platform: [] };
    if (before === undefined) return { services: [], platform: ["the stack file is new"] };
    if (after === undefined) return { services: [], platform: ["the stack file is deleted"] };
    const [a, b] = [parseStack(before), parseStack(after)];
    if (typeof a === "string" || typeof b === "string") {
        return { services: [], platform: [`the file cannot be read as a stack file ${typeof a === "string" ? `before (${a})` : `in the pull request (${b})`}`] };
    }
    const services: StackChange["services"] = [];
    for (const name of changedKeys(a.services, b.services)) {
        const [x, y] = [a.services[name], b.services[name]];
        if (x === undefined) services.push({ service: name, change: "added", fields: [] });
        else if (y === undefined) services.push({ service: name, change: "removed", fields: [] });
        else services.push({ service: name, change: "changed", fields: isMap(x) && isMap(y) ? changedKeys(x, y) : [] });
    }
    const restConfig = (c: Record<string, unknown>) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== SERVICES_KEY));
    const restDoc = (d: Record<string, unknown>) => Object.fromEntries(Object.entries(d).filter(([k]) => k !== "config"));
    const platform = [...changedKeys(restConfig(a.config), restConfig(b.config)).map((k) => `config ${k}`), ...changedKeys(restDoc(a.doc), restDoc(b.doc))];
    // The text changed but no value did, nor any block: comments, formatting or anchors' names.
    if (platform.length === 0 && services.length === 0) platform.push("comments or formatting, no value");
    return { services, platform };
}

/** One thing the pull request changes and the owners, any one of whom approves it. */
export interface Requirement {
    /** What changed, e.g. "Pulumi.prod.yaml: service checkout (changed: stage)". */
    what: string;
    /** GitHub users and org/teams; empty: no one is named, and nobody can approve it here. */
    owners: string[];
    /** Whose owners these are, e.g. "the owners of service checkout in Pulumi.prod.yaml at base 1a2b3c4". */
    ownersFrom: string;
    /** Why it needs no approval here (a rollback of an autoRollback service), when it needs none. */
    preApproved?: string;
}

export const short = (sha: string) => sha.slice(0, 7);

/** The files of the pull request, the stack files' text at its revisions, and which revision is which. */
export interface PullRequestFiles {
    /** Every path the pull request changes (both sides of a rename). */
    files: string[];
    /** The base revision (the base branch as the pull request has it): the owners are read here. */
    baseSha: string;
    /** Each stack's file at the base revision (stacks absent there are absent here). */
    baseStacks: Record<string, string>;
    /** Each changed stack file at the merge base and at the head (undefined: absent at that revision). */
    changedStacks: Record<string, { before?: string; after?: string }>;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function listFiles(files: string[], max = 5): string {
    return files.length <= max ? files.join(", ") : `${files.slice(0, max).join(", ")} and ${plural(files.length - max, "more file")}`;
}

/** The platform owners of every stack of the base revision, one requirement per distinct list. */
function platformOfAll(what: string, input: PullRequestFiles): Requirement[] {
    const stacks = Object.keys(input.baseStacks).sort();
    const lists = new Map<string, { owners: string[]; stacks: string[] }>();
    for (const s of stacks) {
        const owners = stackOwners(input.baseStacks[s]).platform;
        const key = owners.map((o) => o.toLowerCase()).sort().join(",");
        const entry = lists.get(key) ?? { owners, stacks: [] };
        entry.stacks.push(s);
        lists.set(key, entry);
    }
    if (lists.size === 0) return [{ what, owners: [], ownersFrom: `the platform owners (no stack file at base ${short(input.baseSha)})` }];
    return [...lists.values()].map(({ owners, stacks: named }) => ({
        what,
        owners,
        ownersFrom: `the platform owners (stagehand:owners) of ${named.map((s) => `Pulumi.${s}.yaml`).join(", ")} at base ${short(input.baseSha)}`,
    }));
}

/** The stage of a service block in a stack file's text, when it is a number. */
function stageOf(text: string | undefined, service: string): number | undefined {
    const parsed = text === undefined ? undefined : parseStack(text);
    const block = typeof parsed === "object" ? parsed.services[service] : undefined;
    return isMap(block) && typeof block.stage === "number" ? block.stage : undefined;
}

/**
 * Why a changed block needs no approval: its only change is `stage` from a release back to 1 (a rollback), and its
 * `autoRollback` is on at the base revision. Undefined otherwise.
 */
function autoRollbackApproval(stack: string, service: string, change: StackChange["services"][number], before: string | undefined, after: string | undefined, baseText: string): string | undefined {
    if (change.change !== "changed" || change.fields.length !== 1 || change.fields[0] !== "stage") return undefined;
    const from = stageOf(before, service);
    if (stageOf(after, service) !== 1 || from === undefined || from <= 1) return undefined;
    const base = parseStack(baseText);
    if (typeof base === "string") return undefined;
    const block = base.services[service];
    if (!isMap(block)) return undefined;
    const own = block.autoRollback;
    const on = own === true || (own === undefined && base.config["stagehand:autoRollback"] === true);
    if (!on) return undefined;
    const where = own === true ? `its autoRollback: true` : "stagehand:autoRollback: true";
    return `a rollback (stage ${from} -> 1) of a service with ${where} in Pulumi.${stack}.yaml at base: approved in advance`;
}

/** Everything the pull request changes, grouped, with the owners who approve each group. */
export function requirements(input: PullRequestFiles): Requirement[] {
    const out: Requirement[] = [];
    const at = `at base ${short(input.baseSha)}`;
    for (const stack of Object.keys(input.changedStacks).sort()) {
        const file = `Pulumi.${stack}.yaml`;
        const { before, after } = input.changedStacks[stack];
        const baseText = input.baseStacks[stack];
        const change = stackChange(before, after);
        const owners = stackOwners(baseText);
        const platform: Requirement = { what: "", owners: owners.platform, ownersFrom: `the platform owners (stagehand:owners) of ${file} ${at}` };
        for (const s of change.services) {
            const own = baseText === undefined ? undefined : owners.services[s.service];
            const what = `${file}: service ${s.service} (${s.change === "changed" ? `changed: ${s.fields.join(", ") || "its value"}` : s.change})`;
            const preApproved = baseText === undefined ? undefined : autoRollbackApproval(stack, s.service, s, before, after, baseText);
            if (preApproved) out.push({ what, owners: own ?? owners.platform, ownersFrom: `the owners of service ${s.service} in ${file} ${at}`, preApproved });
            else if (baseText === undefined) out.push(...platformOfAll(`${what}, in a stack file the base revision does not have`, input));
            else if (own) out.push({ what, owners: own, ownersFrom: `the owners of service ${s.service} in ${file} ${at}` });
            else if (!(s.service in owners.services)) out.push({ ...platform, what: `${what}, a service the base revision does not have` });
            else out.push({ ...platform, what: `${what}, a block that names no owners of its own` });
        }
        if (change.platform.length === 0) continue;
        const what = `${file}: ${change.platform.join(", ")}`;
        if (baseText === undefined) out.push(...platformOfAll(what, input));
        else out.push({ ...platform, what });
    }
    const code = input.files.filter((f) => stackOfPath(f) === undefined).sort();
    if (code.length > 0) out.push(...platformOfAll(`code and files outside the stack files: ${listFiles(code)}`, input));
    return out;
}

/** A review as GitHub lists it (the fields used here). */
export interface Review {
    login: string | undefined;
    state: string;
    commitId: string | null;
}

/** The states that change a reviewer's standing; COMMENTED (and PENDING) leave an approval as it was, as on GitHub. */
const STANDING = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/** Each reviewer's latest review that sets their standing, in GitHub's (chronological) order; by login. */
export function latestReviews(reviews: Review[]): Review[] {
    const latest = new Map<string, Review>();
    for (const r of reviews) if (r.login && STANDING.has(r.state)) latest.set(r.login.toLowerCase(), r);
    return [...latest.values()];
}

/** Whether `login` is `owner` (a user) or an active member of it (an org/team); may ask GitHub. */
export type OwnerTest = (owner: string, login: string) => Promise<boolean>;

/** Which of `owners` a login is (or is a member of), the first that matches; undefined when none. */
export async function ownerEntry(owners: string[], login: string, isMember: OwnerTest): Promise<string | undefined> {
    for (const o of owners) if (!o.includes("/") && o.toLowerCase() === login.toLowerCase()) return o;
    for (const o of owners) if (o.includes("/") && (await isMember(o, login))) return o;
    return undefined;
}

export interface Judged extends Requirement {
    /** The owners' approvals that count: login and the owner entry it approves as. */
    approvedBy: { login: string; as: string }[];
    /** Reviews that do not count for it, and why. */
    notCounted: string[];
}

/** Why a reviewer's standing is not an approval that counts, or undefined when it counts. */
function whyNot(r: Review, author: string, headSha: string): string | undefined {
    if (r.state === "CHANGES_REQUESTED") return `${r.login}'s latest review requests changes`;
    if (r.state === "DISMISSED") return `${r.login}'s approval was dismissed`;
    if (r.login!.toLowerCase() === author.toLowerCase()) return `${r.login} approved, but is the pull request's author`;
    if (r.commitId !== headSha) return `${r.login} approved an older commit (${r.commitId ? short(r.commitId) : "one no longer there"}), not the head ${short(headSha)}: approve again`;
    return undefined;
}

/** Each requirement with the approvals that count for it and the reviews that do not. */
export async function judgeApprovals(reqs: Requirement[], pr: { author: string; headSha: string; reviews: Review[] }, isMember: OwnerTest): Promise<Judged[]> {
    const standing = latestReviews(pr.reviews);
    const out: Judged[] = [];
    for (const req of reqs) {
        const approvedBy: Judged["approvedBy"] = [];
        const notCounted: string[] = [];
        for (const r of standing) {
            const as = await ownerEntry(req.owners, r.login!, isMember);
            const why = whyNot(r, pr.author, pr.headSha);
            if (as && !why) approvedBy.push({ login: r.login!, as });
            else if (as && why) notCounted.push(why);
            else if (r.state === "APPROVED") notCounted.push(`${r.login} approved, but is not one of these owners`);
        }
        out.push({ ...req, approvedBy, notCounted });
    }
    return out;
}

/** One line per requirement: approved by whom, or who still has to approve. */
export function formatJudged(judged: Judged[], headSha: string): string[] {
    return judged.map((j) => {
        const note = j.notCounted.length ? `; not counted: ${j.notCounted.join("; ")}` : "";
        if (j.preApproved && j.approvedBy.length === 0) return `approved  ${j.what}: ${j.preApproved}`;
        if (j.approvedBy.length > 0) return `approved  ${j.what}: by ${j.approvedBy.map((a) => (a.as === a.login ? a.login : `${a.login} (${a.as})`)).join(", ")}`;
        if (j.owners.length === 0) {
            return `MISSING   ${j.what}: no one can approve it: ${j.ownersFrom} name nobody; the platform owners add stagehand:owners in a pull request of its own (or an admin merges)${note}`;
        }
        return `MISSING   ${j.what}: needs an approval of the head commit ${short(headSha)} from one of ${j.owners.join(", ")} (${j.ownersFrom}), not the author${note}`;
    });
}
