// Reference-free online metrics on hand-checkable answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChatCompletion, ChatRequest } from "../protocol/openai.js";
import { ONLINE_EVAL_METRICS } from "../config/schema.js";
import { scoreAnswer } from "./online-metrics.js";

const req = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: "assistant", messages: [{ role: "user", content: "q" }], ...extra });
const answer = (content: string, stratum: Record<string, unknown>, finish: "stop" | "content_filter" = "stop"): ChatCompletion => ({
  id: "c",
  object: "chat.completion",
  created: 1,
  model: "assistant",
  choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finish, logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  stratum,
});

test("an answered question: groundedness from the cited passages, citations, length; no json_valid unless JSON was asked", () => {
  const ext = { pipeline: "assistant", retrieval: { answered_from_documents: true }, citations: [{ text: "The relay listens on port 7443 for incoming traffic." }] };
  const s = scoreAnswer(req(), answer("The relay listens on port 7443 [1]. Bananas are yellow fruit.", ext), ONLINE_EVAL_METRICS);
  assert.deepEqual(s, { groundedness: 0.5, abstained: 0, citations: 1, answer_length: 61 });
});

test("the pipeline's own grounding score wins over the citations", () => {
  const s = scoreAnswer(req(), answer("x y z", { grounding: { score: 0.8 }, citations: [] }), ["groundedness"]);
  assert.deepEqual(s, { groundedness: 0.8 });
});

test("abstentions and refusals: abstained 1, no groundedness", () => {
  assert.deepEqual(scoreAnswer(req(), answer("The documents do not answer this question.", { retrieval: { answered_from_documents: false } }), ONLINE_EVAL_METRICS), { abstained: 1, citations: 0, answer_length: 42 });
  assert.equal(scoreAnswer(req(), answer("withheld", {}, "content_filter"), ["abstained"]).abstained, 1);
});

test("json_valid when a JSON response_format was asked", () => {
  const json = req({ response_format: { type: "json_object" } });
  assert.deepEqual(scoreAnswer(json, answer('{"port": 7443}', {}), ["json_valid"]), { json_valid: 1 });
  assert.deepEqual(scoreAnswer(json, answer("port: 7443", {}), ["json_valid"]), { json_valid: 0 });
  assert.deepEqual(scoreAnswer(req(), answer('{"port": 7443}', {}), ["json_valid"]), {});
});
