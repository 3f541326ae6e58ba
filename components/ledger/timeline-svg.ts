// Pure: one release as a picture (SVG): one lane per stack in the chain's order, one bar per stage the release
// stayed in, from the commit that moved it there to the next; rollbacks marked in red, finishes in green.
import type { LedgerMove } from "./moves";
import type { Release, ReleaseAttempt } from "./releases";

const WIDTH = 960;
const LEFT = 110;
const RIGHT = 30;
const TOP = 64;
const LANE = 46;
const BAR = 24;

/** Fill of a stage's bar by how much traffic the canary carries there. */
function fillOf(name: string): string {
    if (name.startsWith("canary ")) {
        const weight = Number(name.slice("canary ".length).replace("%", ""));
        // From light to dark blue as the canary's share grows.
        const light = Math.round(85 - (weight / 100) * 40);
        return `hsl(212, 70%, ${light}%)`;
    }
    if (name.startsWith("shadow")) return "hsl(270, 45%, 75%)";
    if (name === "promote") return "hsl(160, 45%, 45%)";
    if (name === "switch back") return "hsl(140, 40%, 65%)";
    return "hsl(0, 0%, 80%)";
}

export function escapeXml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function when(seconds: number): string {
    return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

/** A duration in words: "2d 4h", "3h 10m", "12m", "40s". */
export function durationWords(seconds: number): string {
    const s = Math.round(seconds);
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return `${d}d ${h}h`;
    if (h > 0) return `${h}h ${m}m`;
    if (m > 0) return `${m}m`;
    return `${s}s`;
}

/** The bars of one attempt: each stage it entered, until the next move (or `until` for a stage it is still in). */
export function stageSpans(attempt: ReleaseAttempt, until: number): { from: number; to: number; move: LedgerMove }[] {
    const spans: { from: number; to: number; move: LedgerMove }[] = [];
    attempt.moves.forEach((move, i) => {
        if (!move.to || move.to.stage === 1) return;
        const next = attempt.moves[i + 1];
        spans.push({ from: move.commit.time, to: next ? next.commit.time : Math.max(until, move.commit.time), move });
    });
    return spans;
}

/** A file name for a release's picture: `<service>-<revision>.svg`, characters outside [A-Za-z0-9._-] as `_`. */
export function timelineFileName(release: Pick<Release, "service" | "revision">): string {
    return `${release.service}-${release.revision}`.replace(/[^A-Za-z0-9._-]/g, "_") + ".svg";
}

/**
 * The SVG of a release across `stacks` (lanes, in that order; a stack where it never started keeps its empty lane,
 * so the pictures of every release read alike). `until` ends the bars of stages it is still in.
 */
export function releaseTimelineSvg(release: Release, stacks: string[], until: number): string {
    const ends = release.attempts.flatMap((a) => [a.startedAt, a.endedAt ?? until]);
    const start = Math.min(release.startedAt, ...ends);
    const end = Math.max(start + 60, ...ends);
    const x = (t: number) => LEFT + ((t - start) / (end - start)) * (WIDTH - LEFT - RIGHT);
    const height = TOP + stacks.length * LANE + 64;
    const lead = release.leadTimeSeconds !== undefined ? `lead time ${durationWords(release.leadTimeSeconds)}` : `not finished in ${stacks[stacks.length - 1] ?? "the last stack"}`;
    const rollbacks = release.rollbacks === 0 ? "no rollback" : `${release.rollbacks} rollback${release.rollbacks === 1 ? "" : "s"}`;
    const title = `${release.service} ${release.revision}`;
    const parts: string[] = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
        `<title>${escapeXml(`release ${title}: ${lead}, ${rollbacks}`)}</title>`,
        `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="white"/>`,
        `<text class="heading" x="10" y="22" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
        `<text class="summary" x="10" y="42">${escapeXml(`started ${when(release.startedAt)} UTC; ${lead}; ${rollbacks}`)}</text>`,
    ];
    stacks.forEach((stack, i) => {
        const y = TOP + i * LANE;
        parts.push(`<g class="lane" data-stack="${escapeXml(stack)}">`);
        parts.push(`<text x="10" y="${y + BAR / 2 + 4}">${escapeXml(stack)}</text>`);
        parts.push(`<line x1="${LEFT}" y1="${y + BAR / 2}" x2="${WIDTH - RIGHT}" y2="${y + BAR / 2}" stroke="#ddd"/>`);
        for (const attempt of release.attempts.filter((a) => a.stack === stack)) {
            for (const span of stageSpans(attempt, until)) {
                const to = span.move.to!;
                const x1 = x(span.from);
                const w = Math.max(1, x(span.to) - x1);
                const tip = `${stack}: ${to.stage}/${to.stageCount} ${to.name}, ${when(span.from)} to ${when(span.to)} UTC (${durationWords(span.to - span.from)})${span.move.commit.pr !== undefined ? `, #${span.move.commit.pr}` : ""}`;
                parts.push(
                    `<rect class="stage" data-stage="${to.stage}" x="${x1.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${fillOf(to.name)}" stroke="white"><title>${escapeXml(tip)}</title></rect>`,
                );
            }
            const last = attempt.moves[attempt.moves.length - 1];
            if (attempt.outcome === "rolled back" || attempt.outcome === "finished") {
                const cx = x(last.commit.time).toFixed(1);
                const rollback = attempt.outcome === "rolled back";
                const tip = `${stack}: ${rollback ? `rolled back from ${last.from?.stage}/${last.from?.stageCount} ${last.from?.name}` : "finished"} at ${when(last.commit.time)} UTC${last.commit.pr !== undefined ? `, #${last.commit.pr}` : ""}`;
                parts.push(
                    `<line class="${rollback ? "rollback" : "finish"}" x1="${cx}" y1="${y - 4}" x2="${cx}" y2="${y + BAR + 4}" stroke="${rollback ? "#d00" : "#080"}" stroke-width="3"><title>${escapeXml(tip)}</title></line>`,
                );
                parts.push(`<text x="${cx}" y="${y + BAR + 15}" font-size="10" fill="${rollback ? "#d00" : "#080"}" text-anchor="middle">${rollback ? "rollback" : "finish"}</text>`);
            }
        }
        parts.push(`</g>`);
    });
    const axisY = TOP + stacks.length * LANE + 10;
    parts.push(`<g class="axis">`);
    for (let i = 0; i <= 4; i++) {
        const t = start + ((end - start) * i) / 4;
        parts.push(`<text x="${x(t).toFixed(1)}" y="${axisY + 12}" font-size="10" text-anchor="${i === 0 ? "start" : i === 4 ? "end" : "middle"}">${escapeXml(when(t))}</text>`);
    }
    parts.push(`</g>`);
    // The legend: the stages the release went through, in stage order, with their bars' fills.
    const stages = new Map<number, string>();
    for (const attempt of release.attempts) for (const span of stageSpans(attempt, until)) stages.set(span.move.to!.stage, span.move.to!.name);
    parts.push(`<g class="legend">`);
    [...stages.entries()]
        .sort(([a], [b]) => a - b)
        .forEach(([stage, name], i) => {
            const lx = LEFT + i * 130;
            parts.push(`<rect x="${lx}" y="${axisY + 26}" width="12" height="12" fill="${fillOf(name)}"/>`, `<text x="${lx + 16}" y="${axisY + 36}" font-size="10">${escapeXml(`${stage} ${name}`)}</text>`);
        });
    parts.push(`</g>`, `</svg>`, "");
    return parts.join("\n");
}
