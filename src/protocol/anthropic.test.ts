import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import {
  AnthropicRequestSchema,
  AnthropicStreamEncoder,
  anthropicErrorBody,
  anthropicErrorType,
  anthropicMessageToChatCompletion,
  anthropicToChatRequest,
  chatCompletionToAnthropic,
  chatRequestToAnthropic,
  AnthropicStreamTranslator,
  type AnthropicMessage,
  type AnthropicRequest,
} from "./anthropic.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from "./openai.js";
import { SseDecoder, type SSEEvent } from "./sse.js";
import { StratumError } from "../core/errors.js";

const weatherTool = { name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } } } };

const anthropicReq: AnthropicRequest = AnthropicRequestSchema.parse({
  model: "claude-x",
  max_tokens: 256,
  system: [{ type: "text", text: "Be brief." }],
  stop_sequences: ["END"],
  temperature: 0.5,
  top_k: 5,
  tools: [weatherTool],
  tool_choice: { type: "any" },
  metadata: { user_id: "u-1" },
  messages: [
    { role: "user", content: "Weather in Paris?" },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "hmm", signature: "s" },
        { type: "text", text: "Checking." },
        { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "18C" }] },
        { type: "text", text: "And " },
        { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
      ],
    },
  ],
});

test("schema: requires max_tokens, validates tool_choice, keeps unknown fields", () => {
  const { max_tokens: _m, ...noMax } = anthropicReq;
  assert.equal(AnthropicRequestSchema.safeParse(noMax).success, false);
  assert.equal(AnthropicRequestSchema.safeParse({ ...anthropicReq, max_tokens: 0 }).success, false);
  assert.equal(AnthropicRequestSchema.safeParse({ ...anthropicReq, tool_choice: { type: "tool" } }).success, false);
  assert.equal(AnthropicRequestSchema.safeParse({ ...anthropicReq, messages: [{ role: "system", content: "x" }] }).success, false);
  assert.equal((AnthropicRequestSchema.parse({ ...anthropicReq, extra: 1 }) as Record<string, unknown>).extra, 1);
});

test("anthropicToChatRequest maps system, tools, tool_use/tool_result, images, options", () => {
  const chat = anthropicToChatRequest(anthropicReq);
  assert.deepEqual(chat, {
    model: "claude-x",
    max_tokens: 256,
    stop: ["END"],
    temperature: 0.5,
    user: "u-1",
    tool_choice: "required",
    tools: [{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: weatherTool.input_schema } }],
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "18C" },
      {
        role: "user",
        content: [
          { type: "text", text: "And " },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
        ],
      },
    ],
  });
  const named = anthropicToChatRequest({ ...anthropicReq, tool_choice: { type: "tool", name: "get_weather", disable_parallel_tool_use: true } });
  assert.deepEqual(named.tool_choice, { type: "function", function: { name: "get_weather" } });
  assert.equal(named.parallel_tool_calls, false);
  const err = anthropicToChatRequest({
    ...anthropicReq,
    messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "boom", is_error: true }] }],
  });
  assert.deepEqual(err.messages.at(-1), { role: "tool", tool_call_id: "t", content: "Error: boom" });
});

