// Per-key and per-end-user limits: requests/min, tokens/min, concurrent
// requests. Token limits count prompt tokens on admission and completion
// tokens after the response (as OpenAI does), so a window can overshoot by
// at most one response.
import { StratumError } from "../../core/errors.js";
import type { RateLimitStore, WindowResult } from "../../data/types.js";
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

  /** Admit a request or throw RateLimited. `promptTokens` is only computed when a token limit exists. */
  async admit(scopes: LimitScope[], promptTokens: () => number): Promise<Admission> {
    const headers: Record<string, string> = {};
    const held: string[] = [];
    // What earlier checks counted; given back if a later check refuses the request, so
    // e.g. an end user over their own limit does not use up the key's quota.
    const consumed: Array<[string, number]> = [];
    const releaseAll = () => {
      for (const k of held.splice(0)) this.store.release(k).catch(this.onError);
    };
    try {
      for (const s of scopes) {
        const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrent } = s.limits;
        if (rpm) {
          const k = `${s.scope}:${s.id}:rpm`;
          const r = await this.store.consume(k, 1, rpm, MINUTE);
          if (s.scope === "key" || !headers["x-ratelimit-limit-requests"]) setHeaders(headers, "requests", r);
          if (!r.allowed) this.reject(s, "requests", r, `${rpm} requests per minute`, headers);
          consumed.push([k, 1]);
        }
        if (tpm) {
          const k = `${s.scope}:${s.id}:tpm`;
          const n = Math.min(promptTokens(), tpm);
          const r = await this.store.consume(k, n, tpm, MINUTE);
          if (s.scope === "key" || !headers["x-ratelimit-limit-tokens"]) setHeaders(headers, "tokens", r);
          if (!r.allowed) this.reject(s, "tokens", r, `${tpm} tokens per minute`, headers);
          consumed.push([k, n]);
        }
        if (concurrent) {
          const k = `${s.scope}:${s.id}:conc`;
          if (!(await this.store.acquire(k, concurrent))) {
            this.onReject(s.scope, "concurrent");
            throw new StratumError("RateLimited", `Concurrency limit reached for ${s.scope} ${s.id}: ${concurrent} requests in flight. Retry when one finishes.`, {
              retryAfterMs: 1000,
              code: "concurrency_limit_exceeded",
              headers: { ...headers, "x-ratelimit-limit-concurrent": String(concurrent), "x-ratelimit-remaining-concurrent": "0" },
            });
          }
          held.push(k);
        }
      }
    } catch (e) {
      releaseAll();
      for (const [k, n] of consumed) this.store.add(k, -n, MINUTE).catch(this.onError);
      throw e;
    }
    return {
      headers,
      addTokens: (n: number) => {
        // Negative n corrects an admission estimate that was too high.
        if (n === 0) return;
        for (const s of scopes) if (s.limits.tokensPerMinute) this.store.add(`${s.scope}:${s.id}:tpm`, n, MINUTE).catch(this.onError);
      },
      release: releaseAll,
    };
  }

  private reject(s: LimitScope, what: string, r: WindowResult, desc: string, headers: Record<string, string>): never {
    this.onReject(s.scope, what);
    throw new StratumError("RateLimited", `Rate limit reached for ${s.scope} ${s.id} on ${what}: limit ${desc}. Please retry after ${Math.ceil(r.resetMs / 1000)}s.`, {
      retryAfterMs: r.resetMs,
      code: "rate_limit_exceeded",
      headers: { ...headers },
    });
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
