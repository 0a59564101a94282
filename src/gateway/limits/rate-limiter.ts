// Per-key and per-end-user limits: requests/min, tokens/min, concurrent
// requests. Token limits count prompt tokens on admission and completion
// tokens after the response (as OpenAI does), so a window can overshoot by
// at most one response.
import { StratumError } from "../../core/errors.js";
import type { LimitCheck, RateLimitStore, WindowResult } from "../../data/types.js";
import type { Limits } from "../../config/schema.js";

const MINUTE = 60_000;

export interface Admission {
  headers: Record<string, string>;
  /** Count completion tokens after the response. */
  addTokens(n: number): void;
  /** Free the concurrency slots; idempotent. */
  release(): void;
}

export interface LimitScope {
  /** "key" or "user": used in metrics and messages. */
  scope: "key" | "user";
  id: string;
  limits: Limits;
}

interface ScopeKeys {
  rpm: string;
  tpm: string;
  conc: string;
}

/** No limit applies: nothing to count or free (shared, so frozen). */
const NO_LIMITS: Admission = Object.freeze({ headers: Object.freeze({}) as Record<string, string>, addTokens: () => {}, release: () => {} });

export class RateLimiter {
  private readonly keys = new Map<string, ScopeKeys>();

  constructor(
    private readonly store: RateLimitStore,
    private readonly onReject: (scope: string, limit: string) => void = () => {},
    /** A counter update after admission failed (e.g. the shared store is down); the request goes on. */
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /**
   * Admit a request or throw RateLimited. `promptTokens` is only computed when
   * a token limit exists. Every limit of every scope is checked in one store
   * call and counted only if all pass, so e.g. an end user over their own
   * limit does not use up the key's quota.
   */
  async admit(scopes: LimitScope[], promptTokens: () => number): Promise<Admission> {
    const checks: LimitCheck[] = [];
    const owners: LimitScope[] = [];
    const whats: Limit[] = [];
    let slots: string[] | undefined;
    for (const s of scopes) {
      const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrent } = s.limits;
      if (!rpm && !tpm && !concurrent) continue;
      const keys = this.keysOf(s);
      if (rpm) {
        checks.push({ kind: "window", key: keys.rpm, amount: 1, limit: rpm, windowMs: MINUTE });
        owners.push(s);
        whats.push("requests");
      }
      if (tpm) {
        checks.push({ kind: "window", key: keys.tpm, amount: Math.min(promptTokens(), tpm), limit: tpm, windowMs: MINUTE });
        owners.push(s);
        whats.push("tokens");
      }
      if (concurrent) {
        checks.push({ kind: "slot", key: keys.conc, limit: concurrent });
        owners.push(s);
        whats.push("concurrent");
        (slots ??= []).push(keys.conc);
      }
    }
    if (!checks.length) return NO_LIMITS;

    const { admitted, results } = await this.store.admit(checks);
    const headers: Record<string, string> = {};
    // Headers as the checks go, the key's over the user's, up to the first refusal.
    for (let i = 0; i < checks.length; i++) {
      const scope = owners[i]!;
      const what = whats[i]!;
      const r = results[i]!;
      if (what !== "concurrent" && (scope.scope === "key" || !headers[HEADER_NAMES[what].limit])) setHeaders(headers, what, r);
      if (!admitted && !r.allowed) this.reject(scope, what, r, headers);
    }
    return new LimitedAdmission(this, scopes, headers, slots);
  }

  /** A counter update after admission; a failure is reported, never the request's. */
  addTokens(key: string, n: number): void {
    this.store.add(key, n, MINUTE).catch(this.onError);
  }

  release(slot: string): void {
    this.store.release(slot).catch(this.onError);
  }

  /** The store keys of a scope's counters, made once per scope id (a bounded cache: ids repeat request after request). */
  keysOf(s: LimitScope): ScopeKeys {
    const id = `${s.scope}:${s.id}`;
    let keys = this.keys.get(id);
    if (!keys) {
      if (this.keys.size >= 10_000) this.keys.clear();
      keys = { rpm: `${id}:rpm`, tpm: `${id}:tpm`, conc: `${id}:conc` };
      this.keys.set(id, keys);
    }
    return keys;
  }

  private reject(s: LimitScope, what: Limit, r: WindowResult, headers: Record<string, string>): never {
    this.onReject(s.scope, what);
    if (what === "concurrent") {
      throw new StratumError("RateLimited", `Concurrency limit reached for ${s.scope} ${s.id}: ${r.limit} requests in flight. Retry when one finishes.`, {
        retryAfterMs: 1000,
        code: "concurrency_limit_exceeded",
        headers: { ...headers, "x-ratelimit-limit-concurrent": String(r.limit), "x-ratelimit-remaining-concurrent": "0" },
      });
    }
    const desc = `${r.limit} ${what === "requests" ? "requests" : "tokens"} per minute`;
    throw new StratumError("RateLimited", `Rate limit reached for ${s.scope} ${s.id} on ${what}: limit ${desc}. Please retry after ${Math.ceil(r.resetMs / 1000)}s.`, {
      retryAfterMs: r.resetMs,
      code: "rate_limit_exceeded",
      headers: { ...headers },
    });
  }
}

type Limit = "requests" | "tokens" | "concurrent";

/** An admitted request's hold on its limits (a class: no closures per request). */
class LimitedAdmission implements Admission {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly scopes: LimitScope[],
    readonly headers: Record<string, string>,
    private slots: string[] | undefined,
  ) {}

  addTokens(n: number): void {
    // Negative n corrects an admission estimate that was too high.
    if (n === 0) return;
    for (const s of this.scopes) if (s.limits.tokensPerMinute) this.limiter.addTokens(this.limiter.keysOf(s).tpm, n);
  }

  release(): void {
    const slots = this.slots;
    this.slots = undefined;
    if (slots) for (const k of slots) this.limiter.release(k);
  }
}

// Header names as constants: names built per request (`x-ratelimit-limit-${what}`) cost ~1 µs.
const HEADER_NAMES = {
  requests: { limit: "x-ratelimit-limit-requests", remaining: "x-ratelimit-remaining-requests", reset: "x-ratelimit-reset-requests" },
  tokens: { limit: "x-ratelimit-limit-tokens", remaining: "x-ratelimit-remaining-tokens", reset: "x-ratelimit-reset-tokens" },
} as const;

function setHeaders(h: Record<string, string>, what: "requests" | "tokens", r: WindowResult): void {
  const n = HEADER_NAMES[what];
  h[n.limit] = String(r.limit);
  h[n.remaining] = String(r.remaining);
  h[n.reset] = `${(r.resetMs / 1000).toFixed(3)}s`;
}