test("chatRequestToAnthropic: system/developer hoisted, roles merged, tools, tool results first", () => {
  const chat: ChatRequest = {
    model: "claude-x",
    stratum: { secret: true },
    temperature: 1.6,
    stop: "STOP",
    user: "u-2",
    parallel_tool_calls: false,
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
    tool_choice: { type: "function", function: { name: "f" } },
    response_format: { type: "json_object" },
    messages: [
      { role: "system", content: "S1" },
      { role: "user", content: "hi" },
      { role: "user", content: [{ type: "text", text: "there" }, { type: "image_url", image_url: { url: "https://x/y.png" } }] },
      { role: "developer", content: "S2" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } }, { id: "c2", type: "function", function: { name: "f", arguments: "" } }] },
      { role: "tool", tool_call_id: "c1", content: "r1" },
      { role: "tool", tool_call_id: "c2", content: [{ type: "text", text: "r2" }] },
      { role: "user", content: "thanks" },
    ],
  } as ChatRequest;
  const a = chatRequestToAnthropic(chat, 1000);
  assert.deepEqual(a, {
    model: "claude-x",
    max_tokens: 1000,
    system: "S1\n\nS2\n\nRespond only with a single valid JSON object, with no other text.",
    stop_sequences: ["STOP"],
    temperature: 1,
    tools: [{ name: "f", input_schema: { type: "object" } }],
    tool_choice: { type: "tool", name: "f", disable_parallel_tool_use: true },
    metadata: { user_id: "u-2" },
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "hi" },
          { type: "text", text: "there" },
          { type: "image", source: { type: "url", url: "https://x/y.png" } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "c1", name: "f", input: { a: 1 } },
          { type: "tool_use", id: "c2", name: "f", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "c1", content: "r1" },
          { type: "tool_result", tool_use_id: "c2", content: "r2" },
          { type: "text", text: "thanks" },
        ],
      },
    ],
  });
  assert.equal("stratum" in a, false);
  assert.equal(chatRequestToAnthropic({ ...chat, max_completion_tokens: 7, max_tokens: 9 }, 1000).max_tokens, 7);
  assert.equal(chatRequestToAnthropic({ ...chat, max_tokens: 9 }, 1000).max_tokens, 9);
  // Data-URL images become base64 sources.
  const img = chatRequestToAnthropic({ model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/jpeg;base64,QUJD" } }] }] }, 10);
  assert.deepEqual(img.messages[0]!.content, [{ type: "image", source: { type: "base64", media_type: "image/jpeg", data: "QUJD" } }]);
});

test("chatRequestToAnthropic rejects invalid tool arguments and unsupported parts with InvalidRequest", () => {
  const bad: ChatRequest = {
    model: "m",
    messages: [
      { role: "user", content: "x" },
      { role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{not json" } }] },
    ],
  };
  assert.throws(
    () => chatRequestToAnthropic(bad, 10),
    (e: unknown) => e instanceof StratumError && e.kind === "InvalidRequest" && e.param === "messages[1].tool_calls[0].function.arguments",
  );
  const audio = { model: "m", messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }] } as ChatRequest;
  assert.throws(() => chatRequestToAnthropic(audio, 10), (e: unknown) => e instanceof StratumError && e.kind === "InvalidRequest");
  assert.throws(() => chatRequestToAnthropic({ model: "m", messages: [{ role: "system", content: "only" }] }, 10), (e: unknown) => e instanceof StratumError && e.kind === "InvalidRequest");
});

test("request round trip: Anthropic -> canonical -> Anthropic preserves the conversation", () => {
  const src = AnthropicRequestSchema.parse({
    model: "claude-x",
    max_tokens: 64,
    system: "sys",
    stop_sequences: ["a", "b"],
    temperature: 0.2,
    top_p: 0.9,
    tools: [weatherTool],
    tool_choice: { type: "auto" },
    metadata: { user_id: "u" },
    messages: [
      { role: "user", content: [{ type: "text", text: "q" }] },
      { role: "assistant", content: [{ type: "text", text: "t" }, { type: "tool_use", id: "x", name: "get_weather", input: { city: "Oslo" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "x", content: "cold" }, { type: "text", text: "more?" }] },
    ],
  });
  assert.deepEqual(chatRequestToAnthropic(anthropicToChatRequest(src), 4096), src);
});

test("responses: message <-> completion with stop reasons and usage", () => {
  const msg: AnthropicMessage = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-x",
    content: [
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: "toolu_9", name: "get_weather", input: { city: "Rome" } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 3 },
  };
  const c = anthropicMessageToChatCompletion(msg, "alias");
  assert.equal(c.model, "alias");
  assert.equal(c.choices[0]!.finish_reason, "tool_calls");
  assert.deepEqual(c.choices[0]!.message, {
    role: "assistant",
    content: "Let me check.",
    tool_calls: [{ id: "toolu_9", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } }],
  });
  assert.deepEqual(c.usage, { prompt_tokens: 13, completion_tokens: 5, total_tokens: 18 });

  const back = chatCompletionToAnthropic(c, "claude-x");
  assert.deepEqual(back, { ...msg, usage: { input_tokens: 13, output_tokens: 5 } });

  const cases: Array<[AnthropicMessage["stop_reason"], ChatCompletion["choices"][number]["finish_reason"], AnthropicMessage["stop_reason"]]> = [
    ["end_turn", "stop", "end_turn"],
    ["stop_sequence", "stop", "end_turn"],
    ["max_tokens", "length", "max_tokens"],
    ["tool_use", "tool_calls", "tool_use"],
  ];
  for (const [anth, openai, backAgain] of cases) {
    const cc = anthropicMessageToChatCompletion({ ...msg, content: [{ type: "text", text: "x" }], stop_reason: anth });
    assert.equal(cc.choices[0]!.finish_reason, openai);
    assert.equal(chatCompletionToAnthropic(cc, "m").stop_reason, backAgain);
  }
  const chatId = chatCompletionToAnthropic({ ...c, id: "chatcmpl-abc" }, "m").id;
  assert.equal(chatId, "msg_abc");
});

