// http_get: fetch a public web page as text. GET only, host must match the
// domain allowlist (exact "docs.example.com" or "*.example.com" for any
// subdomain), every hop SSRF-vetted and pinned by ingest's fetchUrl (no
// private/loopback/link-local addresses unless explicitly allowed), size-capped.
import { lookup } from "node:dns/promises";
import { fetchUrl, type GuardOptions, type Resolver } from "../../ingest/index.js";
import { ToolError } from "../registry.js";
import type { RiskLevel, Tool } from "../types.js";

export interface HttpGetToolOptions {
  allowDomains: readonly string[];
  maxBytes?: number;
  timeoutMs?: number;
  maxRedirects?: number;
  risk?: RiskLevel;
  name?: string;
  /** SSRF guard overrides (tests / internal docs servers). Default: public addresses only. */
  guard?: GuardOptions;
}

export const HTTP_GET_DEFAULT_MAX_BYTES = 1_000_000;

/** True when `host` is allowed by one of the patterns ("example.com" exact, "*.example.com" any subdomain). */
export function domainAllowed(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return patterns.some((raw) => {
    const p = raw.toLowerCase().trim().replace(/\.$/, "");
    if (p.startsWith("*.")) {
      const suffix = p.slice(1); // ".example.com"
      return h.endsWith(suffix) && h.length > suffix.length;
    }
    return h === p;
  });
}

export function httpGetTool(opts: HttpGetToolOptions): Tool {
  if (!opts.allowDomains.length) throw new Error("httpGetTool: allowDomains must not be empty");
  const maxBytes = opts.maxBytes ?? HTTP_GET_DEFAULT_MAX_BYTES;
  const refuse = (host: string) =>
    new ToolError("tool_failed", `"${host}" is not an allowed domain (allowed: ${opts.allowDomains.join(", ")})`);
  const baseResolver: Resolver | undefined = opts.guard?.resolver;
  return {
    definition: {
      name: opts.name ?? "http_get",
      description: `Fetches a web page (GET) and returns its text. Allowed domains: ${opts.allowDomains.join(", ")}.`,
      risk: opts.risk ?? "low",
      timeoutMs: opts.timeoutMs ?? 20_000,
      parameters: {
        type: "object",
        properties: { url: { type: "string", description: "An absolute http(s) URL" } },
        required: ["url"],
        additionalProperties: false,
      },
    },
    async run(args, ctx) {
      const { url } = args as { url: string };
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new ToolError("invalid_arguments", `"${url}" is not a valid URL`);
      }
      if (!domainAllowed(parsed.hostname, opts.allowDomains)) throw refuse(parsed.hostname);
      // Every hop's host is resolved through this resolver, so a redirect to a
      // domain off the allowlist is refused before any connection is made.
      const resolver: Resolver = async (host) => {
        if (!domainAllowed(host, opts.allowDomains)) throw refuse(host);
        if (baseResolver) return baseResolver(host);
        const all = await lookup(host, { all: true, verbatim: true });
        return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
      };
      const doc = await fetchUrl(url, {
        ...opts.guard,
        resolver,
        maxBytes,
        timeoutMs: opts.timeoutMs ?? 20_000,
        maxRedirects: opts.maxRedirects ?? 3,
        signal: ctx.signal,
      });
      // IP-literal redirect targets skip the resolver: check the final host too.
      const final = new URL(doc.url);
      if (!domainAllowed(final.hostname, opts.allowDomains)) throw refuse(final.hostname);
      return { url: doc.url, contentType: doc.contentType ?? null, text: doc.bytes.toString("utf8") };
    },
  };
}
