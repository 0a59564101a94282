// Test support: a real Stratum server on an ephemeral port with a fresh data
// dir, plus sim upstreams, all over real HTTP. Not part of the build.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import OpenAI from "openai";
import { createStratum, type Stratum } from "../app/index.js";
import { parseConfig } from "../config/index.js";
import type { ConfigInput } from "../config/schema.js";
import { createLogger } from "../ops/index.js";
import { startSimUpstream, type SimUpstream, type SimUpstreamOptions } from "../sim/server.js";

export { eventually } from "./eventually.js";

export interface TestServer {
  url: string;
  stratum: Stratum;
  adminKey: string;
  dataDir: string;
  /** Log lines written by the server (JSON strings). */
  logs: string[];
  /** An OpenAI SDK client with the admin key (SDK retries off: tests see every response). */
  client(key?: string): OpenAI;
  /** Create a user key through the admin API. */
  createKey(body: { tenant: string; name?: string; limits?: Record<string, number> }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestServer(config: ConfigInput = {}, opts: { dataDir?: string; approvalSweepMs?: number } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "stratum-test-"));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n")) if (line) logs.push(line);
      if (logs.length > 5000) logs.splice(0, logs.length - 5000);
      cb();
    },
  });
  // The bundled sample collection only where a test asks for it (it loads the tokenizer).
  const cfg = parseConfig({ ...config, dataDir, server: { port: 0, logLevel: "info", drainTimeoutMs: 5000, ...config.server }, retrieval: { sampleCollection: false, ...config.retrieval } });
  const adminKey = "sk-stratum-test-admin-" + Math.random().toString(36).slice(2);
  const stratum = await createStratum({ config: cfg, adminKey, logger: createLogger("info", sink), ...(opts.approvalSweepMs ? { approvalSweepMs: opts.approvalSweepMs } : {}) });
  const url = await stratum.listen();
  return {
    url,
    stratum,
    adminKey,
    dataDir,
    logs,
    client: (key = adminKey) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 20_000 }),
    async createKey(body) {
      const res = await fetch(`${url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`create key failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { key: string }).key;
    },
    async close() {
      await stratum.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startSim(opts: SimUpstreamOptions = {}): Promise<SimUpstream> {
  return startSimUpstream({ port: 0, ...opts });
}

/**
 * sim-upstream behind Stratum as the model `gpt-test` (embeddings on, response cache off): the
 * fixture of the client-compatibility tests.
 */
export async function startSimGateway(simOpts: SimUpstreamOptions = {}): Promise<{ sim: SimUpstream; srv: TestServer; close(): Promise<void> }> {
  const sim = await startSim(simOpts);
  const srv = await startTestServer({
    providers: { up: simProvider(sim) },
    models: [{ name: "gpt-test", deployments: [{ provider: "up", model: "sim-model" }], embeddings: true }],
    cache: { enabled: false },
  });
  return {
    sim,
    srv,
    async close() {
      await srv.close();
      await sim.close();
    },
  };
}

/** Config for an OpenAI-compatible provider pointing at a sim upstream. */
export function simProvider(sim: SimUpstream) {
  return { type: "openai" as const, baseUrl: `${sim.url}/v1` };
}

/** POST JSON with fetch and return status, headers and parsed body (or text). */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as any };
}
