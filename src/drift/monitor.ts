// The drift monitor: per signal (and model or pipeline), a reference window
// and a bounded current window; checks compare them with PSI and KS and fire
// an alert on the transition into drift (metrics, log, sinks, re-evaluation),
// re-arming once the signal is back within the thresholds. The reference is
// the first full window after start, or pinned through the API; it is
// persisted so a restart keeps it.
import type { DriftConfig } from "../config/schema.js";
import { StratumError } from "../core/errors.js";
import type { Logger } from "../ops/logger.js";
import { detectLanguage } from "./language.js";
import type { DriftMetrics } from "./metrics.js";
import { categoricalPsi, ksTest, psi, summarize, type KsResult } from "./stats.js";
import {
  SIGNALS,
  type AlertSink,
  type DriftAlert,
  type DriftReport,
  type DriftStore,
  type DriftThresholds,
  type ReevaluationTrigger,
  type RequestSignals,
  type SignalName,
  type SignalReport,
  type SignalSpec,
  type SignalSummary,
  type StoredWindow,
  type TurnSignals,
} from "./types.js";
import { SampleRing } from "./window.js";

export interface DriftMonitorOptions {
  config: DriftConfig;
  log: Logger;
  store?: DriftStore;
  metrics?: DriftMetrics;
  sinks?: AlertSink[];
  reevaluate?: ReevaluationTrigger;
  clock?: () => number;
  /** Most signals kept: bounds memory and metric label values (default 512). */
  maxSignals?: number;
}

export interface PinResult {
  pinned: string[];
  skipped: Array<{ name: string; reason: string }>;
}

class SignalState {
  readonly current: SampleRing;
  reference: number[] | undefined;
  referenceAt: number | null = null;
  origin: "first_window" | "pinned" | null = null;
  alerting = false;
  observed = 0;
  /** The current window changed since it was last persisted. */
  dirty = false;

