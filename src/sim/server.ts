// sim-upstream: a standalone OpenAI- and Anthropic-compatible HTTP server that
// answers like the "sim" provider. It is the zero-overhead upstream for
// gateway benchmarks and failure tests, so it runs on bare node:http, builds
// SSE frames as strings, and only creates timers when a delay is configured.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StratumError } from "../core/errors.js";
import type { ChatMessage, ChatRequest, EmbeddingRequest, Tool } from "../protocol/openai.js";
import {
  abortableSleep,
  createPacer,
  MAX_DIMENSIONS,
  planSimChat,
  simEmbeddings,
  simId,
  type SimPlan,
} from "../models/providers/sim.js";

export interface SimUpstreamOptions {
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  ttftMs?: number;
  /** 0 = as fast as possible. */
  tokensPerSecond?: number;
  outputTokens?: number;
  errorRate?: number;
  rateLimitRate?: number;
  retryAfterSeconds?: number;
  hangRate?: number;
  /** Streams die (socket destroyed) after a few content chunks. */
  midStreamErrorRate?: number;
  embeddingDimensions?: number;
  seed?: number;
  /** Never send usage, so the gateway must count tokens itself. */
  noUsage?: boolean;
  /** Largest accepted request body (default 32 MiB). */
  bodyLimitBytes?: number;
  /** Randomness for fault injection (tests pin it). */
  random?: () => number;
}

export interface SimUpstreamStats {
  requests: number;
  inFlight: number;
  chat: number;
  messages: number;
  embeddings: number;
  streams: number;
  errors: number;
  rateLimited: number;
  hangs: number;
  midStreamErrors: number;
  badRequests: number;
}

export interface SimUpstream {
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): SimUpstreamStats;
}

type Fault = "500" | "429" | "hang" | "midstream";
type Dialect = "openai" | "anthropic";

interface Settings {
  ttftMs: number;
  tokensPerSecond: number;
  outputTokens: number;
  fault: Fault | null;
}

class BadRequest extends Error {
  constructor(message: string, readonly param: string | null = null) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

// ------------------------------------------------------------- responses ---

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
};

