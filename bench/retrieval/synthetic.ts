// Synthetic text with a Zipfian vocabulary, for the scale run: deterministic
// (seeded), pronounceable pseudo-words so the analyzer treats them as words.

import { seededRandom } from "../../src/core/seeded-random.js";

export const rng = seededRandom;

const SYL = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "do", "shu", "gar", "bel", "tin", "mor", "qua", "rex", "sol", "fen", "wy"];

export class ZipfText {
  readonly vocab: string[];
  private readonly cdf: Float64Array;
  constructor(size: number, private readonly rand: () => number, s = 1.07) {
    const words = new Set<string>();
    while (words.size < size) {
      const n = 2 + Math.floor(rand() * 3);
      let w = "";
      for (let i = 0; i < n; i++) w += SYL[Math.floor(rand() * SYL.length)];
      words.add(w);
    }
    this.vocab = [...words];
    this.cdf = new Float64Array(size);
    let acc = 0;
    for (let i = 0; i < size; i++) { acc += 1 / Math.pow(i + 1, s); this.cdf[i] = acc; }
    for (let i = 0; i < size; i++) this.cdf[i]! /= acc;
  }
  word(): string {
    const u = this.rand();
    let lo = 0, hi = this.cdf.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.cdf[mid]! < u) lo = mid + 1; else hi = mid; }
    return this.vocab[lo]!;
  }
  text(words: number): string {
    const out: string[] = [];
    for (let i = 0; i < words; i++) out.push(this.word());
    return out.join(" ");
  }
}
