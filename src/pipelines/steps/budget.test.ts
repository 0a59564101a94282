import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { withinBudget } from "./budget.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const settle = () => new Promise((r) => setTimeout(r, 20));

test("a step's budget signal is released when the step ends, though the client's signal lives on", async () => {
  // One keep-alive connection's signal, alive across many requests' steps.
  const connection = new AbortController().signal;
  for (let i = 0; i < 200; i++) await withinBudget(connection, 1_000, async () => i);
  await settle();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20_000; i++) await withinBudget(connection, 1_000, async () => i);
  // Two collections: the parent's weak references to combined signals are cleared by a
  // finalization callback after the first, and Node 24 frees the signals only in the next.
  for (let i = 0; i < 2; i++) {
    await settle();
    gc();
  }
  const grownMiB = (process.memoryUsage().heapUsed - before) / 1048576;
  // A signal kept per step would hold ~1 KB each: ~20 MiB here.
  assert.ok(grownMiB < 5, `heap grew ${grownMiB.toFixed(1)} MiB over 20,000 steps`);
});

test("the budget still ends work at the deadline and passes the client's abort on", async () => {
  const timedOut = await withinBudget(new AbortController().signal, 30, (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))));
  assert.equal(timedOut.ok, false);
  assert.equal(!timedOut.ok && timedOut.timedOut, true);
  const client = new AbortController();
  setTimeout(() => client.abort(new Error("client left")), 20);
  await assert.rejects(withinBudget(client.signal, 10_000, () => new Promise(() => {})), /client left/);
});
