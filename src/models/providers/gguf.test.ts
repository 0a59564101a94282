// The gguf provider end to end: a real (tiny, random-weight) GGUF model run by
// llama.cpp through node-llama-cpp, behind Stratum, called over real HTTP with
// the official `openai` SDK. node-llama-cpp is an optional package: .ci/run
// installs it; where it is absent the end-to-end suite is skipped and says so.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, GgufProviderSchema, parseConfig } from "../../config/index.js";
import { startTestServer, type TestServer } from "../../testing/harness.js";
import { writeTinyGguf } from "../../testing/tiny-gguf.js";
import { createProviders } from "./registry.js";
import { createGgufProvider } from "./gguf.js";

const dir = mkdtempSync(join(tmpdir(), "stratum-gguf-"));
const modelPath = writeTinyGguf(join(dir, "tiny.gguf"));
const installed = (() => {
  try {
    import.meta.resolve("node-llama-cpp");
    return true;
  } catch {
    return false;
  }
})();

describe("gguf provider: configuration", () => {
  test("a missing model file fails at start, naming the field", () => {
    const cfg = parseConfig({ providers: { local: { type: "gguf", modelPath: join(dir, "nope.gguf") } } });
    assert.throws(
      () => createProviders(cfg.providers),
      (e: unknown) => e instanceof ConfigError && /providers\.local\.modelPath: no file at .*nope\.gguf/.test(e.message),
    );
  });

  test("a file that is not a GGUF model fails at start, saying why", () => {
    const junk = join(dir, "junk.gguf");
    writeFileSync(junk, "GGUF, or so it says");
    const cfg = parseConfig({ providers: { local: { type: "gguf", modelPath: junk } } });
    assert.throws(() => createProviders(cfg.providers), (e: unknown) => e instanceof ConfigError && /providers\.local\.modelPath: .*junk\.gguf has GGUF version/.test(e.message));
    writeFileSync(junk, "<html>not found</html>");
    assert.throws(() => createProviders(cfg.providers), /does not start with GGUF/);
  });

  test("without node-llama-cpp the provider says how to install it", () => {
    const cfg = GgufProviderSchema.parse({ type: "gguf", modelPath });
    assert.throws(
      () => createGgufProvider("local", cfg, () => false),
      (e: unknown) => e instanceof ConfigError && /optional package node-llama-cpp/.test(e.message) && /npm i node-llama-cpp/.test(e.message),
    );
  });

  test("the schema refuses bad values with the field's name", () => {
    assert.throws(() => parseConfig({ providers: { local: { type: "gguf", modelPath, parallel: 0 } } }), /providers\.local\.parallel/);
    assert.throws(() => parseConfig({ providers: { local: { type: "gguf" } } }), /providers\.local\.modelPath/);
    assert.throws(() => parseConfig({ providers: { local: { type: "gguf", modelPath, gpu: "tpu" } } }), /providers\.local\.gpu/);
  });
});

