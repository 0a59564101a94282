// DriftMonitor on seeded samples: fires on a shifted window and not on a
// stable one (same distribution, other seed), once per transition, re-arms,
// keeps its reference through a restart, bounds its memory.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Writable } from "node:stream";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { ConfigSchema, type DriftConfig } from "../config/schema.js";
import { seededRandom } from "../core/seeded-random.js";
import { openDatabase } from "../data/index.js";
import { createLogger } from "../ops/index.js";
import { DriftMetrics } from "./metrics.js";
import { DriftMonitor, type DriftMonitorOptions } from "./monitor.js";
import { SqliteDriftStore } from "./sqlite/drift-store.js";
import type { AlertSink, DriftAlert, ReevaluationTrigger } from "./types.js";
import { WebhookAlertSink } from "./webhook.js";

function driftConfig(over: Partial<DriftConfig> = {}): DriftConfig {
  return { ...ConfigSchema.parse({}).drift, windowSize: 200, minSamples: 100, ...over };
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger("info", sink), lines };
}

class RecordingSink implements AlertSink {
  readonly alerts: DriftAlert[] = [];
  async send(a: DriftAlert): Promise<void> {
    this.alerts.push(a);
  }
}

class RecordingTrigger implements ReevaluationTrigger {
  readonly alerts: DriftAlert[] = [];
  trigger(a: DriftAlert): void {
    this.alerts.push(a);
  }
  async idle(): Promise<void> {}
}

/** Latencies ~ N(mean, 20) ms from a seeded PRNG. */
function latencies(seed: number, n: number, mean = 200): number[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => Math.max(1, mean + 20 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())));
}

function feed(m: DriftMonitor, xs: number[], status = () => 200) {
  for (const x of xs) m.recordRequest({ model: "gpt", latencyMs: x, costUsd: 0.001, status: status(), completionTokens: 16 });
}

function monitor(over: Partial<DriftMonitorOptions> = {}, cfg: Partial<DriftConfig> = {}) {
  const { log, lines } = capture();
  const sink = new RecordingSink();
  const trigger = new RecordingTrigger();
  const registry = new Registry();
  const m = new DriftMonitor({ config: driftConfig(cfg), log, sinks: [sink], reevaluate: trigger, metrics: new DriftMetrics(registry), ...over });
  return { m, sink, trigger, registry, lines };
}

const sig = (r: { signals: Array<{ name: string }> }, name: string) => r.signals.find((s) => s.name === name) as any;

