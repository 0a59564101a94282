// Micro-batching for embeddings: concurrent embed() calls within a short
// window (or until a batch is full) become one upstream call; each caller gets
// its own slice back, and a failed batch rejects every caller in it.
import type { Embedder } from "./types.js";

export type EmbedFn = (texts: string[]) => Promise<Float32Array[]>;

export interface EmbedBatcherOptions {
  /** How long the first caller waits for others (default 5 ms). */
  windowMs?: number;
  /** Most texts in one upstream call (default 64). */
  maxBatch?: number;
}

interface Pending {
  texts: readonly string[];
  resolve: (v: Float32Array[]) => void;
  reject: (e: unknown) => void;
}

export class EmbedBatcher implements Embedder {
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly model: string,
    private readonly fn: EmbedFn,
    opts: EmbedBatcherOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 5;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
  }

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    if (signal?.aborted) return Promise.reject(signal.reason);
    // A request bigger than a batch goes in batch-sized pieces, each batched with others.
    if (texts.length > this.maxBatch) {
      const parts: Array<Promise<Float32Array[]>> = [];
      for (let i = 0; i < texts.length; i += this.maxBatch) parts.push(this.embed(texts.slice(i, i + this.maxBatch), signal));
      return Promise.all(parts).then((p) => p.flat());
    }
    return new Promise<Float32Array[]>((resolve, reject) => {
      if (this.queued + texts.length > this.maxBatch) this.flush();
      this.queue.push({ texts, resolve, reject });
      this.queued += texts.length;
      if (this.queued >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    this.queued = 0;
    if (batch.length === 0) return;
    const texts = batch.flatMap((p) => p.texts);
    void this.fn(texts).then(
      (vectors) => {
        if (vectors.length !== texts.length) {
          const err = new Error(`embedding returned ${vectors.length} vectors for ${texts.length} texts`);
          for (const p of batch) p.reject(err);
          return;
        }
        let at = 0;
        for (const p of batch) {
          p.resolve(vectors.slice(at, at + p.texts.length));
          at += p.texts.length;
        }
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
