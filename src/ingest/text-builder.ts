// Accumulates blocks into one document text, blocks separated by a blank
// line, so that every block's text === text.slice(block.start, block.end) and
// chunks spanning several blocks are contiguous slices of the text.
import type { Block, BlockKind } from "./types.js";

export class TextBuilder {
  private parts: string[] = [];
  private length = 0;
  readonly blocks: Block[] = [];

  add(kind: BlockKind, raw: string, level?: number): void {
    const text = raw.trim();
    if (!text) return;
    if (this.blocks.length) {
      this.parts.push("\n\n");
      this.length += 2;
    }
    const block: Block = { kind, text, start: this.length, end: this.length + text.length };
    if (level !== undefined) block.level = level;
    this.parts.push(text);
    this.length += text.length;
    this.blocks.push(block);
  }

  get text(): string {
    return this.parts.join("");
  }

}

export function baseName(name: string): string {
  const file = name.split(/[\\/]/).pop() ?? name;
  const dot = file.lastIndexOf(".");
  return dot > 0 ? file.slice(0, dot) : file || name;
}
