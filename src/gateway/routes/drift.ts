// Drift monitoring API (admin keys: the windows aggregate every tenant's
// traffic): the statistics per signal, an on-demand check (alerts on
// transitions), and pinning the current windows as the new reference.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { StratumError } from "../../core/errors.js";
import type { DriftMonitor, DriftReport } from "../../drift/index.js";
import type { GatewayContext } from "../context.js";
import { validateBody } from "../validate.js";

const SignalName = z.string().min(1).max(300);

const QuerySchema = z.strictObject({
  /** Only signals whose name starts with this (e.g. `latency_ms` or `latency_ms:assistant`). */
  signal: SignalName.optional(),
  /** Only signals of this model or pipeline. */
  scope: z.string().min(1).max(256).optional(),
});

const PinSchema = z.strictObject({
  /** The signals to pin (all when absent). */
  signals: z.array(SignalName).min(1).max(1_000).optional(),
});

function filtered(r: DriftReport, q: z.infer<typeof QuerySchema>): DriftReport {
  return { ...r, signals: r.signals.filter((s) => (!q.signal || s.name.startsWith(q.signal)) && (!q.scope || s.scope === q.scope)) };
}

export function driftRoutes(app: FastifyInstance, g: GatewayContext): void {
  const need = (): DriftMonitor => {
    if (!g.drift) throw new StratumError("NotFound", "Drift monitoring is off (drift.enabled: false).", { code: "drift_disabled" });
    return g.drift;
  };

  app.get("/v1/drift", async (request) => {
    await g.authenticateAdmin(request);
    const q = validateBody(QuerySchema, request.query ?? {});
    return filtered(need().report(), q);
  });

  app.post("/v1/drift/check", async (request) => {
    await g.authenticateAdmin(request);
    const q = validateBody(QuerySchema, request.query ?? {});
    return filtered(await need().check(), q);
  });

  app.post("/v1/drift/reference", async (request) => {
    await g.authenticateAdmin(request);
    // No body pins every signal; a body must be the object below (JSON null is refused).
    const body = validateBody(PinSchema, request.body === undefined ? {} : request.body);
    const monitor = need();
    const result = await monitor.pinReference(body.signals);
    return { object: "drift.reference", ...result, ...monitor.report() };
  });
}
