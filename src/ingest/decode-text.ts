// Bytes → string for text formats. Only UTF-8 (optionally with BOM) and
// UTF-16 with a BOM are accepted: guessing legacy encodings silently corrupts
// text, so anything else is refused with a clear error instead.
import { IngestError } from "./errors.js";

export function decodeText(bytes: Uint8Array, name: string): string {
  let text: string;
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder("utf-16le", { fatal: true }).decode(bytes.subarray(2));
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder("utf-16be", { fatal: true }).decode(bytes.subarray(2));
    else {
      const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bom ? bytes.subarray(3) : bytes);
    }
  } catch (e) {
    throw new IngestError("bad_encoding", `${name}: not valid UTF-8 text (or UTF-16 with a byte-order mark)`, e);
  }
  // Valid UTF-8 can still be binary (NUL bytes never occur in text files).
  if (text.includes("\u0000")) throw new IngestError("bad_encoding", `${name}: contains NUL bytes; looks like a binary file, not text`);
  return text.replace(/\r\n?/g, "\n");
}
