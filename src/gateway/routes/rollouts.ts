// The rollouts API: start a blue-green, canary or shadow rollout of a
// pipeline version (admin), list and read rollouts with per-version stats and
// their decision log, promote or roll back (admin), and the stored shadow
// comparisons.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { StratumError } from "../../core/errors.js";
import { checkAliasName } from "../../registry/index.js";
import { trafficPercent, type Rollout, type RolloutService, type RolloutStatus, type ShadowComparison, type Thresholds } from "../../rollouts/index.js";
import type { GatewayContext } from "../context.js";
import { validateBody } from "../validate.js";

const StartSchema = z.strictObject({
  pipeline: z.string().min(1).max(128),
  alias: z.string().min(1).max(64).optional(),
  strategy: z.enum(["blue-green", "canary", "shadow"]),
  to_version: z.number().int().positive(),
  steps: z.array(z.number().gt(0).max(100)).min(1).max(20).optional(),
  hold: z.strictObject({ requests: z.number().int().positive().optional(), seconds: z.number().positive().optional() }).optional(),
  thresholds: z
    .strictObject({
      max_error_rate_delta: z.number().min(0).max(1).optional(),
      max_p95_ratio: z.number().min(1).optional(),
      p95_slack_ms: z.number().min(0).optional(),
      max_block_rate_delta: z.number().min(0).max(1).optional(),
      min_eval_delta: z.number().min(-1).max(1).optional(),
      min_requests: z.number().int().positive().optional(),
    })
    .optional(),
});
const DecisionSchema = z.strictObject({ reason: z.string().max(2_000).optional() });
const STATUSES: readonly RolloutStatus[] = ["running", "promoted", "rolled_back", "aborted", "completed"];

const thresholdsView = (t: Thresholds) => ({
  max_error_rate_delta: t.maxErrorRateDelta,
  max_p95_ratio: t.maxP95Ratio,
  p95_slack_ms: t.p95SlackMs,
  max_block_rate_delta: t.maxBlockRateDelta,
  min_eval_delta: t.minEvalDelta,
  min_requests: t.minRequests,
});

export async function rolloutView(s: RolloutService, r: Rollout) {
  return {
    object: "rollout",
    id: r.id,
    pipeline: r.pipeline,
    alias: r.alias,
    strategy: r.strategy,
    from_version: r.fromVersion,
    to_version: r.toVersion,
    status: r.status,
    step_index: r.stepIndex,
    steps: r.steps,
    traffic_percent: trafficPercent(r),
    hold: r.hold,
    started_at: r.startedAt,
    updated_at: r.updatedAt,
    created_by: r.createdBy,
    thresholds: thresholdsView(r.thresholds),
    stats: await s.stats(r),
    log: r.log,
  };
}

const shadowView = (c: ShadowComparison) => ({
  at: c.at,
  request_id: c.requestId,
  baseline: { latency_ms: c.baseline.latencyMs, cost_usd: c.baseline.costUsd, text: c.baseline.text },
  candidate: { latency_ms: c.candidate.latencyMs, cost_usd: c.candidate.costUsd, text: c.candidate.text, ...(c.candidate.error ? { error: c.candidate.error } : {}) },
  metrics: c.metrics,
});

export function rolloutRoutes(app: FastifyInstance, g: GatewayContext): void {
  const need = (): RolloutService => {
    if (!g.rollouts) throw new StratumError("Unavailable", "rollouts are not configured on this server", { code: "rollouts_unavailable" });
    return g.rollouts;
  };
  const mustGet = async (id: string) => {
    const r = await need().get(id);
    if (!r) throw new StratumError("NotFound", `No rollout ${id}`, { param: "id", code: "rollout_not_found" });
    return r;
  };

  app.post("/v1/rollouts", async (request, reply) => {
    const key = await g.authenticateAdmin(request);
    const b = validateBody(StartSchema, request.body);
    if (b.alias !== undefined) checkAliasName(b.alias);
    const t = b.thresholds ?? {};
    const thresholds: Partial<Thresholds> = {
      ...(t.max_error_rate_delta !== undefined ? { maxErrorRateDelta: t.max_error_rate_delta } : {}),
      ...(t.max_p95_ratio !== undefined ? { maxP95Ratio: t.max_p95_ratio } : {}),
      ...(t.p95_slack_ms !== undefined ? { p95SlackMs: t.p95_slack_ms } : {}),
      ...(t.max_block_rate_delta !== undefined ? { maxBlockRateDelta: t.max_block_rate_delta } : {}),
      ...(t.min_eval_delta !== undefined ? { minEvalDelta: t.min_eval_delta } : {}),
      ...(t.min_requests !== undefined ? { minRequests: t.min_requests } : {}),
    };
    const r = await need().start({
      pipeline: b.pipeline,
      strategy: b.strategy,
      toVersion: b.to_version,
      createdBy: key.id,
      thresholds,
      ...(b.alias !== undefined ? { alias: b.alias } : {}),
      ...(b.steps ? { steps: b.steps } : {}),
      ...(b.hold ? { hold: { ...(b.hold.requests !== undefined ? { requests: b.hold.requests } : {}), ...(b.hold.seconds !== undefined ? { seconds: b.hold.seconds } : {}) } } : {}),
    });
    return reply.code(201).send(await rolloutView(need(), r));
  });

  app.get<{ Querystring: { pipeline?: string; status?: string } }>("/v1/rollouts", async (request) => {
    await g.authenticate(request);
    const { pipeline, status } = request.query;
    if (status !== undefined && !STATUSES.includes(status as RolloutStatus)) throw new StratumError("InvalidRequest", `status must be one of ${STATUSES.join(", ")}`, { param: "status", code: "invalid_value" });
    const rows = await need().list({ ...(pipeline ? { pipeline } : {}), ...(status ? { status: status as RolloutStatus } : {}) });
    return { object: "list", data: await Promise.all(rows.map((r) => rolloutView(need(), r))) };
  });

  app.get<{ Params: { id: string } }>("/v1/rollouts/:id", async (request) => {
    await g.authenticate(request);
    return rolloutView(need(), await mustGet(request.params.id));
  });

  app.post<{ Params: { id: string } }>("/v1/rollouts/:id/promote", async (request) => {
    const key = await g.authenticateAdmin(request);
    if (request.body !== undefined) validateBody(DecisionSchema, request.body);
    return rolloutView(need(), await need().promote(request.params.id, key.id));
  });

  app.post<{ Params: { id: string } }>("/v1/rollouts/:id/rollback", async (request) => {
    const key = await g.authenticateAdmin(request);
    const body = request.body === undefined ? {} : validateBody(DecisionSchema, request.body);
    return rolloutView(need(), await need().rollback(request.params.id, key.id, body.reason));
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>("/v1/rollouts/:id/shadow", async (request) => {
    await g.authenticate(request);
    const raw = request.query.limit;
    const limit = raw === undefined ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1_000) throw new StratumError("InvalidRequest", "limit must be an integer in 1..1000", { param: "limit", code: "invalid_value" });
    const r = await mustGet(request.params.id);
    return { object: "list", data: (await need().store.shadows(r.id, limit)).map(shadowView) };
  });
}
