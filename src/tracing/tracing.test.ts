// Tracing over real HTTP: a request through fallback shows every attempt, a
// pipeline request shows its stages and guardrail events, list filters and
// paging, tenant isolation, feedback, OTLP export to a local collector,
// retention, online evaluation, and streams.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { postJson, simProvider, startSim, startTestServer, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";
import type { OnlineScore } from "./index.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const TRACE_ID = /^[0-9a-f]{32}$/;

async function getJson(url: string, key: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}

function find(node: Json, name: string): Json[] {
  const out: Json[] = [];
  const walk = (n: Json) => {
    if (n.name === name) out.push(n);
    n.children.forEach(walk);
  };
  walk(node);
  return out;
}

describe("tracing", () => {
  let bad: SimUpstream;
  let good: SimUpstream;
  let srv: TestServer;
  let userKey: string;
  let otherKey: string;
  const scores: OnlineScore[] = [];
  const auth = () => ({ authorization: `Bearer ${srv.adminKey}` });
  const flush = () => srv.stratum.tracing!.flush();
  const trace = async (id: string, key = srv.adminKey) => getJson(`${srv.url}/v1/traces/${id}`, key);

  before(async () => {
    bad = await startSim({ errorRate: 1 });
    good = await startSim();
    srv = await startTestServer({
      providers: { bad: simProvider(bad), good: simProvider(good) },
      models: [
        { name: "primary", deployments: [{ provider: "bad", model: "m" }], fallbacks: ["backup"], extractiveFallback: false },
        { name: "backup", deployments: [{ provider: "good", model: "m" }], extractiveFallback: false },
        { name: "broken", deployments: [{ provider: "bad", model: "m" }], extractiveFallback: false },
      ],
      router: { retry: { maxAttempts: 2, baseMs: 1, capMs: 2 } },
      pricing: { m: { input: 2, output: 8 } },
      cache: { enabled: false },
      pipelines: [
        {
          name: "assistant",
          collection: "docs",
          route: "extractive",
          guardrails: { input: { pii: { action: "redact" } }, output: { grounding: { threshold: 0.1, action: "flag" } } },
        },
        { name: "stepped", collection: "docs", route: "extractive", steps: [{ id: "search", type: "retrieve" }, { id: "answer", type: "answer" }] },
      ],
      tracing: { onlineEval: { sampleRate: 1 } },
    });
    srv.stratum.onlineEval!.onScore((s) => scores.push(s));
    userKey = await srv.createKey({ tenant: "acme" });
    otherKey = await srv.createKey({ tenant: "globex" });
    for (const key of [srv.adminKey, userKey]) {
      const r = await postJson(`${srv.url}/v1/collections/docs/documents`, { source: "relay.md", content: "# Relay\n\nThe relay listens on port 7443. The relay forwards traffic to the backend pool." }, { authorization: `Bearer ${key}` });
      assert.ok(r.status < 300, r.text);
    }
  });
  after(async () => {
    await srv.close();
    await Promise.all([bad.close(), good.close()]);
  });

  test("a request through fallback: the trace tree holds every attempt with its outcome, tokens and cost", async () => {
    const { data, response } = await srv.client().chat.completions.create({ model: "primary", messages: [{ role: "user", content: "hello there" }] }).withResponse();
    assert.ok(data.choices[0]?.message.content);
    const id = response.headers.get("x-stratum-trace-id")!;
    assert.match(id, TRACE_ID);
    await flush();
    const { status, body: t } = await trace(id);
    assert.equal(status, 200);
    assert.equal(t.trace_id, id);
    assert.equal(t.name, "gateway.request");
    assert.equal(t.status, "ok");
    assert.equal(t.http_status, 200);
    assert.equal(t.model, "primary");
    assert.ok(t.tokens_in > 0 && t.tokens_out > 0, JSON.stringify(t));
    assert.ok(t.cost_usd > 0);
    assert.equal(t.root.name, "gateway.request");
    const call = find(t.root, "model.call");
    assert.equal(call.length, 1);
    assert.equal(call[0].attributes["stratum.fallback"], true);
    const attempts = call[0].children.filter((c: Json) => c.name === "model.attempt");
    assert.deepEqual(
      attempts.map((a: Json) => [a.attributes["stratum.deployment"], a.attributes["stratum.outcome"], a.status]),
      [
        ["primary/bad:m", "UpstreamError", "error"],
        ["primary/bad:m", "UpstreamError", "error"],
        ["backup/good:m", "success", "unset"],
      ],
    );
    assert.equal(attempts[0].attributes["stratum.provider"], "bad");
    assert.equal(attempts[0].attributes["stratum.status"], 500);
    assert.equal(t.spans.length, t.span_count);
  });

  test("a pipeline request: stage spans, guardrail events, the trace id in stratum.trace_id; online eval scores land on the trace", async () => {
    scores.length = 0;
    const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "assistant", messages: [{ role: "user", content: "Which port does the relay listen on? Mail me at jane@example.com" }] }, auth());
    assert.equal(r.status, 200, r.text);
    const id = r.headers.get("x-stratum-trace-id")!;
    assert.match(id, TRACE_ID);
    assert.equal((r.json as Json).stratum.trace_id, id);
    assert.ok((r.json as Json).stratum.guardrails.some((d: Json) => d.guardrail === "pii" && d.action === "redact"));
    await srv.stratum.onlineEval!.idle();
    await flush();
    const { body: t } = await trace(id);
    assert.equal(t.pipeline, "assistant");
    assert.equal(t.pipeline_version, (r.json as Json).stratum.pipeline_version);
    const names = t.spans.map((s: Json) => s.name);
    for (const n of ["pipeline.input", "pipeline.guardrails", "pipeline.retrieval", "pipeline.prompt", "pipeline.answer", "pipeline.grounding", "pipeline.output", "model.call", "model.attempt"]) assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
    const retrieval = find(t.root, "pipeline.retrieval")[0];
    assert.ok(retrieval.attributes["stratum.retrieval.hits"] >= 1);
    assert.equal(typeof retrieval.attributes["stratum.retrieval.confidence"], "number");
    const guard = find(t.root, "pipeline.guardrails")[0];
    const event = guard.events.find((e: Json) => e.name === "guardrail.pii");
    assert.ok(event, JSON.stringify(guard.events));
    assert.equal(event.attributes["stratum.guardrail.action"], "redact");
    assert.equal(typeof find(t.root, "pipeline.grounding")[0].attributes["stratum.grounding.score"], "number");
    // The answer's model call nests under the answer stage.
    assert.equal(find(find(t.root, "pipeline.answer")[0], "model.call").length, 1);
    // Online evaluation (sampleRate 1): scores on the trace, to the listener and the metric.
    assert.equal(t.scores.abstained, 0);
    assert.ok(t.scores.citations >= 1);
    assert.ok(t.scores.answer_length > 0);
    assert.equal(typeof t.scores.groundedness, "number");
    assert.ok(scores.some((s) => s.traceId === id && s.pipeline === "assistant" && s.metric === "citations" && s.tenant === "default"));
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    // The version label is the served pipeline version (stratum.pipeline_version) when the registry served it.
    const version = (r.json as Json).stratum.pipeline_version;
    assert.equal(scores.find((s) => s.traceId === id)?.version, version);
    assert.match(metrics, new RegExp(`stratum_online_eval_score_count\\{pipeline="assistant",version="${version ?? ""}",metric="citations"\\} [1-9]`));
    assert.match(metrics, /stratum_grounding_score_count\{pipeline="assistant"\} [1-9]/);
    assert.match(metrics, /stratum_pipeline_answers_total\{pipeline="assistant"\} [1-9]/);
    assert.match(metrics, /stratum_request_cost_usd_count\{model="assistant"\} [1-9]/);
  });

  test("a refused question counts as an abstention and scores abstained = 1", async () => {
    const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "assistant", messages: [{ role: "user", content: "What is the capital of Mongolia?" }] }, auth());
    assert.equal(r.status, 200, r.text);
    await srv.stratum.onlineEval!.idle();
    await flush();
    const { body: t } = await trace(r.headers.get("x-stratum-trace-id")!);
    assert.equal(t.scores.abstained, 1);
    assert.equal(t.scores.groundedness, undefined, "nothing was claimed");
    assert.match(await (await fetch(`${srv.url}/metrics`)).text(), /stratum_pipeline_abstentions_total\{pipeline="assistant",reason="not_in_documents"\} [1-9]/);
  });

  test("streams get a trace that ends with the stream; a pipeline stream names it in the final chunk", async () => {
    const { data: stream, response } = await srv.client().chat.completions.create({ model: "backup", stream: true, messages: [{ role: "user", content: "stream please" }] }).withResponse();
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    assert.ok(text);
    const id = response.headers.get("x-stratum-trace-id")!;
    assert.match(id, TRACE_ID);
    await flush();
    const { body: t } = await trace(id);
    assert.equal(t.http_status, 200);
    assert.ok(t.tokens_out > 0);
    assert.equal(find(t.root, "model.attempt")[0].attributes["stratum.outcome"], "success");
    assert.equal(t.root.attributes["stratum.stream"], true);

    const piped = await srv.client().chat.completions.create({ model: "assistant", stream: true, messages: [{ role: "user", content: "Which port does the relay listen on?" }] }).withResponse();
    let ext: Json;
    for await (const c of piped.data) if ((c as Json).stratum) ext = (c as Json).stratum;
    const pid = piped.response.headers.get("x-stratum-trace-id")!;
    assert.equal(ext.trace_id, pid);
    await srv.stratum.onlineEval!.idle();
    await flush();
    const { body: pt } = await trace(pid);
    assert.ok(pt.spans.some((s: Json) => s.name === "pipeline.retrieval"));
    assert.ok(pt.scores.citations >= 1, JSON.stringify(pt.scores));
  });

  test("a step pipeline's trace names the pipeline and holds its step spans; list filters by pipeline", async () => {
    const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "stepped", messages: [{ role: "user", content: "Which port does the relay listen on?" }] }, auth());
    assert.equal(r.status, 200, r.text);
    const id = r.headers.get("x-stratum-trace-id")!;
    assert.equal((r.json as Json).stratum.trace_id, id);
    await flush();
    const { body: t } = await trace(id);
    assert.equal(t.pipeline, "stepped");
    assert.deepEqual(t.spans.filter((s: Json) => s.name.startsWith("pipeline.step.")).map((s: Json) => s.name), ["pipeline.step.search", "pipeline.step.answer"]);
    const listed = (await getJson(`${srv.url}/v1/traces?pipeline=stepped`, srv.adminKey)).body.data;
    assert.deepEqual(listed.map((x: Json) => x.trace_id), [id]);
  });

  test("/v1/messages responses carry the trace id too", async () => {
    const r = await postJson(`${srv.url}/v1/messages`, { model: "backup", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }, { "x-api-key": srv.adminKey, "anthropic-version": "2023-06-01" });
    assert.equal(r.status, 200, r.text);
    const id = r.headers.get("x-stratum-trace-id")!;
    assert.match(id, TRACE_ID);
    await flush();
    const { body: t } = await trace(id);
    assert.equal(t.root.attributes["http.route"], "/v1/messages");
  });

  test("list: filters by model, status, session and time, newest first, with cursor paging", async () => {
    const t0 = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "backup", messages: [{ role: "user", content: `turn ${i}` }] }, { authorization: `Bearer ${userKey}`, "x-session-id": "sess-1" });
      assert.equal(r.status, 200, r.text);
      ids.push(r.headers.get("x-stratum-trace-id")!);
    }
    const failed = await postJson(`${srv.url}/v1/chat/completions`, { model: "broken", messages: [{ role: "user", content: "x" }] }, { authorization: `Bearer ${userKey}` });
    assert.equal(failed.status, 502);
    const failedId = failed.headers.get("x-stratum-trace-id")!;
    assert.match(failedId, TRACE_ID, "errors carry a trace id too");
    await flush();
    const list = async (q: string) => (await getJson(`${srv.url}/v1/traces?${q}`, userKey)).body as Json;

    const all = await list(`since=${t0}`);
    assert.equal(all.object, "list");
    assert.deepEqual(all.data.map((t: Json) => t.trace_id), [failedId, ...ids.reverse()]);
    assert.ok(all.data.every((t: Json) => t.tenant === "acme"));
    assert.deepEqual((await list(`since=${t0}&status=error`)).data.map((t: Json) => t.trace_id), [failedId]);
    assert.equal((await list(`since=${t0}&status=error`)).data[0].http_status, 502);
    assert.deepEqual((await list(`since=${t0}&model=broken`)).data.map((t: Json) => t.trace_id), [failedId]);
    assert.deepEqual((await list(`session=sess-1`)).data.map((t: Json) => t.trace_id), ids);
    assert.equal((await list(`since=${Date.now() + 60_000}`)).data.length, 0);
    assert.equal((await list(`until=${t0}`)).data.filter((t: Json) => ids.includes(t.trace_id)).length, 0);
    // Paging: 2 per page over the 4 traces of this test.
    const p1 = await list(`since=${t0}&limit=2`);
    assert.equal(p1.data.length, 2);
    assert.ok(p1.next_before);
    const p2 = await list(`since=${t0}&limit=2&before=${p1.next_before}`);
    assert.deepEqual([...p1.data, ...p2.data].map((t: Json) => t.trace_id), all.data.map((t: Json) => t.trace_id));
    assert.equal(p2.next_before, undefined);
    // Bad query values are a 400 naming the parameter.
    for (const [q, param] of [["status=maybe", "status"], ["limit=0", "limit"], ["since=yesterday", "since"], ["before=garbage", "before"]]) {
      const r = await getJson(`${srv.url}/v1/traces?${q}`, userKey);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error.param, param);
    }
  });

  test("tenant isolation: another tenant's traces are invisible (404), an admin may ask for them", async () => {
    const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "backup", messages: [{ role: "user", content: "mine" }] }, { authorization: `Bearer ${userKey}` });
    const id = r.headers.get("x-stratum-trace-id")!;
    await flush();
    assert.equal((await trace(id, userKey)).status, 200);
    const foreign = await trace(id, otherKey);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, "trace_not_found");
    assert.ok(!(await getJson(`${srv.url}/v1/traces`, otherKey)).body.data.some((t: Json) => t.trace_id === id));
    assert.equal((await getJson(`${srv.url}/v1/traces?tenant=acme`, otherKey)).status, 403);
    assert.ok((await getJson(`${srv.url}/v1/traces?tenant=acme`, srv.adminKey)).body.data.some((t: Json) => t.trace_id === id));
    assert.equal((await trace(id, srv.adminKey)).status, 200);
    const fb = await postJson(`${srv.url}/v1/traces/${id}/feedback`, { score: 1 }, { authorization: `Bearer ${otherKey}` });
    assert.equal(fb.status, 404);
    assert.equal((await trace("0".repeat(32), userKey)).status, 404);
    assert.equal((await trace("not-a-trace", userKey)).status, 404);
  });

  test("feedback attaches to a trace and shows in the list; bad feedback is a 400 naming the field", async () => {
    const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "backup", messages: [{ role: "user", content: "rate me" }] }, { authorization: `Bearer ${userKey}` });
    const id = r.headers.get("x-stratum-trace-id")!;
    await flush();
    const key = { authorization: `Bearer ${userKey}` };
    const created = await postJson(`${srv.url}/v1/traces/${id}/feedback`, { score: -0.5, comment: "too terse" }, key);
    assert.equal(created.status, 201, created.text);
    assert.deepEqual({ ...(created.json as Json), id: undefined, created_at: undefined }, { object: "trace.feedback", id: undefined, trace_id: id, score: -0.5, comment: "too terse", created_at: undefined });
    const listed = (await getJson(`${srv.url}/v1/traces?limit=50`, userKey)).body.data.find((t: Json) => t.trace_id === id);
    assert.deepEqual(listed.feedback, { score: -0.5, comment: "too terse" });
    const fbList = await getJson(`${srv.url}/v1/traces/${id}/feedback`, userKey);
    assert.deepEqual(fbList.body.data.map((f: Json) => f.score), [-0.5]);
    for (const [body, param] of [
      [{ score: 2 }, "score"],
      [{ score: -1.01 }, "score"],
      [{ score: "1" }, "score"],
      [{}, "score"],
      [{ score: 0, comment: "x".repeat(2001) }, "comment"],
      [{ score: 0, extra: true }, null],
    ] as const) {
      const bad = await postJson(`${srv.url}/v1/traces/${id}/feedback`, body, key);
      assert.equal(bad.status, 400, JSON.stringify(body));
      if (param) assert.equal((bad.json as Json).error.param, param);
    }
    assert.equal((await postJson(`${srv.url}/v1/traces/${id}/feedback`, "[1,2", key)).status, 400);
  });

  test("retention: a sweep deletes traces older than retentionDays", async () => {
    const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "backup", messages: [{ role: "user", content: "old soon" }] }, auth());
    const id = r.headers.get("x-stratum-trace-id")!;
    await flush();
    assert.equal((await trace(id)).status, 200);
    assert.equal(await srv.stratum.tracing!.sweep(Date.now() + 6 * 86_400_000), 0, "younger than 7 days: kept");
    assert.ok((await srv.stratum.tracing!.sweep(Date.now() + 8 * 86_400_000)) >= 1);
    assert.equal((await trace(id)).status, 404);
  });
});

