// shapeValidator must agree with zod on every body: a fuzzed corpus of valid
// requests and their mutations, for each schema a hot route validates with it.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { z } from "zod";
import { seededRandom } from "../core/seeded-random.js";
import { StratumError } from "../core/errors.js";
import { ChatRequestSchema, EmbeddingRequestSchema } from "../protocol/openai.js";
import { shapeValidator, validateBody } from "./validate.js";

const CHAT_BODIES = [
  { model: "m", messages: [{ role: "system", content: "s" }, { role: "user", content: "u" }], max_tokens: 16 },
  {
    model: "m",
    messages: [{ role: "user", content: [{ type: "text", text: "x" }, { type: "image_url", image_url: { url: "https://i", detail: "low" } }, { type: "input_audio" }] }],
    tools: [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object" }, strict: true } }],
    tool_choice: { type: "function", function: { name: "f" } },
    parallel_tool_calls: false,
  },
  {
    model: "m",
    messages: [
      { role: "assistant", content: null, tool_calls: [{ id: "1", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", content: "r", tool_call_id: "1" },
      { role: "developer", content: "d", name: "n" },
    ],
    stream: true,
    stream_options: { include_usage: true },
    stop: ["a", "b"],
    seed: 7,
    temperature: 0.2,
    top_p: 1,
    n: 1,
    user: "u",
    logit_bias: { "50256": -100 },
    metadata: { a: "b" },
    presence_penalty: 0,
    frequency_penalty: null,
    max_completion_tokens: 5,
    response_format: { type: "json_schema", json_schema: { name: "n", schema: { type: "object" }, strict: null } },
    unknown_field: { kept: true },
  },
];
const EMBEDDING_BODIES = [
  { model: "e", input: "text" },
  { model: "e", input: ["a", "b"], encoding_format: "float", dimensions: 8, user: "u" },
  { model: "e", input: [1, 2, 3] },
  { model: "e", input: [[1, 2], [3]] },
];

// Values a field may be replaced with: every JSON type, edge numbers, the strings the schemas care about.
const VALUES: unknown[] = [
  null, true, false, 0, 1, -1, 1.5, 2, 3, 2 ** 53, 2 ** 60, -(2 ** 60), 1e308, "", "x", "system", "user", "assistant", "tool",
  "developer", "function", "text", "image_url", "json_object", "json_schema", "auto", "none", "required", "float", "base64",
  "x".repeat(300), [], [1], ["a"], ["a", "b", "c", "d", "e"], [[1]], [{}], {}, { type: "text" }, { type: "function" }, { include_usage: "yes" },
];

type Json = unknown;
const clone = (v: Json): Json => JSON.parse(JSON.stringify(v)) as Json;

/** Every (container, key) pair in the value, the root's fields included. */
function slots(v: Json, out: Array<[Record<string, Json> | Json[], string | number]> = []): Array<[Record<string, Json> | Json[], string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), slots(x, out)));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) (out.push([v as Record<string, Json>, k]), slots(x, out));
  return out;
}

/** One or two changes: half of them to a top-level field the schema names (present or not), the rest anywhere. */
function mutate(body: Json, fields: readonly string[], rnd: () => number): Json {
  const b = clone(body) as Record<string, Json>;
  for (let n = 1 + Math.floor(rnd() * 2); n > 0; n--) {
    if (rnd() < 0.5) {
      b[fields[Math.floor(rnd() * fields.length)]!] = clone(VALUES[Math.floor(rnd() * VALUES.length)]);
      continue;
    }
    const all = slots(b);
    const [container, key] = all[Math.floor(rnd() * all.length)]!;
    const roll = rnd();
    const value = clone(VALUES[Math.floor(rnd() * VALUES.length)]);
    if (roll < 0.15 && !Array.isArray(container)) delete (container as Record<string, Json>)[key as string];
    else if (roll < 0.25 && !Array.isArray(container)) (container as Record<string, Json>)[`extra_${Math.floor(rnd() * 3)}`] = value;
    else (container as Record<string | number, Json>)[key] = value;
  }
  return b;
}

function verdict<S extends z.ZodType>(f: (b: unknown) => z.infer<S>, body: Json): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: f(body) };
  } catch (e) {
    assert.ok(e instanceof StratumError, `unexpected ${String(e)}`);
    return { ok: false, message: e.message };
  }
}

for (const [name, schema, bodies] of [
  ["chat completions", ChatRequestSchema, CHAT_BODIES],
  ["embeddings", EmbeddingRequestSchema, EMBEDDING_BODIES],
] as const) {
  test(`shapeValidator agrees with zod on ${name} bodies: valid ones, 10,000 mutations, and non-objects`, () => {
    const fast = shapeValidator(schema as z.ZodType);
    const zod = (b: unknown) => validateBody(schema as z.ZodType, b);
    const rnd = seededRandom(20261204);
    const corpus: Json[] = [...bodies, null, [], "text", 5];
    const fields = Object.keys(schema.shape);
    for (let i = 0; i < 10_000; i++) corpus.push(mutate(bodies[i % bodies.length], fields, rnd));
    let accepted = 0;
    for (const body of corpus) {
      const a = verdict(fast, body);
      const b = verdict(zod, body);
      assert.deepEqual(a, b, `verdicts differ for ${JSON.stringify(body)}`);
      if (a.ok) accepted++;
    }
    // The corpus exercises both sides.
    assert.ok(accepted > bodies.length + 100 && accepted < corpus.length - 500, `accepted ${accepted} of ${corpus.length}`);
  });
}

test("shapeValidator still refuses absurd nesting inside opaque fields", () => {
  let deep: Json = {};
  for (let i = 0; i < 200; i++) deep = { d: deep };
  const fast = shapeValidator(ChatRequestSchema);
  assert.throws(() => fast({ ...CHAT_BODIES[0], metadata: null, tools: [{ type: "function", function: { name: "f", parameters: deep } }] }), /nested too deeply/);
});
