// Phone numbers: candidates by a bounded regex, then validated with libphonenumber-js (full
// "max" metadata, which checks number ranges per region, not only lengths).
import type { CountryCode } from "libphonenumber-js/max";
import { lazyModule } from "../../core/lazy-module.js";

export type { CountryCode };

// The full metadata is ~2.5 MiB of heap; only a configured PII guardrail needs it.
const libphonenumber = lazyModule<typeof import("libphonenumber-js/max")>("libphonenumber-js/max");

/**
 * Candidate shapes: optional +CC / 00CC, optional "(0)", optional "(area)", then 1-7 digit groups
 * separated by one space, dot or dash (a group may be a bare run of up to 12 digits), then an optional extension. Every repetition needs a
 * separator, so there is one way to split a digit run: no catastrophic backtracking. Newlines
 * never join groups. A candidate may not start or end inside a longer run of digit groups.
 */
const PHONE_RE =
  /(?<![\w+.\-])(?<!\d[ ])(?:(?:\+|\b00)\d{1,3}[ .\-]?)?(?:\(0\)[ ]?)?(?:\(\d{1,5}\)[ .\-]?)?\d{1,12}(?:[ .\-]\d{1,12}){0,6}(?:[ ]?(?:x|ext\.?|#)[ ]?\d{1,6})?(?![\w]|[ .\-]\d)/g;

/** Words that make a nearby digit group a phone number rather than an id, amount or code. */
const CONTEXT_RE =
  /\b(?:phone|tel|telephone|mobile|mob|cell|cellphone|fax|call|called|calling|dial|ring|text|sms|whatsapp|contact|number|reach|office|desk|hotline|message|messages|answering|registered)\b/i;

/** Words that make a digit group something else: postal codes, licences, accounts, orders. */
const NEGATIVE_CONTEXT_RE =
  /\b(?:zip|postal|postcode|post code|cep|plz|licen[cs]e|account|acct|order|invoice|ssn|social security|passport|iban|routing|sort code|tracking|isbn)\b[^\n]{0,20}$/i;

const DATE_RE = /^(?:\d{4}[.\-/ ]\d{1,2}[.\-/ ]\d{1,2}|\d{1,2}[.\-/ ]\d{1,2}[.\-/ ]\d{2}(?:\d{2})?)$/;

export interface PhoneMatch { start: number; end: number; score: number; region?: string }

export interface PhoneOptions {
  /** Region for numbers written without a country code. */
  defaultRegion: CountryCode;
  /** Other regions a national-format number may belong to (lower confidence than the default region). */
  fallbackRegions: readonly CountryCode[];
  /**
   * libphonenumber validations allowed per text (each costs ~20-50 µs). Past the budget, phone-shaped
   * candidates are reported unvalidated at the lowest score (fail towards redacting), so a text packed
   * with thousands of numbers costs bounded time without hiding any of them. Default 400.
   */
  validationBudget?: number;
}

function isDateLike(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const parts = s.split(/[.\-/ ]/);
  const [a, b, c] = parts.map(Number) as [number, number, number];
  if (parts[0]!.length === 4) return b >= 1 && b <= 12 && c >= 1 && c <= 31;
  return (a >= 1 && a <= 31 && b >= 1 && b <= 12) || (a >= 1 && a <= 12 && b >= 1 && b <= 31);
}

function parseValid(candidate: string, region: CountryCode): boolean {
  const p = libphonenumber().parsePhoneNumberFromString(candidate, region);
  return p !== undefined && p.isValid();
}

export function findPhones(text: string, opts: PhoneOptions): PhoneMatch[] {
  const out: PhoneMatch[] = [];
  let budget = opts.validationBudget ?? 400;
  const memo = new Map<string, boolean>();
  const validIn = (candidate: string, region: CountryCode): boolean => {
    const key = `${region}:${candidate}`;
    let v = memo.get(key);
    if (v === undefined) {
      budget--;
      v = parseValid(candidate, region);
      memo.set(key, v);
    }
    return v;
  };
  PHONE_RE.lastIndex = 0;
  for (let m = PHONE_RE.exec(text); m !== null; m = PHONE_RE.exec(text)) {
    const raw = m[0];
    const start = m.index;
    const end = start + raw.length;
    const main = raw.replace(/[ ]?(?:x|ext\.?|#)[ ]?\d{1,6}$/, "");
    let digits = 0;
    for (let i = 0; i < main.length; i++) { const c = main.charCodeAt(i); if (c >= 48 && c <= 57) digits++; }
    if (digits < 7 || digits > 15) continue;
    if (isDateLike(main) || /^\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}\b/.test(main)) continue;
    if (/^:\d/.test(text.slice(end, end + 2))) continue; // a time ("2000-04-16 11:34")
    if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(main)) continue; // dotted quad: an IP address, not a phone
    const international = main.startsWith("+") || main.startsWith("00");
    const bare = /^\d+$/.test(main);
    const before = text.slice(Math.max(0, start - 40), start);
    if (NEGATIVE_CONTEXT_RE.test(before)) continue;
    const after = text.slice(end, end + 16);
    const context = CONTEXT_RE.test(before) || CONTEXT_RE.test(after);
    const bonus = context ? 0.1 : 0;

    if (budget <= 0) {
      if (!bare && (context || digits >= 10)) out.push({ start, end, score: 0.5 });
      continue;
    }
    // Tier 1: valid in the default region, or a valid international number.
    if (validIn(main, opts.defaultRegion)) {
      out.push({ start, end, score: Math.min(1, (bare ? 0.7 : 0.85) + bonus), region: opts.defaultRegion });
      continue;
    }
    // Tier 2: valid in another likely region (national format).
    if (!international && context) {
      const region = opts.fallbackRegions.find((r) => r !== opts.defaultRegion && validIn(main, r));
      // Some region's metadata accepts almost any 7-10 digit string: without a phone word nearby this is
      // as likely a street number, a postal code or an amount.
      if (region !== undefined) {
        out.push({ start, end, score: bare ? 0.6 : 0.7, region });
        continue;
      }
    }
    // Tier 3: phone-shaped (separators, +, parentheses) and introduced as a phone number. Catches numbers
    // from ranges libphonenumber does not know (reserved/fictional ranges, new allocations).
    if (context && (!bare || digits >= 10)) out.push({ start, end, score: 0.5 });
  }
  return out;
}