describe("DriftMonitor", () => {
  test("the first full window becomes the reference; a stable window (other seed) raises nothing", async () => {
    const { m, sink, trigger } = monitor();
    feed(m, latencies(1, 150));
    assert.equal(sig(m.report(), "latency_ms:gpt").status, "collecting_reference");
    feed(m, latencies(2, 50));
    const ref = sig(m.report(), "latency_ms:gpt");
    assert.equal(ref.reference.n, 200);
    assert.equal(ref.reference_origin, "first_window");
    assert.equal(ref.current.n, 0);
    feed(m, latencies(3, 200));
    const r = sig(await m.check(), "latency_ms:gpt");
    assert.equal(r.status, "stable", JSON.stringify(r));
    assert.ok(r.ks.p_value > 0.01 && r.psi < 0.2, JSON.stringify(r));
    assert.equal(sig(await m.check(), "status:gpt").status, "stable");
    assert.equal(sink.alerts.length, 0);
    assert.equal(trigger.alerts.length, 0);
  });

  test("a shifted window fires once (metric, log, sink, re-evaluation), stays quiet while drifted, re-arms on return", async () => {
    const { m, sink, trigger, registry, lines } = monitor();
    feed(m, latencies(1, 200));
    feed(m, latencies(4, 200, 260)); // +3 sd
    const r = sig(await m.check(), "latency_ms:gpt");
    assert.equal(r.status, "drift");
    assert.ok(r.psi > 0.2 && r.ks.p_value < 0.01, JSON.stringify(r));
    assert.equal(sink.alerts.length, 1);
    assert.deepEqual(
      { signal: sink.alerts[0]!.signal, reference_n: sink.alerts[0]!.reference_n, current_n: sink.alerts[0]!.current_n, window_size: sink.alerts[0]!.window_size },
      { signal: "latency_ms:gpt", reference_n: 200, current_n: 200, window_size: 200 },
    );
    assert.equal(sink.alerts[0]!.psi, r.psi);
    assert.equal(trigger.alerts.length, 1);
    const warn = lines.find((l) => l.msg === "drift detected");
    assert.equal(warn?.signal, "latency_ms:gpt");
    assert.equal(warn?.psi, r.psi);
    assert.equal(warn?.ks_p, r.ks.p_value);
    const text = await registry.metrics();
    assert.match(text, /stratum_drift_alerts_total\{signal="latency_ms:gpt"\} 1/);
    assert.match(text, new RegExp(`stratum_drift_psi\\{signal="latency_ms:gpt"\\} ${r.psi}`));
    assert.match(text, /stratum_drift_ks\{signal="latency_ms:gpt"\} /);

    // Still drifted: no storm.
    feed(m, latencies(5, 50, 260));
    await m.check();
    await m.check();
    assert.equal(sink.alerts.length, 1);
    assert.match(await registry.metrics(), /stratum_drift_alerts_total\{signal="latency_ms:gpt"\} 1/);

    // Back to the reference distribution: re-armed, then a new shift fires again.
    feed(m, latencies(6, 200));
    const back = sig(await m.check(), "latency_ms:gpt");
    assert.equal(back.status, "stable");
    assert.equal(back.alerting, false);
    assert.ok(lines.some((l) => l.msg === "drift: signal back within thresholds; alert re-armed"));
    feed(m, latencies(7, 200, 140));
    await m.check();
    assert.equal(sink.alerts.length, 2);
    assert.equal(trigger.alerts.length, 2);
  });

  test("categorical signals: error rate and query language shifts fire on PSI", async () => {
    const { m, sink } = monitor();
    const rnd = seededRandom(9);
    feed(m, latencies(1, 200));
    feed(m, latencies(2, 200), () => (rnd() < 0.3 ? 502 : 200));
    const status = sig(await m.check(), "status:gpt");
    assert.equal(status.status, "drift");
    assert.ok(status.current.mean > 0.2 && status.current.mean < 0.4, JSON.stringify(status.current));
    assert.equal(status.reference.mean, 0);
    assert.equal(status.ks, null);
    assert.deepEqual(sink.alerts.map((a) => a.signal), ["status:gpt"]);

    const english = ["Which port does the server use?", "How do I rotate the API keys?", "What is the default timeout?"];
    const german = ["Welchen Port benutzt der Server?", "Wie kann ich die Schlüssel rotieren?", "Was ist der Standard für das Timeout?"];
    const turn = (q: string) => m.recordTurn({ pipeline: "assistant", question: q, confidence: 0.5, abstained: false });
    for (let i = 0; i < 200; i++) turn(english[i % 3]!);
    for (let i = 0; i < 200; i++) turn(i % 2 ? german[i % 3]! : english[i % 3]!);
    const lang = sig(await m.check(), "language:assistant");
    assert.equal(lang.status, "drift");
    assert.deepEqual(lang.reference.shares, { en: 1 });
    assert.deepEqual(lang.current.shares, { en: 0.5, de: 0.5 });
    // Same-length questions and confidences: no drift there.
    assert.equal(sig(await m.check(), "retrieval_confidence:assistant").status, "stable");
    assert.equal(sig(await m.check(), "abstained:assistant").status, "stable");
  });

  test("memory is bounded: windows never exceed windowSize however long the traffic", () => {
    const { m } = monitor({}, { windowSize: 50, minSamples: 10 });
    feed(m, latencies(1, 20_000));
    const r = sig(m.report(), "latency_ms:gpt");
    assert.equal(r.reference.n, 50);
    assert.equal(r.current.n, 50);
    const capped = monitor({ maxSignals: 4 }).m;
    feed(capped, [1, 2, 3]);
    capped.recordRequest({ model: "other", latencyMs: 1, costUsd: 0, status: 200, completionTokens: 1 });
    assert.equal(capped.report().signals.length, 4);
  });

  test("time windows: the first reference closes after windowSeconds; old samples leave the current window", async () => {
    let now = 1_000_000;
    const { m } = monitor({ clock: () => now }, { windowSize: 1000, minSamples: 10, windowSeconds: 60 });
    for (let i = 0; i < 30; i++) {
      feed(m, [100 + i]);
      now += 2_100; // 30 samples over 63 s
    }
    const r = sig(m.report(), "latency_ms:gpt");
    assert.equal(r.reference_origin, "first_window");
    assert.ok(r.reference.n >= 28 && r.reference.n <= 30, String(r.reference.n));
    feed(m, [1, 2, 3]);
    now += 61_000;
    feed(m, [4]);
    assert.equal(sig(m.report(), "latency_ms:gpt").current.n, 1);
  });

  test("the reference and the current window survive a restart on the same store", async () => {
    const db = openDatabase(":memory:");
    const a = monitor({ store: new SqliteDriftStore(db) });
    feed(a.m, latencies(1, 200));
    feed(a.m, latencies(4, 150, 260));
    const before = sig(await a.m.check(), "latency_ms:gpt");
    assert.equal(before.alerting, true);
    await a.m.close();

    const b = monitor({ store: new SqliteDriftStore(db) });
    await b.m.load();
    const after = sig(b.m.report(), "latency_ms:gpt");
    assert.deepEqual(after.reference, before.reference);
    assert.deepEqual(after.current, before.current);
    assert.equal(after.reference_origin, "first_window");
    assert.equal(after.alerting, true);
    // The restored alert state means no second alert for the same episode.
    await b.m.check();
    assert.equal(b.sink.alerts.length, 0);
  });

  test("pinning the current window makes it the reference (and re-arms); unknown names are NotFound", async () => {
    const db = openDatabase(":memory:");
    const { m, sink } = monitor({ store: new SqliteDriftStore(db) });
    feed(m, latencies(1, 200));
    feed(m, latencies(4, 200, 260));
    await m.check();
    assert.equal(sink.alerts.length, 1);
    m.recordRequest({ model: "tiny", latencyMs: 1, costUsd: 0, status: 200, completionTokens: 1 });
    const pinned = await m.pinReference();
    assert.ok(pinned.pinned.includes("latency_ms:gpt"));
    assert.ok(pinned.skipped.some((s) => s.name === "latency_ms:tiny"));
    const r = sig(m.report(), "latency_ms:gpt");
    assert.equal(r.reference_origin, "pinned");
    assert.equal(r.alerting, false);
    assert.ok(r.reference.mean > 250);
    feed(m, latencies(8, 200, 260));
    assert.equal(sig(await m.check(), "latency_ms:gpt").status, "stable");
    await assert.rejects(m.pinReference(["nope:x"]), (e: any) => e.kind === "NotFound");
    const reloaded = monitor({ store: new SqliteDriftStore(db) }).m;
    await reloaded.load();
    assert.equal(sig(reloaded.report(), "latency_ms:gpt").reference_origin, "pinned");
  });

  test("a reference too small to judge never alerts (min samples)", async () => {
    const { m, sink } = monitor({}, { windowSize: 200, minSamples: 150 });
    feed(m, latencies(1, 200));
    feed(m, latencies(4, 100, 400));
    const r = sig(await m.check(), "latency_ms:gpt");
    assert.equal(r.status, "collecting");
    assert.ok(r.psi > 0.2);
    assert.equal(sink.alerts.length, 0);
  });
});

