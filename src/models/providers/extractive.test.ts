import { test } from "node:test";
import assert from "node:assert/strict";
import { ExtractiveProviderSchema } from "../../config/schema.js";
import type { ChatCompletionChunk, ChatMessage, ChatRequest } from "../../protocol/openai.js";
import { countPromptTokens, countTokens } from "../tokenizer.js";
import { signalCallContext, type CallContext } from "../provider.js";
import { NO_ANSWER, createExtractiveProvider, splitSentences, stem, type Citation } from "./extractive.js";

const provider = (over: Record<string, unknown> = {}) => createExtractiveProvider("x", ExtractiveProviderSchema.parse({ type: "extractive", ...over }));
const ctx = (): CallContext => signalCallContext(new AbortController().signal, 1000, "t");
const req = (messages: ChatMessage[], over: Partial<ChatRequest> = {}): ChatRequest => ({ model: "extractive", messages, ...over });

const FACTS =
  "Paris is the capital of France. Berlin is the capital of Germany. " +
  "The Eiffel Tower was completed in 1889 for the World's Fair. " +
  "Mount Everest is the highest mountain on Earth.";

test("picks and cites the sentence that answers the question", async () => {
  const r = await provider().chat(req([{ role: "system", content: FACTS }, { role: "user", content: "When was the Eiffel Tower completed?" }]), ctx());
  const text = r.choices[0]!.message.content!;
  assert.equal(text, "The Eiffel Tower was completed in 1889 for the World's Fair. [1]");
  assert.equal(r.choices[0]!.finish_reason, "stop");
  const citations = r.stratum!.citations as Citation[];
  assert.equal(citations.length, 1);
  assert.equal(citations[0]!.index, 1);
  assert.equal(citations[0]!.messageIndex, 0);
  assert.ok(citations[0]!.score > 0.5 && citations[0]!.score <= 1);
  assert.equal(r.usage.completion_tokens, countTokens(text));
  assert.equal(r.usage.prompt_tokens, countPromptTokens(req([{ role: "system", content: FACTS }, { role: "user", content: "When was the Eiffel Tower completed?" }])));
});

test("several matching sentences come out in original order, numbered by position", async () => {
  const r = await provider().chat(
    req([
      { role: "developer", content: "Germany's capital city is Berlin." },
      { role: "user", content: "Some notes: " + FACTS },
      { role: "assistant", content: "Noted." },
      { role: "user", content: "Which city is the capital of France, and which of Germany?" },
    ]),
    ctx(),
  );
  const citations = r.stratum!.citations as Citation[];
  assert.deepEqual(
    citations.map((c) => c.index),
    [1, 2, 3],
  );
  const text = r.choices[0]!.message.content!;
  const paris = text.indexOf("Paris is the capital of France.");
  const berlin = text.indexOf("Berlin is the capital of Germany.");
  assert.ok(paris >= 0 && berlin > paris, text);
  assert.match(text, /France\. \[2\] Berlin is the capital of Germany\. \[3\]$/);
  assert.ok(!text.includes("Everest"));
  // the developer message (index 0) comes first in the context, so it is [1]
  assert.deepEqual(
    citations.map((c) => c.messageIndex),
    [0, 1, 1],
  );
});

test("a Context: section inside the question message is used; Question: after it is the question", async () => {
  const r = await provider().chat(
    req([{ role: "user", content: `Answer briefly.\nContext:\n- Stratum retries failed calls twice.\n- The cache stores answers for one hour.\nQuestion: How long does the cache keep answers?` }]),
    ctx(),
  );
  assert.equal(r.choices[0]!.message.content, "The cache stores answers for one hour. [1]");
  assert.equal((r.stratum!.citations as Citation[])[0]!.messageIndex, 0);
});

