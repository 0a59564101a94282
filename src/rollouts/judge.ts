// The canary verdict: candidate vs baseline stats against the thresholds.
// Pure, so the numbers behind every decision can be logged and tested.
import type { Thresholds, VersionStats } from "./types.js";

export interface Verdict {
  verdict: "wait" | "pass" | "fail";
  /** Why it failed (or what it waits for); empty on pass. */
  reasons: string[];
  numbers: Record<string, unknown>;
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

export function judge(baseline: VersionStats, candidate: VersionStats, t: Thresholds): Verdict {
  const numbers: Record<string, unknown> = {
    baseline_requests: baseline.requests,
    candidate_requests: candidate.requests,
    baseline_error_rate: r4(baseline.error_rate),
    candidate_error_rate: r4(candidate.error_rate),
    baseline_p95_ms: baseline.p95_ms,
    candidate_p95_ms: candidate.p95_ms,
    baseline_block_rate: r4(baseline.block_rate),
    candidate_block_rate: r4(candidate.block_rate),
    min_requests: t.minRequests,
  };
  const short = [candidate.requests < t.minRequests ? `candidate has ${candidate.requests}/${t.minRequests} requests` : "", baseline.requests < t.minRequests ? `baseline has ${baseline.requests}/${t.minRequests} requests` : ""].filter(Boolean);
  if (short.length) return { verdict: "wait", reasons: short, numbers };

  const reasons: string[] = [];
  const errorDelta = candidate.error_rate - baseline.error_rate;
  numbers.error_rate_delta = r4(errorDelta);
  if (errorDelta > t.maxErrorRateDelta) reasons.push(`error rate ${r4(candidate.error_rate)} vs ${r4(baseline.error_rate)} (delta ${r4(errorDelta)} > ${t.maxErrorRateDelta})`);
  const p95Limit = baseline.p95_ms * t.maxP95Ratio + t.p95SlackMs;
  numbers.p95_limit_ms = Math.round(p95Limit);
  if (candidate.p95_ms > p95Limit) reasons.push(`p95 ${candidate.p95_ms} ms > ${Math.round(p95Limit)} ms (baseline ${baseline.p95_ms} × ${t.maxP95Ratio} + ${t.p95SlackMs})`);
  const blockDelta = candidate.block_rate - baseline.block_rate;
  numbers.block_rate_delta = r4(blockDelta);
  if (blockDelta > t.maxBlockRateDelta) reasons.push(`guardrail-block rate ${r4(candidate.block_rate)} vs ${r4(baseline.block_rate)} (delta ${r4(blockDelta)} > ${t.maxBlockRateDelta})`);
  // Online-eval metrics count when both sides have scores; without scores the other signals decide.
  const evalDeltas: Record<string, number> = {};
  for (const [metric, c] of Object.entries(candidate.eval)) {
    const b = baseline.eval[metric];
    if (b === undefined) continue;
    evalDeltas[metric] = r4(c - b);
    if (c - b < t.minEvalDelta) reasons.push(`eval ${metric} ${r4(c)} vs ${r4(b)} (delta ${r4(c - b)} < ${t.minEvalDelta})`);
  }
  numbers.eval_deltas = evalDeltas;
  return { verdict: reasons.length ? "fail" : "pass", reasons, numbers };
}
