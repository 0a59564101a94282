// Rate-limit counters shared by every replica. Same sliding-window algorithm as
// MemoryRateLimitStore (weighted two-window approximation), run atomically in
// Lua against Redis server time so replica clock skew does not matter.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { AdmitResult, LimitCheck, RateLimitStore } from "../types.js";
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

// Every check judged on the state before this admission, then all counted
// or none. Per check, ARGV holds 4 values: kind ('w' window, 's' slot),
// amount (windows) or slot token, limit, window ms (windows) or slot ttl ms.
// Replies {admitted, allowed1, remaining1, reset1, allowed2, ...}. All keys
// of one call must live on one node (a single Redis, or one hash slot).
const ADMIT_LUA =
  WINDOW_LUA +
  `
local now = now_ms()
local out = {1}
local windows = {}
for i = 1, #KEYS do
  local b = (i - 1) * 4
  local kind, limit, w = ARGV[b + 1], tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
  local allowed, remaining, reset
  if kind == 'w' then
    local amount = tonumber(ARGV[b + 2])
    local s, c, p = load(KEYS[i], w, now)
    windows[i] = {s, c, p}
    local used = c + p * (1 - (now - s) / w)
    if used + amount > limit and not (amount > limit and used == 0) then
      local need = used + amount - limit
      local perMs = p / w
      reset = s + w - now
      if perMs > 0 then reset = math.min(reset, math.ceil(need / perMs)) end
      allowed, remaining, reset = 0, math.max(0, math.floor(limit - used)), math.max(1, reset)
    else
      allowed, remaining, reset = 1, math.max(0, math.floor(limit - used - amount)), s + w - now
    end
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    local held = redis.call('ZCARD', KEYS[i])
    if held < limit then allowed, remaining = 1, limit - held - 1 else allowed, remaining = 0, 0 end
    reset = 0
  end
  if allowed == 0 then out[1] = 0 end
  out[#out + 1] = allowed
  out[#out + 1] = remaining
  out[#out + 1] = reset
end
if out[1] == 1 then
  for i = 1, #KEYS do
    local b = (i - 1) * 4
    if ARGV[b + 1] == 'w' then
      local st = windows[i]
      save(KEYS[i], tonumber(ARGV[b + 4]), st[1], st[2] + tonumber(ARGV[b + 2]), st[3])
    else
      local ttl = tonumber(ARGV[b + 4])
      redis.call('ZADD', KEYS[i], now + ttl, ARGV[b + 2])
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
  end
end
return out
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
// tokens (a crashed replica's) are dropped before counting (in ADMIT_LUA).

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
  /** numberOfKeys first: the checks' keys, then 4 values per check. */
  stratumRlAdmit(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<number[]>;
  stratumRlAdd(key: string, amount: number, windowMs: number): Promise<number>;
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

  async admit(checks: readonly LimitCheck[]): Promise<AdmitResult> {
    const keys: string[] = [];
    const args: Array<string | number> = [];
    const tokens: Array<string | undefined> = [];
    for (const c of checks) {
      if (c.kind === "window") {
        keys.push(this.ns + "w:" + c.key);
        args.push("w", c.amount, c.limit, Math.max(1, Math.round(c.windowMs)));
        tokens.push(undefined);
      } else {
        const token = randomUUID();
        keys.push(this.ns + "c:" + c.key);
        args.push("s", token, c.limit, this.slotTtlMs);
        tokens.push(token);
      }
    }
    const reply = await guard("rate-limit admit", () => this.redis.stratumRlAdmit(keys.length, ...keys, ...args));
    const admitted = reply[0] === 1;
    const results = checks.map((c, i) => ({ allowed: reply[1 + 3 * i] === 1, limit: c.limit, remaining: reply[2 + 3 * i]!, resetMs: reply[3 + 3 * i]! }));
    if (admitted) {
      checks.forEach((c, i) => {
        const token = tokens[i];
        if (token === undefined) return;
        const held = this.held.get(c.key) ?? [];
        held.push(token);
        this.held.set(c.key, held);
      });
      if (this.held.size) this.startHeartbeat();
    }
    return { admitted, results };
  }

  async add(key: string, amount: number, windowMs: number): Promise<void> {
    await guard("rate-limit add", () => this.redis.stratumRlAdd(this.ns + "w:" + key, amount, Math.max(1, Math.round(windowMs))));
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
  if (r.stratumRlAdmit) return;
  redis.defineCommand("stratumRlAdmit", { lua: ADMIT_LUA });
  redis.defineCommand("stratumRlAdd", { numberOfKeys: 1, lua: ADD_LUA });
  redis.defineCommand("stratumRlRefresh", { numberOfKeys: 1, lua: REFRESH_LUA });
}
