// VersionedPipelines without HTTP: the version lands on the request span and in
// the answer; one build per content hash; and how outcomes count in a
// rollout's stats (guardrail blocks and client errors are not errors, a route
// failover and a server failure are).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { PipelineConfig } from "../config/schema.js";
import { StratumError } from "../core/errors.js";
import { openDatabase } from "../data/index.js";
import type { Served } from "../models/index.js";
import { createLogger } from "../ops/index.js";
import type { Pipeline, TurnContext } from "../pipelines/index.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from "../protocol/openai.js";
import { RegistryService, SqliteRegistryStore } from "../registry/index.js";
import { eventually } from "../testing/harness.js";
import { RolloutService, ShadowRunner, SqliteRolloutStore, VersionedPipelines } from "./index.js";

const exporter = new InMemorySpanExporter();
before(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});

type Behaviour = "ok" | "fallback" | "blocked" | "client" | "server" | "withheld";
let behaviour: Behaviour = "ok";

function completion(finish: "stop" | "content_filter" = "stop"): ChatCompletion {
  return { id: "c", object: "chat.completion", created: 0, model: "p", choices: [{ index: 0, message: { role: "assistant", content: "answer" }, finish_reason: finish, logprobs: null }] } as ChatCompletion;
}

function fakePipeline(cfg: PipelineConfig): Pipeline {
  return {
    name: cfg.name,
    async complete(): Promise<Served<ChatCompletion>> {
      if (behaviour === "blocked") throw new StratumError("GuardrailBlocked", "blocked", { code: "guardrail_blocked" });
      if (behaviour === "client") throw new StratumError("InvalidRequest", "bad", { param: "messages" });
      if (behaviour === "server") throw new StratumError("AllRoutesFailed", "all failed");
      const fellBack = behaviour === "fallback";
      return {
        result: completion(behaviour === "withheld" ? "content_filter" : "stop"),
        servedBy: fellBack ? "extractive" : cfg.route,
        deployment: "d",
        priceKey: undefined,
        attempts: fellBack ? [{ deployment: "x", alias: cfg.route, outcome: "UpstreamError", durationMs: 1 }, { deployment: "e", alias: "extractive", outcome: "success", durationMs: 1 }] : [{ deployment: "x", alias: cfg.route, outcome: "success", durationMs: 1 }],
        cache: "bypass",
      };
    },
    async stream(): Promise<Served<AsyncIterable<ChatCompletionChunk>>> {
      async function* chunks(): AsyncGenerator<ChatCompletionChunk> {
        yield { id: "c", object: "chat.completion.chunk", created: 0, model: "p", choices: [{ index: 0, delta: { content: "ans" }, finish_reason: null }] } as ChatCompletionChunk;
        yield { id: "c", object: "chat.completion.chunk", created: 0, model: "p", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] } as ChatCompletionChunk;
      }
      return { result: chunks(), servedBy: cfg.route, deployment: "d", priceKey: undefined, attempts: [], cache: "bypass" };
    },
  };
}

