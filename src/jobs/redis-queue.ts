// JobQueue on Redis Streams. One stream per job type (XADD, MAXLEN ~), one
// consumer group; consumers XREADGROUP BLOCK on their own connection, XACK
// after the handler succeeds, keep running jobs alive (XCLAIM to themselves),
// and XAUTOCLAIM deliveries idle for claimIdleMs (their consumer died, or the
// handler failed: the idle time is the retry backoff). After maxDeliveries the
// job goes to a dead-letter stream with its last error. Job status lives in a
// hash per job with a TTL.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { guard } from "../data/redis/index.js";
import { runConsumer, type ConsumerBackend, type Delivery, type Outcome } from "./consumer.js";
import type { ConsumeOptions, DeadLetter, JobHandler, JobQueue, JobQueueOptions, JobState, JobStatus } from "./types.js";

export interface RedisStreamQueueOptions extends JobQueueOptions {
  /** Namespace inside the client's keyPrefix (default "jobs:"). */
  namespace?: string;
  /** Consumer group name (default "stratum-workers"). */
  group?: string;
  /**
   * Approximate bound on each job stream (default 100 000 entries). Trimming
   * drops the oldest entries even if unprocessed, so keep it far above the backlog.
   */
  maxStreamLength?: number;
  /** Approximate bound on each dead-letter stream (default 10 000). */
  maxDeadLetters?: number;
  /** Called with background errors (Redis down while consuming, ...). */
  onError?: (e: unknown, what: string) => void;
}

// Only the consumer that currently owns a pending entry may keep it alive or finish it.
const OWNER_CHECK = `
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
`;
const TOUCH_LUA = OWNER_CHECK + `redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID') return 1`;
// KEYS: stream, status, dlq. ARGV: group, entry, consumer, kind, now, statusTtl, text, jobId, type, payload, attempts, dlqMax
const FINISH_LUA =
  OWNER_CHECK +
  `
local kind = ARGV[4]
if kind == 'done' then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('HSET', KEYS[2], 'state', 'done', 'result', ARGV[7], 'updatedAt', ARGV[5])
  redis.call('HDEL', KEYS[2], 'error')
elseif kind == 'dead' then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[12], '*', 'id', ARGV[8], 'type', ARGV[9], 'payload', ARGV[10], 'error', ARGV[7], 'attempts', ARGV[11], 'failedAt', ARGV[5])
  redis.call('HSET', KEYS[2], 'state', 'failed', 'error', ARGV[7], 'updatedAt', ARGV[5])
else
  redis.call('HSET', KEYS[2], 'state', 'queued', 'error', ARGV[7], 'updatedAt', ARGV[5])
end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 1
`;

interface Scripts {
  stratumJobTouch(stream: string, group: string, entry: string, consumer: string): Promise<number>;
  stratumJobFinish(stream: string, status: string, dlq: string, ...args: Array<string | number>): Promise<number>;
}

type StreamEntry = [string, string[] | null];

function fields(arr: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < arr.length; i += 2) o[arr[i]!] = arr[i + 1]!;
  return o;
}

export class RedisStreamQueue implements JobQueue {
  private readonly redis: Redis & Scripts;
  private readonly ns: string;
  private readonly group: string;
  private readonly claimIdleMs: number;
  private readonly maxDeliveries: number;
  private readonly statusTtlMs: number;
  private readonly maxStreamLength: number;
  private readonly maxDeadLetters: number;
  private readonly groupsReady = new Map<string, Promise<void>>();

  constructor(
    redis: Redis,
    private readonly opts: RedisStreamQueueOptions = {},
  ) {
    this.ns = opts.namespace ?? "jobs:";
    this.group = opts.group ?? "stratum-workers";
    this.claimIdleMs = opts.claimIdleMs ?? 60_000;
    this.maxDeliveries = opts.maxDeliveries ?? 5;
    this.statusTtlMs = opts.statusTtlMs ?? 7 * 86_400_000;
    this.maxStreamLength = opts.maxStreamLength ?? 100_000;
    this.maxDeadLetters = opts.maxDeadLetters ?? 10_000;
    const r = redis as Redis & Partial<Scripts>;
    if (!r.stratumJobTouch) {
      redis.defineCommand("stratumJobTouch", { numberOfKeys: 1, lua: TOUCH_LUA });
      redis.defineCommand("stratumJobFinish", { numberOfKeys: 3, lua: FINISH_LUA });
    }
    this.redis = redis as Redis & Scripts;
  }

  private stream(type: string): string {
    return `${this.ns}stream:${type}`;
  }
  private statusKey(id: string): string {
    return `${this.ns}status:${id}`;
  }
  private dlq(type: string): string {
    return `${this.ns}dlq:${type}`;
  }

  async enqueue<P>(type: string, payload: P): Promise<string> {
    const id = randomUUID();
    const now = String(Date.now());
    const key = this.statusKey(id);
    await guard("job enqueue", async () => {
      const res = await this.redis
        .multi()
        .hset(key, { type, state: "queued", attempts: 0, enqueuedAt: now, updatedAt: now })
        .pexpire(key, this.statusTtlMs)
        .xadd(this.stream(type), "MAXLEN", "~", this.maxStreamLength, "*", "id", id, "payload", JSON.stringify(payload ?? null), "enqueuedAt", now)
        .exec();
      const err = res?.find(([e]) => e)?.[0];
      if (!res || err) throw err ?? new Error("transaction aborted");
    });
    return id;
  }