/** Each dialect's error body, so the gateway's own error parsing is exercised. */
function sendError(res: ServerResponse, dialect: Dialect, status: number, message: string, code: string, param: string | null = null, headers: Record<string, string> = {}): void {
  const body =
    dialect === "anthropic"
      ? { type: "error", error: { type: ANTHROPIC_ERROR_TYPES[status] ?? "api_error", message } }
      : { error: { message, type: status === 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error", code, param } };
  sendJson(res, status, body, headers);
}

/** Send a JSON body but die halfway through it (the non-streaming "midstream" failure). */
function sendTruncated(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.write(text.slice(0, text.length >> 1), () => res.destroy());
}

/** An AbortSignal that fires when the client goes away before we finished. */
function clientGone(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac.signal;
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Write SSE frames: frame 0 after ttftMs, frames 1..paced paced at
 * tokensPerSecond, then the rest. With no delays and no failure the whole
 * stream goes out in one write. `cutAfter` destroys the socket after that frame.
 */
async function writeFrames(res: ServerResponse, frames: string[], paced: number, s: Settings, cutAfter: number | null): Promise<void> {
  if (s.ttftMs === 0 && s.tokensPerSecond === 0 && cutAfter === null) {
    res.end(frames.join(""));
    return;
  }
  if (s.ttftMs > 0) res.flushHeaders(); // headers now, first token later, like a real upstream
  const signal = clientGone(res);
  try {
    if (s.ttftMs > 0) await abortableSleep(s.ttftMs, signal);
    const pacer = createPacer(s.tokensPerSecond, signal);
    for (let i = 0; i < frames.length; i++) {
      if (i === 1) pacer.reset();
      const wait = i >= 1 && i <= paced ? pacer.delayFor(i) : 0;
      if (wait > 0) await pacer.sleep(wait);
      if (res.destroyed) return;
      if (i === cutAfter) {
        res.write(frames[i]!, () => res.destroy());
        return;
      }
      if (!res.write(frames[i]!)) await waitDrain(res);
    }
    res.end();
  } catch {
    // The client went away; abortableSleep already cleared its timer.
  }
}

// ---------------------------------------------------------------- OpenAI ---

function chatCompletion(model: string, plan: SimPlan, noUsage: boolean): Record<string, unknown> {
  const message = plan.toolCalls.length ? { role: "assistant", content: null, tool_calls: plan.toolCalls } : { role: "assistant", content: plan.content };
  const body: Record<string, unknown> = {
    id: simId("chatcmpl-sim-"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: plan.finishReason, logprobs: null }],
  };
  if (!noUsage) body.usage = { prompt_tokens: plan.promptTokens, completion_tokens: plan.completionTokens, total_tokens: plan.promptTokens + plan.completionTokens };
  return body;
}

/** SSE frames of a chat completion; returns them and how many are paced content frames. */
function chatFrames(model: string, plan: SimPlan, includeUsage: boolean): { frames: string[]; paced: number } {
  const id = simId("chatcmpl-sim-");
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"choices":`;
  const frame = (delta: string, finish: string | null = null) => `${head}[{"index":0,"delta":${delta},"finish_reason":${finish ? `"${finish}"` : "null"},"logprobs":null}]}\n\n`;
  const frames = [frame('{"role":"assistant","content":""}')];
  if (plan.toolCalls.length) {
    plan.toolCalls.forEach((c, index) => {
      frames.push(frame(JSON.stringify({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.function.name, arguments: "" } }] })));
      frames.push(frame(JSON.stringify({ tool_calls: [{ index, function: { arguments: c.function.arguments } }] })));
    });
  } else {
    for (const p of plan.pieces) frames.push(frame(`{"content":${JSON.stringify(p)}}`));
  }
  const paced = frames.length - 1;
  frames.push(frame("{}", plan.finishReason));
  if (includeUsage) {
    const usage = { prompt_tokens: plan.promptTokens, completion_tokens: plan.completionTokens, total_tokens: plan.promptTokens + plan.completionTokens };
    frames.push(`${head}[],"usage":${JSON.stringify(usage)}}\n\n`);
  }
  frames.push("data: [DONE]\n\n");
  return { frames, paced };
}

// ------------------------------------------------------------- Anthropic ---

function anthropicText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((b): b is { type: "text"; text: string } => isObject(b) && b.type === "text" && typeof b.text === "string")
    .map((b) => b.text)
    .join("\n");
}

/** The little of Anthropic -> OpenAI translation the sim needs (text, tools, tool results). */
function anthropicToChat(body: Record<string, unknown>): ChatRequest {
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new BadRequest("messages: must be a non-empty array", "messages");
  if (typeof body.model !== "string" || !body.model) throw new BadRequest("model: Field required", "model");
  if (typeof body.max_tokens !== "number" || !(body.max_tokens > 0)) throw new BadRequest("max_tokens: Field required", "max_tokens");
  const messages: ChatMessage[] = [];
  const system = anthropicText(body.system);
  if (system) messages.push({ role: "system", content: system });
  for (const m of body.messages as unknown[]) {
    if (!isObject(m) || (m.role !== "user" && m.role !== "assistant")) throw new BadRequest("messages: each message needs role user or assistant", "messages");
    const blocks = Array.isArray(m.content) ? (m.content as unknown[]).filter(isObject) : [];
    if (m.role === "user") {
      for (const b of blocks) {
        if (b.type === "tool_result") messages.push({ role: "tool", tool_call_id: String(b.tool_use_id ?? ""), content: anthropicText(b.content) });
      }
      const text = anthropicText(m.content);
      if (text || blocks.length === 0) messages.push({ role: "user", content: text });
    } else {
      const calls = blocks
        .filter((b) => b.type === "tool_use")
        .map((b) => ({ id: String(b.id ?? ""), type: "function" as const, function: { name: String(b.name ?? ""), arguments: JSON.stringify(b.input ?? {}) } }));
      messages.push({ role: "assistant", content: anthropicText(m.content) || null, ...(calls.length ? { tool_calls: calls } : {}) });
    }
  }
  const tools: Tool[] | undefined = Array.isArray(body.tools)
    ? (body.tools as unknown[]).filter(isObject).map((t) => ({
        type: "function" as const,
        function: { name: String(t.name ?? ""), description: typeof t.description === "string" ? t.description : undefined, parameters: isObject(t.input_schema) ? t.input_schema : undefined },
      }))
    : undefined;
  const tc = isObject(body.tool_choice) ? body.tool_choice : undefined;
  const toolChoice: ChatRequest["tool_choice"] =
    tc?.type === "any" ? "required" : tc?.type === "none" ? "none" : tc?.type === "tool" ? { type: "function", function: { name: String(tc.name ?? "") } } : undefined;
  const stop = Array.isArray(body.stop_sequences) ? (body.stop_sequences as unknown[]).filter((s): s is string => typeof s === "string") : undefined;
  return { model: body.model, messages, max_tokens: body.max_tokens, stop, tools, tool_choice: toolChoice };
}

const STOP_REASONS: Record<string, string> = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", content_filter: "refusal" };
const stopReason = (plan: SimPlan) => (plan.stopSequence ? "stop_sequence" : (STOP_REASONS[plan.finishReason] ?? "end_turn"));
const toolUseId = (id: string) => `toolu_${id.replace(/^call_/, "")}`;

function anthropicMessage(model: string, plan: SimPlan, noUsage: boolean): Record<string, unknown> {
  const content = plan.toolCalls.length
    ? plan.toolCalls.map((c) => ({ type: "tool_use", id: toolUseId(c.id), name: c.function.name, input: JSON.parse(c.function.arguments) as unknown }))
    : [{ type: "text", text: plan.content ?? "" }];
  const body: Record<string, unknown> = { id: simId("msg_sim"), type: "message", role: "assistant", model, content, stop_reason: stopReason(plan), stop_sequence: plan.stopSequence };
  if (!noUsage) body.usage = { input_tokens: plan.promptTokens, output_tokens: plan.completionTokens };
  return body;
}

function anthropicFrames(model: string, plan: SimPlan, noUsage: boolean): { frames: string[]; paced: number } {
  const ev = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const message: Record<string, unknown> = { id: simId("msg_sim"), type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null };
  if (!noUsage) message.usage = { input_tokens: plan.promptTokens, output_tokens: 1 }; // Anthropic reports 1 at start
  const frames = [ev("message_start", { message })];
  if (plan.toolCalls.length) {
    plan.toolCalls.forEach((c, index) => {
      frames.push(ev("content_block_start", { index, content_block: { type: "tool_use", id: toolUseId(c.id), name: c.function.name, input: {} } }));
      frames.push(ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: c.function.arguments } }));
      frames.push(ev("content_block_stop", { index }));
    });
  } else {
    frames.push(ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
    for (const p of plan.pieces) frames.push(ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: p } }));
  }
  const paced = frames.length - 1;
  if (!plan.toolCalls.length) frames.push(ev("content_block_stop", { index: 0 }));
  frames.push(ev("message_delta", { delta: { stop_reason: stopReason(plan), stop_sequence: plan.stopSequence }, ...(noUsage ? {} : { usage: { output_tokens: plan.completionTokens } }) }));
  frames.push(ev("message_stop", {}));
  return { frames, paced };
}

// ---------------------------------------------------------------- server ---

const FAULTS: ReadonlySet<string> = new Set(["500", "429", "hang", "midstream"]);

function intHeader(req: IncomingMessage, name: string, min: number): number | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new BadRequest(`header ${name} must be an integer >= ${min}`);
  return n;
}

export async function startSimUpstream(opts: SimUpstreamOptions = {}): Promise<SimUpstream> {
  const o = {
    ttftMs: opts.ttftMs ?? 0,
    tokensPerSecond: opts.tokensPerSecond ?? 0,
    outputTokens: opts.outputTokens ?? 16,
    errorRate: opts.errorRate ?? 0,
    rateLimitRate: opts.rateLimitRate ?? 0,
    retryAfterSeconds: opts.retryAfterSeconds ?? 1,
    hangRate: opts.hangRate ?? 0,
    midStreamErrorRate: opts.midStreamErrorRate ?? 0,
    embeddingDimensions: opts.embeddingDimensions ?? 64,
    seed: opts.seed,
    noUsage: opts.noUsage ?? false,
    bodyLimit: opts.bodyLimitBytes ?? 32 * 1024 * 1024,
    random: opts.random ?? Math.random,
  };
  const faultTotal = o.errorRate + o.rateLimitRate + o.hangRate + o.midStreamErrorRate;
  const stats: SimUpstreamStats = { requests: 0, inFlight: 0, chat: 0, messages: 0, embeddings: 0, streams: 0, errors: 0, rateLimited: 0, hangs: 0, midStreamErrors: 0, badRequests: 0 };
  const modelsBody = JSON.stringify({
    object: "list",
    data: ["sim", "sim-embedding"].map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "stratum-sim" })),
  });

  /** Per-request settings: control headers override the options; one draw picks the fault. */
  function settings(req: IncomingMessage): Settings {
    const forced = req.headers["x-sim-fail"];
    if (forced !== undefined && (typeof forced !== "string" || !FAULTS.has(forced))) throw new BadRequest("header x-sim-fail must be 500, 429, hang or midstream");
    let fault = (forced as Fault | undefined) ?? null;
    if (!fault && faultTotal > 0) {
      const r = o.random();
      if (r < o.errorRate) fault = "500";
      else if (r < o.errorRate + o.rateLimitRate) fault = "429";
      else if (r < o.errorRate + o.rateLimitRate + o.hangRate) fault = "hang";
      else if (r < faultTotal) fault = "midstream";
    }
    return {
      ttftMs: intHeader(req, "x-sim-ttft-ms", 0) ?? o.ttftMs,
      outputTokens: intHeader(req, "x-sim-output-tokens", 1) ?? o.outputTokens,
      tokensPerSecond: o.tokensPerSecond,
      fault,
    };
  }

  /** Answers the pre-output faults; true when the request is handled (or left hanging). */
  function injectFault(res: ServerResponse, dialect: Dialect, s: Settings): boolean {
    switch (s.fault) {
      case "500":
        stats.errors++;
        sendError(res, dialect, 500, "sim-upstream: simulated upstream error", "sim_error");
        return true;
      case "429":
        stats.rateLimited++;
        sendError(res, dialect, 429, "sim-upstream: simulated rate limit", "rate_limit_exceeded", null, { "retry-after": String(o.retryAfterSeconds) });
        return true;
      case "hang":
        // Accept and never answer; the response's close (client gone or server
        // closing) is the only cleanup needed, and inFlight handles it.
        stats.hangs++;
        return true;
      default:
        return false;
    }
  }

  function respond(res: ServerResponse, dialect: Dialect, s: Settings, stream: boolean, model: string, plan: SimPlan, includeUsage: boolean): void {
    const cut = s.fault === "midstream";
    if (cut) stats.midStreamErrors++;
    if (stream) {
      stats.streams++;
      const { frames, paced } = dialect === "anthropic" ? anthropicFrames(model, plan, o.noUsage) : chatFrames(model, plan, includeUsage && !o.noUsage);
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
      void writeFrames(res, frames, paced, s, cut ? Math.min(3, paced) : null);
      return;
    }
    const send = () => {
      if (res.destroyed) return;
      const body = dialect === "anthropic" ? anthropicMessage(model, plan, o.noUsage) : chatCompletion(model, plan, o.noUsage);
      if (cut) sendTruncated(res, body);
      else sendJson(res, 200, body);
    };
    // A non-streamed answer arrives when the whole generation would have finished.
    const delay = s.ttftMs + (s.tokensPerSecond > 0 ? (plan.completionTokens / s.tokensPerSecond) * 1000 : 0);
    if (delay >= 1) abortableSleep(delay, clientGone(res)).then(send, () => {});
    else send();
  }

  function chat(req: IncomingMessage, res: ServerResponse, body: unknown, dialect: Dialect): void {
    if (dialect === "anthropic") stats.messages++;
    else stats.chat++;
    if (!isObject(body)) throw new BadRequest("request body must be a JSON object");
    let request: ChatRequest;
    if (dialect === "anthropic") request = anthropicToChat(body);
    else {
      if (typeof body.model !== "string" || !body.model) throw new BadRequest("you must provide a model parameter", "model");
      if (!Array.isArray(body.messages) || body.messages.length === 0) throw new BadRequest("messages must be a non-empty array", "messages");
      request = body as ChatRequest;
    }
    const s = settings(req);
    if (injectFault(res, dialect, s)) return;
    let plan: SimPlan;
    try {
      plan = planSimChat(request, { outputTokens: s.outputTokens, seed: o.seed });
    } catch (e) {
      // Malformed messages/tools make the planner throw; that is the client's fault.
      throw new BadRequest(e instanceof Error ? e.message : "invalid request", e instanceof StratumError ? e.param : null);
    }
    const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
    respond(res, dialect, s, body.stream === true, request.model, plan, includeUsage);
  }

  function embeddings(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    stats.embeddings++;
    if (!isObject(body)) throw new BadRequest("request body must be a JSON object");
    if (typeof body.model !== "string" || !body.model) throw new BadRequest("you must provide a model parameter", "model");
    const input = body.input;
    const isTokens = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((t) => Number.isInteger(t));
    const ok =
      typeof input === "string" ||
      (Array.isArray(input) && input.length > 0 && (input.every((x) => typeof x === "string") || isTokens(input) || input.every(isTokens)));
    if (!ok) throw new BadRequest("input must be a string, an array of strings, or token arrays", "input");
    if (body.dimensions !== undefined && (!Number.isInteger(body.dimensions) || (body.dimensions as number) < 1 || (body.dimensions as number) > MAX_DIMENSIONS)) {
      throw new BadRequest(`dimensions must be an integer between 1 and ${MAX_DIMENSIONS}`, "dimensions");
    }
    if (body.encoding_format !== undefined && body.encoding_format !== "float" && body.encoding_format !== "base64") {
      throw new BadRequest("encoding_format must be float or base64", "encoding_format");
    }
    const s = settings(req);
    if (injectFault(res, "openai", s)) return;
    const out: Record<string, unknown> = { ...simEmbeddings(body as EmbeddingRequest, { dimensions: o.embeddingDimensions, seed: o.seed }) };
    if (o.noUsage) delete out.usage;
    const send = () => {
      if (res.destroyed) return;
      if (s.fault === "midstream") {
        stats.midStreamErrors++;
        sendTruncated(res, out);
      } else sendJson(res, 200, out);
    };
    if (s.ttftMs >= 1) abortableSleep(s.ttftMs, clientGone(res)).then(send, () => {});
    else send();
  }

  function handlePost(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): void {
    const dialect: Dialect = path === "/v1/messages" ? "anthropic" : "openai";
    try {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new BadRequest("We could not parse the JSON body of your request.");
      }
      if (path === "/v1/chat/completions" || path === "/v1/messages") chat(req, res, body, dialect);
      else embeddings(req, res, body);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      stats.badRequests++;
      sendError(res, dialect, 400, e.message, "invalid_request", e.param);
    }
  }

  const server = createServer((req, res) => {
    stats.requests++;
    stats.inFlight++;
    res.once("close", () => stats.inFlight--);
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);

    if (req.method === "GET" && path === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(modelsBody) });
      res.end(modelsBody);
      return;
    }
    if (req.method === "GET" && path === "/healthz") {
      sendJson(res, 200, { status: "ok" });
      return;
    }
    const known = path === "/v1/chat/completions" || path === "/v1/messages" || path === "/v1/embeddings";
    if (req.method !== "POST" || !known) {
      req.resume();
      sendError(res, path === "/v1/messages" ? "anthropic" : "openai", 404, `sim-upstream: no route ${req.method} ${path}`, "not_found");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= o.bodyLimit) chunks.push(c);
    });
    req.on("end", () => {
      if (size > o.bodyLimit) {
        sendError(res, path === "/v1/messages" ? "anthropic" : "openai", 413, `request body exceeds ${o.bodyLimit} bytes`, "payload_too_large");
        return;
      }
      try {
        handlePost(req, res, path, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      } catch (e) {
        if (!res.headersSent) sendError(res, "openai", 500, `sim-upstream internal error: ${e instanceof Error ? e.message : String(e)}`, "internal");
        else res.destroy();
      }
    });
  });
  // Longer than typical client pools' idle timeouts, so the client closes idle sockets first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // hung requests and slow streams are deliberate here

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? "127.0.0.1";
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // includes hung requests and open streams
      }),
  };
}