describe("VersionedPipelines", () => {
  test("version on the span and the answer, one build per hash, outcomes classified for the rollout", async () => {
    const db = openDatabase(":memory:");
    const registry = new RegistryService(new SqliteRegistryStore(db));
    const log = createLogger("silent");
    const rollouts = new RolloutService(registry, new SqliteRolloutStore(db), log);
    let builds = 0;
    const versioned = new VersionedPipelines({
      registry,
      rollouts,
      shadow: new ShadowRunner(rollouts, () => 0, log),
      build: (cfg) => (builds++, fakePipeline(cfg)),
      cost: () => 0,
      log,
    });
    await registry.seedPipelines([{ name: "p", route: "extractive" } as PipelineConfig]);
    await registry.addVersion("pipeline", "p", { spec: { route: "sim" }, createdBy: "t" });
    await versioned.start();
    assert.equal(versioned.has("p@2"), true);
    assert.equal(versioned.has("q"), false);
    const ctx: TurnContext = { tenant: "t", requestId: "r1", signal: new AbortController().signal, user: "u1" };
    const req = { model: "p", messages: [{ role: "user", content: "hi" }] } as ChatRequest;

    const tracer = trace.getTracer("test");
    // The trace context travels in the turn's context (explicitly, as the gateway passes it).
    const root = tracer.startSpan("gateway.request");
    const traced: TurnContext = { ...ctx, trace: trace.setSpan(ROOT_CONTEXT, root) };
    const served = await (await versioned.resolve("p", traced))!.complete(req, traced);
    root.end();
    assert.equal(served.result.stratum?.pipeline_version, 1);
    const span = exporter.getFinishedSpans().find((s) => s.name === "gateway.request")!;
    assert.equal(span.attributes["stratum.pipeline.version"], 1);

    const streamed = await (await versioned.resolve("p@2", ctx))!.stream(req, ctx);
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of streamed.result) chunks.push(c);
    assert.equal(chunks.at(-1)!.stratum?.pipeline_version, 2);
    await versioned.resolve("p@2", ctx);
    assert.equal(builds, 2, "one build per version hash, reused afterwards");

    // A canary at 100% sends everyone to v2; each behaviour is one sample.
    const r = await rollouts.start({ pipeline: "p", strategy: "canary", toVersion: 2, steps: [100], hold: { requests: 1_000 }, createdBy: "t" });
    const outcomes: Behaviour[] = ["ok", "fallback", "blocked", "client", "server", "withheld"];
    for (const b of outcomes) {
      behaviour = b;
      const p = await versioned.resolve("p", { ...ctx, requestId: `r-${b}` });
      await p!.complete(req, ctx).catch(() => undefined);
    }
    // Samples are written after the response (setImmediate): wait until all six are in.
    const stats = await eventually(async () => {
      const s = await rollouts.store.stats(r.id, "candidate");
      return s.requests === 6 ? s : undefined;
    }, 5_000, "six samples");
    assert.equal(stats!.errors, 2, "the failover and the server failure");
    assert.equal(stats!.guardrail_blocks, 2, "the refused input and the withheld answer");
    await assert.rejects(versioned.resolve("p@7", ctx), (e) => e instanceof StratumError && e.kind === "NotFound" && e.param === "model");
  });
});

describe("online-eval scores in a canary", () => {
  test("recordScore feeds the verdict: a candidate scoring worse is rolled back, with the scores in the log", async () => {
    const db = openDatabase(":memory:");
    const registry = new RegistryService(new SqliteRegistryStore(db));
    const rollouts = new RolloutService(registry, new SqliteRolloutStore(db), createLogger("silent"));
    await registry.seedPipelines([{ name: "p", route: "extractive" } as PipelineConfig]);
    await registry.addVersion("pipeline", "p", { spec: { route: "sim" }, createdBy: "t" });
    const r = await rollouts.start({ pipeline: "p", strategy: "canary", toVersion: 2, steps: [50], hold: { requests: 3 }, thresholds: { minRequests: 3 }, createdBy: "t" });
    for (let i = 0; i < 3; i++) {
      await rollouts.recordScore("p", 1, "groundedness", 0.9);
      await rollouts.recordScore("p@2", 2, "groundedness", 0.6);
      await rollouts.recordScore("p", 5, "groundedness", 0); // neither side: ignored
      await rollouts.observe(r, { side: "baseline", latencyMs: 10, error: false, blocked: false });
    }
    for (let i = 0; i < 3; i++) await rollouts.observe((await rollouts.get(r.id))!, { side: "candidate", latencyMs: 10, error: false, blocked: false });
    const done = (await rollouts.get(r.id))!;
    assert.equal(done.status, "rolled_back");
    const decision = done.log.at(-1)!;
    assert.equal(decision.event, "auto_rollback");
    assert.match(decision.message, /eval groundedness 0.6 vs 0.9/);
    assert.deepEqual(decision.numbers.eval_deltas, { groundedness: -0.3 });
    assert.deepEqual((await rollouts.store.stats(r.id, "baseline")).eval, { groundedness: 0.9 });
  });
});
