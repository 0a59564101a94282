// JSON and JSONL. A JSON file is one document: each top-level array element
// (or each top-level key of an object) is a block. A record with a text field
// (text/content/body) contributes that text; for a top-level record its other
// scalar fields become document metadata (array elements' metadata has no
// place on a block: use JSONL for per-record metadata). JSONL is one document
// per line; a bad line is reported on its own and the other lines still parse.
import type { ParsedDocument } from "../types.js";
import type { Metadata } from "../../retrieval/types.js";
import { TextBuilder, baseName } from "../text-builder.js";
import { IngestError, errorMessage } from "../errors.js";
import { scalarMetadata } from "./scalar-metadata.js";

const TEXT_FIELDS = ["text", "content", "body"] as const;
const TITLE_FIELDS = ["title", "name"] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function textField(o: Obj): string | undefined {
  for (const f of TEXT_FIELDS) if (typeof o[f] === "string") return o[f] as string;
  return undefined;
}

function titleField(o: Obj): string | undefined {
  for (const f of TITLE_FIELDS) {
    const v = o[f];
    if (typeof v === "string" && v.trim()) return v.trim();
  }
  return undefined;
}

/** Scalar leaves as "path: value" lines (nested keys dotted, array items indexed). */
export function flatten(value: unknown, prefix = "", out: string[] = []): string[] {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    out.push(prefix ? `${prefix}: ${String(value)}` : String(value));
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

function recordText(v: unknown): string {
  if (isObj(v)) {
    const t = textField(v);
    if (t !== undefined) return t;
  }
  return flatten(v).join("\n");
}

function recordMetadata(o: Obj): Metadata {
  const skip = new Set<string>(TEXT_FIELDS.filter((f) => typeof o[f] === "string"));
  return scalarMetadata(o, skip);
}

export function parseJson(source: string, name: string): ParsedDocument {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    throw new IngestError("corrupt_file", `${name}: invalid JSON (${errorMessage(e)})`, e);
  }
  const b = new TextBuilder();
  let metadata: Metadata = {};
  let title: string | undefined;
  if (Array.isArray(value)) {
    for (const el of value) b.add("paragraph", recordText(el));
  } else if (isObj(value)) {
    title = titleField(value);
    const t = textField(value);
    if (t !== undefined) {
      for (const para of t.split(/\n[ \t]*\n/)) b.add("paragraph", para);
      metadata = recordMetadata(value);
    } else {
      for (const [k, v] of Object.entries(value)) b.add("paragraph", flatten(v, k).join("\n"));
    }
  } else if (typeof value === "string") {
    b.add("paragraph", value);
  } else {
    throw new IngestError("unsupported_type", `${name}: JSON must be an object or an array`);
  }
  return { title: title ?? baseName(name), text: b.text, blocks: b.blocks, mime: "application/json", metadata };
}

export interface JsonlLine {
  /** 1-based line number in the file. */
  line: number;
  doc?: ParsedDocument;
  error?: IngestError;
}

export function parseJsonl(source: string, name: string): JsonlLine[] {
  const out: JsonlLine[] = [];
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    const line = i + 1;
    try {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (e) {
        throw new IngestError("corrupt_file", `${name} line ${line}: invalid JSON (${errorMessage(e)})`, e);
      }
      const b = new TextBuilder();
      let metadata: Metadata = {};
      let title: string | undefined;
      if (isObj(value)) {
        title = titleField(value);
        const t = textField(value);
        if (t !== undefined) {
          for (const para of t.split(/\n[ \t]*\n/)) b.add("paragraph", para);
          metadata = recordMetadata(value);
        } else b.add("paragraph", flatten(value).join("\n"));
      } else b.add("paragraph", recordText(value));
      if (!b.blocks.length) throw new IngestError("empty_text", `${name} line ${line}: no text in this record`);
      out.push({ line, doc: { title: title ?? `${baseName(name)} #${line}`, text: b.text, blocks: b.blocks, mime: "application/x-ndjson", metadata } });
    } catch (e) {
      out.push({ line, error: e instanceof IngestError ? e : new IngestError("corrupt_file", `${name} line ${line}: ${errorMessage(e)}`, e) });
    }
  }
  return out;
}
