// webhook: a user-defined tool implemented by the user's HTTP endpoint. The
// validated arguments are POSTed as JSON; the (capped) response body is the
// result. The endpoint is SSRF-vetted and the connection pinned to the vetted
// address; private addresses need an explicit allowPrivate / allowAddresses.
// Redirects are not followed.
import type { LookupFunction } from "node:net";
import { vetHost, type GuardOptions, type ResolvedAddress } from "../../ingest/index.js";
import { ToolError } from "../registry.js";
import type { Tool, ToolDefinition } from "../types.js";

export interface WebhookToolOptions extends GuardOptions {
  url: string;
  definition: ToolDefinition;
  headers?: Record<string, string>;
  /** Overrides definition.timeoutMs for the HTTP request. */
  timeoutMs?: number;
  maxResponseBytes?: number;
}

function pinned(addr: ResolvedAddress): LookupFunction {
  return ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (options?.all) cb(null, [{ address: addr.address, family: addr.family }]);
    else cb(null, addr.address, addr.family);
  }) as unknown as LookupFunction;
}

export function webhookTool(opts: WebhookToolOptions): Tool {
  const url = new URL(opts.url);
  const timeoutMs = opts.timeoutMs ?? opts.definition.timeoutMs ?? 15_000;
  const max = opts.maxResponseBytes ?? 1_000_000;
  const definition: ToolDefinition = { ...opts.definition, timeoutMs: opts.definition.timeoutMs ?? timeoutMs };
  return {
    definition,
    async run(args, ctx) {
      let addr: ResolvedAddress;
      try {
        addr = await vetHost(url, opts);
      } catch (e) {
        throw new ToolError("tool_failed", `webhook refused: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      // Loaded on first use: the whole undici package is ~5 MiB of heap a gateway-only process never needs.
      const { Agent, request } = await import("undici");
      const agent = new Agent({ connect: { lookup: pinned(addr), timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      try {
        const res = await request(url, {
          method: "POST",
          dispatcher: agent,
          signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
          headers: {
            ...opts.headers,
            "content-type": "application/json",
            "user-agent": "stratum-tools/0.1",
            "x-stratum-tool": definition.name,
            "x-stratum-tenant": ctx.tenant,
          },
          body: JSON.stringify(args ?? {}),
        });
        const parts: Buffer[] = [];
        let total = 0;
        for await (const chunk of res.body) {
          total += (chunk as Buffer).length;
          if (total > max) {
            res.body.destroy();
            throw new ToolError("tool_failed", `webhook response exceeds ${max} bytes`);
          }
          parts.push(chunk as Buffer);
        }
        const text = Buffer.concat(parts, total).toString("utf8");
        if (res.statusCode < 200 || res.statusCode >= 300) {
          throw new ToolError("tool_failed", `webhook answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
        }
        const ct = String(res.headers["content-type"] ?? "");
        if (ct.includes("json") && text.trim()) {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            return text;
          }
        }
        return text;
      } finally {
        agent.close().catch(() => undefined);
      }
    },
  };
}
