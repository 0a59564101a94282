// The assistant pipeline over real HTTP with the official openai SDK: cited
// answers (text markers and structured data), streaming, "not in the
// documents", server-kept sessions with follow-ups, context trimming at the
// limit, long-term memory in the prompt, and the bundled sample collection.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ScriptedUpstreams } from "../testing/scripted-upstream.js";
import { startTestServer, type TestServer } from "../testing/harness.js";
import { NOT_IN_DOCUMENTS } from "./rag-pipeline.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

async function call(srv: TestServer, method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const DOCS: Array<{ source: string; content: string }> = [
  {
    source: "relay.md",
    content:
      "# The relay\n\nThe relay forwards events from producers to subscribers over WebSockets.\n\n## Network\n\nThe relay listens on port 7443. Clients reconnect with exponential backoff.\n",
  },
  {
    source: "billing.md",
    content: "# Billing\n\nInvoices are issued on the first business day of each month. Payment is due within thirty days.\n",
  },
  {
    source: "ingest.md",
    content: "# Ingestion\n\nThe ingest worker reads files from the inbox folder and listens on port 9090 for health checks.\n",
  },
];

async function seed(srv: TestServer, key: string, collection = "docs"): Promise<void> {
  for (const d of DOCS) {
    const r = await call(srv, "POST", `/v1/collections/${collection}/documents`, key, d);
    assert.ok(r.status < 300, JSON.stringify(r.json));
  }
}

describe("assistant pipeline (extractive route)", () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ pipelines: [{ name: "assistant", collection: "docs", route: "extractive" }, { name: "tiny", collection: "docs", route: "extractive", context: { maxTokens: 700, reserveOutputTokens: 100 } }] });
    await seed(srv, srv.adminKey);
  });
  after(() => srv.close());

  test("answers with [n] markers and structured citations through the openai SDK", async () => {
    const client = srv.client();
    assert.ok((await client.models.list()).data.some((m) => m.id === "assistant"), "the pipeline is listed as a model");
    const r = await client.chat.completions.create({ model: "assistant", messages: [{ role: "user", content: "Which port does the relay listen on?" }] });
    const text = r.choices[0]!.message.content!;
    assert.match(text, /7443/);
    assert.match(text, /\[\d\]/, "inline citation marker");
    assert.equal(r.model, "assistant");
    const ext = (r as Json).stratum;
    assert.ok(ext.citations.length >= 1);
    const c = ext.citations[0];
    assert.equal(c.source, "relay.md");
    assert.match(c.text, /7443/);
    assert.ok(text.includes(`[${c.index}]`), "structured citation matches a marker in the text");
    assert.ok(ext.retrieval.confidence >= 0.15);
    assert.equal(ext.prompt.name, "assistant");
    assert.match(ext.prompt.hash, /^[0-9a-f]{12}$/);
  });

  test("streams the answer; the finishing chunk carries the citations", async () => {
    const stream = await srv.client().chat.completions.create({ model: "assistant", stream: true, messages: [{ role: "user", content: "When are invoices issued?" }] });
    let text = "";
    let ext: Json;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      if ((chunk as Json).stratum) ext = (chunk as Json).stratum;
    }
    assert.ok(chunks > 3, "streamed in pieces");
    assert.match(text, /first business day/);
    assert.equal(ext.citations[0].source, "billing.md");
  });

  test("says the documents do not answer when retrieval confidence is low", async () => {
    const r = await srv.client().chat.completions.create({ model: "assistant", messages: [{ role: "user", content: "What is the airspeed velocity of an unladen swallow?" }] });
    assert.equal(r.choices[0]!.message.content, NOT_IN_DOCUMENTS);
    assert.deepEqual((r as Json).stratum.citations, []);
    assert.equal((r as Json).stratum.retrieval.answered_from_documents, false);
  });

  test("a session keeps the conversation: a follow-up sends only the new message", async () => {
    const session = { "x-session-id": "conv-1" };
    const first = await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "assistant", messages: [{ role: "user", content: "How does the relay work?" }] }, session);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-session-id"), "conv-1");
    assert.match(first.json.choices[0].message.content, /WebSockets/);
    const follow = await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "assistant", messages: [{ role: "user", content: "Which port does it use?" }] }, session);
    assert.equal(follow.status, 200);
    // "it" is the relay: the condensed query brings in the relay, not the ingest worker's port.
    assert.match(follow.json.stratum.retrieval.query, /relay/i);
    assert.match(follow.json.choices[0].message.content, /7443/);
    assert.doesNotMatch(follow.json.choices[0].message.content, /9090/);
    const stored = await call(srv, "GET", "/v1/sessions/conv-1", srv.adminKey);
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.json.messages.map((m: Json) => m.role), ["user", "assistant", "user", "assistant"]);
    assert.equal(stored.json.messages[2].content, "Which port does it use?");
    // Another tenant cannot read it.
    const other = await srv.createKey({ tenant: "other" });
    assert.equal((await call(srv, "GET", "/v1/sessions/conv-1", other)).status, 404);
    assert.equal((await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "assistant", messages: [{ role: "user", content: "hi" }] }, { "x-session-id": "bad id!" })).status, 400);
  });

  test("the context stays within the route's window as a session grows; old turns are dropped", async () => {
    const session = { "x-session-id": "long-1" };
    let last: Json;
    for (let i = 0; i < 12; i++) {
      const r = await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "tiny", messages: [{ role: "user", content: `Question ${i}: which port does the relay listen on, and what does it forward?` }] }, session);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      last = r.json;
    }
    assert.ok(last.stratum.context.dropped > 0, "older turns were dropped");
    assert.ok(last.stratum.context.tokens + 100 <= 700, `prompt ${last.stratum.context.tokens} tokens fits the window`);
  });

  test("input processing refuses a question over the token cap and a non-user last message", async () => {
    const long = await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "assistant", messages: [{ role: "user", content: "relay ".repeat(5_000) }] });
    assert.equal(long.status, 400);
    assert.equal(long.json.error.code, "input_too_long");
    const notUser = await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "assistant", messages: [{ role: "assistant", content: "hello" }] });
    assert.equal(notUser.status, 400);
  });

  test("metadata filters pass through the request's stratum field", async () => {
    const r = await call(srv, "POST", "/v1/chat/completions", srv.adminKey, {
      model: "assistant",
      messages: [{ role: "user", content: "Which port does it listen on?" }],
      stratum: { filter: { kind: "nope" } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.choices[0].message.content, NOT_IN_DOCUMENTS, "nothing matches the filter");
  });
});

