// Online evaluation: a configured share of live pipeline responses is scored
// with reference-free metrics, off the response path (an in-process bounded
// queue drained in later event-loop turns; full → dropped and counted). Each
// score goes to the trace store (on the trace), the metric
// stratum_online_eval_score{pipeline,version,metric}, and every onScore
// listener (canary rollouts compare versions with it).
import type { Logger } from "../ops/logger.js";
import type { TracingConfig } from "../config/schema.js";
import type { OnlineEvalInput } from "./gateway-tracing.js";
import { scoreAnswer } from "./online-metrics.js";
import type { TraceStore } from "./types.js";

export type OnlineEvalMetric = TracingConfig["onlineEval"]["metrics"][number];

export interface OnlineScore {
  traceId: string;
  tenant: string;
  pipeline: string;
  /** The served pipeline version (`stratum.pipeline_version`) when the registry served it. */
  version?: number;
  metric: string;
  value: number;
}

export interface OnlineEvaluatorDeps {
  store: TraceStore;
  log: Logger;
  /** Called for every score (the Prometheus metric). */
  observe?: (s: OnlineScore) => void;
  onDropped?: () => void;
  /** Sampling draw in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

export class OnlineEvaluator {
  private readonly queue: OnlineEvalInput[] = [];
  private readonly listeners = new Set<(s: OnlineScore) => void>();
  private draining: Promise<void> | undefined;
  private readonly random: () => number;
  private closed = false;

  constructor(
    private readonly cfg: TracingConfig["onlineEval"],
    private readonly d: OnlineEvaluatorDeps,
  ) {
    this.random = d.random ?? Math.random;
  }

  /** Subscribe to scores; returns the unsubscribe function. Listener errors are logged, never thrown. */
  onScore(fn: (s: OnlineScore) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Samples the response; `input` is built only when sampled. Never blocks or throws. */
  offer(input: () => OnlineEvalInput): void {
    if (this.closed || this.cfg.sampleRate <= 0 || this.random() >= this.cfg.sampleRate) return;
    if (this.queue.length >= this.cfg.queueSize) {
      this.d.onDropped?.();
      return;
    }
    this.queue.push(input());
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves when everything offered so far is scored and stored. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, 64);
        const scores = batch.flatMap((r) => this.score(r));
        if (!scores.length) continue;
        const at = Date.now();
        try {
          await this.d.store.addScores(scores.map((s) => ({ traceId: s.traceId, metric: s.metric, value: s.value, at })));
        } catch (err) {
          this.d.log.error({ err, scores: scores.length }, "online eval: storing scores failed");
        }
        for (const s of scores) this.emit(s);
        // Yield between batches: scoring never holds the event loop for long.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.draining = undefined;
    }
  }

  private score(r: OnlineEvalInput): OnlineScore[] {
    try {
      const ext = r.completion.stratum ?? {};
      const pipeline = typeof ext.pipeline === "string" ? ext.pipeline : r.model;
      const version = typeof ext.pipeline_version === "number" ? ext.pipeline_version : undefined;
      const values = scoreAnswer(r.request, r.completion, this.cfg.metrics);
      return Object.entries(values).map(([metric, value]) => ({ traceId: r.traceId, tenant: r.tenant, pipeline, ...(version !== undefined ? { version } : {}), metric, value }));
    } catch (err) {
      this.d.log.error({ err, traceId: r.traceId }, "online eval: scoring failed");
      return [];
    }
  }

  private emit(s: OnlineScore): void {
    this.d.observe?.(s);
    for (const fn of this.listeners) {
      try {
        fn(s);
      } catch (err) {
        this.d.log.error({ err }, "online eval: an onScore listener failed");
      }
    }
  }
}
