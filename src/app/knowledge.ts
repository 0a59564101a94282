// Builds the knowledge stack (retrieval store, retriever, ingestor, sessions,
// memory) from the config. Shared by the server and the `stratum ingest` CLI,
// which write the same SQLite file: the server sees CLI ingests at once.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import type { Config } from "../config/schema.js";
import type { SqliteDb } from "../data/index.js";
import { Ingestor } from "../ingest/index.js";
import type { ModelService } from "../models/index.js";
import { EmbedBatcher, Retriever, SqliteRetrievalStore, type Embedder } from "../retrieval/index.js";
import { SqliteMemoryStore, SqliteSessionStore } from "../sessions/index.js";
import type { Knowledge } from "../gateway/index.js";
import type { Logger } from "../ops/index.js";

export function createKnowledge(config: Config, db: SqliteDb, models: ModelService): Knowledge {
  const store = new SqliteRetrievalStore(db);
  const embedder = config.retrieval.embeddingModel ? modelEmbedder(models, config.retrieval.embeddingModel) : undefined;
  const retriever = new Retriever(store, embedder ? { embedder } : {});
  const ingestor = new Ingestor({
    store,
    ...(embedder ? { embedder } : {}),
    chunking: { maxTokens: config.retrieval.chunkTokens, overlapTokens: config.retrieval.overlapTokens },
    fetch: { allowPrivate: config.retrieval.allowPrivateUrls },
    maxBytes: config.retrieval.maxFileBytes,
  });
  return {
    store,
    retriever,
    ingestor,
    sessions: new SqliteSessionStore(db, { maxMessages: config.sessions.maxMessages }),
    memory: new SqliteMemoryStore(db),
  };
}

/** Embeddings through the model layer (router, fallbacks), micro-batched. */
function modelEmbedder(models: ModelService, alias: string): Embedder {
  return new EmbedBatcher(alias, async (texts) => {
    const served = await models.embed(alias, { model: alias, input: [...texts] }, { tenant: "system", signal: AbortSignal.timeout(60_000), requestId: "embed" });
    return served.result.data
      .slice()
      .sort((a, b) => a.index - b.index)
      .map((d) => Float32Array.from(d.embedding as number[]));
  });
}

/** The docs shipped with the package (dist/app → ../../docs, ../../README.md). */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BUNDLED_DOCS = [join(PACKAGE_ROOT, "README.md"), join(PACKAGE_ROOT, "docs")];
export const SAMPLE_TENANT = "default";
export const SAMPLE_COLLECTION = "docs";

/** On first start, ingest Stratum's own docs so the assistant answers out of the box. */
export async function ingestSampleCollection(k: Knowledge, log: Logger): Promise<void> {
  if (await k.store.getCollection(SAMPLE_TENANT, SAMPLE_COLLECTION)) return;
  for (const path of BUNDLED_DOCS.filter((p) => existsSync(p))) {
    const report = await k.ingestor.ingestPath(SAMPLE_TENANT, SAMPLE_COLLECTION, path, { metadata: { sample: true } });
    log.info({ collection: SAMPLE_COLLECTION, tenant: SAMPLE_TENANT, path, documents: report.added, chunks: report.chunks, failed: report.failed }, "sample collection ingested");
  }
}
