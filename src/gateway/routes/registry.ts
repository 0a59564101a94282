// The registry API: entries with their aliases, one entry's versions, adding a
// version (201, or 200 with the existing version when the content hash is
// already there), moving an alias, linking an eval run. Reads need any key
// (pipelines are shared by every tenant); writes need an admin key.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { StratumError } from "../../core/errors.js";
import { checkAliasName, checkEntryName, REGISTRY_KINDS, type RegistryKind, type RegistryService, type RegistryVersion } from "../../registry/index.js";
import type { GatewayContext } from "../context.js";
import { validateBody } from "../validate.js";

const AddVersionSchema = z.strictObject({
  spec: z.record(z.string(), z.unknown()),
  parent_version: z.number().int().positive().nullable().optional(),
  note: z.string().max(2_000).optional(),
});
const AliasSchema = z.strictObject({ version: z.number().int().positive() });
const LinkSchema = z.strictObject({ run_id: z.string().min(1).max(200) });

export function versionView(v: RegistryVersion) {
  return {
    object: "registry.version",
    kind: v.kind,
    name: v.name,
    version: v.version,
    hash: v.hash,
    parent_version: v.parentVersion,
    created_by: v.createdBy,
    created_at: v.createdAt,
    ...(v.note !== undefined ? { note: v.note } : {}),
    spec: v.spec,
    eval_runs: v.evalRuns,
  };
}

export function kindOf(kind: string): RegistryKind {
  if (!(REGISTRY_KINDS as readonly string[]).includes(kind)) throw new StratumError("InvalidRequest", `kind must be one of ${REGISTRY_KINDS.join(", ")}`, { param: "kind", code: "invalid_value" });
  return kind as RegistryKind;
}

export function versionParam(raw: string, param = "version"): number {
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < 1) throw new StratumError("InvalidRequest", `${param} must be a positive integer`, { param, code: "invalid_value" });
  return Number(raw);
}

export function registryRoutes(app: FastifyInstance, g: GatewayContext): void {
  const need = (): RegistryService => {
    if (!g.registry) throw new StratumError("Unavailable", "the registry is not configured on this server", { code: "registry_unavailable" });
    return g.registry;
  };
  type Entry = { Params: { kind: string; name: string } };

  app.get<{ Querystring: { kind?: string } }>("/v1/registry", async (request) => {
    await g.authenticate(request);
    const kind = request.query.kind ? kindOf(request.query.kind) : undefined;
    const entries = await need().store.list(kind);
    return { object: "list", data: entries.map((e) => ({ object: "registry.entry", kind: e.kind, name: e.name, latest_version: e.latestVersion, aliases: e.aliases })) };
  });

  app.get<Entry>("/v1/registry/:kind/:name", async (request) => {
    await g.authenticate(request);
    const kind = kindOf(request.params.kind);
    const { name } = request.params;
    const store = need().store;
    const versions = await store.versions(kind, name);
    if (!versions.length) throw new StratumError("NotFound", `No ${kind} "${name}" in the registry`, { param: "name", code: "registry_entry_not_found" });
    return { object: "registry.entry", kind, name, aliases: await store.aliases(kind, name), versions: versions.map(versionView) };
  });

  app.get<{ Params: { kind: string; name: string; version: string } }>("/v1/registry/:kind/:name/versions/:version", async (request) => {
    await g.authenticate(request);
    const kind = kindOf(request.params.kind);
    const v = await need().store.getVersion(kind, request.params.name, versionParam(request.params.version));
    if (!v) throw new StratumError("NotFound", `${kind} "${request.params.name}" has no version ${request.params.version}`, { param: "version", code: "version_not_found" });
    return versionView(v);
  });

  app.post<Entry>("/v1/registry/:kind/:name/versions", async (request, reply) => {
    const key = await g.authenticateAdmin(request);
    const kind = kindOf(request.params.kind);
    checkEntryName(request.params.name);
    const body = validateBody(AddVersionSchema, request.body);
    const out = await need().addVersion(kind, request.params.name, {
      spec: body.spec,
      createdBy: key.id,
      ...(body.parent_version !== undefined ? { parentVersion: body.parent_version } : {}),
      ...(body.note !== undefined ? { note: body.note } : {}),
    });
    return reply.code(out.created ? 201 : 200).send({ ...versionView(out.version), created: out.created });
  });

  app.put<{ Params: { kind: string; name: string; alias: string } }>("/v1/registry/:kind/:name/aliases/:alias", async (request) => {
    await g.authenticateAdmin(request);
    const kind = kindOf(request.params.kind);
    checkEntryName(request.params.name);
    checkAliasName(request.params.alias);
    const body = validateBody(AliasSchema, request.body);
    const moved = await need().setAlias(kind, request.params.name, request.params.alias, body.version);
    return { object: "registry.aliases", kind, name: request.params.name, aliases: moved.aliases, previous: moved.previous ?? null };
  });

  app.post<{ Params: { kind: string; name: string; version: string } }>("/v1/registry/:kind/:name/versions/:version/eval-runs", async (request, reply) => {
    await g.authenticateAdmin(request);
    const kind = kindOf(request.params.kind);
    const body = validateBody(LinkSchema, request.body);
    const v = await need().linkEvalRun(kind, request.params.name, versionParam(request.params.version), body.run_id);
    return reply.code(201).send(versionView(v));
  });
}
