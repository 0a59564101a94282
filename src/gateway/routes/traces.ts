// Traces: list a tenant's traces (filters, cursor paging), one trace as a
// span tree, and user feedback on a trace. A user key sees its own tenant;
// an admin key may pass tenant= (lists default to its own tenant; one trace
// by id is found in any tenant unless tenant= narrows it).
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { StratumError } from "../../core/errors.js";
import type { ApiKeyRecord } from "../../data/types.js";
import { spanTree, type SpanNode, type StoredSpan, type TraceFeedback, type TraceStore, type TraceSummary } from "../../tracing/index.js";
import type { GatewayContext } from "../context.js";
import { validateBody } from "../validate.js";

const TRACE_ID = /^[0-9a-f]{32}$/;
const CURSOR = /^(\d{1,16})-([0-9a-f]{32})$/;

const msParam = z.coerce.number().int().nonnegative();

const ListQuerySchema = z.object({
  since: msParam.optional(),
  until: msParam.optional(),
  model: z.string().min(1).max(256).optional(),
  status: z.enum(["ok", "error"]).optional(),
  session: z.string().min(1).max(128).optional(),
  pipeline: z.string().min(1).max(256).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().regex(CURSOR, "a next_before cursor from a previous page").optional(),
  tenant: z.string().min(1).max(256).optional(),
});

const FeedbackSchema = z.strictObject({
  score: z.number().min(-1).max(1),
  comment: z.string().max(2_000).optional(),
});

export function summaryView(t: TraceSummary) {
  return {
    trace_id: t.traceId,
    name: t.name,
    started_at: t.startedAt,
    duration_ms: t.durationMs,
    status: t.status,
    tenant: t.tenant,
    model: t.model,
    ...(t.pipeline !== undefined ? { pipeline: t.pipeline } : {}),
    ...(t.pipelineVersion !== undefined ? { pipeline_version: t.pipelineVersion } : {}),
    ...(t.sessionId !== undefined ? { session_id: t.sessionId } : {}),
    ...(t.user !== undefined ? { user: t.user } : {}),
    ...(t.httpStatus !== undefined ? { http_status: t.httpStatus } : {}),
    tokens_in: t.tokensIn,
    tokens_out: t.tokensOut,
    cost_usd: t.costUsd,
    span_count: t.spanCount,
    ...(t.feedback ? { feedback: t.feedback } : {}),
    ...(t.scores ? { scores: t.scores } : {}),
  };
}

function spanView(s: StoredSpan) {
  return {
    span_id: s.spanId,
    ...(s.parentSpanId !== undefined ? { parent_span_id: s.parentSpanId } : {}),
    name: s.name,
    start_ms: s.startMs,
    end_ms: s.endMs,
    duration_ms: Math.round((s.endMs - s.startMs) * 1000) / 1000,
    status: s.status,
    ...(s.statusMessage !== undefined ? { status_message: s.statusMessage } : {}),
    attributes: s.attributes,
    events: s.events,
  };
}

type SpanNodeView = ReturnType<typeof spanView> & { children: SpanNodeView[] };

function nodeView(n: SpanNode): SpanNodeView {
  return { ...spanView(n.span), children: n.children.map(nodeView) };
}

function feedbackView(f: TraceFeedback) {
  return { object: "trace.feedback", id: f.id, trace_id: f.traceId, score: f.score, comment: f.comment ?? null, created_at: f.createdAt };
}

function tenantScope(key: ApiKeyRecord, requested: string | undefined): string {
  if (requested !== undefined && requested !== key.tenant && key.role !== "admin") {
    throw new StratumError("Forbidden", "Only an admin key can read another tenant's traces.", { code: "forbidden", param: "tenant" });
  }
  return requested ?? key.tenant;
}

export function traceRoutes(app: FastifyInstance, g: GatewayContext): void {
  const need = (): TraceStore => {
    if (!g.traces) throw new StratumError("Unavailable", "tracing is off on this server (tracing.enabled: false)", { code: "tracing_unavailable" });
    return g.traces;
  };
  /** The trace if the key may see it; 404 otherwise (a foreign trace is indistinguishable from none). */
  const traceFor = async (key: ApiKeyRecord, id: string, tenantParam: string | undefined): Promise<TraceSummary> => {
    const notFound = new StratumError("NotFound", `No trace ${id}`, { param: "id", code: "trace_not_found" });
    if (!TRACE_ID.test(id)) throw notFound;
    const tenant = key.role === "admin" ? tenantParam : key.tenant;
    if (tenantParam !== undefined && key.role !== "admin" && tenantParam !== key.tenant) throw notFound;
    const t = await need().get(id, tenant);
    if (!t) throw notFound;
    return t;
  };

  app.get("/v1/traces", async (request) => {
    const key = await g.authenticate(request);
    const q = validateBody(ListQuerySchema, { ...(request.query as object) });
    const cursor = q.before ? CURSOR.exec(q.before) : null;
    const page = await need().list({
      tenant: tenantScope(key, q.tenant),
      limit: q.limit,
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
      ...(q.model ? { model: q.model } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.session ? { sessionId: q.session } : {}),
      ...(q.pipeline ? { pipeline: q.pipeline } : {}),
      ...(cursor ? { before: { startedAt: Number(cursor[1]), traceId: cursor[2]! } } : {}),
    });
    return {
      object: "list",
      data: page.traces.map(summaryView),
      ...(page.nextBefore ? { next_before: `${page.nextBefore.startedAt}-${page.nextBefore.traceId}` } : {}),
    };
  });

  app.get<{ Params: { id: string }; Querystring: { tenant?: string } }>("/v1/traces/:id", async (request) => {
    const key = await g.authenticate(request);
    const t = await traceFor(key, request.params.id, request.query.tenant);
    const spans = await need().spans(t.traceId);
    const root = spanTree(spans);
    return { object: "trace", ...summaryView(t), spans: spans.map(spanView), root: root ? nodeView(root) : null };
  });

  app.post<{ Params: { id: string }; Querystring: { tenant?: string } }>("/v1/traces/:id/feedback", async (request, reply) => {
    const key = await g.authenticate(request);
    const input = validateBody(FeedbackSchema, request.body);
    const t = await traceFor(key, request.params.id, request.query.tenant);
    const f: TraceFeedback = { id: `fb_${randomUUID().replaceAll("-", "")}`, traceId: t.traceId, tenant: t.tenant, score: input.score, ...(input.comment !== undefined ? { comment: input.comment } : {}), createdAt: Date.now() };
    await need().addFeedback(f);
    return reply.code(201).send(feedbackView(f));
  });

  app.get<{ Params: { id: string }; Querystring: { tenant?: string } }>("/v1/traces/:id/feedback", async (request) => {
    const key = await g.authenticate(request);
    const t = await traceFor(key, request.params.id, request.query.tenant);
    return { object: "list", data: (await need().listFeedback(t.traceId)).map(feedbackView) };
  });
}
