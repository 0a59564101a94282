import { test } from "node:test";
import assert from "node:assert/strict";
import { utcHourStart, utcWindow } from "./utc-period.js";

test("utcWindow: a UTC day runs from midnight to midnight", () => {
  const t = Date.parse("2026-12-05T13:45:10.123Z");
  assert.deepEqual(utcWindow("day", t), { start: Date.parse("2026-12-05T00:00:00Z"), end: Date.parse("2026-12-06T00:00:00Z") });
  const midnight = Date.parse("2026-12-06T00:00:00Z");
  assert.equal(utcWindow("day", midnight).start, midnight, "midnight opens the new day");
  assert.equal(utcWindow("day", midnight - 1).end, midnight);
});

test("utcWindow: calendar months, across the year's end and February", () => {
  const dec = utcWindow("month", Date.parse("2026-12-31T23:59:59.999Z"));
  assert.deepEqual(dec, { start: Date.parse("2026-12-01T00:00:00Z"), end: Date.parse("2027-01-01T00:00:00Z") });
  assert.equal(utcWindow("month", dec.end).start, dec.end, "the first instant of January is January");
  const feb = utcWindow("month", Date.parse("2028-02-10T00:00:00Z"));
  assert.equal((feb.end - feb.start) / 86_400_000, 29, "2028 is a leap year");
  assert.equal((utcWindow("month", Date.parse("2027-02-10T00:00:00Z")).end - utcWindow("month", Date.parse("2027-02-10T00:00:00Z")).start) / 86_400_000, 28);
});

test("utcWindow: times before 1970 still fall in their own day", () => {
  const t = Date.parse("1969-12-31T18:00:00Z");
  assert.deepEqual(utcWindow("day", t), { start: Date.parse("1969-12-31T00:00:00Z"), end: Date.parse("1970-01-01T00:00:00Z") });
});

test("utcHourStart: the hour's first instant, before 1970 too", () => {
  assert.equal(utcHourStart(Date.parse("2026-12-05T13:45:10.123Z")), Date.parse("2026-12-05T13:00:00Z"));
  assert.equal(utcHourStart(Date.parse("2026-12-05T13:00:00Z")), Date.parse("2026-12-05T13:00:00Z"));
  assert.equal(utcHourStart(Date.parse("1969-12-31T23:30:00Z")), Date.parse("1969-12-31T23:00:00Z"));
});