// ------------------------------------------------------------------ streaming

function chunk(delta: ChatCompletionChunk["choices"][number]["delta"], finish: ChatCompletionChunk["choices"][number]["finish_reason"] = null): ChatCompletionChunk {
  return { id: "chatcmpl-s1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] };
}

const CHUNKS: ChatCompletionChunk[] = [
  chunk({ role: "assistant", content: "" }),
  chunk({ content: "Hel" }),
  chunk({ content: "lo 世界" }),
  chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }),
  chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } }] }),
  chunk({}, "tool_calls"),
  { id: "chatcmpl-s1", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 11, completion_tokens: 22, total_tokens: 33 } },
];

function encodeAll(chunks: ChatCompletionChunk[]): string {
  const enc = new AnthropicStreamEncoder("claude-x", 9);
  let out = "";
  for (const c of chunks) out += enc.push(c);
  return out + enc.end();
}

async function events(text: string): Promise<SSEEvent[]> {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.finish()];
}

test("encoder emits the Anthropic event sequence with correct block indexes", async () => {
  const evs = await events(encodeAll(CHUNKS));
  const summary = evs.map((e) => {
    const d = JSON.parse(e.data) as { type: string; index?: number; delta?: { type: string } };
    assert.equal(e.event, d.type, "event name matches data.type");
    return d.index === undefined ? d.type : `${d.type}#${d.index}${d.delta?.type ? `:${d.delta.type}` : ""}`;
  });
  assert.deepEqual(summary, [
    "message_start",
    "content_block_start#0",
    "content_block_delta#0:text_delta",
    "content_block_delta#0:text_delta",
    "content_block_stop#0",
    "content_block_start#1",
    "content_block_delta#1:input_json_delta",
    "content_block_delta#1:input_json_delta",
    "content_block_stop#1",
    "content_block_start#2",
    "content_block_delta#2:input_json_delta",
    "content_block_stop#2",
    "message_delta",
    "message_stop",
  ]);
  const start = JSON.parse(evs[0]!.data) as { message: { usage: { input_tokens: number }; model: string } };
  assert.equal(start.message.usage.input_tokens, 9);
  assert.equal(start.message.model, "claude-x");
  const delta = JSON.parse(evs.at(-2)!.data) as { delta: { stop_reason: string }; usage: { output_tokens: number; input_tokens: number } };
  assert.equal(delta.delta.stop_reason, "tool_use");
  assert.deepEqual(delta.usage, { output_tokens: 22, input_tokens: 11 });
  // end() with explicit usage wins; an empty stream is still well-formed.
  const empty = await events(new AnthropicStreamEncoder("m", 1).end({ prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 }));
  assert.deepEqual(empty.map((e) => e.event), ["message_start", "message_delta", "message_stop"]);
});

/** An Anthropic SSE body through AnthropicStreamTranslator, as the provider reads it (up to message_stop). */
async function decodeAll(text: string): Promise<ChatCompletionChunk[]> {
  const translator = new AnthropicStreamTranslator("chatcmpl-x", "m");
  const out: ChatCompletionChunk[] = [];
  for (const ev of await events(text)) {
    const got = translator.event(ev);
    if (Array.isArray(got)) out.push(...got);
    else if (got) out.push(got);
    if (translator.ended) return out;
  }
  translator.bodyEnded();
  return out;
}

