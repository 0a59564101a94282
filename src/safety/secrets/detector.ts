// Secrets detector: credentials pasted into prompts or leaking into replies. Provider key formats
// are matched by their documented prefixes; generic "api_key=..." values only when they look random
// (Shannon entropy); PEM private keys by their armour; JWTs only when the header decodes to JSON with
// an "alg". Linear-time: bounded patterns, look-behind-pinned starts, PEM blocks scanned by indexOf.
import type { Detector, Finding } from "../types.js";
import { resolveOverlaps } from "../pii/overlaps.js";
import { shannonEntropy } from "../pii/validators.js";

export const SECRET_TYPES = ["API_KEY", "PRIVATE_KEY", "JWT"] as const;
export type SecretType = (typeof SECRET_TYPES)[number];

/** A secrets finding also names the issuer when the format tells it ("openai", "aws", "generic", ...). */
export interface SecretFinding extends Finding {
  provider?: string;
}

export interface SecretsDetectorOptions {
  /** Which types to look for (default: all). */
  types?: readonly SecretType[];
  /** Minimum Shannon entropy (bits/char) of a generic `api_key=` / `token:` value (default 3.5). */
  minEntropy?: number;
  /** Minimum length of a generic value (default 16). */
  minGenericLength?: number;
}

interface KeyPattern { provider: string; re: RegExp; score: number; quick: string }

