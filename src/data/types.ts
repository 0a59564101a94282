// Store interfaces: every piece of durable or shared state goes through one of
// these. SQLite/in-memory implementations live beside this file; PostgreSQL and
// Redis implementations plug in behind the same contracts.

export type KeyRole = "admin" | "user";

export interface ApiKeyLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  concurrent?: number;
  /** USD per UTC day. */
  dailyBudgetUsd?: number;
  /** USD per UTC calendar month. */
  monthlyBudgetUsd?: number;
}

export interface ApiKeyRecord {
  id: string;
  tenant: string;
  name: string;
  role: KeyRole;
  /** sha256 of the key; the key itself is never stored. */
  hash: string;
  /** First characters of the key, to recognise it in listings. */
  prefix: string;
  limits: ApiKeyLimits;
  createdAt: number;
  revokedAt: number | null;
}

export interface KeyStore {
  create(record: ApiKeyRecord): Promise<void>;
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  list(filter?: { tenant?: string; includeRevoked?: boolean }): Promise<ApiKeyRecord[]>;
  /** Returns false when no active key has that id. */
  revoke(id: string, at: number): Promise<boolean>;
  countAdmins(): Promise<number>;
}

export interface UsageRecord {
  requestId: string;
  at: number;
  keyId: string;
  tenant: string;
  user: string | null;
  model: string;
  deployment: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  status: number;
  cached: boolean;
  stream: boolean;
  latencyMs: number;
}

/** Whose spend a budget caps: one API key, or every key of a tenant. */
export interface SpendSubject {
  kind: "key" | "tenant";
  id: string;
}

/** One key's use of one model over a period. */
export interface UsageSummaryRow {
  keyId: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** Everything used in one UTC hour (`hour`: its start, ms epoch). */
export interface UsageHour {
  hour: number;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/**
 * A row per request plus sums per UTC hour, key and model (data/usage-hours.ts).
 * Costs and summaries read the sums for whole hours and the rows only for the
 * part of the period before its first whole hour: once rows are deleted
 * (deleteRowsBefore), a period that starts on the hour still counts everything,
 * one that starts before the deletion point and off the hour misses that part.
 */
export interface UsageStore {
  /** Append records and add them to their hours, in one transaction (called in batches, off the request path). */
  append(records: readonly UsageRecord[]): Promise<void>;
  /** Total cost of a key's or a tenant's requests since a time (ms epoch). */
  costSince(subject: SpendSubject, since: number): Promise<number>;
  /** Per key and model since a time, costliest first. */
  summary(filter: { since: number; tenant?: string }): Promise<UsageSummaryRow[]>;
  /** Per UTC hour from the hour that contains `since`, oldest first, from the sums alone; hours without use are left out. */
  hourly(filter: { since: number; tenant?: string }): Promise<UsageHour[]>;
  /** Deletes up to `limit` per-request rows older than `before` (ms epoch), oldest first; the hourly sums stay. Returns how many went. */
  deleteRowsBefore(before: number, limit: number): Promise<number>;
}

export interface CacheStore<V = unknown> {
  get(key: string): Promise<V | undefined>;
  set(key: string, value: V, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drop every entry whose key starts with the prefix (e.g. one tenant). */
  clear(prefix?: string): Promise<void>;
}

/**
 * Answers filed under a partition (an exact key: tenant, model, everything but the text matched
 * by meaning) and a unit vector; a lookup returns the most similar live entry of the partition.
 */
export interface SemanticCacheStore<V = unknown> {
  /** The entry of `partition` whose vector has the highest dot product with `vector`, if at least `minScore`. */
  nearest(partition: string, vector: Float32Array, minScore: number): Promise<{ value: V; score: number } | undefined>;
  add(partition: string, vector: Float32Array, value: V, ttlMs: number): Promise<void>;
  /** Drop every partition that starts with the prefix (e.g. one tenant). */
  clear(prefix?: string): Promise<void>;
}

export interface WindowResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** ms until the window has room again (0 for a concurrency slot: it frees when a request ends). */
  resetMs: number;
}

/** One admission check: count `amount` against a sliding window, or take a concurrency slot. */
export type LimitCheck =
  | { kind: "window"; key: string; amount: number; limit: number; windowMs: number }
  | { kind: "slot"; key: string; limit: number };

export interface AdmitResult {
  /** Every check passed, and all were counted / taken. */
  admitted: boolean;
  /** One per check, in order, each judged on the state before this admission. */
  results: WindowResult[];
}

/** Counters for rate limiting. Must be atomic per key (Redis: Lua). */
export interface RateLimitStore {
  /**
   * All checks pass and are counted together, or none is counted: one call
   * (one round trip to a shared store) per request, and a request refused by
   * one limit never uses up another's quota. Keys must be distinct.
   */
  admit(checks: readonly LimitCheck[]): Promise<AdmitResult>;
  /** Count usage after the fact (e.g. completion tokens); never rejects. Negative amounts refund (floored at 0). */
  add(key: string, amount: number, windowMs: number): Promise<void>;
  /** Give back a slot taken by admit(). */
  release(key: string): Promise<void>;
}