describe("WebhookAlertSink", () => {
  const alert: DriftAlert = { type: "drift.alert", signal: "x:y", psi: 0.5, ks: { d: 0.4, p_value: 0.001 }, reference_n: 100, current_n: 100, window_size: 100, thresholds: { psi: 0.2, ks_p_value: 0.01, min_samples: 50, require: "both" }, at: 1 };

  test("POSTs the alert as JSON; an error status, a dead port and a hung server are logged, never thrown", async () => {
    const bodies: unknown[] = [];
    let mode: "ok" | "500" | "hang" = "ok";
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        bodies.push({ method: req.method, type: req.headers["content-type"], body: JSON.parse(body) });
        if (mode === "hang") return;
        res.writeHead(mode === "ok" ? 204 : 500).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const { log, lines } = capture();
    try {
      await new WebhookAlertSink(url, 2_000, log).send(alert);
      assert.deepEqual(bodies[0], { method: "POST", type: "application/json", body: alert });
      mode = "500";
      await new WebhookAlertSink(url, 2_000, log).send(alert);
      assert.ok(lines.some((l) => l.msg === "drift webhook answered with an error status" && l.status === 500));
      mode = "hang";
      await new WebhookAlertSink(url, 100, log).send(alert);
      assert.ok(lines.some((l) => l.msg === "drift webhook failed"));
      await new WebhookAlertSink("http://127.0.0.1:1/none", 2_000, log).send(alert);
      assert.equal(lines.filter((l) => l.msg === "drift webhook failed").length, 2);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