  async getStatus(id: string): Promise<JobStatus | undefined> {
    const h = await guard("job status", () => this.redis.hgetall(this.statusKey(id)));
    if (!h.state) return undefined;
    const s: JobStatus = {
      id,
      type: h.type ?? "",
      state: h.state as JobState,
      attempts: Number(h.attempts ?? 0),
      enqueuedAt: Number(h.enqueuedAt ?? 0),
      updatedAt: Number(h.updatedAt ?? 0),
    };
    if (h.result !== undefined) s.result = JSON.parse(h.result) as unknown;
    if (h.error !== undefined) s.error = h.error;
    return s;
  }

  async deadLetters(type: string, limit = 100): Promise<DeadLetter[]> {
    const entries = (await guard("job dead letters", () => this.redis.xrevrange(this.dlq(type), "+", "-", "COUNT", limit))) as StreamEntry[];
    return entries.reverse().map(([, arr]) => {
      const f = fields(arr ?? []);
      return { id: f.id ?? "", type: f.type ?? type, payload: JSON.parse(f.payload ?? "null") as unknown, error: f.error ?? "", attempts: Number(f.attempts ?? 0), failedAt: Number(f.failedAt ?? 0) };
    });
  }

  consume<P, R>(type: string, handler: JobHandler<P, R>, opts: ConsumeOptions = {}): Promise<void> {
    const claimIdleMs = opts.claimIdleMs ?? this.claimIdleMs;
    return runConsumer(this.backend(type, claimIdleMs), handler, { ...opts, claimIdleMs, maxDeliveries: opts.maxDeliveries ?? this.maxDeliveries }, this.opts.onError);
  }

  private ensureGroup(type: string, force = false): Promise<void> {
    let p = this.groupsReady.get(type);
    if (!p || force) {
      p = this.redis.xgroup("CREATE", this.stream(type), this.group, "0", "MKSTREAM").then(
        () => undefined,
        (e: unknown) => {
          if (!String(e).includes("BUSYGROUP")) {
            this.groupsReady.delete(type);
            throw e;
          }
        },
      );
      this.groupsReady.set(type, p);
    }
    return p;
  }

  private backend(type: string, claimIdleMs: number): ConsumerBackend {
    const me = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const stream = this.stream(type);
    const commandTimeout = typeof this.redis.options.commandTimeout === "number" ? this.redis.options.commandTimeout : 2000;
    // Blocking reads get their own connection (a blocked connection serves nobody else).
    const blocking = this.redis.duplicate({ commandTimeout: commandTimeout + 2000, lazyConnect: true });
    blocking.on("error", () => {});
    let cursor = "0-0";
    let lastClaimScan = 0;
    const toDelivery = ([ref, arr]: StreamEntry): Delivery => {
      const f = fields(arr ?? []);
      return { id: f.id ?? ref, type, payload: JSON.parse(f.payload ?? "null") as unknown, enqueuedAt: Number(f.enqueuedAt ?? 0), ref };
    };
    const withGroup = async <T>(fn: () => Promise<T>): Promise<T> => {
      await this.ensureGroup(type);
      try {
        return await fn();
      } catch (e) {
        if (!String(e).includes("NOGROUP")) throw e;
        await this.ensureGroup(type, true);
        return fn();
      }
    };
    return {
      fetch: (max, waitMs) =>
        withGroup(async () => {
          const now = Date.now();
          if (cursor !== "0-0" || now - lastClaimScan >= Math.max(5, claimIdleMs / 2)) {
            const [next, claimed, deleted] = (await this.redis.xautoclaim(stream, this.group, me, claimIdleMs, cursor, "COUNT", max)) as [string, StreamEntry[], string[]?];
            cursor = next;
            if (next === "0-0") lastClaimScan = now;
            // Entries trimmed from the stream while pending: nothing left to run.
            const gone = [...(deleted ?? []), ...claimed.filter(([, f]) => !f).map(([id]) => id)];
            if (gone.length) await this.redis.xack(stream, this.group, ...gone);
            const live = claimed.filter(([, f]) => f);
            if (live.length) return live.map(toDelivery);
          }
          const res = (await blocking.xreadgroup("GROUP", this.group, me, "COUNT", max, "BLOCK", waitMs, "STREAMS", stream, ">")) as Array<[string, StreamEntry[]]> | null;
          return (res?.[0]?.[1] ?? []).map(toDelivery);
        }),
      begin: async (d) => {
        const key = this.statusKey(d.id);
        const res = await this.redis
          .multi()
          .hincrby(key, "attempts", 1)
          .hset(key, { state: "running", type, enqueuedAt: d.enqueuedAt, updatedAt: Date.now() })
          .pexpire(key, this.statusTtlMs)
          .hget(key, "error")
          .exec();
        const err = res?.find(([e]) => e)?.[0];
        if (!res || err) throw err ?? new Error("transaction aborted");
        return { attempt: Number(res[0]![1]), lastError: (res[3]![1] as string | null) ?? undefined };
      },
      touch: async (d) => {
        await this.redis.stratumJobTouch(stream, this.group, d.ref, me);
      },
      finish: async (d, outcome: Outcome) => {
        const text = outcome.kind === "done" ? JSON.stringify(outcome.result ?? null) : outcome.error;
        await this.redis.stratumJobFinish(
          stream,
          this.statusKey(d.id),
          this.dlq(type),
          this.group,
          d.ref,
          me,
          outcome.kind,
          Date.now(),
          this.statusTtlMs,
          text,
          d.id,
          type,
          JSON.stringify(d.payload ?? null),
          outcome.kind === "dead" ? outcome.attempts : 0,
          this.maxDeadLetters,
        );
      },
      interrupt: () => blocking.disconnect(),
      close: () => blocking.disconnect(),
    };
  }
}
