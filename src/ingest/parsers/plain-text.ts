// Plain text: paragraphs are separated by blank lines.
import type { ParsedDocument } from "../types.js";
import { TextBuilder, baseName } from "../text-builder.js";

const MAX_TITLE_CHARS = 100;

export function parsePlainText(source: string, name: string): ParsedDocument {
  const b = new TextBuilder();
  for (const para of source.split(/\n[ \t]*\n/)) b.add("paragraph", para);
  const first = b.blocks[0]?.text.split("\n")[0]?.trim() ?? "";
  const title = first && first.length <= MAX_TITLE_CHARS ? first : baseName(name);
  return { title, text: b.text, blocks: b.blocks, mime: "text/plain", metadata: {} };
}
