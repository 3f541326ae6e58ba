// Change windows (docs/fleet.md "Change windows"): when a stack or a wave may take forward moves and direct updates.
// A calendar names a time zone, the days and hours changes are allowed (none: at any time) and freezes with a
// reason; `windowAt` says, for one instant, whether the window is open and, when it is not, why and when it next
// opens. Pure: wall-clock times are worked out with Intl in the calendar's zone, so the same answer comes from
// `plan --diff`, `status`, the policy pack and the deploy job's check.
import { z } from "zod";
import type { MoveKind } from "../service/moves";

/**
 * The moves a closed window refuses: those that bring a revision closer to production's traffic, or change production
 * directly. A rollback, a stay and a finish always pass. One list for plan --diff, the policy pack and the deploy check.
 */
export const WINDOWED_MOVES: readonly MoveKind[] = ["forward", "skip", "direct"];

export const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Day = (typeof DAYS)[number];

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)$/;

/** Whether `zone` is an IANA time zone this Node knows (Intl refuses the others). */
export function isTimeZone(zone: string): boolean {
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
        return true;
    } catch {
        return false;
    }
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const localTime = z.string({ error: 'a time of day "HH:MM" (24-hour, in the calendar\'s time zone), e.g. "09:00"' }).regex(HH_MM, {
    error: 'a time of day "HH:MM" (24-hour, 00:00 to 24:00, in the calendar\'s time zone), e.g. "09:00"',
});

const localDateOrTime = z.string({ error: 'a date "YYYY-MM-DD" or a date and time "YYYY-MM-DDTHH:MM" (in the calendar\'s time zone)' }).refine(
    (s) => {
        const m = DATE.exec(s) ?? DATE_TIME.exec(s);
        if (!m) return false;
        const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
        const date = new Date(Date.UTC(y, mo - 1, d));
        return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
    },
    { error: 'a date "YYYY-MM-DD" or a date and time "YYYY-MM-DDTHH:MM" that exists (in the calendar\'s time zone), e.g. "2026-12-21" or "2026-12-21T18:00"' },
);

export const allowedWindowSchema = z
    .strictObject(
        {
            days: z
                .array(z.enum(DAYS, { error: `a day: one of ${DAYS.join(", ")}` }), { error: `a list of days, e.g. [mon, tue, wed, thu, fri]` })
                .min(1, { error: "at least one day, e.g. [mon, tue, wed, thu, fri]" }),
            from: localTime,
            to: localTime,
        },
        { error: 'a window {days: [mon, ...], from: "HH:MM", to: "HH:MM"}' },
    )
    .refine((w) => !HH_MM.test(w.from) || !HH_MM.test(w.to) || minutesOf(w.from) < minutesOf(w.to), {
        error: "from before to on the same day (a window past midnight is two windows: until 24:00, then from 00:00 the next day)",
        path: ["to"],
    });

export const freezeSchema = z
    .strictObject(
        {
            from: localDateOrTime,
            to: localDateOrTime,
            reason: z.string({ error: "why changes are frozen, in words (shown to whoever is refused)" }).min(1, { error: "why changes are frozen, in words" }),
        },
        { error: 'a freeze {from: "YYYY-MM-DD[THH:MM]", to: "YYYY-MM-DD[THH:MM]", reason: "..."}' },
    );

export const calendarSchema = z
    .strictObject(
        {
            timeZone: z.string({ error: 'an IANA time zone, e.g. "Europe/Berlin" or "UTC"' }).refine(isTimeZone, { error: 'an IANA time zone this Node knows, e.g. "Europe/Berlin", "America/New_York" or "UTC"' }),
            allowed: z.array(allowedWindowSchema, { error: "a list of windows {days, from, to}" }).min(1, { error: "at least one window; leave allowed out to allow changes at any time" }).optional(),
            freezes: z.array(freezeSchema, { error: "a list of freezes {from, to, reason}" }).optional(),
        },
        { error: "a calendar {timeZone, allowed?, freezes?}" },
    )
    .superRefine((c, ctx) => {
        if (!isTimeZone(c.timeZone)) return;
        (c.freezes ?? []).forEach((f, i) => {
            if (!localDateOrTime.safeParse(f.from).success || !localDateOrTime.safeParse(f.to).success) return;
            if (freezeEnd(c.timeZone, f.to) <= freezeStart(c.timeZone, f.from)) {
                ctx.addIssue({ code: "custom", path: ["freezes", i, "to"], input: f.to, message: `a freeze ending after it starts (from ${f.from})` });
            }
        });
    });

