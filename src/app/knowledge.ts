// Builds the knowledge stack (retrieval store, retriever, ingestor, sessions,
// memory) from the config. Shared by the server and the `stratum ingest` CLI,
// which write the same store: the server sees CLI ingests at once.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import type { Config } from "../config/schema.js";
import { INGEST_JOB, Ingestor } from "../ingest/index.js";
import type { JobQueue } from "../jobs/index.js";
import type { AddDocument } from "../protocol/stratum.js";
import { releaseTokenizer, type ModelService } from "../models/index.js";
import { EmbedBatcher, Retriever, type Embedder } from "../retrieval/index.js";
import type { Knowledge } from "../gateway/index.js";
import type { Logger } from "../ops/index.js";
import type { Storage } from "./storage.js";

export function createKnowledge(config: Config, storage: Storage, models: ModelService, jobs: JobQueue): Knowledge {
  const store = storage.retrieval;
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
    jobs,
    addDocument: (tenant, collection, doc) =>
      doc.url
        ? ingestor.ingestUrl(tenant, collection, doc.url, { metadata: doc.metadata ?? {} })
        : ingestor.ingestContent(tenant, collection, {
            source: doc.source!,
            content: doc.content_base64 !== undefined ? Buffer.from(doc.content_base64, "base64") : doc.content!,
            ...(doc.mime ? { mime: doc.mime } : {}),
            metadata: doc.metadata ?? {},
          }),
    sessions: storage.sessions,
    memory: storage.memory,
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

interface IngestJob {
  tenant: string;
  collection: string;
  doc: AddDocument;
}

/**
 * Runs queued ingestions until the signal aborts. Re-running a job is
 * harmless (content-hash dedup), which the at-least-once queue relies on.
 */
export function runIngestWorker(k: Knowledge, signal: AbortSignal, log: Logger): Promise<void> {
  return k.jobs.consume<IngestJob, unknown>(
    INGEST_JOB,
    async (job) => {
      const { tenant, collection, doc } = job.payload;
      const report = await k.addDocument(tenant, collection, doc);
      log.info({ job: job.id, tenant, collection, added: report.added, updated: report.updated, failed: report.failed }, "ingest job done");
      const failed = report.files.find((f) => f.status === "failed");
      // A bad file will not get better on retry: report it as the job's result, not as a failure to redeliver.
      return { collection, added: report.added, updated: report.updated, unchanged: report.unchanged, failed: report.failed, chunks: report.chunks, ...(failed ? { error: `${failed.source}: ${failed.error}` } : {}) };
    },
    { signal, concurrency: 1 },
  );
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
  // A one-off bulk job: the tokenizer it loaded need not stay resident until the idle release.
  releaseTokenizer();
}
