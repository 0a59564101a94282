// The two other clients most applications reach an OpenAI-compatible server
// with, unmodified, against Stratum over real HTTP: LangChain's ChatOpenAI and
// OpenAIEmbeddings, and the Vercel AI SDK with its OpenAI-compatible provider
// (chat completions) and its OpenAI provider (the Responses API).
// Text, streaming, usage, tool calls, structured output and embeddings, with
// sim-upstream behind an OpenAI-compatible provider (openai-compat.test.ts
// does the same with the official `openai` SDK).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { embedMany, generateObject, generateText, jsonSchema, streamText, tool } from "ai";
import { startSimGateway, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";

const OUTPUT_TOKENS = 12;
const WEATHER = {
  type: "object",
  properties: { city: { type: "string", description: "the city" } },
  required: ["city"],
  additionalProperties: false,
} as const;

/** The AI SDK asked a question that names its one tool, get_weather. */
const askForWeather = (model: Parameters<typeof generateText>[0]["model"]) =>
  generateText({
    model,
    prompt: "Use get_weather for Paris",
    tools: { get_weather: tool({ description: "Weather for a city", inputSchema: jsonSchema<{ city: string }>(WEATHER) }) },
    maxRetries: 0,
  });

describe("LangChain and the Vercel AI SDK, unmodified, against Stratum", () => {
  let sim: SimUpstream;
  let srv: TestServer;
  let close: () => Promise<void>;
  before(async () => {
    ({ sim, srv, close } = await startSimGateway({ outputTokens: OUTPUT_TOKENS }));
  });
  after(() => close());

  describe("LangChain (@langchain/openai)", () => {
    const chat = () => new ChatOpenAI({ model: "gpt-test", apiKey: srv.adminKey, configuration: { baseURL: `${srv.url}/v1` }, maxRetries: 0 });

    test("invoke: the answer and its token usage", async () => {
      const before = sim.stats().chat;
      const msg = await chat().invoke("Say something");
      assert.equal(typeof msg.content, "string");
      assert.ok((msg.content as string).length > 0);
      assert.equal(msg.usage_metadata?.output_tokens, OUTPUT_TOKENS);
      assert.ok((msg.usage_metadata?.input_tokens ?? 0) > 0);
      assert.equal(sim.stats().chat, before + 1);
    });

    test("stream: content chunks that add up to the answer, usage at the end", async () => {
      let text = "";
      let chunks = 0;
      let outputTokens: number | undefined;
      for await (const c of await chat().stream("Stream something")) {
        text += c.content as string;
        chunks++;
        outputTokens = c.usage_metadata?.output_tokens ?? outputTokens;
      }
      assert.ok(chunks > 2, `${chunks} chunks`);
      assert.ok(text.length > 0);
      assert.equal(outputTokens, OUTPUT_TOKENS);
    });

    test("bindTools: the model's tool call arrives parsed", async () => {
      const withTools = chat().bindTools([{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: WEATHER } }]);
      const msg = await withTools.invoke("Use get_weather for Paris");
      assert.equal(msg.tool_calls?.length, 1);
      assert.equal(msg.tool_calls[0]!.name, "get_weather");
      assert.equal(typeof msg.tool_calls[0]!.args.city, "string");
    });

    test("withStructuredOutput (JSON schema): an object that fits the schema", async () => {
      const structured = chat().withStructuredOutput<{ city: string }>({ title: "weather", ...WEATHER }, { method: "jsonSchema" });
      const out = await structured.invoke("Which city?");
      assert.equal(typeof out.city, "string");
    });

    test("OpenAIEmbeddings: one vector per text", async () => {
      const emb = new OpenAIEmbeddings({ model: "gpt-test", apiKey: srv.adminKey, configuration: { baseURL: `${srv.url}/v1` }, maxRetries: 0 });
      const [a, b] = await emb.embedDocuments(["first text", "second text"]);
      const q = await emb.embedQuery("first text");
      assert.equal(a!.length, 64);
      assert.deepEqual(q, a);
      assert.notDeepEqual(a, b);
    });
  });

  describe("Vercel AI SDK (ai + @ai-sdk/openai-compatible)", () => {
    const stratum = () => createOpenAICompatible({ name: "stratum", baseURL: `${srv.url}/v1`, apiKey: srv.adminKey, includeUsage: true, supportsStructuredOutputs: true });

    test("generateText: the answer, its usage and finish reason", async () => {
      const r = await generateText({ model: stratum()("gpt-test"), prompt: "Say something", maxRetries: 0 });
      assert.ok(r.text.length > 0);
      assert.equal(r.usage.outputTokens, OUTPUT_TOKENS);
      assert.ok((r.usage.inputTokens ?? 0) > 0);
      assert.ok(["stop", "length"].includes(r.finishReason), r.finishReason);
    });

    test("streamText: text deltas, then usage", async () => {
      const r = streamText({ model: stratum()("gpt-test"), prompt: "Stream something", maxRetries: 0 });
      let text = "";
      let deltas = 0;
      for await (const t of r.textStream) {
        text += t;
        deltas++;
      }
      assert.ok(deltas > 2, `${deltas} deltas`);
      assert.equal(text, await r.text);
      assert.equal((await r.usage).outputTokens, OUTPUT_TOKENS);
    });

    test("tools: the call comes back with its parsed input", async () => {
      const r = await askForWeather(stratum()("gpt-test"));
      assert.equal(r.toolCalls.length, 1);
      assert.equal(r.toolCalls[0]!.toolName, "get_weather");
      assert.equal(typeof (r.toolCalls[0]!.input as { city: string }).city, "string");
    });

    test("generateObject: an object that fits the schema", async () => {
      const r = await generateObject({ model: stratum()("gpt-test"), schema: jsonSchema<{ city: string }>(WEATHER), prompt: "Which city?", maxRetries: 0 });
      assert.equal(typeof r.object.city, "string");
    });

    test("embedMany: one vector per value", async () => {
      const r = await embedMany({ model: stratum().textEmbeddingModel("gpt-test"), values: ["first text", "second text"], maxRetries: 0 });
      assert.equal(r.embeddings.length, 2);
      assert.equal(r.embeddings[0]!.length, 64);
      assert.notDeepEqual(r.embeddings[0], r.embeddings[1]);
    });
  });

  describe("Vercel AI SDK (ai + @ai-sdk/openai, which speaks the Responses API)", () => {
    const openai = () => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: srv.adminKey });

    test("generateText and streamText go through /v1/responses", async () => {
      const r = await generateText({ model: openai()("gpt-test"), prompt: "Say something", maxRetries: 0 });
      assert.ok(r.text.length > 0);
      assert.ok(r.response.id.startsWith("resp_"), r.response.id);
      assert.equal(r.usage.outputTokens, OUTPUT_TOKENS);
      const s = streamText({ model: openai()("gpt-test"), prompt: "Stream something", maxRetries: 0 });
      let text = "";
      for await (const t of s.textStream) text += t;
      assert.ok(text.length > 0);
      assert.equal((await s.usage).outputTokens, OUTPUT_TOKENS);
    });

    test("tools through the Responses API", async () => {
      const r = await askForWeather(openai()("gpt-test"));
      assert.equal(r.toolCalls[0]?.toolName, "get_weather");
      assert.equal(typeof (r.toolCalls[0]!.input as { city: string }).city, "string");
    });
  });
});
