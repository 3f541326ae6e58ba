// A service's one-off Jobs, as its block configures them: `smoke` (checks run against the canary's new pods before
// any traffic moves onto them) and `migrate` (schema migrations: `expand` before a release's canary pods start,
// `contract` once production runs the released revision and nothing older serves). Part of the service schema
// (components/service/config.ts); what runs when is components/service/jobs.ts.
import { z } from "zod";
import { imageRepositoryProblem, tagSchema } from "../shared/image";
import { wholeNumber } from "../shared/schema";

const IMAGE_WORDS = 'an image with a fixed tag or a digest, such as "ghcr.io/acme/checkout-smoke:1.2.0" or "ghcr.io/acme/checkout-smoke@sha256:<64 hex>"';

/** Why a string is not a pinned image reference (repository plus a tag other than latest, or a digest), or undefined. */
export function pinnedImageProblem(image: string): string | undefined {
    const at = image.indexOf("@");
    const lastSlash = image.lastIndexOf("/");
    const colon = image.lastIndexOf(":");
    const [repository, tag] = at >= 0 ? [image.slice(0, at), image.slice(at + 1)] : colon > lastSlash ? [image.slice(0, colon), image.slice(colon + 1)] : [image, undefined];
    if (tag === undefined) return `${IMAGE_WORDS} (a moving default tag cannot be reviewed)`;
    const repoProblem = imageRepositoryProblem(repository);
    if (repoProblem) return `${IMAGE_WORDS}, its repository ${repoProblem.replace(/ without tag or digest.*$/, "")}`;
    const tagCheck = tagSchema.safeParse(tag);
    if (!tagCheck.success) return `${IMAGE_WORDS}: ${tagCheck.error.issues[0].message}`;
    return undefined;
}

const pinnedImage = z.string({ error: IMAGE_WORDS }).superRefine((image, ctx) => {
    const problem = pinnedImageProblem(image);
    if (problem) ctx.addIssue({ code: "custom", input: image, message: problem });
});

const COMMAND_WORDS = 'a command as a list of strings, e.g. ["/app/migrate", "up"]';
const command = z.array(z.string({ error: COMMAND_WORDS }).min(1, { error: COMMAND_WORDS }), { error: COMMAND_WORDS }).min(1, { error: COMMAND_WORDS });

/** HTTP header names as RFC 9110 tokens; values without line breaks (they go on a curl command line). */
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const httpCheck = z.strictObject(
    {
        path: z.string({ error: "an HTTP path starting with '/'" }).regex(/^\/\S*$/, { error: "an HTTP path starting with '/' (no spaces)" }),
        // The status the canary must answer with: 200 unless the path is meant to say something else (401, 404 …).
        status: wholeNumber("the expected HTTP status", 100, 599).default(200),
        headers: z
            .record(z.string(), z.string({ error: "a header value (a string)" }).regex(/^[^\r\n]*$/, { error: "a header value on one line" }), { error: "a map of request header names to values" })
            .superRefine((headers, ctx) => {
                for (const name of Object.keys(headers)) {
                    if (!headerName.test(name)) ctx.addIssue({ code: "custom", path: [name], input: name, message: "an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)" });
                }
            })
            .optional(),
    },
    { error: "an HTTP check {path, status (default 200), headers}" },
);
export type HttpCheck = z.output<typeof httpCheck>;

const SMOKE_WORDS = "a smoke test: {http: [{path, status, headers}], and/or image with command, timeoutSeconds}";
export const smokeSchema = z
    .strictObject(
        {
            http: z.array(httpCheck, { error: "a list of HTTP checks, e.g. [{path: /healthz}, {path: /api/orders, status: 401}]" }).max(20, { error: "at most 20 HTTP checks" }).optional(),
            // A team's own test image, run with SMOKE_TARGET_URL set to the canary's address; it passes by exiting 0.
            image: pinnedImage.optional(),
            command: command.optional(),
            // The whole Job's deadline (its activeDeadlineSeconds): a check that hangs fails the move, it never stalls it.
            timeoutSeconds: wholeNumber("the smoke test's deadline in seconds", 10, 1800).default(120),
        },
        { error: SMOKE_WORDS },
    )
    .superRefine((s, ctx) => {
        if ((s.http?.length ?? 0) === 0 && s.image === undefined) {
            ctx.addIssue({ code: "custom", path: ["http"], input: s.http, message: `at least one HTTP check or an image to run (${SMOKE_WORDS})` });
        }
        if (s.command !== undefined && s.image === undefined) {
            ctx.addIssue({ code: "custom", path: ["image"], input: undefined, message: "an image to run the command in (a command needs its image)" });
        }
    });
export type SmokeConfig = z.output<typeof smokeSchema>;

const MIGRATE_WORDS = "schema migrations: {image (a repository; the tag is the revision's), expand: [command], contract: [command], timeoutSeconds}";
export const migrateSchema = z
    .strictObject(
        {
            // A repository without tag: the Job runs the revision's own tag of it (default: the revision's image).
            image: z
                .string({ error: "an image repository such as \"ghcr.io/acme/checkout-migrations\" (the tag is the revision's)" })
                .superRefine((repository, ctx) => {
                    const problem = imageRepositoryProblem(repository);
                    if (problem) ctx.addIssue({ code: "custom", input: repository, message: problem.replace("the tags go in `stable` and `canary`", "the Job runs the revision's tag") });
                })
                .optional(),
            expand: command.optional(),
            contract: command.optional(),
            timeoutSeconds: wholeNumber("a migration's deadline in seconds", 30, 3600).default(600),
        },
        { error: MIGRATE_WORDS },
    )
    .superRefine((m, ctx) => {
        if (m.expand === undefined && m.contract === undefined) ctx.addIssue({ code: "custom", path: ["expand"], input: undefined, message: `an expand or a contract command (${MIGRATE_WORDS})` });
    });
export type MigrateConfig = z.output<typeof migrateSchema>;