export type Calendar = z.infer<typeof calendarSchema>;

// ---------- wall-clock time in a zone ----------

interface WallClock {
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    second: number;
    weekday: Day;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
    let f = formatters.get(zone);
    if (!f) {
        f = new Intl.DateTimeFormat("en-US", {
            timeZone: zone,
            hourCycle: "h23",
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
            weekday: "short",
        });
        formatters.set(zone, f);
    }
    return f;
}

/** The wall clock in `zone` at `instant` (ms since the epoch). */
export function wallClock(zone: string, instant: number): WallClock {
    const parts: Record<string, string> = {};
    for (const p of formatter(zone).formatToParts(new Date(instant))) parts[p.type] = p.value;
    return {
        year: Number(parts.year),
        month: Number(parts.month),
        day: Number(parts.day),
        hour: Number(parts.hour),
        minute: Number(parts.minute),
        second: Number(parts.second),
        weekday: parts.weekday.toLowerCase().slice(0, 3) as Day,
    };
}

/** The zone's offset from UTC at `instant`, in ms (Berlin in winter: +3600000). */
function offsetAt(zone: string, instant: number): number {
    const w = wallClock(zone, instant);
    const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a wall-clock time in `zone` names. A time the clocks skip (spring forward: 02:30 in Berlin on the last
 * Sunday of March) is read with the offset before the change, so it lands just after the gap (03:30), as a clock
 * that is put forward would show; a time that happens twice (fall back) is its first occurrence.
 */
export function instantOf(zone: string, year: number, month: number, day: number, hour = 0, minute = 0): number {
    const local = Date.UTC(year, month - 1, day, hour, minute);
    const before = local - offsetAt(zone, local - 86_400_000);
    const after = local - offsetAt(zone, local + 86_400_000);
    const roundTrips = (t: number) => {
        const w = wallClock(zone, t);
        return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) === local;
    };
    const exact = [before, after].filter(roundTrips).sort((a, b) => a - b);
    return exact.length > 0 ? exact[0] : before;
}

function dateParts(s: string): { y: number; m: number; d: number; hh: number; mm: number; dateOnly: boolean } {
    const t = DATE_TIME.exec(s);
    if (t) return { y: Number(t[1]), m: Number(t[2]), d: Number(t[3]), hh: Number(t[4]), mm: Number(t[5]), dateOnly: false };
    const d = DATE.exec(s)!;
    return { y: Number(d[1]), m: Number(d[2]), d: Number(d[3]), hh: 0, mm: 0, dateOnly: true };
}

/** A freeze starts at its `from`: a date alone is the start of that day. */
export function freezeStart(zone: string, from: string): number {
    const p = dateParts(from);
    return instantOf(zone, p.y, p.m, p.d, p.hh, p.mm);
}