describe("assistant pipeline over an LLM route", () => {
  const upstreams = new ScriptedUpstreams();
  let srv: TestServer;
  let seen: Array<{ body: string }>;
  before(async () => {
    const up = await upstreams.serve((req, res) => {
      const body = JSON.parse(req.body) as Json;
      const system = body.messages.find((m: Json) => m.role === "system")?.content ?? "";
      // Query rewriting: answer with a standalone query; otherwise answer citing passage 1.
      const content = /standalone search query/i.test(system) || /standalone/i.test(JSON.stringify(body.messages.at(-1)))
        ? "relay network port"
        : "The relay listens on port 7443 [1].";
      const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
      if (body.stream) {
        const chunk = (choices: Json[], extra: Json = {}) => `data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", created: 1, model: body.model, choices, ...extra })}\n\n`;
        res.setHeader("content-type", "text/event-stream");
        const [head, tail] = [content.slice(0, 10), content.slice(10)];
        res.end(
          chunk([{ index: 0, delta: { role: "assistant", content: head }, finish_reason: null }]) +
            chunk([{ index: 0, delta: { content: tail }, finish_reason: "stop" }]) +
            chunk([], { usage }) +
            "data: [DONE]\n\n",
        );
        return;
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: body.model, choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], usage }));
    });
    seen = up.seen;
    srv = await startTestServer({
      providers: { llm: { type: "openai", baseUrl: `${up.origin}/v1` } },
      models: [{ name: "gpt-test", deployments: [{ provider: "llm" }] }],
      pipelines: [
        { name: "assistant", collection: "docs", route: "gpt-test" },
        { name: "summing", collection: "docs", route: "gpt-test", context: { maxTokens: 900, reserveOutputTokens: 100, strategy: "summarize" } },
      ],
      cache: { enabled: false },
    });
    await seed(srv, srv.adminKey);
  });
  after(async () => {
    await srv.close();
    upstreams.closeAll();
  });

  test("the prompt carries numbered passages and relevant memory facts; citations map markers to chunks", async () => {
    await call(srv, "POST", "/v1/memory", srv.adminKey, { user: "ana", text: "Ana operates the relay cluster in Frankfurt." });
    await call(srv, "POST", "/v1/memory", srv.adminKey, { user: "ana", text: "Ana likes pottery." });
    const before = seen.length;
    const r = await srv.client().chat.completions.create({ model: "assistant", user: "ana", messages: [{ role: "user", content: "Which port does the relay listen on?" }] });
    const sent = JSON.parse(seen[before]!.body) as Json;
    const system = sent.messages[0].content as string;
    assert.equal(sent.model, "gpt-test");
    assert.match(system, /\[1\] /);
    assert.match(system, /7443/);
    assert.match(system, /relay cluster in Frankfurt/, "relevant memory fact recalled into the prompt");
    assert.doesNotMatch(system, /pottery/, "irrelevant fact left out");
    assert.equal(sent.stratum, undefined, "the extension field is not sent upstream");
    const ext = (r as Json).stratum;
    assert.equal(ext.citations.length, 1);
    assert.equal(ext.citations[0].index, 1);
    assert.match(ext.citations[0].text, /7443/);
  });

  test("follow-ups are condensed into a standalone query by the LLM route", async () => {
    const session = { "x-session-id": "llm-1" };
    await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "assistant", messages: [{ role: "user", content: "Tell me about the relay." }] }, session);
    const r = await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "assistant", messages: [{ role: "user", content: "Which port does it use?" }] }, session);
    assert.equal(r.status, 200);
    assert.equal(r.json.stratum.retrieval.query, "relay network port");
    // The answer request carries the earlier turns from the session.
    const answer = JSON.parse(seen.at(-1)!.body) as Json;
    assert.deepEqual(answer.messages.map((m: Json) => m.role), ["system", "user", "assistant", "user"]);
  });

  test("with the summarize strategy, turns that no longer fit are summarised by the route and the summary is kept", async () => {
    const session = { "x-session-id": "sum-1" };
    let last: Json;
    let summarized = 0;
    for (let i = 0; i < 10; i++) {
      const r = await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "summing", messages: [{ role: "user", content: `Turn ${i}: tell me again, in detail, how the relay forwards events and which port it listens on. ${"Please be thorough about producers, subscribers and reconnects. ".repeat(4)}` }] }, session);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      summarized = Math.max(summarized, r.json.stratum.context.summarized);
      last = r.json;
    }
    assert.ok(summarized > 0, "some turn summarised older ones");
    assert.ok(last.stratum.context.tokens + 100 <= 900);
    const stored = await call(srv, "GET", "/v1/sessions/sum-1", srv.adminKey);
    assert.ok(stored.json.summary?.text, "the summary is stored with the session");
    const sent = JSON.parse(seen.at(-1)!.body) as Json;
    assert.ok(sent.messages.some((m: Json) => /^Summary of earlier conversation/.test(m.content)), "the summary is in the prompt");
  });

  test("a plain model with X-Session-Id gets its stored history prepended", async () => {
    const session = { "x-session-id": "plain-1" };
    await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "gpt-test", messages: [{ role: "user", content: "My name is Zed." }] }, session);
    await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "gpt-test", messages: [{ role: "user", content: "What is my name?" }] }, session);
    const sent = JSON.parse(seen.at(-1)!.body) as Json;
    assert.deepEqual(sent.messages.map((m: Json) => m.content), ["My name is Zed.", "The relay listens on port 7443 [1].", "What is my name?"]);
  });

  test("a streamed turn of a plain model is kept in its session once the stream ends", async () => {
    const session = { "x-session-id": "plain-stream-1" };
    const res = await fetch(`${srv.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json", ...session },
      body: JSON.stringify({ model: "gpt-test", stream: true, messages: [{ role: "user", content: "My name is Ada." }] }),
    });
    const sse = await res.text();
    assert.equal(res.status, 200);
    assert.match(sse, /data: \[DONE\]/);
    await call(srv, "POST", "/v1/chat/completions", srv.adminKey, { model: "gpt-test", messages: [{ role: "user", content: "What is my name?" }] }, session);
    const sent = JSON.parse(seen.at(-1)!.body) as Json;
    assert.deepEqual(sent.messages.map((m: Json) => m.content), ["My name is Ada.", "The relay listens on port 7443 [1].", "What is my name?"]);
  });
});

describe("the bundled sample collection", () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ retrieval: { sampleCollection: true } });
  });
  after(() => srv.close());

  test("a new user asks how to add a provider and gets a cited answer with no configuration", async () => {
    const r = await srv.client().chat.completions.create({ model: "assistant", messages: [{ role: "user", content: "How do I add a provider?" }] });
    const ext = (r as Json).stratum;
    assert.ok(ext.citations.length >= 1, r.choices[0]!.message.content ?? "");
    assert.match(ext.citations[0].source, /ARCHITECTURE\.md/);
    assert.match(r.choices[0]!.message.content!, /ChatProvider|provider/);
  });
});
