// The commit a deploy applies, as the program exports it (`deployedCommit`): the deploy job sets STAGEHAND_COMMIT to
// $GITHUB_SHA, and the next deploy judges each stack's changes against it (scripts/changed-stacks.ts). Pure.

/** A full git commit id. */
export const COMMIT_ID = /^[0-9a-f]{40}$/;

/** The commit to export: a full commit id, or undefined (unset, empty, or not a commit id: nothing is recorded). */
export function deployedCommit(value: string | undefined): string | undefined {
    const v = value?.trim().toLowerCase();
    return v !== undefined && COMMIT_ID.test(v) ? v : undefined;
}
