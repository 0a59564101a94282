// Checksums and structural validators for PII candidates. Pure functions, no regexes
// with unbounded backtracking: every candidate string is short (the detector caps lengths).
import { isIP } from "node:net";

/** Luhn (mod-10) check over the digits of `digits` (non-digits must already be removed). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

export type CardBrand =
  | "visa" | "mastercard" | "amex" | "diners" | "discover" | "jcb" | "unionpay" | "maestro" | "mir" | "rupay";

interface IinRule { brand: CardBrand; lo: number; hi: number; width: number; lengths: readonly number[] }
const r = (brand: CardBrand, lo: number, hi: number, lengths: readonly number[]): IinRule =>
  ({ brand, lo, hi, width: String(lo).length, lengths });
const L16_19 = [16, 17, 18, 19] as const;
/** Issuer identification number ranges (ISO/IEC 7812 as published by the networks) with valid lengths. */
const IIN_RULES: readonly IinRule[] = [
  r("visa", 4, 4, [13, 16, 19]),
  r("mastercard", 51, 55, [16]),
  r("mastercard", 2221, 2720, [16]),
  r("amex", 34, 34, [15]),
  r("amex", 37, 37, [15]),
  r("diners", 300, 305, [14, 15, 16, 17, 18, 19]),
  r("diners", 3095, 3095, [14, 15, 16, 17, 18, 19]),
  r("diners", 36, 36, [14, 15, 16, 17, 18, 19]),
  r("diners", 38, 39, [14, 15, 16, 17, 18, 19]),
  r("discover", 6011, 6011, L16_19),
  r("discover", 644, 649, L16_19),
  r("discover", 65, 65, L16_19),
  r("jcb", 3528, 3589, L16_19),
  r("jcb", 2131, 2131, [15]),
  r("jcb", 1800, 1800, [15]),
  r("unionpay", 62, 62, L16_19),
  r("mir", 2200, 2204, L16_19),
  r("rupay", 60, 60, [16]),
  r("rupay", 508, 508, [16]),
  r("rupay", 81, 82, [16]),
  // Maestro is the one network with 12-digit PANs.
  r("maestro", 50, 50, [12, 13, 14, 15, 16, 17, 18, 19]),
  r("maestro", 56, 58, [12, 13, 14, 15, 16, 17, 18, 19]),
  r("maestro", 6304, 6304, [12, 13, 14, 15, 16, 17, 18, 19]),
  r("maestro", 639, 639, [12, 13, 14, 15, 16, 17, 18, 19]),
  r("maestro", 67, 67, [12, 13, 14, 15, 16, 17, 18, 19]),
];

/** The card network for a digits-only PAN, when its prefix and length match a known IIN range. */
export function cardBrand(digits: string): CardBrand | undefined {
  for (const rule of IIN_RULES) {
    if (!rule.lengths.includes(digits.length)) continue;
    const prefix = Number(digits.slice(0, rule.width));
    if (prefix >= rule.lo && prefix <= rule.hi) return rule.brand;
  }
  return undefined;
}

/** IBAN lengths per country (SWIFT IBAN registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27,
  MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33,
  SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, UA: 29, VA: 22,
  VG: 24, XK: 20, YE: 30,
};

/** ISO 13616 mod-97 check of a compact, upper-case IBAN (country + check digits + BBAN). */
export function ibanValid(iban: string): boolean {
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected === undefined || iban.length !== expected) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000. */
export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (area.length !== 3 || group.length !== 2 || serial.length !== 4) return false;
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === "00" || serial === "0000") return false;
  // Numbers the SSA has published as never valid (advertising samples).
  if (area + group + serial === "078051120" || area + group + serial === "219099999") return false;
  return true;
}

/** Dotted-quad IPv4 with every octet 0-255 and no leading zeros (01 is ambiguous: octal in some parsers). */
export function ipv4Valid(s: string): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return false;
    if (p.length > 1 && p[0] === "0") return false;
    if (Number(p) > 255) return false;
  }
  return true;
}

/** IPv6 by node:net, requiring some substance (a bare "::" or "a::b" in prose is not worth flagging). */
export function ipv6Valid(s: string): boolean {
  if (isIP(s) !== 6) return false;
  let hex = 0;
  for (let i = 0; i < s.length; i++) if (s[i] !== ":" && s[i] !== ".") hex++;
  return hex >= 6;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
