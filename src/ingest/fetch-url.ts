// Fetches a document over http(s) for ingestion, safely: every hop's host is
// vetted by the SSRF guard, redirects are followed by hand (each target
// re-vetted), and the connection is pinned to the vetted address through a
// custom lookup, so a second DNS answer (rebinding) cannot redirect it. The
// body is capped while streaming. Uses undici's request, not global fetch.
import type { LookupFunction } from "node:net";
import { IngestError, errorMessage } from "./errors.js";
import { vetHost, type GuardOptions, type ResolvedAddress } from "./ssrf-guard.js";
import { DEFAULT_MAX_BYTES } from "./parse-content.js";

export interface FetchUrlOptions extends GuardOptions {
  maxBytes?: number;
  timeoutMs?: number;
  maxRedirects?: number;
  signal?: AbortSignal;
}

export interface FetchedDocument {
  /** The URL the content finally came from (after redirects). */
  url: string;
  contentType: string | undefined;
  bytes: Buffer;
}

/** A net lookup that always answers with the vetted address, whatever host it is asked for. */
export function pinnedLookup(addr: ResolvedAddress): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: addr.address, family: addr.family }]);
    else callback(null, addr.address, addr.family);
  }) as unknown as LookupFunction;
}

export async function fetchUrl(input: string, opts: FetchUrlOptions = {}): Promise<FetchedDocument> {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRedirects = opts.maxRedirects ?? 5;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new IngestError("blocked_url", `"${input}" is not a valid URL`);
  }

  // Loaded on first use: the whole undici package is ~5 MiB of heap a gateway-only process never needs.
  const { Agent, request } = await import("undici");
  for (let hop = 0; ; hop++) {
    const addr = await vetHost(url, opts);
    const agent = new Agent({ connect: { lookup: pinnedLookup(addr), timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    try {
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, {
          method: "GET",
          dispatcher: agent,
          signal,
          headers: { "user-agent": "stratum-ingest/0.1", accept: "text/html, text/markdown, text/plain, application/json, application/pdf;q=0.9, */*;q=0.5" },
        });
      } catch (e) {
        throw new IngestError("fetch_failed", `${url.href}: request failed (${errorMessage(e)})`, e);
      }
      const status = res.statusCode;
      if (status >= 300 && status < 400 && status !== 304) {
        res.body.resume();
        const location = res.headers.location;
        const loc = Array.isArray(location) ? location[0] : location;
        if (!loc) throw new IngestError("fetch_failed", `${url.href}: redirect ${status} without a Location`);
        if (hop >= maxRedirects) throw new IngestError("fetch_failed", `${url.href}: more than ${maxRedirects} redirects`);
        try {
          url = new URL(loc, url);
        } catch {
          throw new IngestError("fetch_failed", `${url.href}: invalid redirect location "${loc}"`);
        }
        continue;
      }
      if (status < 200 || status >= 300) {
        res.body.resume();
        throw new IngestError("fetch_failed", `${url.href}: HTTP ${status}`);
      }
      const ct = res.headers["content-type"];
      const contentType = Array.isArray(ct) ? ct[0] : ct;
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > max) {
        discard(res.body);
        throw new IngestError("too_large", `${url.href}: ${declared} bytes exceeds the limit of ${max} bytes`);
      }
      const parts: Buffer[] = [];
      let total = 0;
      try {
        for await (const chunk of res.body) {
          total += (chunk as Buffer).length;
          if (total > max) {
            discard(res.body);
            throw new IngestError("too_large", `${url.href}: body exceeds the limit of ${max} bytes`);
          }
          parts.push(chunk as Buffer);
        }
      } catch (e) {
        if (e instanceof IngestError) throw e;
        throw new IngestError("fetch_failed", `${url.href}: reading the body failed (${errorMessage(e)})`, e);
      }
      return { url: url.href, contentType, bytes: Buffer.concat(parts, total) };
    } finally {
      agent.close().catch(() => undefined);
    }
  }
}

/**
 * Drop a response body we will not read. Destroying an undici body makes it
 * emit an AbortError; without a listener that error is uncaught and ends the
 * process. It is expected here (we aborted on purpose), so it is consumed.
 */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on("error", () => undefined);
  body.destroy();
}
