// Whole answers an OpenAI-compatible upstream sends (chat completions and
// embeddings) go to the client as the upstream's own JSON text when nothing
// changes them, with Stratum's extension added as the completion's last
// member; an answer the gateway changes (usage counted because the upstream
// sent none) or one that carries a `stratum` member of its own is serialised.
// Over real HTTP against a scripted upstream, read as raw text.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ScriptedUpstreams } from "../testing/scripted-upstream.js";
import { startTestServer, type TestServer } from "../testing/harness.js";

const upstreams = new ScriptedUpstreams();
let srv: TestServer;

// Odd but valid JSON: spacing and newlines, escapes, a vendor member, members in an unusual order.
const ANSWER = `{
  "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
  "id": "cmpl-1", "object": "chat.completion", "created": 1, "model": "up-1",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "caf\\u00e9 \\"q\\" }"}, "finish_reason": "stop"}],
  "x_vendor": {"stratum": "theirs", "n": 1.50}
}
`;
const NO_USAGE = `{"id":"cmpl-2","object":"chat.completion","created":1,"model":"up-1","choices":[{"index":0,"message":{"role":"assistant","content":"hello there"},"finish_reason":"stop"}]}`;
const OWN_STRATUM = `{"id":"cmpl-3","object":"chat.completion","created":1,"model":"up-1","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"stratum":{"served_by":"spoofed"}}`;
// Floats as an upstream prints them, which JSON.stringify would not reproduce (1.50, 1e-7).
const EMBEDDING = `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.10,-1.50,1e-7]}],"model":"up-emb","usage":{"prompt_tokens":2,"total_tokens":2}}`;

before(async () => {
  const up = await upstreams.serve((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    if (req.url?.endsWith("/embeddings")) return void res.end(EMBEDDING);
    const prompt = (JSON.parse(req.body) as { messages: Array<{ content: string }> }).messages[0]!.content;
    res.end(prompt === "no usage" ? NO_USAGE : prompt === "own stratum" ? OWN_STRATUM : ANSWER);
  });
  srv = await startTestServer({
    providers: { up: { type: "openai", baseUrl: `${up.origin}/v1` } },
    models: [{ name: "m", deployments: [{ provider: "up" }] }, { name: "e", deployments: [{ provider: "up" }] }],
    cache: { enabled: false },
  });
});
after(async () => {
  await srv.close();
  upstreams.closeAll();
});

async function post(path: string, body: unknown): Promise<{ text: string; type: string | null }> {
  const res = await fetch(`${srv.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return { text: await res.text(), type: res.headers.get("content-type") };
}

const chat = (content: string) => post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content }] });

test("an unchanged completion is the upstream's own text with Stratum's extension as its last member", async () => {
  const { text, type } = await chat("hi");
  assert.equal(type, "application/json; charset=utf-8");
  const end = ANSWER.lastIndexOf("}");
  assert.ok(text.startsWith(ANSWER.slice(0, end)), "the upstream's bytes, unchanged");
  const body = JSON.parse(text) as { choices: Array<{ message: { content: string } }>; x_vendor: unknown; stratum: Record<string, unknown>; usage: unknown };
  assert.equal(body.choices[0]!.message.content, 'café "q" }');
  assert.deepEqual(body.x_vendor, { stratum: "theirs", n: 1.5 });
  assert.deepEqual(body.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  assert.deepEqual(body.stratum, { served_by: "m", cache: "bypass", attempts: 1 });
});

test("a completion the gateway changes, or one with a stratum member of its own, is serialised", async () => {
  const counted = await chat("no usage");
  const a = JSON.parse(counted.text) as { usage: { prompt_tokens: number; completion_tokens: number }; stratum: { served_by: string } };
  assert.ok(a.usage.prompt_tokens > 0 && a.usage.completion_tokens > 0, "usage counted by the gateway reaches the client");
  assert.equal(a.stratum.served_by, "m");

  const own = await chat("own stratum");
  assert.equal(own.text.match(/"stratum":/g)?.length, 1, "one stratum member, not two");
  assert.deepEqual((JSON.parse(own.text) as { stratum: unknown }).stratum, { served_by: "m", cache: "bypass", attempts: 1 });
});

test("an embeddings answer is the upstream's own text", async () => {
  const { text, type } = await post("/v1/embeddings", { model: "e", input: "hi" });
  assert.equal(type, "application/json; charset=utf-8");
  assert.equal(text, EMBEDDING);
});