describe("OTLP export and tracing off", () => {
  test("spans are exported over OTLP/HTTP to a configured collector, with service.name=stratum", async () => {
    const received: Json[] = [];
    const collector = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ url: req.url, headers: req.headers, body: JSON.parse(body) });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
    const sim = await startSim();
    process.env.STRATUM_TEST_OTLP_TOKEN = "otlp-secret";
    const srv = await startTestServer({
      providers: { sim: simProvider(sim) },
      models: [{ name: "m", deployments: [{ provider: "sim", model: "m" }] }],
      tracing: { otlp: { endpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`, headers: { authorization: "${STRATUM_TEST_OTLP_TOKEN}", "x-team": "ops" } } },
    });
    try {
      const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: "export me" }] }, { authorization: `Bearer ${srv.adminKey}` });
      const id = r.headers.get("x-stratum-trace-id")!;
      await srv.stratum.tracing!.flush();
      assert.ok(received.length >= 1);
      assert.equal(received[0].url, "/v1/traces");
      assert.equal(received[0].headers.authorization, "otlp-secret");
      assert.equal(received[0].headers["x-team"], "ops");
      const resourceSpans = received.flatMap((x) => x.body.resourceSpans);
      const service = resourceSpans[0].resource.attributes.find((a: Json) => a.key === "service.name");
      assert.equal(service.value.stringValue, "stratum");
      const spans = resourceSpans.flatMap((rs: Json) => rs.scopeSpans.flatMap((s: Json) => s.spans));
      const root = spans.find((s: Json) => s.name === "gateway.request");
      assert.ok(root, spans.map((s: Json) => s.name).join(", "));
      assert.equal(root.traceId, id);
      assert.ok(spans.some((s: Json) => s.name === "model.attempt" && s.traceId === id));
      // The local store has the same trace.
      assert.equal((await getJson(`${srv.url}/v1/traces/${id}`, srv.adminKey)).status, 200);
    } finally {
      await srv.close();
      await sim.close();
      collector.close();
    }
  });

  test("tracing.sampleRatio: a share of the requests is traced and stored, the rest carries no trace", async () => {
    const sim = await startSim();
    const srv = await startTestServer({ providers: { sim: simProvider(sim) }, models: [{ name: "m", deployments: [{ provider: "sim", model: "m" }] }], tracing: { sampleRatio: 0.5 }, cache: { enabled: false } });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: `sample ${i}` }] }, { authorization: `Bearer ${srv.adminKey}` });
        assert.equal(r.status, 200);
        const id = r.headers.get("x-stratum-trace-id");
        if (id) ids.push(id);
      }
      // Binomial(40, 0.5) falls outside 5..35 with probability ~1e-6.
      assert.ok(ids.length >= 5 && ids.length <= 35, `${ids.length} of 40 requests traced at sampleRatio 0.5`);
      await srv.stratum.tracing!.flush();
      for (const id of ids) assert.equal((await getJson(`${srv.url}/v1/traces/${id}`, srv.adminKey)).status, 200, `sampled trace ${id} is stored`);
      const listed = await getJson(`${srv.url}/v1/traces?limit=100`, srv.adminKey);
      assert.equal(listed.status, 200);
      assert.equal(listed.body.data.length, ids.length, "only the sampled requests are in the store");
    } finally {
      await srv.close();
      await sim.close();
    }
  });

  test("tracing.enabled: false — no trace header, and /v1/traces says tracing is off", async () => {
    const sim = await startSim();
    const srv = await startTestServer({ providers: { sim: simProvider(sim) }, models: [{ name: "m", deployments: [{ provider: "sim", model: "m" }] }], tracing: { enabled: false } });
    try {
      const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: "no trace" }] }, { authorization: `Bearer ${srv.adminKey}` });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-stratum-trace-id"), null);
      assert.equal((await getJson(`${srv.url}/v1/traces`, srv.adminKey)).status, 503);
    } finally {
      await srv.close();
      await sim.close();
    }
  });
});
