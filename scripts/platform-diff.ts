// The platform section of `npm run plan -- <stack> --diff`: every field of the stack's platform that changes
// (`stagehand:cluster`, `stagehand:observability`, `stagehand:allowSkip`, `stagehand:settleSeconds`, `stagehand:production`, `aws:region`),
// the monthly cost before and after, and the risky changes refused unless `stagehand:acknowledge` names them —
// in the program's own words (components/platform/changes.ts). Offline: loads no Pulumi SDK.
import { parseStackConfig } from "../components/config";
import { platformDiff, PlatformRevision } from "../components/platform/platform-diff";
import { projectRoot, readStackRegion, stackConfigFromText, stackRegionFromText } from "./stack-file";

function revision(stack: string, raw: Record<string, unknown>, region: string | undefined, base = false): PlatformRevision & { acknowledge: ReturnType<typeof parseStackConfig>["acknowledge"] } {
    const c = parseStackConfig(stack, raw, { base });
    return { cluster: c.cluster, observability: c.observability, allowSkip: c.allowSkip, autoRollback: c.autoRollback, settleSeconds: c.settleSeconds, production: c.production, region, owners: c.owners, acknowledge: c.acknowledge };
}

/**
 * Prints the platform section: `baseText` is Pulumi.<stack>.yaml at `ref` (undefined: no such file there),
 * `current` the working tree's `stagehand:*` keys. Returns 1 when a change is refused, else 0.
 */
export function printPlatformDiff(stack: string, ref: string, baseText: string | undefined, current: Record<string, unknown>, log = console.log, root = projectRoot): number {
    const where = `Pulumi.${stack}.yaml at ${ref}`;
    const before = baseText === undefined ? undefined : revision(stack, stackConfigFromText(baseText, where), stackRegionFromText(baseText, where), true);
    const after = revision(stack, current, readStackRegion(stack, root));
    const diff = platformDiff(stack, ref, before, after, after.acknowledge);
    log(diff.headline);
    for (const line of diff.lines) log(`  ${line}`);
    for (const line of diff.refused) log(`REFUSED ${line}`);
    return diff.refused.length > 0 ? 1 : 0;
}
