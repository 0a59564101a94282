// The consumer loop shared by every JobQueue implementation: fetch up to the
// free concurrency, keep running jobs alive, finish (ack / retry / dead-letter),
// stop gracefully. Backends only move deliveries around.
import type { ConsumeOptions, JobHandler } from "./types.js";

export interface Delivery {
  id: string;
  type: string;
  payload: unknown;
  enqueuedAt: number;
  /** Backend handle (stream entry id, ...). */
  ref: string;
}

export type Outcome = { kind: "done"; result: unknown } | { kind: "retry"; error: string } | { kind: "dead"; error: string; attempts: number };

export interface ConsumerBackend {
  /** Claimed-idle deliveries first, then new ones; waits up to `waitMs` when there are none. */
  fetch(max: number, waitMs: number): Promise<Delivery[]>;
  /** Count a delivery and mark the job running; returns the attempt number and the previous error. */
  begin(d: Delivery): Promise<{ attempt: number; lastError: string | undefined }>;
  /** Keep a running delivery from being claimed by another consumer. */
  touch(d: Delivery): Promise<void>;
  /** Record the outcome; a no-op if another consumer has claimed the delivery since. */
  finish(d: Delivery, outcome: Outcome): Promise<void>;
  /** Wake a blocked fetch (on stop). */
  interrupt(): void;
  close(): Promise<void> | void;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function runConsumer<P, R>(
  backend: ConsumerBackend,
  handler: JobHandler<P, R>,
  opts: ConsumeOptions & { claimIdleMs: number; maxDeliveries: number },
  onError: (e: unknown, what: string) => void = () => {},
): Promise<void> {
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const signal = opts.signal;
  const inflight = new Set<Promise<void>>();
  const keepAlives = new Set<NodeJS.Timeout>();
  const handlerCtl = new AbortController();
  const waitMs = Math.max(10, Math.min(2000, Math.floor(opts.claimIdleMs / 2)));
  let wakeStop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wakeStop = resolve));
  const onStop = () => {
    wakeStop();
    backend.interrupt();
  };
  if (signal?.aborted) onStop();
  else signal?.addEventListener("abort", onStop, { once: true });

  const process = async (d: Delivery): Promise<void> => {
    let attempt: number;
    let lastError: string | undefined;
    try {
      ({ attempt, lastError } = await backend.begin(d));
    } catch (e) {
      onError(e, "begin"); // left pending: it will be claimed again
      return;
    }
    if (attempt > opts.maxDeliveries) {
      const error = lastError || `not finished after ${opts.maxDeliveries} deliveries (consumer died or timed out)`;
      await backend.finish(d, { kind: "dead", error, attempts: attempt - 1 }).catch((e: unknown) => onError(e, "finish"));
      return;
    }
    const keepAlive = setInterval(() => void backend.touch(d).catch((e: unknown) => onError(e, "touch")), Math.max(5, Math.floor(opts.claimIdleMs / 3)));
    keepAlives.add(keepAlive);
    let outcome: Outcome;
    try {
      const result = await handler({ id: d.id, type: d.type, payload: d.payload as P, attempt, enqueuedAt: d.enqueuedAt }, handlerCtl.signal);
      outcome = { kind: "done", result: result === undefined ? null : result };
    } catch (e) {
      // Stopped mid-job: not the job's fault; it is delivered again later.
      if (handlerCtl.signal.aborted) return;
      outcome = attempt >= opts.maxDeliveries ? { kind: "dead", error: errorText(e), attempts: attempt } : { kind: "retry", error: errorText(e) };
    } finally {
      clearInterval(keepAlive);
      keepAlives.delete(keepAlive);
    }
    // A consumer given up on (drain timeout) no longer owns its jobs.
    if (handlerCtl.signal.aborted) return;
    await backend.finish(d, outcome).catch((e: unknown) => onError(e, "finish"));
  };

  try {
    while (!signal?.aborted) {
      if (inflight.size >= concurrency) {
        await Promise.race([...inflight, stopped]);
        continue;
      }
      let batch: Delivery[];
      try {
        batch = await backend.fetch(concurrency - inflight.size, waitMs);
      } catch (e) {
        if (signal?.aborted) break;
        onError(e, "fetch");
        await Promise.race([new Promise((r) => setTimeout(r, 500)), stopped]);
        continue;
      }
      for (const d of batch) {
        const p: Promise<void> = process(d).finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }
  } finally {
    signal?.removeEventListener("abort", onStop);
  }
  // Graceful stop: take nothing new, let running handlers finish (bounded by drainTimeoutMs).
  const all = Promise.allSettled([...inflight]).then(() => true);
  let drained = true;
  if (opts.drainTimeoutMs === undefined) await all;
  else {
    let timer: NodeJS.Timeout | undefined;
    drained = await Promise.race([all, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), opts.drainTimeoutMs)))]);
    clearTimeout(timer);
  }
  if (!drained) {
    // Abandon what is still running: stop keeping it alive so another consumer claims it.
    for (const t of keepAlives) clearInterval(t);
    keepAlives.clear();
    handlerCtl.abort(new Error("job consumer stopped"));
  }
  await backend.close();
}
