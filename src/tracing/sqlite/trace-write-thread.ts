// Trace batches written on a worker thread (trace-write-worker.ts): the
// request thread only copies a batch into a message. Started on first use;
// a thread that dies fails the writes in flight (the StoreWriter counts them
// as dropped) and the next write starts a new one. It keeps the process
// alive only while a write is in flight.
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { TraceBatch } from "../types.js";

export interface WriteRequest {
  id: number;
  batch: TraceBatch;
}
export interface WriteReply {
  id: number;
  error?: string;
}

/** The worker entry beside this file: .js when compiled or bundled, .ts under tsx. */
function workerEntry(): URL {
  for (const ext of [".js", ".mjs", ".ts"]) {
    const url = new URL(`./trace-write-worker${ext}`, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error(`trace-write-worker not found beside ${import.meta.url}`);
}

/**
 * The thread only turns batches into inserts: a small young generation is enough (4 MiB of new
 * space instead of the process default's 32). A `--max-semi-space-size` node flag overrides this
 * for every isolate, so `npm start` gives none (it had 8, which gave this thread 16 MiB).
 */
export const TRACE_THREAD_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 6 } as const;

export class TraceWriteThread {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(): void; reject(e: Error): void }>();
  /** The newest write: the thread answers in order, so it settles after every earlier one. */
  private last: Promise<void> | undefined;
  private readonly entry: URL;

  /** Throws when the worker entry is not beside this module (e.g. code bundled without it). */
  constructor(private readonly file: string) {
    this.entry = workerEntry();
  }

  write(batch: TraceBatch): Promise<void> {
    const worker = (this.worker ??= this.start());
    const id = ++this.nextId;
    const written = new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, batch } satisfies WriteRequest);
    });
    this.last = written;
    return written;
  }

  /** Waits for the writes in flight, then ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.last?.catch(() => {}); // a failed write was already reported to its caller
    this.worker = undefined;
    await new Promise<void>((resolve) => {
      worker.once("exit", () => resolve());
      worker.ref(); // until it has closed its connection and exited
      worker.postMessage("close");
    });
  }

  private start(): Worker {
    const entry = this.entry;
    const workerData = { file: this.file };
    // Under tsx (tests, dev) a worker does not inherit the loader: register it there first.
    const worker = entry.pathname.endsWith(".ts")
      ? new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData, resourceLimits: TRACE_THREAD_RESOURCE_LIMITS })
      : new Worker(entry, { workerData, resourceLimits: TRACE_THREAD_RESOURCE_LIMITS });
    worker.unref();
    worker.on("message", (m: WriteReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error === undefined) p.resolve();
      else p.reject(new Error(`trace write failed: ${m.error}`));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`trace write thread exited (code ${code})`)));
    return worker;
  }
}
