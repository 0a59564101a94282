// PII detector: regexes only propose candidates; each candidate is validated (checksum, ranges,
// libphonenumber metadata, context) before it becomes a Finding. All regexes are precompiled, and
// bounded so that a hostile 100 KB input stays linear (every quantifier over a repeated group needs
// a separator, and match starts are pinned by look-behinds so a long run is tried once).
import type { Detector, Finding } from "../types.js";
import { resolveOverlaps } from "./overlaps.js";
import { findPhones, type CountryCode } from "./phone.js";
import { cardBrand, IBAN_LENGTHS, ibanValid, ipv4Valid, ipv6Valid, luhnValid, ssnValid } from "./validators.js";

export const PII_ENTITIES = ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS"] as const;
export type PiiEntity = (typeof PII_ENTITIES)[number];

export interface PiiDetectorOptions {
  /** Which entity types to look for (default: all of PII_ENTITIES). */
  entities?: readonly PiiEntity[];
  /** Region for phone numbers written without a country code (default "US"). */
  defaultRegion?: CountryCode;
  /** Other regions a national-format phone number may belong to; found there, it scores lower. */
  phoneRegions?: readonly CountryCode[];
  /** Findings scoring below this are dropped (default 0.5). */
  minScore?: number;
}

/** Regions tried after the default one for national-format phone numbers. */
export const DEFAULT_PHONE_REGIONS: readonly CountryCode[] = [
  "US", "CA", "GB", "IE", "AU", "NZ", "ZA", "IN", "DE", "AT", "CH", "FR", "BE", "NL", "LU", "IT", "ES", "PT",
  "SE", "NO", "DK", "FI", "IS", "PL", "CZ", "SK", "HU", "RO", "GR", "CY", "BR", "MX", "AR", "JP", "CN", "SG",
];

const EMAIL_RE =
  /(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9\-]{1,59})(?![A-Za-z0-9\-@]|\.[A-Za-z0-9])/g;