test("irrelevant context or no context gives the does-not-contain answer", async () => {
  const p = provider();
  const off = await p.chat(req([{ role: "system", content: FACTS }, { role: "user", content: "How do I bake sourdough bread?" }]), ctx());
  assert.ok(off.choices[0]!.message.content!.startsWith(NO_ANSWER));
  assert.equal(off.choices[0]!.finish_reason, "stop");
  assert.deepEqual(off.stratum!.citations, []);
  const none = await p.chat(req([{ role: "user", content: "What is the capital of France?" }]), ctx());
  assert.equal(none.choices[0]!.message.content, NO_ANSWER);
  assert.equal(none.usage.completion_tokens, countTokens(NO_ANSWER));
  // a high threshold turns a weak partial match into no answer
  const strict = await provider({ minScore: 0.99 }).chat(req([{ role: "system", content: FACTS }, { role: "user", content: "What is the population of France?" }]), ctx());
  assert.equal(strict.choices[0]!.message.content, NO_ANSWER);
});

test("maxSentences bounds the answer and max_tokens trims it with finish_reason length", async () => {
  const messages: ChatMessage[] = [{ role: "system", content: FACTS }, { role: "user", content: "Tell me about the capital of France, Germany, the Eiffel Tower and Everest." }];
  const one = await provider({ maxSentences: 1 }).chat(req(messages), ctx());
  assert.equal((one.stratum!.citations as Citation[]).length, 1);
  const trimmed = await provider().chat(req(messages, { max_tokens: 5 }), ctx());
  assert.ok(trimmed.usage.completion_tokens <= 5);
  assert.equal(trimmed.choices[0]!.finish_reason, "length");
});

test("streaming concatenates to the non-streamed text", async () => {
  const p = provider();
  const r = req([{ role: "system", content: FACTS }, { role: "user", content: "What is the capital of Germany?" }]);
  const full = await p.chat(r, ctx());
  const chunks: ChatCompletionChunk[] = [];
  for await (const c of await p.stream(r, ctx())) chunks.push(c);
  assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: "assistant", content: "" });
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), full.choices[0]!.message.content);
  assert.ok(chunks.length > 4, "word-sized chunks");
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, "stop");
  assert.deepEqual(chunks.at(-1)!.choices, []);
  assert.deepEqual(chunks.at(-1)!.usage, full.usage);
});

test("sentence splitting handles abbreviations, initials, bullets and wrapped lines", () => {
  assert.deepEqual(
    splitSentences(
      "Dr. Smith met J. R. Doe at 3.30 p.m. on Monday. They talked, e.g. about Mr. Brown! Why?\n" +
        "- first bullet\n* second bullet. It has two sentences.\n1. numbered item\n\n" +
        "Name: Stratum\nVersion: 1\n" +
        "This long line of prose is wrapped by an editor at a fixed width so it\ncontinues on the next line.",
    ),
    [
      "Dr. Smith met J. R. Doe at 3.30 p.m. on Monday.",
      "They talked, e.g. about Mr. Brown!",
      "Why?",
      "first bullet",
      "second bullet.",
      "It has two sentences.",
      "numbered item",
      "Name: Stratum",
      "Version: 1",
      "This long line of prose is wrapped by an editor at a fixed width so it continues on the next line.",
    ],
  );
  assert.deepEqual(["capitals", "running", "run", "studies", "study", "boxes", "box", "completed", "complete"].map(stem), [
    "capital",
    "run",
    "run",
    "study",
    "study",
    "box",
    "box",
    "complet",
    "complet",
  ]);
});

test("100 KB of context is answered (the needle sentence is found)", async () => {
  const filler = [
    "The committee reviewed the annual budget and approved several minor changes.",
    "Weather in the region was mild, with occasional rain in the afternoons.",
    "Local schools reported steady enrolment across all grades this year.",
  ];
  let big = "";
  for (let i = 0; big.length < 100_000; i++) big += `${filler[i % 3]} Item ${i} was filed.\n`;
  big += "The secret launch code for project Nightingale is amber-42.\n";
  const r = await provider().chat(req([{ role: "system", content: big }, { role: "user", content: "What is the launch code for project Nightingale?" }]), ctx());
  assert.equal((r.stratum!.citations as Citation[])[0]!.text, "The secret launch code for project Nightingale is amber-42.");
});
