// The semantic cache over real HTTP (official `openai` SDK → Stratum →
// sim-upstream, whose embeddings are bags of hashed words: the same words give
// the same vector, shared words similar ones).
import { after, before, describe, test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { startSim, startTestServer, simProvider, type TestServer } from "../../testing/harness.js";
import type { SimUpstream } from "../../sim/server.js";

const MODEL = "gpt-test";

describe("semantic cache", () => {
  let sim: SimUpstream;
  let srv: TestServer;
  before(async () => {
    sim = await startSim({ outputTokens: 8 });
    srv = await startTestServer({
      providers: { up: simProvider(sim) },
      models: [{ name: MODEL, deployments: [{ provider: "up", model: "sim-model" }], embeddings: true }],
      cache: { enabled: true, semantic: { embeddingModel: MODEL, threshold: 0.9 } },
    });
  });
  after(async () => {
    await srv.close();
    await sim.close();
  });

  const ask = async (content: string, opts: { system?: string; key?: string; stream?: boolean; tools?: boolean } = {}) => {
    const messages = [...(opts.system ? [{ role: "system" as const, content: opts.system }] : []), { role: "user" as const, content }];
    const tools = opts.tools ? [{ type: "function" as const, function: { name: "lookup", parameters: { type: "object", properties: {} } } }] : undefined;
    const before = sim.stats().chat;
    if (opts.stream) {
      const r = await srv.client(opts.key).chat.completions.create({ model: MODEL, messages, stream: true, ...(tools ? { tools } : {}) }).withResponse();
      let text = "";
      for await (const c of r.data) text += c.choices[0]?.delta.content ?? "";
      return { text, cache: r.response.headers.get("x-stratum-cache"), upstreamCalls: sim.stats().chat - before };
    }
    const r = await srv.client(opts.key).chat.completions.create({ model: MODEL, messages, ...(tools ? { tools } : {}) }).withResponse();
    return { text: r.data.choices[0]!.message.content ?? "", cache: r.response.headers.get("x-stratum-cache"), upstreamCalls: sim.stats().chat - before, usage: r.data.usage };
  };

  test("a paraphrase of an answered question gets the same answer without calling the model", async () => {
    const first = await ask("What is the capital of France?");
    assert.equal(first.cache, "miss");
    assert.equal(first.upstreamCalls, 1);
    const embeddingsBefore = sim.stats().embeddings;
    const again = await ask("what IS the capital of france");
    assert.equal(again.cache, "semantic");
    assert.equal(again.upstreamCalls, 0);
    assert.equal(again.text, first.text);
    assert.deepEqual(again.usage, first.usage);
    assert.equal(sim.stats().embeddings, embeddingsBefore + 1, "one embedding call for the lookup");
    // The exact repeat is the exact cache's, with no embedding call.
    const exact = await ask("What is the capital of France?");
    assert.equal(exact.cache, "hit");
    assert.equal(sim.stats().embeddings, embeddingsBefore + 1);
  });

  test("a different question, system prompt or tenant is a miss", async () => {
    await ask("How tall is Mount Everest in metres?");
    const other = await ask("Which rivers flow through Vienna?");
    assert.equal(other.cache, "miss");
    assert.equal(other.upstreamCalls, 1);
    const system = await ask("how tall is mount everest in metres", { system: "Answer in feet." });
    assert.equal(system.cache, "miss");
    const key = await srv.createKey({ tenant: "another-tenant" });
    const tenant = await ask("how tall is Mount Everest in metres?", { key });
    assert.equal(tenant.cache, "miss");
    assert.equal(tenant.upstreamCalls, 1);
  });

  test("streams are filed when complete and replayed to paraphrases; requests with tools are never matched by meaning", async () => {
    const first = await ask("Name three primary colours", { stream: true });
    assert.equal(first.cache, "miss");
    const again = await ask("name three primary colours!", { stream: true });
    assert.equal(again.cache, "semantic");
    assert.equal(again.text, first.text);
    assert.equal(again.upstreamCalls, 0);
    await ask("Use lookup to find the weather", { tools: true });
    const tools = await ask("use lookup to find the weather", { tools: true });
    assert.equal(tools.cache, "miss");
    assert.equal(tools.upstreamCalls, 1);
  });
});

describe("semantic cache on SQLite (cache.store: sqlite)", () => {
  test("entries survive a restart: a paraphrase after it is still answered from the cache", async () => {
    const sim = await startSim({ outputTokens: 6 });
    const config = {
      providers: { up: simProvider(sim) },
      models: [{ name: MODEL, deployments: [{ provider: "up" }], embeddings: true }],
      cache: { store: "sqlite" as const, semantic: { embeddingModel: MODEL, threshold: 0.9 } },
    };
    const dataDir = mkdtempSync(join(tmpdir(), "stratum-semantic-"));
    const first = await startTestServer(config, { dataDir });
    let answer: string | null;
    try {
      answer = (await first.client().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Where is the Louvre?" }] })).choices[0]!.message.content;
    } finally {
      await first.close();
    }
    const second = await startTestServer(config, { dataDir });
    try {
      const before = sim.stats().chat;
      const r = await second.client().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "where is the louvre" }] }).withResponse();
      assert.equal(r.response.headers.get("x-stratum-cache"), "semantic");
      assert.equal(r.data.choices[0]!.message.content, answer);
      assert.equal(sim.stats().chat, before);
    } finally {
      await second.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("semantic cache misconfigured or failing", () => {
  test("an embedding model that is unknown or serves no embeddings fails at start, naming the field", async () => {
    await assert.rejects(startTestServer({ cache: { semantic: { embeddingModel: "nope" } } }), /cache\.semantic\.embeddingModel: "nope" is not a model alias that serves embeddings/);
    await assert.rejects(startTestServer({ cache: { semantic: { embeddingModel: "extractive" } } }), /cache\.semantic\.embeddingModel: "extractive"/);
  });

  test("an embedding model that is down: requests are answered, as misses", async () => {
    const sim = await startSim();
    const srv = await startTestServer({
      providers: { up: simProvider(sim), dead: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } },
      models: [
        { name: MODEL, deployments: [{ provider: "up" }] },
        { name: "embed-down", deployments: [{ provider: "dead" }], embeddings: true },
      ],
      cache: { semantic: { embeddingModel: "embed-down" } },
      router: { retry: { maxAttempts: 1 } },
    });
    try {
      for (const content of ["What is the capital of Peru?", "what is the capital of peru"]) {
        const r = await srv.client().chat.completions.create({ model: MODEL, messages: [{ role: "user", content }] }).withResponse();
        assert.ok(r.data.choices[0]!.message.content!.length > 0);
        assert.equal(r.response.headers.get("x-stratum-cache"), "miss");
      }
      assert.ok(srv.logs.some((l) => l.includes("response cache failed")), "the failure is logged");
    } finally {
      await srv.close();
      await sim.close();
    }
  });
});
