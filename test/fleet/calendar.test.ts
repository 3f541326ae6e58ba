// Change windows (components/fleet/calendar.ts): open or closed at an instant, why, and when it next opens, at the
// edges of windows and freezes, across DST changes and in a zone with a non-hour offset.
import * as assert from "assert";
import { calendarSchema, describeWindow, instantOf, windowAt } from "../../components/fleet/calendar";

const at = (iso: string) => new Date(iso);
const cal = (c: unknown) => calendarSchema.parse(c);
const iso = (d: Date | undefined) => d?.toISOString().replace(".000Z", "Z");

describe("change windows: windowAt (components/fleet/calendar.ts)", () => {
    const office = cal({ timeZone: "Europe/Berlin", allowed: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00" }] });

    it("opens exactly at from and closes exactly at to (to is exclusive), in the calendar's zone", () => {
        // Thursday 2026-12-03, Berlin is UTC+1 in winter.
        assert.deepStrictEqual(windowAt(office, at("2026-12-03T07:59:59Z")).open, false);
        assert.strictEqual(windowAt(office, at("2026-12-03T08:00:00Z")).open, true);
        assert.strictEqual(windowAt(office, at("2026-12-03T15:59:59Z")).open, true);
        const closed = windowAt(office, at("2026-12-03T16:00:00Z"));
        assert.ok(!closed.open);
        assert.strictEqual(iso(closed.opensAt), "2026-12-04T08:00:00Z");
        assert.match(closed.reason, /outside the allowed days and hours \(mon,tue,wed,thu,fri 09:00-17:00, Europe\/Berlin\)/);
        const open = windowAt(office, at("2026-12-03T08:00:00Z"));
        assert.ok(open.open && iso(open.closesAt) === "2026-12-03T16:00:00Z");
    });

    it("after Friday's window the next opening is Monday's", () => {
        const w = windowAt(office, at("2026-12-04T16:30:00Z"));
        assert.ok(!w.open && iso(w.opensAt) === "2026-12-07T08:00:00Z");
        assert.match(describeWindow(office, w), /opens mon 2026-12-07 09:00 Europe\/Berlin \(2026-12-07T08:00:00Z\)/);
    });

    it("follows Berlin's clocks across the spring and autumn changes", () => {
        // Monday 2026-03-30: Berlin is UTC+2 (summer time began on Sunday 29 March).
        const spring = windowAt(office, at("2026-03-28T12:00:00Z")); // Saturday
        assert.ok(!spring.open && iso(spring.opensAt) === "2026-03-30T07:00:00Z");
        // Monday 2026-10-26: back to UTC+1 (summer time ended on Sunday 25 October).
        const autumn = windowAt(office, at("2026-10-24T12:00:00Z"));
        assert.ok(!autumn.open && iso(autumn.opensAt) === "2026-10-26T08:00:00Z");
        assert.strictEqual(windowAt(office, at("2026-10-26T07:30:00Z")).open, false, "08:30 local, not yet");
    });

    it("a time the clocks skip lands just after the gap; a time that happens twice is its first occurrence", () => {
        assert.strictEqual(new Date(instantOf("Europe/Berlin", 2026, 3, 29, 2, 30)).toISOString(), "2026-03-29T01:30:00.000Z"); // 03:30 CEST
        assert.strictEqual(new Date(instantOf("Europe/Berlin", 2026, 10, 25, 2, 30)).toISOString(), "2026-10-25T00:30:00.000Z"); // the first 02:30, CEST
        assert.strictEqual(new Date(instantOf("America/New_York", 2026, 3, 8, 2, 30)).toISOString(), "2026-03-08T07:30:00.000Z"); // 03:30 EDT
    });

    it("a window around New York's DST change: a window that starts in the skipped hour opens when the clock reaches it", () => {
        const night = cal({ timeZone: "America/New_York", allowed: [{ days: ["sun"], from: "02:00", to: "04:00" }] });
        // Sunday 2026-03-08: 02:00 EST does not exist; the window is open from 03:00 EDT (07:00Z) to 04:00 EDT (08:00Z).
        const before = windowAt(night, at("2026-03-08T06:59:00Z"));
        assert.ok(!before.open && iso(before.opensAt) === "2026-03-08T07:00:00Z");
        assert.strictEqual(windowAt(night, at("2026-03-08T07:30:00Z")).open, true);
        assert.strictEqual(windowAt(night, at("2026-03-08T08:00:00Z")).open, false);
        // Sunday 2026-11-01: 02:00-04:00 EST, after the repeated 01:00 hour.
        assert.strictEqual(windowAt(night, at("2026-11-01T06:59:00Z")).open, false, "01:59 EST");
        assert.strictEqual(windowAt(night, at("2026-11-01T07:00:00Z")).open, true, "02:00 EST");
    });

    it("a freeze spanning midnight and the new year: closed throughout with its reason; a date alone for `to` covers that whole day", () => {
        const c = cal({ timeZone: "UTC", freezes: [{ from: "2026-12-31T18:00", to: "2027-01-01", reason: "new year" }] });
        assert.strictEqual(windowAt(c, at("2026-12-31T17:59:59Z")).open, true);
        const w = windowAt(c, at("2026-12-31T18:00:00Z"));
        assert.ok(!w.open && /frozen from 2026-12-31T18:00 to 2027-01-01 \(UTC\): new year/.test(w.reason) && iso(w.opensAt) === "2027-01-02T00:00:00Z");
        assert.strictEqual(windowAt(c, at("2027-01-01T23:59:59Z")).open, false);
        assert.strictEqual(windowAt(c, at("2027-01-02T00:00:00Z")).open, true);
        const open = windowAt(c, at("2026-12-30T00:00:00Z"));
        assert.ok(open.open && iso(open.closesAt) === "2026-12-31T18:00:00Z" && open.closesFor === "frozen: new year");
    });

    it("a freeze and allowed hours together: the next opening is the first allowed time after the freeze", () => {
        const c = cal({ timeZone: "Europe/Berlin", allowed: office.allowed, freezes: [{ from: "2026-12-24", to: "2027-01-01", reason: "year end" }] });
        const w = windowAt(c, at("2026-12-28T10:00:00Z")); // a Monday inside the freeze
        assert.ok(!w.open && w.reason.includes("year end") && iso(w.opensAt) === "2027-01-04T08:00:00Z", describeWindow(c, w));
    });

    it("in a zone with a non-hour offset (Asia/Kolkata, UTC+05:30)", () => {
        const c = cal({ timeZone: "Asia/Kolkata", allowed: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "10:00", to: "18:30" }] });
        assert.strictEqual(windowAt(c, at("2026-12-03T04:29:00Z")).open, false, "09:59 IST");
        assert.strictEqual(windowAt(c, at("2026-12-03T04:30:00Z")).open, true, "10:00 IST");
        const w = windowAt(c, at("2026-12-03T13:00:00Z")); // 18:30 IST
        assert.ok(!w.open && iso(w.opensAt) === "2026-12-04T04:30:00Z");
    });

    it("a window to 24:00 runs to midnight; a calendar that never opens says so", () => {
        const late = cal({ timeZone: "UTC", allowed: [{ days: ["thu"], from: "20:00", to: "24:00" }] });
        assert.strictEqual(windowAt(late, at("2026-12-03T23:59:00Z")).open, true);
        const never = cal({ timeZone: "UTC", freezes: [{ from: "2026-01-01", to: "2030-01-01", reason: "moratorium" }] });
        const w = windowAt(never, at("2026-12-03T00:00:00Z"));
        assert.ok(!w.open && w.opensAt === undefined);
        assert.match(describeWindow(never, w), /does not open within a year/);
    });

    it("refuses a bad calendar naming each field: unknown zone, windows past midnight, bad days, times and dates, a freeze ending before it starts", () => {
        const r = calendarSchema.safeParse({
            timeZone: "Mars/Olympus",
            allowed: [{ days: ["mon"], from: "17:00", to: "09:00" }, { days: ["tue"], from: "9am", to: "17:00" }, { days: ["wed", "funday"], from: "09:00", to: "17:00" }],
            freezes: [{ from: "2026-02-30", to: "2026-03-01", reason: "x" }],
        });
        assert.ok(!r.success);
        const paths = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
        assert.ok(paths.some((p) => p.startsWith("timeZone: an IANA time zone")), paths.join("\n"));
        assert.ok(paths.some((p) => p.startsWith("allowed.2.days.1: a day")), paths.join("\n"));
        assert.ok(paths.some((p) => p.startsWith("allowed.0.to: from before to")), paths.join("\n"));
        assert.ok(paths.some((p) => p.startsWith('allowed.1.from: a time of day "HH:MM"')), paths.join("\n"));
        assert.ok(paths.some((p) => p.startsWith("freezes.0.from: a date")), paths.join("\n"));
        const backwards = calendarSchema.safeParse({ timeZone: "UTC", freezes: [{ from: "2026-03-02", to: "2026-03-01T12:00", reason: "x" }] });
        assert.ok(!backwards.success && backwards.error.issues[0].path.join(".") === "freezes.0.to" && /ending after it starts/.test(backwards.error.issues[0].message));
    });
});