describe("gguf provider: a real GGUF model through Stratum", { skip: installed ? false : "node-llama-cpp is not installed (npm i node-llama-cpp; .ci/run installs it)" }, () => {
  let srv: TestServer;
  before(async () => {
    // A download cut short: a valid header, tensors past the end of the file.
    const corrupt = join(dir, "corrupt.gguf");
    const whole = readFileSync(modelPath);
    writeFileSync(corrupt, whole.subarray(0, Math.floor(whole.length * 0.8)));
    srv = await startTestServer({
      providers: {
        local: { type: "gguf", modelPath, gpu: false, contextSize: 1024, parallel: 2 },
        solo: { type: "gguf", modelPath, gpu: false, threads: 1, contextSize: 512, parallel: 1 },
        broken: { type: "gguf", modelPath: corrupt, gpu: false },
      },
      models: [
        { name: "tiny", deployments: [{ provider: "local" }], extractiveFallback: false, embeddings: true },
        { name: "tiny-solo", deployments: [{ provider: "solo" }], extractiveFallback: false },
        { name: "broken", deployments: [{ provider: "broken" }], extractiveFallback: false },
        { name: "broken-with-fallback", deployments: [{ provider: "broken" }] },
      ],
      cache: { enabled: false },
    });
  });
  after(async () => {
    await srv?.close();
  });

  test("a completion: the model's text, finish_reason length at max_tokens, llama.cpp's token counts", async () => {
    const res = await srv.client().chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Say something" }], max_tokens: 6, temperature: 0 });
    assert.equal(res.choices[0]!.message.role, "assistant");
    assert.ok(res.choices[0]!.message.content!.length > 0);
    assert.equal(res.choices[0]!.finish_reason, "length");
    assert.equal(res.usage!.completion_tokens, 6);
    assert.ok(res.usage!.prompt_tokens > 3, `prompt tokens ${res.usage!.prompt_tokens}`);
    assert.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + 6);
  });

  test("streaming: role first, text deltas, a usage chunk, the same text as the whole answer at temperature 0", async () => {
    const messages = [{ role: "system" as const, content: "Be brief." }, { role: "user" as const, content: "Tell me about the model" }];
    const whole = await srv.client().chat.completions.create({ model: "tiny", messages, max_tokens: 10, temperature: 0 });
    const stream = await srv.client().chat.completions.create({ model: "tiny", messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let first: string | undefined;
    let deltas = 0;
    let usage;
    let finish;
    for await (const c of stream) {
      first ??= c.choices[0]?.delta.role;
      const piece = c.choices[0]?.delta.content;
      if (piece) {
        text += piece;
        deltas++;
      }
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    assert.equal(first, "assistant");
    assert.ok(deltas >= 2, `${deltas} deltas`);
    assert.equal(text, whole.choices[0]!.message.content);
    assert.equal(finish, "length");
    assert.deepEqual(usage, whole.usage);
  });

  test("a stop sequence ends the answer before it, with finish_reason stop", async () => {
    const messages = [{ role: "user" as const, content: "Write a few words" }];
    const free = (await srv.client().chat.completions.create({ model: "tiny", messages, max_tokens: 24, temperature: 0 })).choices[0]!.message.content!;
    // A stop string from the middle of the free answer: the stopped answer is what came before it.
    const stop = free.slice(Math.floor(free.length / 2), Math.floor(free.length / 2) + 2);
    const cut = free.indexOf(stop);
    const res = await srv.client().chat.completions.create({ model: "tiny", messages, max_tokens: 24, temperature: 0, stop: [stop] });
    assert.equal(res.choices[0]!.message.content, free.slice(0, cut));
    assert.equal(res.choices[0]!.finish_reason, "stop");
  });

  test("more requests than sequences wait their turn; all are answered", async () => {
    const ask = (i: number) => srv.client().chat.completions.create({ model: "tiny-solo", messages: [{ role: "user", content: `question ${i}` }], max_tokens: 5 });
    const all = await Promise.all([0, 1, 2, 3].map(ask));
    for (const r of all) assert.equal(r.usage!.completion_tokens, 5);
  });

  test("a client that leaves mid-stream frees its sequence: the next request on a one-sequence provider is answered", async () => {
    const ac = new AbortController();
    const stream = await srv.client().chat.completions.create(
      { model: "tiny-solo", messages: [{ role: "user", content: "go on for a long time" }], max_tokens: 400, stream: true },
      { signal: ac.signal },
    );
    let seen = 0;
    try {
      for await (const c of stream) {
        if (c.choices[0]?.delta.content && ++seen === 2) ac.abort();
      }
    } catch {
      // the SDK may end the loop quietly or throw an abort error: either way the client has left
    }
    assert.equal(seen, 2);
    const next = await srv.client().chat.completions.create({ model: "tiny-solo", messages: [{ role: "user", content: "and now?" }], max_tokens: 3 });
    assert.equal(next.usage!.completion_tokens, 3);
  });

  test("a prompt longer than the context is a 400 context_length_exceeded, and the provider keeps serving", async () => {
    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
    await assert.rejects(
      srv.client().chat.completions.create({ model: "tiny-solo", messages: [{ role: "user", content: long }], max_tokens: 5 }),
      (e: { status?: number; code?: string }) => e.status === 400 && e.code === "context_length_exceeded",
    );
    const ok = await srv.client().chat.completions.create({ model: "tiny-solo", messages: [{ role: "user", content: "short" }], max_tokens: 2 });
    assert.equal(ok.usage!.completion_tokens, 2);
  });

  test("tools are refused with a 400 naming the parameter", async () => {
    const tools = [{ type: "function" as const, function: { name: "lookup", parameters: { type: "object", properties: {} } } }];
    await assert.rejects(
      srv.client().chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }], tools }),
      (e: { status?: number; code?: string; param?: string }) => e.status === 400 && e.code === "unsupported_parameter" && e.param === "tools",
    );
  });

  test("json_schema: a grammar holds even a random-weight model to the schema, streamed or not", async () => {
    const schema = {
      type: "object",
      properties: {
        ok: { type: "boolean" },
        color: { enum: ["red", "green", "blue"] },
        sizes: { type: "array", items: { enum: ["s", "m", "l"] }, maxItems: 3 },
      },
      required: ["ok", "color", "sizes"],
      additionalProperties: false,
    };
    const response_format = { type: "json_schema" as const, json_schema: { name: "pick", schema, strict: true } };
    const check = (text: string) => {
      const v = JSON.parse(text) as { ok: unknown; color: unknown; sizes: unknown[] };
      assert.deepEqual(Object.keys(v).sort(), ["color", "ok", "sizes"], text);
      assert.equal(typeof v.ok, "boolean");
      assert.ok(["red", "green", "blue"].includes(v.color as string), text);
      assert.ok(Array.isArray(v.sizes) && v.sizes.length <= 3 && v.sizes.every((x) => ["s", "m", "l"].includes(x as string)), text);
    };
    for (const temperature of [0, 1]) {
      const res = await srv.client().chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Pick a color" }], response_format, temperature, max_tokens: 200, seed: 7 });
      assert.equal(res.choices[0]!.finish_reason, "stop");
      check(res.choices[0]!.message.content!);
    }
    const stream = await srv.client().chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Pick again" }], response_format, max_tokens: 200, stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    check(text);
  });

  test("json_object: the answer is JSON from its first character; a schema llama.cpp cannot compile is a 400", async () => {
    // Unconstrained, random weights never start with "{"; any JSON may run to max_tokens, so only its start is certain.
    const plain = await srv.client().chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Some JSON please" }], max_tokens: 8, temperature: 0 });
    assert.notEqual(plain.choices[0]!.message.content!.trimStart()[0], "{", "the check below would prove nothing");
    const stream = await srv.client().chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Some JSON please" }], response_format: { type: "json_object" }, max_tokens: 8, temperature: 0, stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    assert.equal(text.trimStart()[0], "{", JSON.stringify(text));
    const loop = { $defs: { a: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a" };
    await assert.rejects(
      srv.client().chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }], response_format: { type: "json_schema", json_schema: { name: "loop", schema: loop } }, stream: true }),
      (e: { status?: number; param?: string; message?: string }) => e.status === 400 && (e.param ?? "").startsWith("response_format"),
    );
    const after = await srv.client().chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "still there?" }], max_tokens: 2 });
    assert.equal(after.choices[0]!.finish_reason, "length", "the provider keeps serving");
  });

  test("embeddings: one unit vector per input, the same for the same text, base64 alike, usage in tokens", async () => {
    const res = await srv.client().embeddings.create({ model: "tiny", input: ["the cat sat", "a model of the sky", "the cat sat"] });
    assert.equal(res.data.length, 3);
    const [a, b, c] = res.data.map((d) => d.embedding);
    assert.equal(a!.length, 32); // the tiny model's embedding width
    assert.ok(Math.abs(Math.hypot(...a!) - 1) < 1e-5);
    assert.deepEqual(a, c);
    assert.notDeepEqual(a, b);
    assert.ok(res.usage.prompt_tokens >= 6, `${res.usage.prompt_tokens} tokens`);
    const b64 = await srv.client().embeddings.create({ model: "tiny", input: "the cat sat", encoding_format: "base64" });
    const raw = Buffer.from(b64.data[0]!.embedding as unknown as string, "base64");
    const floats = Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(i * 4));
    floats.forEach((x, i) => assert.ok(Math.abs(x - a![i]!) < 1e-6));
    await assert.rejects(
      srv.client().embeddings.create({ model: "tiny", input: "x", dimensions: 8 }),
      (e: { status?: number; param?: string }) => e.status === 400 && e.param === "dimensions",
    );
  });

  test("a model file llama.cpp cannot load: a 5xx naming it, or the extractive fallback where the chain has one", async () => {
    await assert.rejects(
      srv.client().chat.completions.create({ model: "broken", messages: [{ role: "user", content: "hi" }] }),
      (e: { status?: number; message?: string }) => (e.status ?? 0) >= 500 && /corrupt\.gguf did not load/.test(e.message ?? ""),
    );
    const res = await srv.client().chat.completions.create({ model: "broken-with-fallback", messages: [{ role: "user", content: "The sky is blue. What colour is the sky?" }] }).withResponse();
    assert.equal(res.response.headers.get("x-stratum-model"), "extractive");
    assert.ok(res.data.choices[0]!.message.content!.length > 0);
  });
});
