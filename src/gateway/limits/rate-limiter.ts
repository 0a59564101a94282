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

export class RateLimiter {
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
    const owners: Array<{ scope: LimitScope; what: Limit }> = [];
    for (const s of scopes) {
      const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrent } = s.limits;
      if (rpm) {
        checks.push({ kind: "window", key: `${s.scope}:${s.id}:rpm`, amount: 1, limit: rpm, windowMs: MINUTE });
        owners.push({ scope: s, what: "requests" });
      }
      if (tpm) {
        checks.push({ kind: "window", key: `${s.scope}:${s.id}:tpm`, amount: Math.min(promptTokens(), tpm), limit: tpm, windowMs: MINUTE });
        owners.push({ scope: s, what: "tokens" });
      }
      if (concurrent) {
        checks.push({ kind: "slot", key: `${s.scope}:${s.id}:conc`, limit: concurrent });
        owners.push({ scope: s, what: "concurrent" });
      }
    }
    const headers: Record<string, string> = {};
    if (!checks.length) return { headers, addTokens: () => {}, release: () => {} };

    const { admitted, results } = await this.store.admit(checks);
    // Headers as the checks go, the key's over the user's, up to the first refusal.
    for (let i = 0; i < checks.length; i++) {
      const { scope, what } = owners[i]!;
      const r = results[i]!;
      if (what !== "concurrent" && (scope.scope === "key" || !headers[HEADER_NAMES[what].limit])) setHeaders(headers, what, r);
      if (!admitted && !r.allowed) this.reject(scope, what, r, headers);
    }

    const slots = checks.filter((c) => c.kind === "slot").map((c) => c.key);
    return {
      headers,
      addTokens: (n: number) => {
        // Negative n corrects an admission estimate that was too high.
        if (n === 0) return;
        for (const s of scopes) if (s.limits.tokensPerMinute) this.store.add(`${s.scope}:${s.id}:tpm`, n, MINUTE).catch(this.onError);
      },
      release: () => {
        for (const k of slots.splice(0)) this.store.release(k).catch(this.onError);
      },
    };
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
