// HTML → blocks with htmlparser2's streaming Parser (no DOM: memory stays
// proportional to the text, not the markup). Navigation, scripts and other
// non-content elements are dropped; table rows become one block each with
// cells joined by " | " (a lone cell rarely means anything on its own).
import { lazyModule } from "../../core/lazy-module.js";
import type { BlockKind, ParsedDocument } from "../types.js";
import { TextBuilder, baseName } from "../text-builder.js";

const DROP = new Set(["script", "style", "nav", "footer", "noscript", "template", "svg", "head", "iframe", "object", "canvas", "select", "button"]);
const HEADING = /^h([1-6])$/;
/** Elements whose boundaries end the current block. */
const BOUNDARY = new Set([
  "p", "li", "pre", "blockquote", "tr", "table", "div", "section", "article", "main", "aside", "header",
  "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "form", "fieldset", "details", "summary", "hr", "body", "html",
]);

const htmlparser2 = lazyModule<typeof import("htmlparser2")>("htmlparser2");

export function parseHtml(source: string, name: string): ParsedDocument {
  const b = new TextBuilder();
  let title = "";
  let inTitle = false;
  let bodySeen = false;
  let dropDepth = 0;
  let preDepth = 0;
  let buf = "";
  let kind: BlockKind = "paragraph";
  let level: number | undefined;
  let row: string[] | null = null;
  let inCell = false;

  const flush = () => {
    const text = preDepth > 0 || kind === "code" ? buf.replace(/^\n+|\s+$/g, "") : buf.replace(/[ \t\r\n\f]+/g, " ").trim();
    buf = "";
    if (!text) return;
    if (kind === "heading") b.add("heading", text, level);
    else b.add(kind, kind === "list" ? `- ${text}` : text);
  };

  const parser = new (htmlparser2().Parser)(
    {
      onopentag(tag) {
        // <title> lives in <head>, which is otherwise dropped; an <svg><title> in the body is not the page title.
        if (tag === "title" && !bodySeen) { inTitle = true; return; }
        if (tag === "body") bodySeen = true;
        // Inside a dropped element every tag is counted (htmlparser2 closes void and implied tags too).
        if (dropDepth > 0) { dropDepth++; return; }
        if (DROP.has(tag)) { dropDepth = 1; return; }
        const h = HEADING.exec(tag);
        if (h) { flush(); kind = "heading"; level = Number(h[1]); return; }
        if (tag === "td" || tag === "th") { flush(); inCell = true; return; }
        if (tag === "tr") { flush(); row = []; return; }
        if (tag === "br") { buf += "\n"; return; }
        if (BOUNDARY.has(tag)) {
          flush();
          if (tag === "pre") { preDepth++; kind = "code"; }
          else if (tag === "li") kind = "list";
          else kind = "paragraph";
        }
      },
      ontext(text) {
        if (inTitle) { title += text; return; }
        if (dropDepth > 0) return;
        buf += text;
      },
      onclosetag(tag) {
        if (tag === "title" && inTitle) { inTitle = false; return; }
        if (dropDepth > 0) { dropDepth--; return; }
        if (HEADING.test(tag)) { flush(); kind = "paragraph"; level = undefined; return; }
        if ((tag === "td" || tag === "th") && inCell) {
          inCell = false;
          const cell = buf.replace(/\s+/g, " ").trim();
          buf = "";
          if (row) row.push(cell);
          else if (cell) b.add("paragraph", cell);
          return;
        }
        if (tag === "tr") {
          flush();
          if (row?.some((c) => c)) b.add("table", row.join(" | "));
          row = null;
          return;
        }
        if (BOUNDARY.has(tag)) {
          flush();
          if (tag === "pre") preDepth = Math.max(0, preDepth - 1);
          kind = preDepth > 0 ? "code" : "paragraph";
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(source);
  parser.end();
  flush();

  const t = title.replace(/\s+/g, " ").trim();
  const h1 = b.blocks.find((x) => x.kind === "heading" && x.level === 1)?.text;
  return { title: t || h1 || baseName(name), text: b.text, blocks: b.blocks, mime: "text/html", metadata: {} };
}