test("encoder -> SseDecoder -> AnthropicStreamTranslator gives back the same text, tool calls, finish and usage", async () => {
  const decoded = await decodeAll(encodeAll(CHUNKS));
  assert.deepEqual(decoded[0]!.choices[0]!.delta, { role: "assistant", content: "" });
  let text = "";
  const calls: Array<{ id?: string; name?: string; args: string }> = [];
  let finish: string | null = null;
  for (const c of decoded) {
    const ch = c.choices[0];
    if (!ch) continue;
    text += ch.delta.content ?? "";
    for (const t of ch.delta.tool_calls ?? []) {
      const slot = (calls[t.index] ??= { args: "" });
      if (t.id) slot.id = t.id;
      if (t.function?.name) slot.name = t.function.name;
      slot.args += t.function?.arguments ?? "";
    }
    finish = ch.finish_reason ?? finish;
  }
  assert.equal(text, "Hello 世界");
  assert.deepEqual(calls, [
    { id: "call_a", name: "get_weather", args: '{"city":"Paris"}' },
    { id: "call_b", name: "get_time", args: "{}" },
  ]);
  assert.equal(finish, "tool_calls");
  const last = decoded.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: 11, completion_tokens: 22, total_tokens: 33 });
});

test("AnthropicStreamTranslator: error events throw, truncated streams are UpstreamProtocol", async () => {
  const enc = new AnthropicStreamEncoder("m", 1);
  const overloaded = enc.push(chunk({ content: "a" })) + enc.error("overloaded_error", "Overloaded");
  await assert.rejects(decodeAll(overloaded), (e: unknown) => e instanceof StratumError && e.kind === "UpstreamError" && e.upstreamStatus === 529 && e.retryable);
  const limited = new AnthropicStreamEncoder("m", 1).error("rate_limit_error", "slow down");
  await assert.rejects(decodeAll(limited), (e: unknown) => e instanceof StratumError && e.kind === "UpstreamRateLimited");
  const invalid = new AnthropicStreamEncoder("m", 1).error("invalid_request_error", "bad");
  await assert.rejects(decodeAll(invalid), (e: unknown) => e instanceof StratumError && e.upstreamStatus === 400 && !e.retryable);
  const truncated = new AnthropicStreamEncoder("m", 1).push(chunk({ content: "a" }));
  await assert.rejects(decodeAll(truncated), (e: unknown) => e instanceof StratumError && e.kind === "UpstreamProtocol");
  assert.throws(
    () => new AnthropicStreamTranslator("i", "m").event({ data: "{nope" }),
    (e: unknown) => e instanceof StratumError && e.kind === "UpstreamProtocol",
  );
});

test("error bodies and type mapping", () => {
  assert.deepEqual(anthropicErrorBody("api_error", "x"), { type: "error", error: { type: "api_error", message: "x" } });
  assert.equal(anthropicErrorType("InvalidRequest"), "invalid_request_error");
  assert.equal(anthropicErrorType("Unauthorized"), "authentication_error");
  assert.equal(anthropicErrorType("Forbidden"), "permission_error");
  assert.equal(anthropicErrorType("NotFound"), "not_found_error");
  assert.equal(anthropicErrorType("RateLimited"), "rate_limit_error");
  assert.equal(anthropicErrorType("AllRoutesFailed"), "overloaded_error");
  assert.equal(anthropicErrorType("Internal"), "api_error");
  assert.equal(anthropicErrorType("UpstreamError", 400), "invalid_request_error");
  assert.equal(anthropicErrorType("UpstreamError", 502), "api_error");
  assert.equal(anthropicErrorType("UpstreamError", 529), "overloaded_error");
});

// The real Anthropic SDK must accept what the encoder writes.
const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

test("the official Anthropic SDK reassembles the encoder's stream", async () => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(encodeAll(CHUNKS));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const client = new Anthropic({ apiKey: "test", baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
  const final = await client.messages.stream({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).finalMessage();
  assert.equal(final.model, "claude-x");
  assert.equal(final.stop_reason, "tool_use");
  assert.deepEqual(
    final.content.map((b) => (b.type === "text" ? { text: b.text } : b.type === "tool_use" ? { id: b.id, name: b.name, input: b.input } : { other: b.type })),
    [{ text: "Hello 世界" }, { id: "call_a", name: "get_weather", input: { city: "Paris" } }, { id: "call_b", name: "get_time", input: {} }],
  );
  assert.equal(final.usage.output_tokens, 22);
  assert.equal(final.usage.input_tokens, 11);
});
