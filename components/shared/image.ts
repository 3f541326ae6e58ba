// Container image references: the repository a service names and the tags it releases. One grammar for the
// config (a bad tag never reaches a release) and the policies (a rendered workload always pins its image).
import { z } from "zod";

// An image tag (Docker's grammar) or a digest. `latest` moves under your feet, so it is refused.
const dockerTag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digest = /^sha256:[a-f0-9]{64}$/;
const TAG_WORDS = "an image tag such as \"1.4.2\" or a digest \"sha256:<64 hex>\"";

/**
 * What a tag that is not a string says: YAML reads an unquoted `1.10` as the number 1.1 and `2.0` as 2, so the tag
 * released would not be the one written; the fix is to quote it as written.
 */
export function nonStringTagProblem(input: unknown): string {
    if (typeof input === "number") {
        return `an image tag in quotes (YAML reads an unquoted number as a number: 1.10 as 1.1, 2.0 as 2, so the tag would not be the one written); write the tag in quotes exactly as it is released, e.g. "1.10" or "${input}"`;
    }
    if (typeof input === "boolean") return `an image tag in quotes (YAML reads an unquoted ${input} as a boolean); write it in quotes, e.g. "${input}"`;
    return TAG_WORDS;
}

export const tagSchema = z
    .string({ error: (issue) => nonStringTagProblem(issue.input) })
    // Any case: registries treat "Latest" and "LATEST" as tags as movable as "latest".
    .refine((t) => t.toLowerCase() !== "latest", { error: "a fixed image tag or digest, not \"latest\" (it cannot be reviewed or rolled back)" })
    .refine((t) => dockerTag.test(t) || digest.test(t), {
        error: "an image tag such as \"1.4.2\" (letters, digits, '_', '.', '-', at most 128) or a digest \"sha256:<64 hex>\"",
    });

/** Whether an image repository carries a tag (`:1.2`, not a registry port) or a digest (`@sha256:…`). */
export function repositoryHasTagOrDigest(repository: string): boolean {
    // The first path segment may be a registry with a port ("registry:5000/app"); a colon after it is a tag.
    return repository.includes("@") || /:[^/]*$/.test(repository.replace(/^[^/]+\//, "x/"));
}

/** Why a string is not an image repository (registry/path/name, no scheme, tag or digest), or undefined. */
export function imageRepositoryProblem(repository: string): string | undefined {
    // One problem per repository, the first that applies: a digest is not also "not lower case".
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) {
        return `an image repository without a scheme, such as "${repository.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")}" (images are pulled by registry/path/name, not by URL)`;
    }
    if (repositoryHasTagOrDigest(repository)) return "an image repository without tag or digest (the tags go in `stable` and `canary`)";
    if (!/^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$/.test(repository)) return "an image repository in lower case (registry/path/name)";
    return undefined;
}

export const imageRepositorySchema = z
    .string({ error: "an image repository such as \"ghcr.io/acme/checkout\"" })
    .min(1, { error: "an image repository such as \"ghcr.io/acme/checkout\"" })
    .superRefine((repository, ctx) => {
        const problem = imageRepositoryProblem(repository);
        if (problem) ctx.addIssue({ code: "custom", input: repository, message: problem });
    });
