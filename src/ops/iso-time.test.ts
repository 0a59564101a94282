import { test } from "node:test";
import assert from "node:assert/strict";
import { isoTimeField } from "./iso-time.js";

test("the time field matches Date.toISOString for every millisecond pattern, across second, day and year boundaries", () => {
  const starts = [Date.UTC(2026, 11, 31, 23, 59, 58, 990), Date.UTC(2024, 1, 29, 0, 0, 0, 0), 0, Date.now()];
  for (const start of starts) {
    for (let t = start; t < start + 2_100; t += 7) {
      assert.equal(isoTimeField(t), `,"time":"${new Date(t).toISOString()}"`);
    }
  }
  // Going back in time (a clock step) rebuilds the prefix too.
  assert.equal(isoTimeField(Date.UTC(2020, 0, 1, 0, 0, 0, 5)), ',"time":"2020-01-01T00:00:00.005Z"');
});