// Starts pinned by (?<![A-Za-z0-9_-]) so a long run is tried once; bodies are single character classes.
const B = "(?<![A-Za-z0-9_\\-])";
const E = "(?![A-Za-z0-9_\\-])";
const KEY_PATTERNS: readonly KeyPattern[] = [
  { provider: "anthropic", quick: "sk-ant-", score: 0.99, re: new RegExp(`${B}sk-ant-[A-Za-z0-9_\\-]{20,300}${E}`, "g") },
  { provider: "openai", quick: "sk-", score: 0.95, re: new RegExp(`${B}sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\\-]{20,300}${E}`, "g") },
  { provider: "aws", quick: "A", score: 0.95, re: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
  { provider: "github", quick: "gh", score: 0.97, re: new RegExp(`${B}gh[pousr]_[A-Za-z0-9]{36,255}${E}`, "g") },
  { provider: "github", quick: "github_pat_", score: 0.99, re: new RegExp(`${B}github_pat_[A-Za-z0-9_]{40,255}${E}`, "g") },
  { provider: "slack", quick: "xox", score: 0.95, re: new RegExp(`${B}xox[abprs]-[A-Za-z0-9\\-]{10,250}${E}`, "g") },
  { provider: "stripe", quick: "_live_", score: 0.97, re: new RegExp(`${B}(?:sk|rk)_live_[A-Za-z0-9]{16,250}${E}`, "g") },
  { provider: "google", quick: "AIza", score: 0.95, re: new RegExp(`${B}AIza[0-9A-Za-z_\\-]{35}${E}`, "g") },
];

/** `api_key = "..."`, `token: ...`, `client_secret=...`: the value is group 1. */
const GENERIC_RE =
  /\b(?:api[_\- ]?key|apikey|x-api-key|access[_\-]?key(?:[_\-]?id)?|secret[_\-]?key|client[_\-]?secret|secret|(?:access|auth|bearer|refresh|api)?[_\-]?token|password|passwd|pwd)\b["']?\s{0,3}(?:[:=]|=>)\s{0,3}["']?([A-Za-z0-9_\-+/=.~]{8,512})/gi;
const BEARER_RE = /\bBearer\s+([A-Za-z0-9_\-+/=.~]{16,512})/g;

const PEM_BEGIN_RE = /-----BEGIN ((?:[A-Z0-9]+ ){0,4})PRIVATE KEY(?: BLOCK)?-----/g;
const JWT_RE = /(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{4,4096}\.[A-Za-z0-9_\-]{2,16384}\.[A-Za-z0-9_\-]{0,4096}(?![A-Za-z0-9_\-]|\.[A-Za-z0-9_\-])/g;

function decodeJwtHeader(part: string): Record<string, unknown> | undefined {
  try {
    const json = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return json !== null && typeof json === "object" && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export class SecretsDetector implements Detector {
  readonly name = "secrets";
  private readonly types: ReadonlySet<SecretType>;
  private readonly minEntropy: number;
  private readonly minGenericLength: number;

  constructor(opts: SecretsDetectorOptions = {}) {
    this.types = new Set(opts.types ?? SECRET_TYPES);
    this.minEntropy = opts.minEntropy ?? 3.5;
    this.minGenericLength = opts.minGenericLength ?? 16;
  }

  detect(text: string): SecretFinding[] {
    const found: SecretFinding[] = [];
    const add = (type: SecretType, start: number, end: number, score: number, provider?: string) =>
      found.push(provider === undefined ? { detector: this.name, type, start, end, score } : { detector: this.name, type, start, end, score, provider });

    if (this.types.has("API_KEY")) {
      for (const p of KEY_PATTERNS) {
        if (!text.includes(p.quick)) continue;
        for (const m of text.matchAll(p.re)) add("API_KEY", m.index, m.index + m[0].length, p.score, p.provider);
      }
      this.generic(text, add);
    }
    if (this.types.has("PRIVATE_KEY") && text.includes("-----BEGIN")) this.pem(text, add);
    if (this.types.has("JWT") && text.includes("eyJ")) {
      for (const m of text.matchAll(JWT_RE)) {
        const header = decodeJwtHeader(m[0].slice(0, m[0].indexOf(".")));
        if (header === undefined || typeof header.alg !== "string") continue;
        add("JWT", m.index, m.index + m[0].length, 0.97, "jwt");
      }
    }
    return resolveOverlaps(found);
  }

  private generic(text: string, add: (t: SecretType, s: number, e: number, score: number, provider?: string) => void): void {
    const scan = (re: RegExp) => {
      for (const m of text.matchAll(re)) {
        let value = m[1]!;
        value = value.replace(/[.,;]+$/, ""); // sentence punctuation after an unquoted value
        if (value.length < this.minGenericLength) continue;
        if (!/\d/.test(value) && !/[A-Z]/.test(value)) continue; // plain lower-case words: not random
        const h = shannonEntropy(value);
        if (h < this.minEntropy) continue;
        const start = m.index + m[0].length - m[1]!.length;
        add("API_KEY", start, start + value.length, Math.min(0.9, 0.6 + (h - this.minEntropy) * 0.15), "generic");
      }
    };
    if (/key|token|secret|pass|pwd/i.test(text)) scan(GENERIC_RE);
    if (text.includes("Bearer")) scan(BEARER_RE);
  }

  private pem(text: string, add: (t: SecretType, s: number, e: number, score: number, provider?: string) => void): void {
    const noFooter = new Set<string>(); // labels with no END marker further on: never search again (linear time)
    PEM_BEGIN_RE.lastIndex = 0;
    for (let m = PEM_BEGIN_RE.exec(text); m !== null; m = PEM_BEGIN_RE.exec(text)) {
      const label = `${m[1] ?? ""}PRIVATE KEY`;
      const endMarker = noFooter.has(label) ? -1 : text.indexOf(`-----END ${label}`, m.index + m[0].length);
      if (endMarker === -1) noFooter.add(label);
      if (endMarker !== -1) {
        const close = text.indexOf("-----", endMarker + 9 + label.length);
        const end = close === -1 ? text.length : close + 5;
        add("PRIVATE_KEY", m.index, end, 0.99, "pem");
        PEM_BEGIN_RE.lastIndex = end;
      } else {
        // Truncated or pasted without its footer: the header plus the base64 body that follows.
        const body = /^[\sA-Za-z0-9+/=:\-,]*/.exec(text.slice(m.index + m[0].length, m.index + m[0].length + 16384));
        const end = m.index + m[0].length + (body?.[0].trimEnd().length ?? 0);
        add("PRIVATE_KEY", m.index, end, 0.9, "pem");
        PEM_BEGIN_RE.lastIndex = end;
      }
    }
  }
}
