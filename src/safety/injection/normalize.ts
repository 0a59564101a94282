// Text normalisation shared by the weights-free safety heuristics (injection, moderation).
// Undoes the cheap obfuscations attackers use to slip past keyword patterns:
// Unicode compatibility forms and diacritics, zero-width/format characters, homoglyphs,
// leetspeak inside words, s p a c e d - o u t letters, and runs of base64 / hex that
// decode to readable text. Everything is linear-time (bounded regexes, no backtracking
// blow-ups) so it can run on every message.

const ZERO_WIDTH = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/g;
const COMBINING = /[\u0300-\u036f]/g;

// Common Cyrillic / Greek look-alikes that NFKC leaves alone.
const HOMOGLYPHS: Record<string, string> = {
  "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ɡ": "g",
  "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
  "‘": "'", "’": "'", "‛": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
};
const HOMOGLYPH_RE = /[аеорсухіјѕһԁɡοαειкνρτυχ‘’‛`´“”„«»]/g;

const LEET: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s" };

/** A token mixing letters with leet digits/symbols: "h4te", "1gn0re", "pr0mpt", "@ss". */
const LEET_WORD = /(?<![a-z0-9@$])(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[013457@$])[a-z0-9@$]{3,}(?![a-z0-9@$])/g;

/** Single letters separated by one space/dot/dash/underscore/star, at least 4 letters: "i g n o r e", "h.a.t.e". */
const SPACED = /(?<![a-z])(?:[a-z][ .\-_*+~] ?){3,}[a-z](?![a-z])/g;

function unleet(word: string): string {
  // Leave plain numbers, versions, years, and tokens with 3+ digits alone ("mp3" stays, "l33t" → "leet").
  let out = "";
  for (const ch of word) out += LEET[ch] ?? ch;
  return out;
}

/** Normalise for matching: NFKC, lowercase, strip zero-width & diacritics, homoglyphs, leet, spacing, collapse whitespace. */
export function normalizeText(input: string): string {
  let t = input.normalize("NFKC").replace(ZERO_WIDTH, "");
  // Diacritics: decompose then drop combining marks (cheap; only when non-ASCII is present).
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(t)) t = t.normalize("NFKD").replace(COMBINING, "").normalize("NFC").replace(HOMOGLYPH_RE, (c) => HOMOGLYPHS[c] ?? c);
  t = t.toLowerCase();
  t = t.replace(LEET_WORD, (w) => {
    const digits = w.replace(/[a-z]/g, "").length;
    if (/^\d+[a-z]{1,3}$/.test(w) || /^[a-z]{1,4}\d+$/.test(w)) return w; // 1st, 10am, 4k, mp3, ipv4
    return digits > 0 && digits < w.length ? unleet(w) : w;
  });
  t = t.replace(SPACED, (m) => m.replace(/[ .\-_*+~]/g, "") + " ");
  t = t.replace(/\s+/g, " ").trim();
  return t;
}

/** Letters and digits only, lowercased: for matching tokens that were split or spaced out. */
export function squash(input: string): string {
  return input.normalize("NFKC").replace(ZERO_WIDTH, "").toLowerCase().replace(/[^a-z0-9]/g, "");
}

const BASE64_RUN = /(?:[A-Za-z0-9+/]{4}){4,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?|(?:[A-Za-z0-9_-]{4}){5,}/g;
const HEX_RUN = /(?:\b|0x)((?:[0-9a-fA-F]{2}[ :]?){8,})/g;
const MAX_DECODED_SEGMENTS = 16;

function printableRatio(s: string): number {
  if (s.length === 0) return 0;
  let ok = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 10 || c === 13 || c === 9) ok++;
  }
  return ok / s.length;
}

function looksLikeText(s: string, requireSpace: boolean): boolean {
  return s.length >= 6 && printableRatio(s) >= 0.95 && /[a-z]{3,}/i.test(s) && (!requireSpace || /\s/.test(s));
}

/**
 * Runs of base64 (standard or URL-safe) and hex inside the text that decode to readable
 * text (with whitespace, unless `requireSpace` is false). Returns the decoded strings (not
 * normalised), at most 16 of them.
 */
export function decodeEmbedded(input: string, requireSpace = true): string[] {
  const out: string[] = [];
  if (input.length < 16) return out;
  for (const m of input.matchAll(BASE64_RUN)) {
    if (out.length >= MAX_DECODED_SEGMENTS) break;
    const run = m[0];
    // Pure-letter runs are ordinary long words/identifiers; real base64 mixes cases/digits.
    if (!/[0-9+/=_-]/.test(run) && !(/[A-Z]/.test(run) && /[a-z]/.test(run))) continue;
    const decoded = Buffer.from(run.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
    if (looksLikeText(decoded, requireSpace)) out.push(decoded);
  }
  for (const m of input.matchAll(HEX_RUN)) {
    if (out.length >= MAX_DECODED_SEGMENTS) break;
    const hex = (m[1] ?? "").replace(/[ :]/g, "");
    if (hex.length % 2 !== 0) continue;
    const decoded = Buffer.from(hex, "hex").toString("utf8");
    if (looksLikeText(decoded, requireSpace)) out.push(decoded);
  }
  return out;
}
