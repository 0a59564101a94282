// Each step runs inside a span `pipeline.step.<id>` made with the plain
// OpenTelemetry API; this file registers an in-memory exporter as the global
// tracer provider (its own process under node --test) to see them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { postJson, startTestServer, type TestServer } from "../../testing/harness.js";

const exporter = new InMemorySpanExporter();
let srv: TestServer;

before(async () => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  srv = await startTestServer({
    pipelines: [
      {
        name: "spanned",
        route: "extractive",
        steps: [
          { id: "search", type: "retrieve" },
          { id: "gate", type: "branch", when: [{ if: "retrieval.hits == 0", goto: "abstain" }] },
          { id: "kind", type: "classify", labels: ["a", "b"], keywords: { a: ["relay"] } },
          { id: "answer", type: "answer" },
        ],
      },
    ],
  });
  const r = await postJson(`${srv.url}/v1/collections/docs/documents`, { source: "relay.md", content: "# Relay\n\nThe relay listens on port 7443." }, { authorization: `Bearer ${srv.adminKey}` });
  assert.ok(r.status < 300, r.text);
});
after(() => srv.close());

test("every step taken has its span with type and outcome", async () => {
  exporter.reset();
  const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "spanned", messages: [{ role: "user", content: "Which port does the relay listen on?" }] }, { authorization: `Bearer ${srv.adminKey}` });
  assert.equal(r.status, 200, r.text);
  const spans = exporter.getFinishedSpans().filter((s) => s.name.startsWith("pipeline.step."));
  assert.deepEqual(spans.map((s) => s.name), ["pipeline.step.search", "pipeline.step.gate", "pipeline.step.kind", "pipeline.step.answer"]);
  const answer = spans.find((s) => s.name === "pipeline.step.answer")!;
  assert.equal(answer.attributes["stratum.step.type"], "answer");
  assert.equal(answer.attributes["stratum.step.outcome"], "ok");
  assert.equal((r.json as any).stratum.label, "a");
});