  constructor(
    readonly name: string,
    readonly signal: SignalName,
    readonly scope: string,
    readonly spec: SignalSpec,
    capacity: number,
  ) {
    this.current = new SampleRing(capacity);
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
const finite = (x: number) => (Number.isFinite(x) ? round(x) : null);

export class DriftMonitor {
  private readonly signals = new Map<string, SignalState>();
  private readonly clock: () => number;
  private readonly maxSignals: number;
  private readonly windowMs: number | undefined;
  private readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private capWarned = false;
  private lastReportAt = 0;

  constructor(private readonly o: DriftMonitorOptions) {
    this.clock = o.clock ?? Date.now;
    this.maxSignals = o.maxSignals ?? 512;
    this.windowMs = o.config.windowSeconds !== undefined ? o.config.windowSeconds * 1000 : undefined;
  }

  get thresholds(): DriftThresholds {
    const c = this.o.config;
    return { psi: c.psiThreshold, ks_p_value: c.ksPValue, min_samples: c.minSamples, require: c.require };
  }

  /** A finished request (from ChatFlow.account). Never throws. */
  recordRequest(r: RequestSignals): void {
    if (this.o.reevaluate?.pausesScope?.(r.model)) return;
    this.add("latency_ms", r.model, r.latencyMs);
    this.add("cost_usd", r.model, r.costUsd);
    this.add("output_tokens", r.model, r.completionTokens);
    this.add("status", r.model, r.status >= 500 ? "5xx" : r.status >= 400 ? "4xx" : "2xx");
  }

  /** A pipeline turn (from the RAG pipeline). Never throws. */
  recordTurn(t: TurnSignals): void {
    if (this.o.reevaluate?.pausesScope?.(t.pipeline)) return;
    this.add("query_chars", t.pipeline, t.question.length);
    this.add("language", t.pipeline, detectLanguage(t.question));
    this.add("retrieval_confidence", t.pipeline, t.confidence);
    this.add("abstained", t.pipeline, t.abstained ? "yes" : "no");
    if (t.grounding !== undefined) this.add("grounding", t.pipeline, t.grounding);
  }

  /** Loads the persisted references and current windows (call before serving). */
  async load(): Promise<void> {
    if (!this.o.store) return;
    for (const w of await this.o.store.loadAll()) {
      const colon = w.signal.indexOf(":");
      const signal = w.signal.slice(0, colon) as SignalName;
      const scope = w.signal.slice(colon + 1);
      if (colon < 0 || !(signal in SIGNALS) || SIGNALS[signal].kind !== w.kind) {
        this.o.log.warn({ signal: w.signal }, "drift: ignoring a stored window of an unknown signal");
        continue;
      }
      const s = this.state(signal, scope);
      if (!s) continue;
      const values = this.restoreValues(s.spec, w);
      if (w.role === "reference") {
        s.reference = values.slice(-s.current.capacity);
        s.origin = w.origin ?? "first_window";
        s.referenceAt = w.updatedAt;
      } else {
        s.current.load(values, w.updatedAt);
        s.alerting = w.alerting ?? false;
      }
    }
  }

  /** The statistics now, without firing alerts. */
  report(): DriftReport {
    const now = this.clock();
    return { signals: [...this.signals.values()].map((s) => this.evaluate(s, now)), updated_at: this.lastReportAt || now };
  }

  /** Evaluates every signal, fires alerts on transitions into drift, re-arms recovered signals, persists the current windows. */
  async check(): Promise<DriftReport> {
    const now = this.clock();
    const out: SignalReport[] = [];
    for (const s of this.signals.values()) {
      this.captureReferenceIfComplete(s, now);
      const r = this.evaluate(s, now);
      if (r.psi !== null) this.o.metrics?.psi.set({ signal: s.name }, r.psi);
      if (r.ks) {
        this.o.metrics?.ks.set({ signal: s.name }, r.ks.d);
        this.o.metrics?.ksPValue.set({ signal: s.name }, r.ks.p_value);
      }
      if (r.status === "drift" && !s.alerting) {
        s.alerting = true;
        s.dirty = true;
        this.fire(s, r, now);
      } else if (r.status === "stable" && s.alerting) {
        s.alerting = false;
        s.dirty = true;
        this.o.log.info({ signal: s.name, psi: r.psi, ks_d: r.ks?.d, ks_p: r.ks?.p_value }, "drift: signal back within thresholds; alert re-armed");
      }
      out.push({ ...r, alerting: s.alerting });
    }
    await this.persistCurrent(now);
    this.lastReportAt = now;
    return { signals: out, updated_at: now };
  }

  /** Pins the current windows (all, or the named signals) as the new references. */
  async pinReference(names?: readonly string[]): Promise<PinResult> {
    const targets = names
      ? names.map((n) => {
          const s = this.signals.get(n);
          if (!s) throw new StratumError("NotFound", `No drift signal '${n}'.`, { param: "signals", code: "signal_not_found" });
          return s;
        })
      : [...this.signals.values()];
    const now = this.clock();
    const result: PinResult = { pinned: [], skipped: [] };
    const saves: Array<Promise<void>> = [];
    for (const s of targets) {
      this.pruneCurrent(s, now);
      if (s.current.size < this.o.config.minSamples) {
        result.skipped.push({ name: s.name, reason: `the current window holds ${s.current.size} samples, fewer than minSamples (${this.o.config.minSamples})` });
        continue;
      }
      s.reference = s.current.toArray();
      s.origin = "pinned";
      s.referenceAt = now;
      s.current.clear();
      s.alerting = false;
      saves.push(this.save(this.stored(s, "reference", now)), this.save(this.stored(s, "current", now)));
      result.pinned.push(s.name);
    }
    await Promise.all(saves);
    if (result.pinned.length) this.o.log.info({ pinned: result.pinned }, "drift: reference pinned");
    return result;
  }

  /** Runs `check` every `checkIntervalSeconds` (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.check().catch((err: unknown) => this.o.log.error({ err }, "drift check failed"));
    }, this.o.config.checkIntervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer, persists the current windows and waits for alert deliveries in flight. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.persistCurrent(this.clock());
    await this.settled();
  }

  /** Resolves when every persistence write and alert delivery started so far has finished. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private track(p: Promise<void>): Promise<void> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  private state(signal: SignalName, scope: string): SignalState | undefined {
    const name = `${signal}:${scope}`;
    let s = this.signals.get(name);
    if (!s) {
      if (this.signals.size >= this.maxSignals) {
        if (!this.capWarned) this.o.log.warn({ maxSignals: this.maxSignals }, "drift: signal cap reached; new signals are not tracked");
        this.capWarned = true;
        return undefined;
      }
      s = new SignalState(name, signal, scope, SIGNALS[signal], this.o.config.windowSize);
      this.signals.set(name, s);
    }
    return s;
  }

  private add(signal: SignalName, scope: string, value: number | string): void {
    const s = this.state(signal, scope);
    if (!s) return;
    let v: number;
    if (typeof value === "string") {
      v = s.spec.categories!.indexOf(value);
      if (v < 0) return;
    } else {
      if (!Number.isFinite(value)) return;
      v = value;
    }
    const now = this.clock();
    this.pruneCurrent(s, now);
    s.current.push(v, now);
    s.observed++;
    s.dirty = true;
    this.captureReferenceIfComplete(s, now);
  }

  /** Time-bounded windows: the current window (once a reference exists) keeps only recent samples. */
  private pruneCurrent(s: SignalState, now: number): void {
    if (this.windowMs !== undefined && s.reference) s.current.dropBefore(now - this.windowMs);
  }

  /** The first window becomes the reference when full, or (time windows) when it spans the window with enough samples. */
  private captureReferenceIfComplete(s: SignalState, now: number): void {
    if (s.reference) return;
    const oldest = s.current.oldestAt;
    const byTime = this.windowMs !== undefined && oldest !== undefined && now - oldest >= this.windowMs && s.current.size >= this.o.config.minSamples;
    if (!s.current.full && !byTime) return;
    s.reference = s.current.toArray();
    s.origin = "first_window";
    s.referenceAt = now;
    s.current.clear();
    this.o.log.info({ signal: s.name, n: s.reference.length }, "drift: reference window captured");
    void this.save(this.stored(s, "reference", now));
  }

  private evaluate(s: SignalState, now: number): SignalReport {
    this.pruneCurrent(s, now);
    const cfg = this.o.config;
    const ref = s.reference ?? [];
    const cur = s.current.toArray();
    let psiValue: number | null = null;
    let ks: KsResult | null = null;
    if (ref.length > 0 && cur.length > 0) {
      if (s.spec.kind === "numeric") {
        psiValue = finite(psi(ref, cur, cfg.bins));
        const k = ksTest(ref, cur);
        ks = { d: round(k.d), p_value: round(k.p_value) };
      } else {
        psiValue = finite(categoricalPsi(this.counts(s.spec, ref), this.counts(s.spec, cur)));
      }
    }
    const enough = s.reference !== undefined && ref.length >= cfg.minSamples && cur.length >= cfg.minSamples;
    const psiHit = psiValue !== null && psiValue > cfg.psiThreshold;
    const ksHit = ks !== null && ks.p_value < cfg.ksPValue;
    const alert = enough && (s.spec.kind === "categorical" ? psiHit : cfg.require === "both" ? psiHit && ksHit : psiHit || ksHit);
    return {
      name: s.name,
      signal: s.signal,
      scope: s.scope,
      kind: s.spec.kind,
      status: !s.reference ? "collecting_reference" : !enough ? "collecting" : alert ? "drift" : "stable",
      reference: this.summary(s.spec, ref),
      current: this.summary(s.spec, cur),
      psi: psiValue,
      ks,
      alert,
      alerting: s.alerting,
      thresholds: this.thresholds,
      reference_origin: s.origin,
      reference_at: s.referenceAt,
      observed: s.observed,
    };
  }

  private counts(spec: SignalSpec, values: readonly number[]): Map<string, number> {
    const m = new Map<string, number>();
    for (const v of values) {
      const c = spec.categories![v]!;
      m.set(c, (m.get(c) ?? 0) + 1);
    }
    return m;
  }

  private summary(spec: SignalSpec, values: readonly number[]): SignalSummary {
    if (spec.kind === "numeric") {
      const s = summarize(values);
      return { n: s.n, mean: s.mean === null ? null : round(s.mean), p50: s.p50, p95: s.p95 };
    }
    const shares: Record<string, number> = {};
    for (const [c, n] of this.counts(spec, values)) shares[c] = round(n / values.length);
    const positive = spec.positive ? spec.positive.reduce((a, c) => a + (shares[c] ?? 0), 0) : null;
    return { n: values.length, mean: values.length && positive !== null ? round(positive) : null, p50: null, p95: null, shares };
  }

  private fire(s: SignalState, r: SignalReport, now: number): void {
    const alert: DriftAlert = {
      type: "drift.alert",
      signal: s.name,
      psi: r.psi,
      ks: r.ks,
      reference_n: r.reference.n,
      current_n: r.current.n,
      window_size: this.o.config.windowSize,
      thresholds: this.thresholds,
      at: now,
    };
    this.o.metrics?.alerts.inc({ signal: s.name });
    this.o.log.warn(
      { signal: s.name, psi: r.psi, ks_d: r.ks?.d, ks_p: r.ks?.p_value, reference_n: r.reference.n, current_n: r.current.n, reference_mean: r.reference.mean, current_mean: r.current.mean, thresholds: alert.thresholds },
      "drift detected",
    );
    for (const sink of this.o.sinks ?? []) {
      void this.track(sink.send(alert).catch((err: unknown) => this.o.log.warn({ signal: s.name, err }, "drift alert sink failed")));
    }
    this.o.reevaluate?.trigger(alert);
  }

  private stored(s: SignalState, role: StoredWindow["role"], now: number): StoredWindow {
    const values = role === "reference" ? (s.reference ?? []) : s.current.toArray();
    const w: StoredWindow = { signal: s.name, role, kind: s.spec.kind, values, summary: this.summary(s.spec, values), updatedAt: role === "reference" ? (s.referenceAt ?? now) : now };
    if (s.spec.categories) w.categories = [...s.spec.categories];
    if (role === "reference" && s.origin) w.origin = s.origin;
    if (role === "current") w.alerting = s.alerting;
    return w;
  }

  private save(w: StoredWindow): Promise<void> {
    if (!this.o.store) return Promise.resolve();
    return this.track(this.o.store.save(w).catch((err: unknown) => this.o.log.error({ signal: w.signal, role: w.role, err }, "drift: persisting a window failed")));
  }

  private async persistCurrent(now: number): Promise<void> {
    const saves: Array<Promise<void>> = [];
    for (const s of this.signals.values()) {
      if (!s.dirty) continue;
      s.dirty = false;
      saves.push(this.save(this.stored(s, "current", now)));
    }
    await Promise.all(saves);
  }

  /** Stored categorical values are indices into the stored category list: map them by name onto today's list. */
  private restoreValues(spec: SignalSpec, w: StoredWindow): number[] {
    if (spec.kind === "numeric") return w.values.filter((v) => Number.isFinite(v));
    const stored = w.categories ?? [];
    const out: number[] = [];
    for (const v of w.values) {
      const i = spec.categories!.indexOf(stored[v] ?? "");
      if (i >= 0) out.push(i);
    }
    return out;
  }
}
