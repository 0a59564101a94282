// Streamed chunks an OpenAI-compatible upstream sends are re-sent as the
// upstream's own JSON text when nothing changes them (no re-serialising per
// event), with the usage member as the client asked for it; anything else
// (multi-line data, a usage member that is not null) is serialised as before.
// Over real HTTP against a scripted upstream, read as raw SSE text. And the
// gateway's write coalescing never holds back what a slow upstream already sent.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ScriptedUpstreams } from "../testing/scripted-upstream.js";
import { startTestServer, type TestServer } from "../testing/harness.js";

const upstreams = new ScriptedUpstreams();
let srv: TestServer;

// Odd but valid JSON an upstream may send: vendor fields, escapes, unusual member order, spacing.
const FIRST = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-1","choices":[{"index":0,"delta":{"role":"assistant","content":"caf\\u00e9 \\"q\\""},"finish_reason":null}],"x_vendor":{"usage":null},"usage":null}`;
const NO_USAGE_MEMBER = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-1","choices":[{"index":0,"delta":{"content":" two"},"finish_reason":null}]}`;
const SPACED = `{ "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "up-1", "choices": [ { "index": 0, "delta": { "content": " three" }, "finish_reason": null } ], "usage": null }`;
const MULTI_LINE = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-1",\n"choices":[{"index":0,"delta":{"content":" four"},"finish_reason":"stop"}],"usage":null}`;
const USAGE = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}`;

const PAUSE_MS = 500;
const plainChunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "up", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

before(async () => {
  const up = await upstreams.serve(async (req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    if (req.body.includes("think first")) {
      // Two events at once, then the upstream thinks.
      res.write(plainChunk("first") + plainChunk(" second"));
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      res.end(plainChunk(" last", "stop") + "data: [DONE]\n\n");
      return;
    }
    const multi = MULTI_LINE.split("\n").map((l) => `data: ${l}`).join("\n");
    res.end(`data: ${FIRST}\n\ndata: ${NO_USAGE_MEMBER}\n\ndata: ${SPACED}\n\n${multi}\n\ndata: ${USAGE}\n\ndata: [DONE]\n\n`);
  });
  srv = await startTestServer({
    providers: { up: { type: "openai", baseUrl: `${up.origin}/v1` } },
    models: [{ name: "m", deployments: [{ provider: "up" }] }],
    cache: { enabled: false },
  });
});
after(async () => {
  await srv.close();
  upstreams.closeAll();
});

async function streamData(includeUsage: boolean): Promise<string[]> {
  const res = await fetch(`${srv.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }], ...(includeUsage ? { stream_options: { include_usage: true } } : {}) }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  const events = text.split("\n\n").filter(Boolean);
  for (const e of events) assert.match(e, /^data: [^\n]*$/, `every event is one data line: ${JSON.stringify(e)}`);
  return events.map((e) => e.slice("data: ".length));
}

test("with include_usage: unchanged chunks go out as the upstream's exact text; usage last", async () => {
  const data = await streamData(true);
  assert.equal(data.at(-1), "[DONE]");
  assert.equal(data[0], FIRST, "vendor fields, escapes and member order survive byte for byte");
  assert.equal(data[2], SPACED);
  // No usage member upstream (vLLM, Ollama): the client that asked for usage gets usage: null, added to the text.
  assert.equal(data[1], NO_USAGE_MEMBER.replace(/}$/, ',"usage":null}'));
  assert.deepEqual(JSON.parse(data[1]!), { ...JSON.parse(NO_USAGE_MEMBER), usage: null });
  // The multi-line event is re-framed onto one line.
  assert.deepEqual(JSON.parse(data[3]!), JSON.parse(MULTI_LINE));
  assert.deepEqual(JSON.parse(data[4]!).usage, { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
  assert.equal(data.length, 6);
});

test("without include_usage: the usage member is cut from the upstream's text, nothing else changes", async () => {
  const data = await streamData(false);
  assert.equal(data.at(-1), "[DONE]");
  assert.equal(data.length, 5, "no usage chunk");
  for (const d of data.slice(0, -1)) assert.equal("usage" in JSON.parse(d), false, d);
  assert.equal(data[0], FIRST.replace(/,"usage":null}$/, "}"));
  assert.equal(JSON.parse(data[0]!).x_vendor.usage, null, "a nested usage member is not the chunk's");
  assert.equal(data[1], NO_USAGE_MEMBER);
  assert.deepEqual(JSON.parse(data[2]!), (({ usage: _u, ...rest }) => rest)(JSON.parse(SPACED)));
});

test("the official SDK reads the passed-through stream", async () => {
  const stream = await srv.client().chat.completions.create({ model: "m", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
  let text = "";
  let usage;
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? "";
    if (c.usage) usage = c.usage;
  }
  assert.equal(text, 'café "q" two three four');
  assert.equal(usage?.total_tokens, 9);
});

test("events already received leave at once, before the upstream's next ones; the rest follow when they come", async () => {
  const t0 = performance.now();
  const res = await fetch(`${srv.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "think first" }] }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let secondAt = NaN;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (Number.isNaN(secondAt) && text.includes(" second")) secondAt = performance.now() - t0;
  }
  const endAt = performance.now() - t0;
  assert.ok(text.indexOf("first") < text.indexOf(" second") && text.indexOf(" second") < text.indexOf(" last"), text);
  assert.ok(text.endsWith("data: [DONE]\n\n"));
  assert.ok(secondAt < PAUSE_MS / 2, `the first two events arrived after ${secondAt.toFixed(0)} ms, not before the upstream's pause of ${PAUSE_MS} ms`);
  assert.ok(endAt >= PAUSE_MS, `the end came after the pause (${endAt.toFixed(0)} ms)`);
});
