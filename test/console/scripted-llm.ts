// The scripted model behind the console test: it answers questions about the
// relay from passage [1] (streamed in several chunks when asked to stream),
// and, given tools, asks for a support ticket (a high-risk webhook that needs
// a human approval), then reports what the tool said.
import type { ServerResponse } from "node:http";

/** Parsed JSON bodies, checked by the test rather than by types. */
type Json = any;

export const ANSWER = "The relay listens on port 7443 [1]. It accepts TLS connections only [1].";

function toolTurn(body: Json): Json {
  const msgs = body.messages as Json[];
  const last = msgs.at(-1);
  if (last.role === "tool") return { role: "assistant", content: `Tool said: ${last.content}` };
  const user = [...msgs].reverse().find((m) => m.role === "user")?.content ?? "";
  if (/ticket/i.test(String(user))) {
    return { role: "assistant", content: null, tool_calls: [{ id: `call_${msgs.length}`, type: "function", function: { name: "create_ticket", arguments: JSON.stringify({ title: "Printer on fire" }) } }] };
  }
  return { role: "assistant", content: "Plain answer." };
}

export async function answer(rawBody: string, res: ServerResponse): Promise<void> {
  const body = JSON.parse(rawBody) as Json;
  const usage = { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 };
  if (body.tools?.length) {
    const message = toolTurn(body);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: body.model, choices: [{ index: 0, message, finish_reason: message.tool_calls ? "tool_calls" : "stop" }], usage }));
    return;
  }
  if (!body.stream) {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: body.model, choices: [{ index: 0, message: { role: "assistant", content: ANSWER }, finish_reason: "stop" }], usage }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const frame = (delta: Json, finish: string | null = null, extra: Json = {}) =>
    `data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  res.write(frame({ role: "assistant", content: "" }));
  // Word by word with a pause, so the browser renders the answer as it grows.
  for (const word of ANSWER.split(/(?<= )/)) {
    res.write(frame({ content: word }));
    await new Promise((r) => setTimeout(r, 25));
  }
  res.write(frame({}, "stop"));
  if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", created: 1, model: body.model, choices: [], usage })}\n\n`);
  res.end("data: [DONE]\n\n");
}
