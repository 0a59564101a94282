// Eval runs (read-only, admin): the runs `stratum eval run` stored, one run
// with its items, and two runs compared (per-metric means, the paired
// difference second − first with its bootstrap interval, items side by side).
// Runs are not tenant-scoped (the CLI stores them per data dir), hence admin.
import type { FastifyInstance } from "fastify";
import { StratumError } from "../../core/errors.js";
import { buildReport, type EvalStore } from "../../evals/index.js";
import type { GatewayContext } from "../context.js";

export function evalRoutes(app: FastifyInstance, g: GatewayContext): void {
  const need = (): EvalStore => {
    if (!g.evals) throw new StratumError("Unavailable", "this server has no eval store", { code: "evals_unavailable" });
    return g.evals;
  };
  const runOf = async (store: EvalStore, id: string, param: string) => {
    const run = await store.get(id);
    if (!run) throw new StratumError("NotFound", `No eval run ${id}`, { param, code: "eval_run_not_found" });
    return run;
  };

  app.get("/v1/evals", async (request) => {
    await g.authenticateAdmin(request);
    return { object: "list", data: await need().list() };
  });

  app.get<{ Querystring: { base?: string; candidate?: string } }>("/v1/evals/compare", async (request) => {
    await g.authenticateAdmin(request);
    const { base, candidate } = request.query;
    if (!base) throw new StratumError("InvalidRequest", "base (an eval run id) is required", { param: "base" });
    if (!candidate) throw new StratumError("InvalidRequest", "candidate (an eval run id) is required", { param: "candidate" });
    const store = need();
    const runs = [await runOf(store, base, "base"), await runOf(store, candidate, "candidate")];
    return { object: "eval.comparison", ...buildReport(runs) };
  });

  app.get<{ Params: { id: string } }>("/v1/evals/:id", async (request) => {
    await g.authenticateAdmin(request);
    return { object: "eval.run", ...(await runOf(need(), request.params.id, "id")) };
  });
}
