// Collections API (tenant-scoped by the caller's key): collections, documents
// (text, base64 bytes or a URL; parsed, chunked, indexed at once), search.
import type { FastifyInstance } from "fastify";
import { StratumError } from "../../core/errors.js";
import { AddDocumentSchema, CollectionNameSchema, CreateCollectionSchema, SearchRequestSchema } from "../../protocol/stratum.js";
import { INGEST_JOB } from "../../ingest/index.js";
import type { GatewayContext } from "../context.js";
import { validateBody } from "../validate.js";

type Named = { Params: { name: string } };

export function collectionRoutes(app: FastifyInstance, g: GatewayContext): void {
  const { store, retriever } = g.knowledge;

  const collectionOf = async (tenant: string, raw: string) => {
    const name = CollectionNameSchema.safeParse(raw);
    if (!name.success) throw new StratumError("InvalidRequest", `Invalid collection name: ${name.error.issues[0]!.message}`, { param: "name" });
    const c = await store.getCollection(tenant, name.data);
    if (!c) throw new StratumError("NotFound", `No collection named ${name.data}`, { param: "name", code: "collection_not_found" });
    return c;
  };
  const view = (c: { name: string; createdAt: number; embeddingModel: string | null; version: number }, documents?: number) => ({
    object: "collection",
    name: c.name,
    created_at: new Date(c.createdAt).toISOString(),
    embedding_model: c.embeddingModel,
    version: c.version,
    ...(documents !== undefined ? { documents } : {}),
  });

  app.get("/v1/collections", async (request) => {
    const key = await g.authenticate(request);
    const cs = await store.listCollections(key.tenant);
    return { object: "list", data: await Promise.all(cs.map(async (c) => view(c, (await store.listDocuments(c.id)).length))) };
  });

  app.post("/v1/collections", async (request, reply) => {
    const key = await g.authenticate(request);
    const { name } = validateBody(CreateCollectionSchema, request.body);
    return reply.code(201).send(view(await store.ensureCollection(key.tenant, name)));
  });

  app.delete<Named>("/v1/collections/:name", async (request) => {
    const key = await g.authenticate(request);
    const c = await collectionOf(key.tenant, request.params.name);
    await store.deleteCollection(key.tenant, c.name);
    return { name: c.name, deleted: true };
  });

  app.get<Named>("/v1/collections/:name/documents", async (request) => {
    const key = await g.authenticate(request);
    const c = await collectionOf(key.tenant, request.params.name);
    const docs = await store.listDocuments(c.id);
    return {
      object: "list",
      data: docs.map((d) => ({ id: d.id, source: d.source, title: d.title, mime: d.mime, chunks: d.chunkCount, bytes: d.bytes, metadata: d.metadata, content_hash: d.contentHash, updated_at: new Date(d.updatedAt).toISOString() })),
    };
  });

  // Ingest one document. A bad file is a 400 naming the file and the reason; with
  // `async: true` the work is queued (202) and any replica's worker runs it.
  app.post<Named>("/v1/collections/:name/documents", async (request, reply) => {
    const key = await g.authenticate(request);
    const name = CollectionNameSchema.safeParse(request.params.name);
    if (!name.success) throw new StratumError("InvalidRequest", `Invalid collection name: ${name.error.issues[0]!.message}`, { param: "name" });
    const doc = validateBody(AddDocumentSchema, request.body);
    if (doc.async) {
      const id = await g.knowledge.jobs.enqueue(INGEST_JOB, { tenant: key.tenant, collection: name.data, doc });
      return reply.code(202).send({ object: "job", id, type: INGEST_JOB, status: "queued", status_url: `/v1/jobs/${id}` });
    }
    const report = await g.knowledge.addDocument(key.tenant, name.data, doc);
    const failed = report.files.find((f) => f.status === "failed");
    if (failed) throw new StratumError("InvalidRequest", `${failed.source}: ${failed.error}`, { code: "ingest_failed", param: doc.url ? "url" : "content" });
    return reply.code(report.added > 0 ? 201 : 200).send({ object: "ingest.report", ...report });
  });

  // Job ids are random UUIDs, handed only to the caller that queued the job.
  app.get<{ Params: { id: string } }>("/v1/jobs/:id", async (request) => {
    await g.authenticate(request);
    const status = await g.knowledge.jobs.getStatus(request.params.id);
    if (!status) throw new StratumError("NotFound", `No job ${request.params.id}`, { param: "id", code: "job_not_found" });
    return { object: "job", ...status };
  });

  app.delete<{ Params: { name: string; id: string } }>("/v1/collections/:name/documents/:id", async (request) => {
    const key = await g.authenticate(request);
    const c = await collectionOf(key.tenant, request.params.name);
    if (!(await store.deleteDocument(c.id, request.params.id))) throw new StratumError("NotFound", `No document ${request.params.id} in ${c.name}`, { param: "id" });
    return { id: request.params.id, deleted: true };
  });

  app.post<Named>("/v1/collections/:name/search", async (request) => {
    const key = await g.authenticate(request);
    const c = await collectionOf(key.tenant, request.params.name);
    const q = validateBody(SearchRequestSchema, request.body);
    const r = await retriever.search({ tenant: key.tenant, collection: c.name, query: q.query, k: q.k, mode: q.mode, ...(q.filter ? { filter: q.filter } : {}), mmr: q.mmr === false ? false : { lambda: q.mmr } });
    return {
      object: "search.result",
      confidence: Math.round(r.confidence * 1e4) / 1e4,
      mode: r.mode,
      took_ms: Math.round(r.tookMs * 100) / 100,
      data: r.hits.map((h, i) => ({
        rank: i + 1,
        score: h.score,
        lexical_score: h.lexicalScore ?? null,
        dense_score: h.denseScore ?? null,
        chunk_id: h.chunk.id,
        text: h.chunk.text,
        headings: h.chunk.headings,
        citation: { document_id: h.document.id, source: h.document.source, title: h.document.title, start: h.chunk.start, end: h.chunk.end },
        metadata: h.document.metadata,
      })),
    };
  });
}
