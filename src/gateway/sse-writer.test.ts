// When events leave: the SSE writer joins the events of one loop turn into
// one write, and that coalescing must never hold back what a slow upstream
// already sent. Over real HTTP, timed at the client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ScriptedUpstreams } from "../testing/scripted-upstream.js";
import { startTestServer, type TestServer } from "../testing/harness.js";

const upstreams = new ScriptedUpstreams();
let srv: TestServer;
const PAUSE_MS = 500;

const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "up", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

before(async () => {
  const up = await upstreams.serve(async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    // Two events at once, then the upstream thinks.
    res.write(chunk("first") + chunk(" second"));
    await new Promise((r) => setTimeout(r, PAUSE_MS));
    res.end(chunk(" last", "stop") + "data: [DONE]\n\n");
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

test("events already received leave at once, before the upstream's next ones; the rest follow when they come", async () => {
  const t0 = performance.now();
  const res = await fetch(`${srv.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
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
