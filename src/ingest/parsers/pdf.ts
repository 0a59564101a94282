// PDF → one or more blocks per page with unpdf (a pdf.js build for servers).
// unpdf 1.4.0's bundled pdf.js polyfills Promise.withResolvers itself, so it
// runs on Node 20 as is (verified by pdf.test.ts); no polyfill is needed here.
import type { ParsedDocument } from "../types.js";
import type { Metadata } from "../../retrieval/types.js";
import { TextBuilder, baseName } from "../text-builder.js";
import { IngestError, errorMessage } from "../errors.js";

export async function parsePdf(bytes: Uint8Array, name: string): Promise<ParsedDocument> {
  const { getDocumentProxy, extractText, getMeta } = await import("unpdf");
  // pdf.js may detach the buffer it is given: hand it a copy.
  const data = new Uint8Array(bytes);
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(data, { verbosity: 0, isEvalSupported: false });
  } catch (e) {
    const msg = errorMessage(e);
    if (/password/i.test(msg)) throw new IngestError("corrupt_file", `${name}: the PDF is encrypted (password protected)`, e);
    throw new IngestError("corrupt_file", `${name}: not a readable PDF (${msg})`, e);
  }
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    const b = new TextBuilder();
    for (const page of text) for (const para of page.split(/\n[ \t]*\n/)) b.add("paragraph", para);
    const metadata: Metadata = { pages: totalPages };
    let title: string | undefined;
    try {
      const meta = await getMeta(pdf);
      const info = meta.info as Record<string, unknown> | undefined;
      if (typeof info?.Title === "string" && info.Title.trim()) title = info.Title.trim();
      if (typeof info?.Author === "string" && info.Author.trim()) metadata.author = info.Author.trim();
    } catch {
      // Metadata is optional; the text is what matters.
    }
    return { title: title ?? baseName(name), text: b.text, blocks: b.blocks, mime: "application/pdf", metadata };
  } catch (e) {
    if (e instanceof IngestError) throw e;
    throw new IngestError("corrupt_file", `${name}: could not extract text from the PDF (${errorMessage(e)})`, e);
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}
