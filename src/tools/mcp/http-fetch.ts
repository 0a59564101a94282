// The fetch an HTTP MCP transport uses: the server's host is vetted once per
// connection by the same SSRF guard as the webhook tool (no private, loopback
// or link-local address unless allowed) and every request of that connection
// is pinned to the vetted address, so DNS cannot be re-pointed afterwards.
import { pinnedLookup, vetHost, type GuardOptions } from "../../ingest/index.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";

export interface PinnedFetch {
  fetch: FetchLike;
  close(): Promise<void>;
}

/** Vets `url`'s host and returns a fetch pinned to its address; throws when the policy refuses it. */
export async function pinnedFetch(url: URL, guard: GuardOptions, timeoutMs: number): Promise<PinnedFetch> {
  const addr = await vetHost(url, guard);
  // Loaded on first use: the whole undici package is ~5 MiB of heap a gateway-only process never needs.
  const { Agent, fetch: undiciFetch } = await import("undici");
  const agent = new Agent({ connect: { lookup: pinnedLookup(addr), timeout: timeoutMs } });
  const fetch = ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent })) as unknown as FetchLike;
  return { fetch, close: () => agent.close() };
}
