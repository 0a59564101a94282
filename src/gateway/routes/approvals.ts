// Human approvals of server-side tool calls: list the caller's pending
// requests, look one up, approve or deny it (the run then resumes in this
// process and the outcome is returned), and the audit trail of decisions.
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { StratumError } from "../../core/errors.js";
import type { ApprovalRequest, AuditEntry } from "../../tools/index.js";
import type { Approvals, GatewayContext } from "../context.js";
import { validateBody } from "../validate.js";

const DecisionSchema = z.strictObject({ reason: z.string().max(2_000).optional() });

const secs = (ms: number | undefined) => (ms === undefined ? null : Math.floor(ms / 1000));

/** The public view of a request (without the run's internal state). */
export function approvalView(r: ApprovalRequest) {
  return {
    object: "approval",
    id: r.id,
    tenant: r.tenant,
    run_id: r.runId,
    tool: r.tool,
    arguments: r.arguments,
    risk: r.risk,
    status: r.status,
    created_at: secs(r.createdAt),
    expires_at: secs(r.expiresAt),
    decided_by: r.decidedBy ?? null,
    decided_at: secs(r.decidedAt),
    reason: r.reason ?? null,
    resumed_at: secs(r.resumedAt),
  };
}

function auditView(e: AuditEntry) {
  return {
    id: e.id,
    run_id: e.runId,
    tool: e.tool,
    arguments: e.arguments,
    risk: e.risk,
    status: e.status,
    decided_by: e.decidedBy,
    decided_at: secs(e.decidedAt),
    reason: e.reason ?? null,
    created_at: secs(e.createdAt),
  };
}

function conflict(reply: FastifyReply, r: ApprovalRequest | undefined, why: string) {
  return reply.code(409).send({
    error: { message: `approval is already ${r?.status ?? "decided"}`, type: "invalid_request_error", code: why, param: null },
    ...(r ? { approval: approvalView(r) } : {}),
  });
}

export function approvalRoutes(app: FastifyInstance, g: GatewayContext): void {
  const need = (): Approvals => {
    if (!g.approvals) throw new StratumError("Unavailable", "approvals are not configured on this server", { code: "approvals_unavailable" });
    return g.approvals;
  };
  const notFound = (id: string) => new StratumError("NotFound", `No approval ${id}`, { param: "id", code: "approval_not_found" });

  app.get("/v1/approvals", async (request) => {
    const key = await g.authenticate(request);
    return { object: "list", data: (await need().store.listPending(key.tenant)).map(approvalView) };
  });

  // Every decision (approve, deny, expiry) of a tenant: the caller's own, or any tenant's for an admin (?tenant=).
  app.get<{ Querystring: { tenant?: string } }>("/v1/approvals/audit", async (request) => {
    const key = await g.authenticate(request);
    const tenant = request.query.tenant ?? key.tenant;
    if (tenant !== key.tenant && key.role !== "admin") throw new StratumError("Forbidden", "Only an admin key can read another tenant's audit trail.", { code: "forbidden" });
    return { object: "list", tenant, data: (await need().store.audit(tenant)).map(auditView) };
  });

  app.get<{ Params: { id: string } }>("/v1/approvals/:id", async (request) => {
    const key = await g.authenticate(request);
    const r = await need().store.get(request.params.id, key.tenant);
    if (!r) throw notFound(request.params.id);
    return approvalView(r);
  });

  for (const verb of ["approve", "deny"] as const) {
    app.post<{ Params: { id: string } }>(`/v1/approvals/:id/${verb}`, async (request, reply) => {
      const key = await g.authenticate(request);
      const approvals = need();
      const input = validateBody(DecisionSchema, request.body ?? {});
      if (verb === "deny" && !input.reason?.trim()) throw new StratumError("InvalidRequest", "A denial needs a reason (the model is told why).", { param: "reason", code: "missing_reason" });
      const decided = await approvals.store.decide(request.params.id, key.tenant, { approve: verb === "approve", by: key.id, ...(input.reason ? { reason: input.reason } : {}) });
      if (!decided.ok) {
        if (decided.error === "not_found") throw notFound(request.params.id);
        return conflict(reply, decided.request, decided.error === "expired" ? "approval_expired" : "approval_already_decided");
      }
      g.log.info({ approval: decided.request.id, tenant: key.tenant, tool: decided.request.tool, decision: decided.request.status, by: key.id }, "approval decided");
      const result = await approvals.resume(decided.request.id);
      const now = await approvals.store.get(decided.request.id, key.tenant);
      return { approval: approvalView(now ?? decided.request), result };
    });
  }
}
