// Hands finished spans to the TraceStore in batches, off the request path:
// push only copies the span's data into a small record on a bounded queue
// (full → dropped and counted, a request never waits; the span object
// itself dies young instead of surviving into the old generation); a timer
// or a full batch starts a write; one write is in flight at a time.
import type { Logger } from "../ops/logger.js";
import type { RecordedSpan } from "./recorded-span.js";
import { summaryPatch, toStoredSpan } from "./span-record.js";
import type { StoredSpan, TraceBatch, TraceStore, TraceSummaryPatch } from "./types.js";

export interface StoreWriterOptions {
  /** Spans waiting to be written; beyond this new spans are dropped. */
  maxQueue?: number;
  /** Spans per write. */
  batchSize?: number;
  /** How often a partial batch is written. */
  flushMs?: number;
  onDropped?: (n: number) => void;
}

export class StoreWriter {
  private queue: StoredSpan[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon = false;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly flushMs: number;
  dropped = 0;

  constructor(
    private readonly store: TraceStore,
    private readonly log: Logger,
    private readonly opts: StoreWriterOptions = {},
  ) {
    this.maxQueue = opts.maxQueue ?? 20_000;
    this.batchSize = opts.batchSize ?? 512;
    this.flushMs = opts.flushMs ?? 250;
  }

  push(span: RecordedSpan): void {
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      this.opts.onDropped?.(1);
      return;
    }
    this.queue.push(toStoredSpan(span));
    // A write in flight drains the rest when it finishes: nothing to schedule per span meanwhile.
    if (this.writing) return;
    if (this.queue.length >= this.batchSize && !this.soon) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        void this.drain();
      });
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.flushMs).unref();
    }
  }

  /** Writes everything queued so far (and waits for a write in flight). */
  async flush(): Promise<void> {
    while (this.writing || this.queue.length) {
      if (this.writing) await this.writing;
      else await this.drain();
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private drain(): Promise<void> {
    if (this.writing) return this.writing;
    if (!this.queue.length) return Promise.resolve();
    const spans = this.queue.splice(0, this.batchSize);
    this.writing = this.store
      .write(toBatch(spans))
      .catch((err: unknown) => {
        this.dropped += spans.length;
        this.opts.onDropped?.(spans.length);
        this.log.error({ err, spans: spans.length }, "trace store write failed; spans dropped");
      })
      .finally(() => {
        this.writing = undefined;
        if (this.queue.length) {
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            void this.drain();
          }, 0).unref();
        }
      });
    return this.writing;
  }
}

/**
 * The batch's spans and one summary patch per trace: the patches of a trace's
 * spans are merged here (as the store's upsert would merge them: earliest
 * start, later values win), so a pipeline trace costs one upsert, not one per span.
 */
export function toBatch(spans: StoredSpan[]): TraceBatch {
  const byTrace = new Map<string, TraceSummaryPatch>();
  for (const s of spans) {
    const patch = summaryPatch(s);
    if (!patch) continue;
    const seen = byTrace.get(patch.traceId);
    byTrace.set(patch.traceId, seen ? mergePatch(seen, patch) : patch);
  }
  return { spans, summaries: [...byTrace.values()] };
}

function mergePatch(a: TraceSummaryPatch, b: TraceSummaryPatch): TraceSummaryPatch {
  const merged: TraceSummaryPatch = { ...a };
  for (const [k, v] of Object.entries(b) as Array<[keyof TraceSummaryPatch, unknown]>) {
    if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
  }
  merged.startedAt = Math.min(a.startedAt, b.startedAt);
  return merged;
}
