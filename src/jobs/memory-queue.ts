// In-process JobQueue: the embedded default. Same contract as the Redis
// Streams queue (at-least-once, claim after idle, dead-letter after
// maxDeliveries), within one process; jobs do not survive a restart.
import { randomUUID } from "node:crypto";
import { runConsumer, type ConsumerBackend, type Delivery, type Outcome } from "./consumer.js";
import type { ConsumeOptions, DeadLetter, JobHandler, JobQueue, JobQueueOptions, JobStatus } from "./types.js";

interface Pending {
  d: Delivery;
  owner: string;
  lastSeen: number;
}

interface TypeState {
  ready: Delivery[];
  pending: Map<string, Pending>;
  dead: DeadLetter[];
  wakers: Set<() => void>;
}

export class MemoryJobQueue implements JobQueue {
  private readonly types = new Map<string, TypeState>();
  private readonly statuses = new Map<string, JobStatus>();
  private readonly claimIdleMs: number;
  private readonly maxDeliveries: number;
  private readonly statusTtlMs: number;
  private readonly maxDeadLetters = 1000;

  constructor(opts: JobQueueOptions = {}) {
    this.claimIdleMs = opts.claimIdleMs ?? 60_000;
    this.maxDeliveries = opts.maxDeliveries ?? 5;
    this.statusTtlMs = opts.statusTtlMs ?? 7 * 86_400_000;
  }

  private state(type: string): TypeState {
    let s = this.types.get(type);
    if (!s) this.types.set(type, (s = { ready: [], pending: new Map(), dead: [], wakers: new Set() }));
    return s;
  }

  async enqueue<P>(type: string, payload: P): Promise<string> {
    const id = randomUUID();
    const now = Date.now();
    // Same serialisation boundary as Redis: handlers get a copy, never the caller's object.
    const copy = JSON.parse(JSON.stringify(payload ?? null)) as unknown;
    this.sweep(now);
    this.statuses.set(id, { id, type, state: "queued", attempts: 0, enqueuedAt: now, updatedAt: now });
    const s = this.state(type);
    s.ready.push({ id, type, payload: copy, enqueuedAt: now, ref: id });
    for (const w of s.wakers) w();
    return id;
  }

  consume<P, R>(type: string, handler: JobHandler<P, R>, opts: ConsumeOptions = {}): Promise<void> {
    const claimIdleMs = opts.claimIdleMs ?? this.claimIdleMs;
    return runConsumer(this.backend(type, claimIdleMs), handler, { ...opts, claimIdleMs, maxDeliveries: opts.maxDeliveries ?? this.maxDeliveries });
  }

  async getStatus(id: string): Promise<JobStatus | undefined> {
    const s = this.statuses.get(id);
    return s && { ...s };
  }

  async deadLetters(type: string, limit = 100): Promise<DeadLetter[]> {
    return this.state(type).dead.slice(-limit);
  }

  private update(id: string, patch: Partial<JobStatus>): JobStatus | undefined {
    const s = this.statuses.get(id);
    if (s) Object.assign(s, patch, { updatedAt: Date.now() });
    return s;
  }

  private sweep(now: number): void {
    for (const [id, s] of this.statuses) if (now - s.updatedAt > this.statusTtlMs) this.statuses.delete(id);
  }

  private backend(type: string, claimIdleMs: number): ConsumerBackend {
    const me = randomUUID();
    const s = this.state(type);
    let wake: (() => void) | undefined;
    const take = (max: number): Delivery[] => {
      const now = Date.now();
      const out: Delivery[] = [];
      for (const p of s.pending.values()) {
        if (out.length >= max) break;
        if (now - p.lastSeen >= claimIdleMs) {
          p.owner = me;
          p.lastSeen = now;
          out.push(p.d);
        }
      }
      while (out.length < max && s.ready.length) {
        const d = s.ready.shift()!;
        s.pending.set(d.id, { d, owner: me, lastSeen: now });
        out.push(d);
      }
      return out;
    };
    return {
      fetch: async (max, waitMs) => {
        const got = take(max);
        if (got.length) return got;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t);
            s.wakers.delete(done);
            wake = undefined;
            resolve();
          };
          const t = setTimeout(done, waitMs);
          s.wakers.add(done);
          wake = done;
        });
        return take(max);
      },
      begin: async (d) => {
        const st = this.statuses.get(d.id);
        const attempt = (st?.attempts ?? 0) + 1;
        this.update(d.id, { attempts: attempt, state: "running" });
        return { attempt, lastError: st?.error };
      },
      touch: async (d) => {
        const p = s.pending.get(d.id);
        if (p?.owner === me) p.lastSeen = Date.now();
      },
      finish: async (d, outcome: Outcome) => {
        const p = s.pending.get(d.id);
        if (p?.owner !== me) return;
        if (outcome.kind === "done") {
          s.pending.delete(d.id);
          const st = this.update(d.id, { state: "done", result: outcome.result });
          if (st) delete st.error;
        } else if (outcome.kind === "dead") {
          s.pending.delete(d.id);
          s.dead.push({ id: d.id, type: d.type, payload: d.payload, error: outcome.error, attempts: outcome.attempts, failedAt: Date.now() });
          if (s.dead.length > this.maxDeadLetters) s.dead.shift();
          this.update(d.id, { state: "failed", error: outcome.error });
        } else {
          // Stays pending under this owner; claimed again once idle (the retry backoff).
          this.update(d.id, { state: "queued", error: outcome.error });
        }
      },
      interrupt: () => wake?.(),
      close: () => {},
    };
  }
}