/** A freeze ends at its `to`, exclusive: a date alone is the whole of that day (it ends at the next midnight). */
export function freezeEnd(zone: string, to: string): number {
    const p = dateParts(to);
    if (!p.dateOnly) return instantOf(zone, p.y, p.m, p.d, p.hh, p.mm);
    const next = new Date(Date.UTC(p.y, p.m - 1, p.d + 1));
    return instantOf(zone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
}

// ---------- the window ----------

export type Window =
    | {
          open: true;
          /** When it next closes (a window's end or a freeze's start), within a year; undefined: not within a year. */
          closesAt?: Date;
          /** Why it closes then. */
          closesFor?: string;
      }
    | {
          open: false;
          /** Why it is closed now: the freeze's reason, or the allowed days and hours. */
          reason: string;
          /** When it next opens, within a year; undefined: not within a year. */
          opensAt?: Date;
      };

const HORIZON_DAYS = 400;

function windowWords(calendar: Calendar): string {
    return (calendar.allowed ?? []).map((w) => `${w.days.join(",")} ${w.from}-${w.to}`).join("; ");
}

function inAllowed(calendar: Calendar, instant: number): boolean {
    if (!calendar.allowed) return true;
    const w = wallClock(calendar.timeZone, instant);
    const minute = w.hour * 60 + w.minute;
    return calendar.allowed.some((a) => a.days.includes(w.weekday) && minute >= minutesOf(a.from) && minute < minutesOf(a.to));
}

function freezeAt(calendar: Calendar, instant: number): NonNullable<Calendar["freezes"]>[number] | undefined {
    return (calendar.freezes ?? []).find((f) => freezeStart(calendar.timeZone, f.from) <= instant && instant < freezeEnd(calendar.timeZone, f.to));
}

function isOpen(calendar: Calendar, instant: number): boolean {
    return inAllowed(calendar, instant) && freezeAt(calendar, instant) === undefined;
}

/** Every instant after `from` (within the horizon) at which the window may change: windows' edges, freezes' edges. */
function edges(calendar: Calendar, from: number): number[] {
    const zone = calendar.timeZone;
    const out: number[] = [];
    for (const f of calendar.freezes ?? []) out.push(freezeStart(zone, f.from), freezeEnd(zone, f.to));
    if (calendar.allowed) {
        const start = wallClock(zone, from);
        for (let i = -1; i <= HORIZON_DAYS; i++) {
            const day = new Date(Date.UTC(start.year, start.month - 1, start.day + i));
            const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
            for (const a of calendar.allowed) {
                for (const t of [a.from, a.to]) {
                    if (t === "24:00") {
                        const next = new Date(Date.UTC(y, m - 1, d + 1));
                        out.push(instantOf(zone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()));
                    } else out.push(instantOf(zone, y, m, d, Number(t.slice(0, 2)), Number(t.slice(3, 5))));
                }
            }
        }
    }
    const limit = from + (HORIZON_DAYS + 1) * 86_400_000;
    return [...new Set(out)].filter((t) => t > from && t <= limit).sort((a, b) => a - b);
}

/** Whether the calendar's window is open at `instant`; when it is not, why, and when it next opens. */
export function windowAt(calendar: Calendar, instant: Date): Window {
    const now = instant.getTime();
    const later = edges(calendar, now);
    if (isOpen(calendar, now)) {
        const closesAt = later.find((t) => !isOpen(calendar, t));
        if (closesAt === undefined) return { open: true };
        const freeze = freezeAt(calendar, closesAt);
        return { open: true, closesAt: new Date(closesAt), closesFor: freeze ? `frozen: ${freeze.reason}` : `outside the allowed days and hours (${windowWords(calendar)}, ${calendar.timeZone})` };
    }
    const freeze = freezeAt(calendar, now);
    const reason = freeze
        ? `frozen from ${freeze.from} to ${freeze.to} (${calendar.timeZone}): ${freeze.reason}`
        : `outside the allowed days and hours (${windowWords(calendar)}, ${calendar.timeZone})`;
    const opensAt = later.find((t) => isOpen(calendar, t));
    return opensAt === undefined ? { open: false, reason } : { open: false, reason, opensAt: new Date(opensAt) };
}

/** An instant as the calendar's zone reads it, with the UTC instant: "2026-12-21 09:00 Europe/Berlin (2026-12-21T08:00:00Z)". */
export function zonedWords(zone: string, instant: Date): string {
    const w = wallClock(zone, instant.getTime());
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${w.weekday} ${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)} ${zone} (${instant.toISOString().replace(/\.000Z$/, "Z")})`;
}

/** A window in words: "open until …" or "closed: <reason>; opens <when>". */
export function describeWindow(calendar: Calendar, window: Window): string {
    if (window.open) return window.closesAt ? `open until ${zonedWords(calendar.timeZone, window.closesAt)} (then ${window.closesFor})` : "open";
    return `closed: ${window.reason}; ${window.opensAt ? `opens ${zonedWords(calendar.timeZone, window.opensAt)}` : "does not open within a year"}`;
}
