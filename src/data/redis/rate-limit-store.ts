// Rate-limit counters shared by every replica. Same sliding-window algorithm as
// MemoryRateLimitStore (weighted two-window approximation), run atomically in
// Lua against Redis server time so replica clock skew does not matter.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { RateLimitStore, WindowResult } from "../types.js";
import { guard } from "./client.js";

// Window state in a hash {s: start, c: current, p: previous}; expires after two windows idle.
const WINDOW_LUA = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function load(key, w, now)
  local h = redis.call('HMGET', key, 's', 'c', 'p')
  local s, c, p = tonumber(h[1]), tonumber(h[2]) or 0, tonumber(h[3]) or 0
  if not s then
    return now - (now % w), 0, 0
  end
  local el = now - s
  if el >= 2 * w then
    return now - (now % w), 0, 0
  elseif el >= w then
    return s + w, 0, c
  end
  return s, c, p
end
local function save(key, w, s, c, p)
  redis.call('HSET', key, 's', string.format('%.17g', s), 'c', string.format('%.17g', c), 'p', string.format('%.17g', p))
  redis.call('PEXPIRE', key, 2 * w)
end
`;

const CONSUME_LUA =
  WINDOW_LUA +
  `
local amount, limit, w = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms()
local s, c, p = load(KEYS[1], w, now)
local used = c + p * (1 - (now - s) / w)
if used + amount > limit and not (amount > limit and used == 0) then
  local need = used + amount - limit
  local perMs = p / w
  local untilRoll = s + w - now
  local reset = untilRoll
  if perMs > 0 then reset = math.min(untilRoll, math.ceil(need / perMs)) end
  save(KEYS[1], w, s, c, p)
  return {0, math.max(0, math.floor(limit - used)), math.max(1, reset)}
end
save(KEYS[1], w, s, c + amount, p)
return {1, math.max(0, math.floor(limit - used - amount)), s + w - now}
`;

const ADD_LUA =
  WINDOW_LUA +
  `
local amount, w = tonumber(ARGV[1]), tonumber(ARGV[2])
local s, c, p = load(KEYS[1], w, now_ms())
save(KEYS[1], w, s, math.max(0, c + amount), p)
return 1
`;

// Concurrency slots: a sorted set of slot tokens scored by expiry. Expired
// tokens (a crashed replica's) are dropped before counting.
const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

// Extend held tokens (only those still present): ARGV[1] = ttl, ARGV[2..] = tokens.
const REFRESH_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

interface Scripts {
  stratumRlConsume(key: string, amount: number, limit: number, windowMs: number): Promise<[number, number, number]>;
  stratumRlAdd(key: string, amount: number, windowMs: number): Promise<number>;
  stratumRlAcquire(key: string, limit: number, token: string, ttlMs: number): Promise<number>;
  stratumRlRefresh(key: string, ttlMs: number, ...tokens: string[]): Promise<number>;
}

export interface RedisRateLimitStoreOptions {
  /** Namespace inside the client's keyPrefix (default "rl:"). */
  namespace?: string;
  /**
   * Safety net for concurrency slots: a slot not refreshed for this long is
   * dropped (its replica crashed). Slots held by this process are refreshed
   * every ttl/3 while held. Default 120 000 ms.
   */
  slotTtlMs?: number;
}

export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis & Scripts;
  private readonly ns: string;
  private readonly slotTtlMs: number;
  /** Slot tokens this process holds, per key (released LIFO). */
  private readonly held = new Map<string, string[]>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(redis: Redis, opts: RedisRateLimitStoreOptions = {}) {
    this.ns = opts.namespace ?? "rl:";
    this.slotTtlMs = opts.slotTtlMs ?? 120_000;
    defineScripts(redis);
    this.redis = redis as Redis & Scripts;
  }

  async consume(key: string, amount: number, limit: number, windowMs: number): Promise<WindowResult> {
    const [allowed, remaining, resetMs] = await guard("rate-limit consume", () =>
      this.redis.stratumRlConsume(this.ns + "w:" + key, amount, limit, Math.max(1, Math.round(windowMs))),
    );
    return { allowed: allowed === 1, limit, remaining, resetMs };
  }

  async add(key: string, amount: number, windowMs: number): Promise<void> {
    await guard("rate-limit add", () => this.redis.stratumRlAdd(this.ns + "w:" + key, amount, Math.max(1, Math.round(windowMs))));
  }

  async acquire(key: string, limit: number): Promise<boolean> {
    const token = randomUUID();
    const ok = await guard("rate-limit acquire", () => this.redis.stratumRlAcquire(this.ns + "c:" + key, limit, token, this.slotTtlMs));
    if (ok !== 1) return false;
    const tokens = this.held.get(key) ?? [];
    tokens.push(token);
    this.held.set(key, tokens);
    this.startHeartbeat();
    return true;
  }

  /** Releases one slot this process holds for `key` (a no-op when it holds none). */
  async release(key: string): Promise<void> {
    const tokens = this.held.get(key);
    const token = tokens?.pop();
    if (!tokens || token === undefined) return;
    if (!tokens.length) this.held.delete(key);
    if (!this.held.size) this.stopHeartbeat();
    await guard("rate-limit release", () => this.redis.zrem(this.ns + "c:" + key, token));
  }

  /** Stop refreshing held slots (they expire after slotTtlMs). */
  close(): void {
    this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const [key, tokens] of this.held) {
        if (tokens.length) this.redis.stratumRlRefresh(this.ns + "c:" + key, this.slotTtlMs, ...tokens).catch(() => {});
      }
    }, Math.max(10, Math.floor(this.slotTtlMs / 3)));
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function defineScripts(redis: Redis): void {
  const r = redis as Redis & Partial<Scripts>;
  if (r.stratumRlConsume) return;
  redis.defineCommand("stratumRlConsume", { numberOfKeys: 1, lua: CONSUME_LUA });
  redis.defineCommand("stratumRlAdd", { numberOfKeys: 1, lua: ADD_LUA });
  redis.defineCommand("stratumRlAcquire", { numberOfKeys: 1, lua: ACQUIRE_LUA });
  redis.defineCommand("stratumRlRefresh", { numberOfKeys: 1, lua: REFRESH_LUA });
}
