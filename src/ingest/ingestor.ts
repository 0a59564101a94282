// Ingestor: files, folders, URLs and uploads → parse → chunk → (embed) → the
// retrieval store. Files are processed one at a time (parsing is CPU-bound and
// this bounds memory: a 10k-file folder is walked lazily, only paths are kept).
// One bad file never aborts the rest: it is reported as failed with the reason.
//
// Provenance lives in document metadata so re-ingesting is incremental and
// scoped: `_origin` is "dir:<real path of the root>", "url" or "upload", and
// `_file` is the file's path relative to the root. A folder re-ingest only
// re-processes files whose sha256 changed and deletes only documents whose
// `_origin` is that same root; a document from another origin with the same
// source is never replaced (the file fails with source_conflict).
import { createHash } from "node:crypto";
import { realpath, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { ChunkInput, Collection, DocumentRecord, Embedder, Metadata, RetrievalStore } from "../retrieval/types.js";
import type { IngestFileResult, IngestProgress, IngestReport, ParsedDocument } from "./types.js";
import { IngestError, errorMessage } from "./errors.js";
import { parseContent, readFileCapped, DEFAULT_MAX_BYTES, type ParsedItem } from "./parse-content.js";
import { chunkDocument, type ChunkOptions } from "./chunk-document.js";
import { walkFolder, type WalkEntry } from "./walk-folder.js";
import { fetchUrl, type FetchUrlOptions } from "./fetch-url.js";

export const ORIGIN_KEY = "_origin";
export const FILE_KEY = "_file";
const EMBED_BATCH = 64;

export interface IngestorOptions {
  store: RetrievalStore;
  embedder?: Embedder;
  chunking?: ChunkOptions;
  /** Per-file size limit (default 20 MiB). */
  maxBytes?: number;
  /** Defaults for ingestUrl (SSRF policy, timeouts). */
  fetch?: Omit<FetchUrlOptions, "signal" | "maxBytes">;
}

export interface IngestOptions {
  /** Merged over the metadata found in each document. */
  metadata?: Metadata;
  onProgress?: (p: IngestProgress) => void;
  signal?: AbortSignal;
}

export interface IngestContentInput {
  /** Client-given name, unique in the collection; its extension picks the parser unless mime is given. */
  source: string;
  content: string | Uint8Array;
  mime?: string;
  filename?: string;
  metadata?: Metadata;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

class Run {
  readonly files: IngestFileResult[] = [];
  readonly t0 = performance.now();
  constructor(readonly collection: string) {}
  add(r: IngestFileResult) { this.files.push(r); }
  report(): IngestReport {
    const count = (s: IngestFileResult["status"]) => this.files.filter((f) => f.status === s).length;
    return {
      collection: this.collection,
      files: this.files,
      added: count("added"),
      updated: count("updated"),
      unchanged: count("unchanged"),
      deleted: count("deleted"),
      failed: count("failed"),
      chunks: this.files.reduce((n, f) => n + (f.status === "added" || f.status === "updated" ? f.chunks ?? 0 : 0), 0),
      tookMs: Math.round(performance.now() - this.t0),
    };
  }
}

/** One unit of input: the raw bytes of a file, URL or upload, and where its documents go. */
interface Input {
  source: string;
  bytes: Uint8Array;
  name: string;
  mime?: string;
  origin: string;
  extra: Metadata;
}

export class Ingestor {
  private readonly store: RetrievalStore;
  private readonly embedder?: Embedder;
  private readonly maxBytes: number;

  constructor(private readonly opts: IngestorOptions) {
    this.store = opts.store;
    this.embedder = opts.embedder;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** A file or a folder (recursively). For a folder, documents of files that are gone are deleted. */
  async ingestPath(tenant: string, collection: string, path: string, opts: IngestOptions = {}): Promise<IngestReport> {
    const run = new Run(collection);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      throw new IngestError("not_found", `${path}: no such file or folder`, e);
    }
    const col = await this.store.ensureCollection(tenant, collection);
    const isDir = st.isDirectory();
    const root = isDir ? await realpath(path) : dirname(await realpath(path));
    const origin = `dir:${root}`;
    const existing = await this.store.listDocuments(col.id);
    const bySource = new Map(existing.map((d) => [d.source, d]));
    // Documents of this root, by file (a JSONL file has several).
    const byFile = new Map<string, DocumentRecord[]>();
    for (const d of existing) {
      if (d.metadata[ORIGIN_KEY] !== origin) continue;
      const f = String(d.metadata[FILE_KEY] ?? d.source);
      byFile.set(f, [...(byFile.get(f) ?? []), d]);
    }

    const entries: WalkEntry[] = [];
    if (isDir) for await (const e of walkFolder(root)) entries.push(e);
    else {
      const real = await realpath(path);
      entries.push({ path: real, rel: basename(real), size: st.size });
    }

    const seen = new Set<string>();
    let done = 0;
    for (const e of entries) {
      opts.signal?.throwIfAborted();
      seen.add(e.rel);
      try {
        if (e.skipped) throw new IngestError("unsupported_type", `${e.rel}: skipped, ${e.skipped}`);
        const bytes = await readFileCapped(e.path, this.maxBytes, e.rel);
        await this.ingestInput(run, col, { source: e.rel, bytes, name: e.rel, origin, extra: { [FILE_KEY]: e.rel } }, byFile.get(e.rel) ?? [], bySource, opts);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        run.add({ source: e.rel, status: "failed", error: errorMessage(err) });
      }
      opts.onProgress?.({ done: ++done, total: entries.length, source: e.rel });
    }

    if (isDir) {
      for (const [file, docs] of byFile) {
        if (seen.has(file)) continue;
        for (const d of docs) {
          await this.store.deleteDocument(col.id, d.id);
          run.add({ source: d.source, status: "deleted", documentId: d.id });
        }
      }
    }
    return run.report();
  }

  async ingestUrl(tenant: string, collection: string, url: string, opts: IngestOptions & { fetch?: FetchUrlOptions } = {}): Promise<IngestReport> {
    const run = new Run(collection);
    const col = await this.store.ensureCollection(tenant, collection);
    let source = url;
    try {
      source = new URL(url).href;
      const fetched = await fetchUrl(source, { ...this.opts.fetch, ...opts.fetch, maxBytes: this.maxBytes, signal: opts.signal });
      const name = new URL(fetched.url).pathname;
      const prior = await this.store.findDocumentBySource(col.id, source);
      const bySource = new Map(prior ? [[source, prior]] : []);
      const mine = prior && prior.metadata[ORIGIN_KEY] === "url" ? [prior] : [];
      await this.ingestInput(run, col, { source, bytes: fetched.bytes, name, mime: fetched.contentType, origin: "url", extra: { url: fetched.url } }, mine, bySource, opts);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      run.add({ source, status: "failed", error: errorMessage(err) });
    }
    opts.onProgress?.({ done: 1, total: 1, source });
    return run.report();
  }

  /** Content uploaded by a client (HTTP). Re-uploading the same source replaces it; identical bytes are skipped. */
  async ingestContent(tenant: string, collection: string, input: IngestContentInput, opts: IngestOptions = {}): Promise<IngestReport> {
    const run = new Run(collection);
    const col = await this.store.ensureCollection(tenant, collection);
    const bytes = typeof input.content === "string" ? Buffer.from(input.content, "utf8") : input.content;
    try {
      const prior = await this.store.findDocumentBySource(col.id, input.source);
      const bySource = new Map(prior ? [[input.source, prior]] : []);
      const mine = prior && prior.metadata[ORIGIN_KEY] === "upload" ? [prior] : [];
      const metadata = { ...opts.metadata, ...input.metadata };
      await this.ingestInput(run, col, { source: input.source, bytes, name: input.filename ?? input.source, mime: input.mime, origin: "upload", extra: {} }, mine, bySource, { ...opts, metadata });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      run.add({ source: input.source, status: "failed", error: errorMessage(err) });
    }
    opts.onProgress?.({ done: 1, total: 1, source: input.source });
    return run.report();
  }

  async deleteDocument(tenant: string, collection: string, documentId: string): Promise<boolean> {
    const col = await this.store.getCollection(tenant, collection);
    if (!col) return false;
    return this.store.deleteDocument(col.id, documentId);
  }

  /**
   * Parses one input and stores its documents. `prior` are the documents this
   * same input produced before (same origin): unchanged bytes skip the work,
   * and records that disappeared from a multi-document file are deleted.
   */
  private async ingestInput(run: Run, col: Collection, input: Input, prior: DocumentRecord[], bySource: Map<string, DocumentRecord>, opts: IngestOptions): Promise<void> {
    const hash = sha256(input.bytes);
    if (prior.length && prior.every((d) => d.contentHash === hash)) {
      for (const d of prior) run.add({ source: d.source, status: "unchanged", documentId: d.id, chunks: d.chunkCount });
      return;
    }
    const items: ParsedItem[] = await parseContent(input.bytes, { name: input.name, mime: input.mime, maxBytes: this.maxBytes });
    const produced = new Set<string>();
    for (const item of items) {
      const source = input.source + item.key;
      produced.add(source);
      if (!item.doc) {
        run.add({ source, status: "failed", error: item.error?.message ?? "could not be parsed" });
        continue;
      }
      try {
        const before = bySource.get(source);
        if (before && before.metadata[ORIGIN_KEY] !== input.origin) {
          throw new IngestError("source_conflict", `${source}: a document with this source already exists in the collection from another origin (${String(before.metadata[ORIGIN_KEY] ?? "unknown")}); not replaced`);
        }
        const record = await this.storeDocument(col, source, hash, input, item.doc, opts);
        bySource.set(source, record);
        run.add({ source, status: before ? "updated" : "added", documentId: record.id, chunks: record.chunkCount });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        run.add({ source, status: "failed", error: errorMessage(err) });
      }
    }
    // Records gone from a multi-document file (JSONL), or a failed record's old version, stay consistent with the file.
    for (const d of prior) {
      if (produced.has(d.source)) continue; // replaced above, or failed now: a failed record keeps its previous version
      await this.store.deleteDocument(col.id, d.id);
      bySource.delete(d.source);
      run.add({ source: d.source, status: "deleted", documentId: d.id });
    }
  }

  private async storeDocument(col: Collection, source: string, hash: string, input: Input, doc: ParsedDocument, opts: IngestOptions): Promise<DocumentRecord> {
    const chunks = chunkDocument(doc, this.opts.chunking);
    const vectors = this.embedder ? await this.embed(col, chunks, opts.signal) : undefined;
    // Caller metadata wins over the document's own; provenance keys win over both.
    const metadata: Metadata = { ...doc.metadata, ...opts.metadata, ...input.extra, [ORIGIN_KEY]: input.origin };
    return this.store.putDocument(col.id, {
      source,
      title: doc.title,
      contentHash: hash,
      mime: doc.mime,
      metadata,
      bytes: input.bytes.byteLength,
      chunks,
      ...(vectors ? { vectors } : {}),
    });
  }

  private async embed(col: Collection, chunks: ChunkInput[], signal?: AbortSignal): Promise<Float32Array[]> {
    const embedder = this.embedder!;
    if (col.embeddingModel && col.embeddingModel !== embedder.model) {
      throw new IngestError("embedding_failed", `collection "${col.name}" is embedded with "${col.embeddingModel}", not "${embedder.model}"`);
    }
    const vectors: Float32Array[] = [];
    try {
      for (let i = 0; i < chunks.length; i += EMBED_BATCH) {
        const batch = chunks.slice(i, i + EMBED_BATCH).map((c) => c.text);
        const out = await embedder.embed(batch, signal);
        if (out.length !== batch.length) throw new Error(`expected ${batch.length} vectors, got ${out.length}`);
        vectors.push(...out);
      }
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new IngestError("embedding_failed", `embedding failed: ${errorMessage(e)}`, e);
    }
    const dims = vectors[0]?.length;
    if (dims !== undefined) {
      if (vectors.some((v) => v.length !== dims)) throw new IngestError("embedding_failed", "embedding failed: vectors of different dimensions");
      if (col.dimensions !== null && col.dimensions !== dims) throw new IngestError("embedding_failed", `embedding failed: ${dims} dimensions, the collection has ${col.dimensions}`);
      if (!col.embeddingModel) {
        await this.store.setEmbeddingModel(col.id, embedder.model, dims);
        col.embeddingModel = embedder.model;
        col.dimensions = dims;
      }
    }
    return vectors;
  }
}
