// The batched counter: increments summed per label set reach Prometheus's
// text exactly once, across scrapes, as prom-client's own counter would show them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { BatchedCounter } from "./batched-counter.js";

function series(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) if (line.startsWith(`${name}{`)) out[line.slice(name.length, line.lastIndexOf(" "))] = Number(line.slice(line.lastIndexOf(" ") + 1));
  return out;
}

test("increments per label set are scraped once each, and later ones add to them", async () => {
  const registry = new Registry();
  const c = new BatchedCounter({ name: "t_total", help: "t", labelNames: ["route", "status"] as const, registers: [registry] });
  c.inc(["/a", "200"]);
  c.inc(["/a", "200"], 2.5);
  c.inc(["/a", "500"]);
  c.inc(["/b", "200"], 4);
  c.inc(["/b", "404"], 0);
  assert.deepEqual(series(await registry.metrics(), "t_total"), { '{route="/a",status="200"}': 3.5, '{route="/a",status="500"}': 1, '{route="/b",status="200"}': 4 });
  assert.deepEqual(series(await registry.metrics(), "t_total"), { '{route="/a",status="200"}': 3.5, '{route="/a",status="500"}': 1, '{route="/b",status="200"}': 4 }, "a second scrape adds nothing");
  c.inc(["/a", "500"], 2);
  c.inc(["/c", "200"]);
  const json = await registry.getMetricsAsJSON();
  const values = (json.find((m) => m.name === "t_total")!.values as Array<{ labels: Record<string, string>; value: number }>).map((v) => [v.labels.route, v.labels.status, v.value]);
  assert.deepEqual(values.sort(), [["/a", "200", 3.5], ["/a", "500", 3], ["/b", "200", 4], ["/c", "200", 1]], "any read through the registry takes in the pending sums");
});

test("label values that would collide as joined strings stay apart, and a counter never goes down", async () => {
  const registry = new Registry();
  const c = new BatchedCounter({ name: "u_total", help: "u", labelNames: ["a", "b"] as const, registers: [registry] });
  c.inc(["x,y", "z"]);
  c.inc(["x", "y,z"]);
  assert.equal(Object.keys(series(await registry.metrics(), "u_total")).length, 2);
  assert.throws(() => c.inc(["x", "y"], -1), /only goes up/);
  assert.throws(() => c.inc(["x", "y"], Number.NaN), /only goes up/);
  assert.throws(() => c.inc(["x", "y"], Infinity), /only goes up/);
  assert.throws(() => new BatchedCounter({ name: "v_total", help: "v", labelNames: [] as const, registers: [registry] }), /needs labels/);
});
