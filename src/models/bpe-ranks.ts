// Reads a BPE rank table from tiktoken's text format (`<base64 token> <rank>`
// per line) into the array gpt-tokenizer's GptEncoding takes: a token that is
// valid UTF-8 as its string, any other as its bytes, '' for a missing rank.
// (That is how gpt-tokenizer generates its own JS rank modules.)
//
// Why not import that JS module: it is a 2.4 MB array literal, and compiling
// it leaves ~28 MiB of the parser's malloc'd memory with glibc and ~14 MiB of
// heap after the table is released; this reads the package's .tiktoken file
// with string scanning and leaves neither (measured in plain node).
import { readFileSync } from "node:fs";
import { isUtf8 } from "node:buffer";

export type BpeRanks = (string | number[])[];

export function readTiktokenRanks(path: string): BpeRanks {
  const data = readFileSync(path, "latin1");
  const ranks: BpeRanks = [];
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(" ", pos);
    let end = data.indexOf("\n", pos);
    if (end < 0) end = data.length;
    if (space < 0 || space > end) throw new Error(`${path}: malformed line at offset ${pos}`);
    const rank = Number(data.slice(space + 1, end));
    if (!Number.isInteger(rank) || rank < ranks.length) throw new Error(`${path}: bad rank at offset ${pos}`);
    while (ranks.length < rank) ranks.push("");
    ranks.push(tokenOf(Buffer.from(data.slice(pos, space), "base64")));
    pos = end + 1;
  }
  return ranks;
}

/** A leading BOM stays bytes: a UTF-8 decoder would strip it, so the string would not round-trip. */
function tokenOf(bytes: Buffer): string | number[] {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return isUtf8(bytes) && !bom ? bytes.toString("utf8") : Array.from(bytes);
}
