// Shadow traffic: after the live answer went out, the candidate version gets
// the same request, off the response path. Bounded concurrency (extra mirrors
// are skipped, never queued), a hard timeout that frees the slot even when the
// candidate ignores its abort signal, no session or memory writes (the mirror
// runs without a session id or user), no cache. Its answer is compared with
// the live one and stored.
import { exactMatch, tokenF1 } from "../evals/index.js";
import { answeredByFallback, type Served } from "../models/index.js";
import type { Logger } from "../ops/logger.js";
import type { ChatRequest, Usage } from "../protocol/openai.js";
import type { Pipeline, TurnContext } from "../pipelines/index.js";
import { completionText, failedOutcome, wasWithheld, type Outcome } from "./outcome.js";
import type { RolloutService } from "./service.js";
import type { Rollout } from "./types.js";

export interface ShadowOptions {
  maxConcurrent?: number;
  timeoutMs?: number;
}

export type CostOf = (served: Served<unknown>, usage: Usage | undefined) => number;

export interface Mirror {
  rollout: Rollout;
  candidate: Pipeline;
  request: ChatRequest;
  ctx: TurnContext;
  live: Outcome;
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

export class ShadowRunner {
  private inFlightCount = 0;
  private skippedCount = 0;
  private readonly maxConcurrent: number;
  private readonly timeoutMs: number;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly rollouts: RolloutService,
    private readonly cost: CostOf,
    private readonly log: Logger,
    opts: ShadowOptions = {},
  ) {
    this.maxConcurrent = opts.maxConcurrent ?? 4;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Mirrors skipped because `maxConcurrent` were already running. */
  get skipped(): number {
    return this.skippedCount;
  }

  /** Starts the mirror on a later turn of the event loop; never throws. */
  mirror(m: Mirror): void {
    if (this.inFlightCount >= this.maxConcurrent) {
      this.skippedCount++;
      this.log.debug({ rollout: m.rollout.id, inFlight: this.inFlightCount }, "shadow skipped: at its concurrency bound");
      return;
    }
    this.inFlightCount++;
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run(m))
      .catch((err: unknown) => this.log.error({ err, rollout: m.rollout.id }, "shadow comparison failed"))
      .finally(() => {
        this.inFlightCount--;
        this.running.delete(run);
      });
    this.running.add(run);
  }

  /** Resolves when the mirrors in flight have finished (or timed out). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  private async run(m: Mirror): Promise<void> {
    const request: ChatRequest = { ...m.request, stream: false };
    delete request.stream_options;
    const controller = new AbortController();
    const ctx: TurnContext = { tenant: m.ctx.tenant, requestId: `${m.ctx.requestId}:shadow`, noCache: true, signal: controller.signal };
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort(new Error("shadow timeout"));
        reject(new Error(`the shadow gave no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
    });
    let cand: Outcome;
    try {
      const served = await Promise.race([m.candidate.complete(request, ctx), timeout]);
      cand = {
        latencyMs: performance.now() - started,
        error: answeredByFallback(served),
        blocked: wasWithheld(served.result),
        text: completionText(served.result),
        costUsd: this.cost(served, served.result.usage),
      };
    } catch (e) {
      cand = failedOutcome(e, performance.now() - started, false);
    } finally {
      clearTimeout(timer);
    }
    const metrics: Record<string, number> = {
      latency_delta_ms: Math.round(cand.latencyMs - m.live.latencyMs),
      cost_delta_usd: cand.costUsd - m.live.costUsd,
    };
    if (!cand.errorMessage) {
      metrics.exact_match = exactMatch(cand.text, m.live.text);
      metrics.token_f1 = r4(tokenF1(cand.text, m.live.text));
    }
    await this.rollouts.addShadow(m.rollout, {
      at: Date.now(),
      requestId: m.ctx.requestId,
      baseline: { latencyMs: Math.round(m.live.latencyMs), costUsd: m.live.costUsd, text: m.live.text },
      candidate: { latencyMs: Math.round(cand.latencyMs), costUsd: cand.costUsd, text: cand.text, ...(cand.errorMessage ? { error: cand.errorMessage } : {}) },
      metrics,
    });
    await this.rollouts.observe(m.rollout, { side: "candidate", latencyMs: cand.latencyMs, error: cand.error, blocked: cand.blocked });
  }
}
