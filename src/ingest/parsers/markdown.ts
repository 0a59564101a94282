// Markdown → blocks with a line scanner covering what documentation uses:
// YAML front matter, ATX and setext headings, fenced code, lists, tables,
// paragraphs (block quotes are kept as paragraphs). Inline markup stays in the
// text: it is harmless for search and keeps code and links intact.
import { lazyModule } from "../../core/lazy-module.js";
import type { ParsedDocument } from "../types.js";
import type { Metadata } from "../../retrieval/types.js";
import { TextBuilder, baseName } from "../text-builder.js";
import { scalarMetadata } from "./scalar-metadata.js";

const yaml = lazyModule<typeof import("yaml")>("yaml");

const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)/;
const TABLE_DELIM = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const THEMATIC = /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const SETEXT_H1 = /^ {0,3}=+[ \t]*$/;
const SETEXT_H2 = /^ {0,3}-+[ \t]*$/;

export function parseMarkdown(source: string, name: string): ParsedDocument {
  const lines = source.split("\n");
  let i = 0;
  let metadata: Metadata = {};
  let fmTitle: string | undefined;
  if (lines[0]?.trim() === "---") {
    const end = lines.findIndex((l, j) => j > 0 && (l.trim() === "---" || l.trim() === "..."));
    if (end > 0) {
      let fm: unknown;
      try {
        fm = yaml().parse(lines.slice(1, end).join("\n"));
      } catch {
        // Not YAML after all (e.g. a document that opens with a rule): it stays text.
      }
      if (fm && typeof fm === "object" && !Array.isArray(fm)) {
        metadata = scalarMetadata(fm as Record<string, unknown>);
        const t = (fm as Record<string, unknown>).title;
        if (typeof t === "string" && t.trim()) fmTitle = t.trim();
        i = end + 1;
      }
    }
  }

  const b = new TextBuilder();
  let firstH1: string | undefined;
  const heading = (level: number, text: string) => {
    const t = text.trim();
    if (!t) return;
    if (level === 1) firstH1 ??= t;
    b.add("heading", t, level);
  };
  const isBlank = (l: string | undefined) => l === undefined || l.trim() === "";
  const startsBlock = (l: string) => ATX.test(l) || FENCE.test(l) || LIST_ITEM.test(l) || THEMATIC.test(l);

  while (i < lines.length) {
    const line = lines[i]!;
    if (isBlank(line)) { i++; continue; }

    const atx = ATX.exec(line);
    if (atx) { heading(atx[1]!.length, atx[2] ?? ""); i++; continue; }

    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1]!;
      const body: string[] = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${marker[0] === "`" ? "`" : "~"}{${marker.length},}[ \\t]*$`).test(lines[i]!)) body.push(lines[i++]!);
      i++; // closing fence (or end of file)
      b.add("code", body.join("\n"));
      continue;
    }

    if (THEMATIC.test(line)) { i++; continue; }

    if (line.includes("|") && lines[i + 1] !== undefined && TABLE_DELIM.test(lines[i + 1]!) && lines[i + 1]!.includes("-")) {
      const rows = [line];
      i += 2; // the delimiter row carries no content
      while (i < lines.length && !isBlank(lines[i]) && lines[i]!.includes("|")) rows.push(lines[i++]!);
      b.add("table", rows.join("\n"));
      continue;
    }

    if (LIST_ITEM.test(line)) {
      const items = [line];
      i++;
      for (;;) {
        const l = lines[i];
        if (l === undefined) break;
        if (!isBlank(l)) {
          if (ATX.test(l) || FENCE.test(l) || THEMATIC.test(l)) break;
          items.push(l);
          i++;
          continue;
        }
        // A blank line ends the list unless an item or indented continuation follows.
        let j = i;
        while (j < lines.length && isBlank(lines[j])) j++;
        const next = lines[j];
        if (next !== undefined && (LIST_ITEM.test(next) || /^(?: {2,}|\t)/.test(next))) { items.push(""); i = j; continue; }
        break;
      }
      b.add("list", items.join("\n").replace(/\n{3,}/g, "\n\n"));
      continue;
    }

    // Paragraph, possibly turned into a setext heading by an underline.
    const para = [line];
    i++;
    let setext = 0;
    while (i < lines.length && !isBlank(lines[i])) {
      const l = lines[i]!;
      if (SETEXT_H1.test(l)) { setext = 1; i++; break; }
      if (SETEXT_H2.test(l)) { setext = 2; i++; break; }
      if (startsBlock(l)) break;
      para.push(l);
      i++;
    }
    if (setext) heading(setext, para.join(" "));
    else b.add("paragraph", para.join("\n"));
  }

  return { title: fmTitle ?? firstH1 ?? baseName(name), text: b.text, blocks: b.blocks, mime: "text/markdown", metadata };
}
