// Raw bytes → parsed documents. Most files are one document; a JSONL file is
// one per line, so the result is a list, and a bad line is an item with an
// error rather than a failure of the whole file.
import { open } from "node:fs/promises";
import type { ParsedDocument } from "./types.js";
import { IngestError } from "./errors.js";
import { decodeText } from "./decode-text.js";
import { detectType, SUPPORTED_EXTENSIONS } from "./detect-type.js";
import { parseMarkdown } from "./parsers/markdown.js";
import { parsePlainText } from "./parsers/plain-text.js";
import { parseHtml } from "./parsers/html.js";
import { parseJson, parseJsonl } from "./parsers/json.js";
import { parsePdf } from "./parsers/pdf.js";

export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;

export interface ParsedItem {
  /** "" for the whole file; "#<id>" or "#L<line>" for a JSONL record. Appended to the source. */
  key: string;
  doc?: ParsedDocument;
  error?: IngestError;
}

export interface ParseOptions {
  /** File name (or URL path): its extension picks the parser. */
  name: string;
  /** Content type, used when the name has no known extension. */
  mime?: string;
  maxBytes?: number;
}

function nonEmpty(doc: ParsedDocument, name: string): ParsedDocument {
  if (!doc.blocks.length || !doc.text.trim()) throw new IngestError("empty_text", `${name}: no text could be extracted`);
  return doc;
}

export async function parseContent(bytes: Uint8Array, opts: ParseOptions): Promise<ParsedItem[]> {
  const { name } = opts;
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.byteLength > max) throw new IngestError("too_large", `${name}: ${bytes.byteLength} bytes exceeds the limit of ${max} bytes`);
  if (bytes.byteLength === 0) throw new IngestError("empty_text", `${name}: the file is empty`);
  const type = detectType({ name, mime: opts.mime, bytes });
  if (!type) {
    const what = opts.mime ? `content type "${opts.mime.split(";")[0]}"` : "this file type";
    throw new IngestError("unsupported_type", `${name}: ${what} is not supported (supported: ${SUPPORTED_EXTENSIONS.join(" ")})`);
  }
  if (type === "pdf") return [{ key: "", doc: nonEmpty(await parsePdf(bytes, name), name) }];
  const text = decodeText(bytes, name);
  switch (type) {
    case "markdown": return [{ key: "", doc: nonEmpty(parseMarkdown(text, name), name) }];
    case "text": return [{ key: "", doc: nonEmpty(parsePlainText(text, name), name) }];
    case "html": return [{ key: "", doc: nonEmpty(parseHtml(text, name), name) }];
    case "json": return [{ key: "", doc: nonEmpty(parseJson(text, name), name) }];
    case "jsonl": {
      const lines = parseJsonl(text, name);
      if (!lines.length) throw new IngestError("empty_text", `${name}: no records`);
      // A record's id names it when ids are unique (stable across reordering); else its line number.
      const ids = lines.map((l) => {
        const id = l.doc?.metadata.id;
        return typeof id === "string" || typeof id === "number" ? String(id) : undefined;
      });
      const docIds = ids.filter((_, i) => lines[i]!.doc);
      const unique = docIds.every((id) => id !== undefined) && new Set(docIds).size === docIds.length;
      return lines.map((l, i) => ({ key: unique && l.doc ? `#${ids[i]}` : `#L${l.line}`, doc: l.doc, error: l.error }));
    }
  }
}

/** Reads and parses a file, refusing oversized files before reading them. */
export async function parseFile(path: string, opts: Partial<ParseOptions> = {}): Promise<{ bytes: Buffer; items: ParsedItem[] }> {
  const bytes = await readFileCapped(path, opts.maxBytes ?? DEFAULT_MAX_BYTES, opts.name ?? path);
  return { bytes, items: await parseContent(bytes, { name: opts.name ?? path, mime: opts.mime, maxBytes: opts.maxBytes }) };
}

export async function readFileCapped(path: string, max: number, name: string): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    if (size > max) throw new IngestError("too_large", `${name}: ${size} bytes exceeds the limit of ${max} bytes`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
