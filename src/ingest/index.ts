// Ingestion: files, folders, URLs and uploads → parsed documents → chunks → the retrieval store.
export type { Block, BlockKind, ParsedDocument, IngestStatus, IngestFileResult, IngestReport, IngestProgress } from "./types.js";
export { IngestError, isIngestError, type IngestErrorCode } from "./errors.js";
export { parseContent, parseFile, DEFAULT_MAX_BYTES, type ParsedItem, type ParseOptions } from "./parse-content.js";
export { detectType, typeFromExtension, typeFromMime, SUPPORTED_EXTENSIONS, type DocumentType } from "./detect-type.js";
export { chunkDocument, type ChunkOptions } from "./chunk-document.js";
export { walkFolder, type WalkEntry } from "./walk-folder.js";
export { fetchUrl, pinnedLookup, type FetchUrlOptions, type FetchedDocument } from "./fetch-url.js";
export { vetHost, blockedReason, type GuardOptions, type Resolver, type ResolvedAddress } from "./ssrf-guard.js";
export { Ingestor, ORIGIN_KEY, FILE_KEY, type IngestorOptions, type IngestOptions, type IngestContentInput } from "./ingestor.js";

/** The job type of queued ingestions (`POST .../documents` with `async: true`). */
export const INGEST_JOB = "ingest";
