// Ingestion: files, folders, URLs and uploaded content → parsed text with
// structure → chunks → the retrieval store. One bad file never aborts the rest.
import type { Metadata } from "../retrieval/types.js";

export type BlockKind = "heading" | "paragraph" | "code" | "list" | "table";

/** A structural unit of a parsed document, with its offsets in ParsedDocument.text. */
export interface Block {
  kind: BlockKind;
  text: string;
  /** Heading level 1-6 for headings. */
  level?: number;
  start: number;
  end: number;
}

export interface ParsedDocument {
  title: string;
  /** The whole extracted text; block and chunk offsets index into it. */
  text: string;
  blocks: Block[];
  mime: string;
  /** Metadata found in the document itself (e.g. front matter, PDF info). */
  metadata: Metadata;
}

export type IngestStatus = "added" | "updated" | "unchanged" | "deleted" | "failed";

export interface IngestFileResult {
  source: string;
  status: IngestStatus;
  documentId?: string;
  chunks?: number;
  /** Set when status is "failed": what was wrong with this file, specifically. */
  error?: string;
}

export interface IngestReport {
  collection: string;
  files: IngestFileResult[];
  added: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: number;
  chunks: number;
  tookMs: number;
}

export interface IngestProgress {
  done: number;
  total: number;
  source: string;
}