const CARD_RE = /(?<![\w\-.])\d(?:[ \-]?\d){11,18}(?![\w]|[\-.]\d)/g;
/** Words that introduce a payment card number. */
const CARD_CONTEXT_RE = /\b(?:card|cards|cc|credit|debit|visa|mastercard|amex|maestro|jcb|discover|diners|pan)\b/i;
const IBAN_START_RE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ \-]?[A-Za-z0-9])/g;
const SSN_RE = /(?<![\w\-.])(\d{3})([\- ])(\d{2})\2(\d{4})(?![\w]|[\-.]\d)/g;
const SSN_BARE_RE = /(?<![\w\-.])(\d{3})(\d{2})(\d{4})(?![\w]|[\-.]\d)/g;
const SSN_CONTEXT_RE = /\b(?:ssn|ss#|ss no|social security|social sec|sozialversicherungs)/i;
const IPV4_RE = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g;
const IPV6_RE = /(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{2,39}(?:\d{1,3}(?:\.\d{1,3}){3})?(?:%[0-9A-Za-z]{1,15})?(?![\w:]|\.\d)/g;
/** "version 1.2.3.4", "v 1.2.3.4", "build: 10.0.19041.1": dotted quads that are not addresses. */
const VERSION_CONTEXT_RE = /\b(?:version|ver|v|release|build|firmware|fw|rev|revision|update|patch|sdk|api)\.?\s*[:#=]?\s*$/i;

export class PiiDetector implements Detector {
  readonly name = "pii";
  private readonly entities: ReadonlySet<PiiEntity>;
  private readonly defaultRegion: CountryCode;
  private readonly phoneRegions: readonly CountryCode[];
  private readonly minScore: number;

  constructor(opts: PiiDetectorOptions = {}) {
    this.entities = new Set(opts.entities ?? PII_ENTITIES);
    this.defaultRegion = opts.defaultRegion ?? "US";
    this.phoneRegions = opts.phoneRegions ?? DEFAULT_PHONE_REGIONS;
    this.minScore = opts.minScore ?? 0.5;
  }

  detect(text: string): Finding[] {
    const found: Finding[] = [];
    const add = (type: PiiEntity, start: number, end: number, score: number) =>
      found.push({ detector: this.name, type, start, end, score });
    const has = (e: PiiEntity) => this.entities.has(e);
    const hasDigit = /\d/.test(text);

    if (has("EMAIL") && text.includes("@")) this.emails(text, add);
    if (hasDigit) {
      if (has("CREDIT_CARD")) this.cards(text, add);
      if (has("IBAN")) this.ibans(text, add);
      if (has("US_SSN")) this.ssns(text, add);
      if (has("IP_ADDRESS")) this.ips(text, add);
      if (has("PHONE")) {
        for (const p of findPhones(text, { defaultRegion: this.defaultRegion, fallbackRegions: this.phoneRegions })) {
          add("PHONE", p.start, p.end, p.score);
        }
      }
    } else if (has("IP_ADDRESS") && text.includes("::")) {
      this.ips(text, add);
    }
    return resolveOverlaps(found.filter((f) => f.score >= this.minScore));
  }

  private emails(text: string, add: Add): void {
    for (const m of text.matchAll(EMAIL_RE)) {
      const value = m[0];
      const at = value.indexOf("@");
      const local = value.slice(0, at);
      if (local.endsWith(".") || local.includes("..")) continue;
      add("EMAIL", m.index, m.index + value.length, 0.95);
    }
  }

  private cards(text: string, add: Add): void {
    for (const m of text.matchAll(CARD_RE)) {
      const raw = m[0];
      const groups = raw.split(/[ \-]/);
      if (groups.length > 1) {
        // Printed PANs are grouped 4-4-4-4(-3), 4-6-5 or 4-6-4: first group of 4, none shorter than 3.
        if (groups[0]!.length !== 4 || groups.some((g) => g.length < 3 || g.length > 6)) continue;
        const seps = raw.replace(/\d/g, "");
        if (seps.includes(" ") && seps.includes("-")) continue;
      }
      const digits = groups.join("");
      if (!luhnValid(digits)) continue;
      if (cardBrand(digits) !== undefined) {
        // A digits-only run is easier to confuse with other ids; a grouped one is printed as a card.
        add("CREDIT_CARD", m.index, m.index + raw.length, groups.length > 1 ? 0.97 : 0.92);
      } else if (CARD_CONTEXT_RE.test(text.slice(Math.max(0, m.index - 40), m.index))) {
        // Luhn-valid but outside the published IIN ranges (a new range, a private-label card, or test data):
        // only when the text calls it a card.
        add("CREDIT_CARD", m.index, m.index + raw.length, 0.75);
      }
    }
  }

  private ibans(text: string, add: Add): void {
    IBAN_START_RE.lastIndex = 0;
    for (let m = IBAN_START_RE.exec(text); m !== null; m = IBAN_START_RE.exec(text)) {
      const start = m.index;
      const country = m[0].slice(0, 2).toUpperCase();
      const length = IBAN_LENGTHS[country];
      if (length === undefined) continue;
      // Collect exactly `length` alphanumerics, allowing one space or dash between characters.
      let compact = "";
      let i = start;
      while (i < text.length && compact.length < length) {
        const c = text[i]!;
        if (/[A-Za-z0-9]/.test(c)) { compact += c; i++; continue; }
        if ((c === " " || c === "-") && compact.length >= 4 && /[A-Za-z0-9]/.test(text[i + 1] ?? "")) { i++; continue; }
        break;
      }
      if (compact.length !== length) continue;
      if (/[A-Za-z0-9]/.test(text[i] ?? "")) continue; // runs on: longer than this country's IBAN
      if (!ibanValid(compact.toUpperCase())) continue;
      add("IBAN", start, i, 0.97);
      IBAN_START_RE.lastIndex = i;
    }
  }

  private ssns(text: string, add: Add): void {
    for (const m of text.matchAll(SSN_RE)) {
      if (!ssnValid(m[1]!, m[3]!, m[4]!)) continue;
      const context = SSN_CONTEXT_RE.test(text.slice(Math.max(0, m.index - 40), m.index));
      const score = (m[2] === "-" ? 0.88 : 0.6) + (context ? 0.1 : 0);
      add("US_SSN", m.index, m.index + m[0].length, score);
    }
    if (!SSN_CONTEXT_RE.test(text)) return;
    for (const m of text.matchAll(SSN_BARE_RE)) {
      if (!ssnValid(m[1]!, m[2]!, m[3]!)) continue;
      if (!SSN_CONTEXT_RE.test(text.slice(Math.max(0, m.index - 40), m.index))) continue;
      add("US_SSN", m.index, m.index + m[0].length, 0.8);
    }
  }

  private ips(text: string, add: Add): void {
    if (text.includes(".")) {
      for (const m of text.matchAll(IPV4_RE)) {
        if (!ipv4Valid(m[0])) continue;
        if (VERSION_CONTEXT_RE.test(text.slice(Math.max(0, m.index - 24), m.index))) continue;
        add("IP_ADDRESS", m.index, m.index + m[0].length, 0.9);
      }
    }
    if (text.includes(":")) {
      for (const m of text.matchAll(IPV6_RE)) {
        const value = m[0];
        const pct = value.indexOf("%");
        if (!ipv6Valid(pct === -1 ? value : value.slice(0, pct))) continue;
        add("IP_ADDRESS", m.index, m.index + value.length, 0.9);
      }
    }
  }
}

type Add = (type: PiiEntity, start: number, end: number, score: number) => void;
