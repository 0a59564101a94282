// GET /v1/models and /v1/models/:id
import type { FastifyInstance } from "fastify";
import { StratumError } from "../../core/errors.js";
import type { GatewayContext } from "../context.js";

const CREATED = Math.floor(Date.now() / 1000);

export function modelsRoute(app: FastifyInstance, g: GatewayContext): void {
  const view = (id: string) => ({ id, object: "model" as const, created: CREATED, owned_by: "stratum" });
  app.get("/v1/models", async (request) => {
    await g.authenticate(request);
    return { object: "list", data: g.models.modelNames().map(view) };
  });
  app.get<{ Params: { id: string } }>("/v1/models/:id", async (request) => {
    await g.authenticate(request);
    const id = request.params.id;
    if (!g.models.hasModel(id)) throw new StratumError("NotFound", `The model \`${id}\` does not exist`, { code: "model_not_found", param: "model" });
    return view(id);
  });
}
