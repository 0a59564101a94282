// One Stratum instance's tracing: its sink (sampling, the store writer, OTLP
// export when configured), the root context request spans start under, and
// the retention sweep.
import { ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import type { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { TracingConfig } from "../config/schema.js";
import type { Logger } from "../ops/logger.js";
import type { RecordedSpan } from "./recorded-span.js";
import { installTracing, withSink, type SpanSink } from "./runtime.js";
import { StoreWriter } from "./store-writer.js";
import { loadTracingSdk, type TracingSdk } from "./tracing-sdk.js";
import type { TraceStore } from "./types.js";

const DAY_MS = 86_400_000;
const SWEEP_EVERY_MS = 3_600_000;

export interface TracingOptions {
  /** Spans dropped because the write queue was full or a write failed. */
  onDropped?: (n: number) => void;
  /** For tests: the writer's flush interval. */
  flushMs?: number;
  /** For tests and benches: the queue bound. */
  maxQueue?: number;
  /** The retention sweep's period (default hourly; 0 turns the timer off). */
  sweepEveryMs?: number;
}

export class Tracing implements SpanSink {
  /** False when tracing is off, or another tracer provider owns the process. */
  readonly enabled: boolean;
  readonly writer: StoreWriter;
  private readonly sampleByRatio: ((traceId: string) => boolean) | undefined;
  private readonly otlp: BatchSpanProcessor | undefined;
  private readonly root: Context;
  private sweepTimer: NodeJS.Timeout | undefined;

  /** A Tracing with the SDK parts its config needs loaded first (none when another tracer provider owns the process). */
  static async create(cfg: TracingConfig, store: TraceStore, log: Logger, opts: TracingOptions = {}): Promise<Tracing> {
    const installed = cfg.enabled && installTracing();
    if (cfg.enabled && !installed) log.warn("another OpenTelemetry tracer provider is registered in this process: spans go there, the trace store stays empty");
    return new Tracing(cfg, store, log, opts, installed, installed ? await loadTracingSdk(cfg) : {});
  }

  // Private: only create() knows which SDK parts the config needs, and loads them first.
  private constructor(
    private readonly cfg: TracingConfig,
    readonly store: TraceStore,
    private readonly log: Logger,
    opts: TracingOptions,
    installed: boolean,
    sdk: TracingSdk,
  ) {
    this.enabled = installed && cfg.sampleRatio > 0;
    this.writer = new StoreWriter(store, log, { ...(opts.onDropped ? { onDropped: opts.onDropped } : {}), ...(opts.flushMs ? { flushMs: opts.flushMs } : {}), ...(opts.maxQueue ? { maxQueue: opts.maxQueue } : {}) });
    this.sampleByRatio = sdk.sampleRoot;
    this.otlp = this.enabled ? sdk.otlp : undefined;
    this.root = this.enabled ? withSink(this, ROOT_CONTEXT) : ROOT_CONTEXT;
    const every = opts.sweepEveryMs ?? SWEEP_EVERY_MS;
    if (this.enabled && every > 0) {
      this.sweepTimer = setInterval(() => void this.sweep(), every).unref();
      setImmediate(() => void this.sweep());
    }
  }

  /** The context a request's root span starts under (spans under it land in this instance's store). */
  requestContext(): Context {
    return this.root;
  }

  sampleRoot(traceId: string): boolean {
    if (!this.enabled) return false;
    return this.sampleByRatio ? this.sampleByRatio(traceId) : true;
  }

  onEnd(span: RecordedSpan): void {
    this.writer.push(span);
    this.otlp?.onEnd(span);
  }

  /** Deletes traces older than retentionDays; returns how many went. */
  async sweep(now = Date.now()): Promise<number> {
    try {
      const n = await this.store.deleteOlderThan(now - this.cfg.retentionDays * DAY_MS);
      if (n) this.log.info({ traces: n, retentionDays: this.cfg.retentionDays }, "old traces deleted");
      return n;
    } catch (err) {
      this.log.error({ err }, "trace retention sweep failed");
      return 0;
    }
  }

  /** Writes queued spans to the store (and pushes OTLP exports). Waits one turn first: root spans end in accounting's setImmediate. */
  async flush(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.writer.flush();
    await this.otlp?.forceFlush();
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.writer.close();
    await this.otlp?.shutdown().catch((err: unknown) => this.log.warn({ err }, "OTLP exporter shutdown failed"));
  }
}
