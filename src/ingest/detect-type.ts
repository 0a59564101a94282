// Which parser reads a file: by extension first, then the content type (URLs,
// uploads), then sniffing the bytes (%PDF-).
import { extname } from "node:path";

export type DocumentType = "markdown" | "text" | "html" | "json" | "jsonl" | "pdf";

const BY_EXTENSION: Record<string, DocumentType> = {
  ".md": "markdown",
  ".markdown": "markdown",
  ".txt": "text",
  ".html": "html",
  ".htm": "html",
  ".json": "json",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".pdf": "pdf",
};

const BY_MIME: Record<string, DocumentType> = {
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
  "text/plain": "text",
  "text/html": "html",
  "application/xhtml+xml": "html",
  "application/json": "json",
  "application/x-ndjson": "jsonl",
  "application/jsonl": "jsonl",
  "application/x-jsonlines": "jsonl",
  "application/pdf": "pdf",
};

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.keys(BY_EXTENSION);

export function typeFromExtension(name: string): DocumentType | undefined {
  return BY_EXTENSION[extname(name).toLowerCase()];
}

export function typeFromMime(contentType: string | undefined): DocumentType | undefined {
  if (!contentType) return undefined;
  return BY_MIME[contentType.split(";")[0]!.trim().toLowerCase()];
}

function sniff(bytes: Uint8Array | undefined): DocumentType | undefined {
  if (!bytes) return undefined;
  const head = Buffer.from(bytes.subarray(0, 1024)).toString("latin1");
  if (head.startsWith("%PDF-")) return "pdf";
  return undefined;
}

export function detectType(opts: { name?: string; mime?: string; bytes?: Uint8Array }): DocumentType | undefined {
  // A PDF is a PDF whatever it is called; text formats trust the name, then the content type.
  if (sniff(opts.bytes) === "pdf") return "pdf";
  return (opts.name ? typeFromExtension(opts.name) : undefined) ?? typeFromMime(opts.mime);
}
