// Admin API (keys, usage), health/readiness, Prometheus metrics and
// structured logs (request ids, no secrets), over real HTTP.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eventually, postJson, simProvider, startSim, startTestServer, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const PROVIDER_SECRET = "sk-upstream-" + createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 24);
process.env.TEST_PROVIDER_KEY = PROVIDER_SECRET;

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** A tiny OpenAI-compatible upstream that records the headers it receives. */
async function startCaptureUpstream(): Promise<{ url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      seen.push(req.headers);
      const parsed = JSON.parse(body) as { model: string; messages: Array<{ content: string }> };
      if (parsed.messages[0]?.content === "fail") {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "upstream exploded", type: "server_error", code: null, param: null } }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "chatcmpl-capture",
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: parsed.model,
          choices: [{ index: 0, message: { role: "assistant", content: "captured" }, finish_reason: "stop", logprobs: null }],
          usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sample with this name whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

describe("admin API, health, metrics and logs", () => {
  let sim: SimUpstream;
  let capture: Awaited<ReturnType<typeof startCaptureUpstream>>;
  let srv: TestServer;
  const keysSeen: string[] = [];

  before(async () => {
    sim = await startSim();
    capture = await startCaptureUpstream();
    srv = await startTestServer({
      providers: {
        up: simProvider(sim),
        secret: { type: "openai", baseUrl: `${capture.url}/v1`, apiKey: "${TEST_PROVIDER_KEY}" },
      },
      models: [
        { name: "gpt-test", deployments: [{ provider: "up", model: "sim-model" }], extractiveFallback: false },
        { name: "gpt-secret", deployments: [{ provider: "secret", model: "capture-model" }], extractiveFallback: false },
      ],
      pricing: { "sim-model": { input: 3, output: 15 } },
    });
  });
  after(async () => {
    await srv.close();
    await capture.close();
    await sim.close();
    delete process.env.TEST_PROVIDER_KEY;
  });

  async function create(body: unknown, key = srv.adminKey) {
    const r = await postJson(`${srv.url}/admin/keys`, body, auth(key));
    if (r.status === 201) keysSeen.push(r.json.key);
    return r;
  }
  const get = async (path: string, key = srv.adminKey) => {
    const res = await fetch(`${srv.url}${path}`, { headers: auth(key) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Json };
  };
  const del = async (path: string, key = srv.adminKey) => {
    const res = await fetch(`${srv.url}${path}`, { method: "DELETE", headers: auth(key) });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const chat = (key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    postJson(`${srv.url}/v1/chat/completions`, body, { ...auth(key), ...headers });

  test("create returns the key once (201); listings never show the key or its hash", async () => {
    const r = await create({ tenant: "acme", name: "ci", limits: { requestsPerMinute: 100, dailyBudgetUsd: 5 } });
    assert.equal(r.status, 201, r.text);
    const key: string = r.json.key;
    assert.match(key, /^sk-stratum-[A-Za-z0-9_-]{20,}$/);
    assert.match(r.json.id, /^key_/);
    assert.equal(r.json.tenant, "acme");
    assert.equal(r.json.name, "ci");
    assert.equal(r.json.role, "user");
    assert.deepEqual(r.json.limits, { requestsPerMinute: 100, dailyBudgetUsd: 5 });
    assert.equal(r.json.revoked_at, null);
    assert.ok(key.startsWith(r.json.prefix), "prefix is the start of the key");
    assert.ok(r.json.prefix.length < key.length - 16, "the prefix is short");
    assert.equal(r.json.hash, undefined);

    const hash = createHash("sha256").update(key).digest("hex");
    const list = await get("/admin/keys?include_revoked=true");
    assert.equal(list.status, 200);
    assert.equal(list.json.object, "list");
    const mine = list.json.data.find((k: Json) => k.id === r.json.id);
    assert.ok(mine, "listed");
    assert.equal(mine.tenant, "acme");
    for (const k of list.json.data) {
      assert.equal(k.key, undefined);
      assert.equal(k.hash, undefined);
    }
    assert.ok(!list.text.includes(key), "the key is not in the listing");
    assert.ok(!list.text.includes(hash), "the hash is not in the listing");

    // The key works.
    assert.equal((await chat(key, { model: "gpt-test", messages: [{ role: "user", content: "hi" }] })).status, 200);
  });

  test("list filters by tenant", async () => {
    const a = await create({ tenant: "tenant-a" });
    const b = await create({ tenant: "tenant-b" });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    const onlyA = await get("/admin/keys?tenant=tenant-a");
    assert.equal(onlyA.status, 200);
    assert.ok(onlyA.json.data.length >= 1);
    assert.ok(onlyA.json.data.every((k: Json) => k.tenant === "tenant-a"));
    assert.ok(onlyA.json.data.some((k: Json) => k.id === a.json.id));
    assert.ok(!onlyA.json.data.some((k: Json) => k.id === b.json.id));
    const none = await get("/admin/keys?tenant=no-such-tenant");
    assert.deepEqual(none.json.data, []);
  });

  test("revoke: the key gets 401 at once (even though it was cached); unknown or repeated revoke is 404", async () => {
    const r = await create({ tenant: "revokes" });
    const body = { model: "gpt-test", messages: [{ role: "user", content: "hi" }] };
    assert.equal((await chat(r.json.key, body)).status, 200, "used once, so the key is cached");
    const d = await del(`/admin/keys/${r.json.id}`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.json, { id: r.json.id, revoked: true });
    const after = await chat(r.json.key, body);
    assert.equal(after.status, 401, after.text);
    assert.equal(after.json.error.code, "invalid_api_key");

    const again = await del(`/admin/keys/${r.json.id}`);
    assert.equal(again.status, 404);
    assert.equal(again.json.error.param, "id");
    assert.equal((await del("/admin/keys/key_doesnotexist")).status, 404);

    const active = await get("/admin/keys?tenant=revokes");
    assert.ok(!active.json.data.some((k: Json) => k.id === r.json.id), "revoked keys are hidden by default");
    const all = await get("/admin/keys?tenant=revokes&include_revoked=true");
    const listed = all.json.data.find((k: Json) => k.id === r.json.id);
    assert.ok(listed && typeof listed.revoked_at === "number");
  });

  test("a non-admin key gets 403 on /admin/*; no key gets 401; an admin key created via the API works", async () => {
    const user = (await create({ tenant: "plain" })).json;
    const expect403 = (r: { status: number; json: Json }) => {
      assert.equal(r.status, 403);
      assert.equal(r.json.error.type, "permission_error");
      assert.equal(r.json.error.code, "admin_required");
    };
    expect403(await get("/admin/keys", user.key));
    expect403(await get("/admin/usage", user.key));
    expect403(await postJson(`${srv.url}/admin/keys`, { tenant: "x", role: "admin" }, auth(user.key)));
    expect403(await del(`/admin/keys/${user.id}`, user.key));
    const anon = await fetch(`${srv.url}/admin/keys`);
    assert.equal(anon.status, 401);
    assert.equal(((await anon.json()) as Json).error.type, "authentication_error");
    // The user key still exists (its own delete attempt was refused).
    assert.ok((await get("/admin/keys?tenant=plain")).json.data.some((k: Json) => k.id === user.id));

    const admin = await create({ tenant: "ops", role: "admin" });
    assert.equal(admin.json.role, "admin");
    assert.equal((await get("/admin/keys", admin.json.key)).status, 200);
  });

  test("bad admin bodies are 400 naming the field", async () => {
    const cases: Array<[unknown, string | null]> = [
      [{}, "tenant"],
      [{ tenant: "" }, "tenant"],
      [{ tenant: "has spaces" }, "tenant"],
      [{ tenant: "x".repeat(65) }, "tenant"],
      [{ tenant: 5 }, "tenant"],
      [{ tenant: "ok", role: "root" }, "role"],
      [{ tenant: "ok", limits: { requestsPerMinute: -1 } }, "limits.requestsPerMinute"],
      [{ tenant: "ok", limits: { concurrent: 1.5 } }, "limits.concurrent"],
      [{ tenant: "ok", limits: { dailyBudgetUsd: "10" } }, "limits.dailyBudgetUsd"],
      [{ tenant: "ok", limits: { burst: 3 } }, "limits"],
      [{ tenant: "ok", hash: "abc" }, null],
      [[{ tenant: "ok" }], null],
    ];
    for (const [body, param] of cases) {
      const r = await create(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json.error.type, "invalid_request_error");
      assert.equal(r.json.error.param, param, `${JSON.stringify(body)}: ${r.text}`);
    }
    const badJson = await postJson(`${srv.url}/admin/keys`, "{tenant:", auth(srv.adminKey));
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.error.code, "invalid_json");
    for (const path of ["/admin/usage?since=yesterday-ish", "/admin/usage/hourly?since=1e999"]) {
      const since = await get(path);
      assert.equal(since.status, 400, path);
      assert.equal(since.json.error.param, "since");
    }
  });

  test("usage report per key and model, filterable by tenant", async () => {
    const k = (await create({ tenant: "usage-t" })).json;
    const sentAt = Date.now();
    const r = await chat(k.key, { model: "gpt-test", messages: [{ role: "user", content: "count me" }], max_tokens: 4 });
    assert.equal(r.status, 200);
    const row = await eventually(async () => (await get("/admin/usage?tenant=usage-t")).json.data.find((x: Json) => x.keyId === k.id), 3000, "usage row");
    assert.equal(row.model, "gpt-test");
    assert.equal(row.requests, 1);
    assert.equal(row.promptTokens, r.json.usage.prompt_tokens);
    assert.equal(row.completionTokens, 4);
    assert.ok(Math.abs(row.costUsd - (row.promptTokens * 3 + 4 * 15) / 1e6) < 1e-12);
    const other = await get("/admin/usage?tenant=someone-else");
    assert.ok(!other.json.data.some((x: Json) => x.keyId === k.id));
    // The same request in the tenant's hour, as the console's history chart reads it.
    const hourly = await get("/admin/usage/hourly?tenant=usage-t");
    assert.equal(hourly.status, 200);
    const hourOf = (t: number) => new Date(Math.floor(t / 3_600_000) * 3_600_000).toISOString();
    assert.ok(Date.parse(hourly.json.since) <= Date.now() - 7 * 86_400_000 + 1000, `the last 7 days by default: ${hourly.json.since}`);
    assert.equal(hourly.json.data.length, 1, JSON.stringify(hourly.json.data));
    const { hour, ...sums } = hourly.json.data[0];
    assert.ok([hourOf(sentAt), hourOf(Date.now())].includes(hour), hour);
    assert.deepEqual(sums, { requests: 1, promptTokens: row.promptTokens, completionTokens: 4, costUsd: row.costUsd });
    assert.deepEqual((await get("/admin/usage/hourly?tenant=someone-else")).json.data, []);
    assert.equal((await get("/admin/usage/hourly", (await create({ tenant: "usage-t" })).json.key)).status, 403, "admin only");
  });

  test("/healthz and /readyz are 200", async () => {
    const h = await fetch(`${srv.url}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: "ok" });
    const r = await fetch(`${srv.url}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: "ready" });
  });

  test("/metrics exposes request, latency, TTFT, token, cost, upstream, circuit, cache and rate-limit series after traffic", async () => {
    const k = (await create({ tenant: "metrics", limits: { requestsPerMinute: 4 } })).json;
    const body = { model: "gpt-test", messages: [{ role: "user", content: "metrics please" }], seed: 1 };
    const first = await chat(k.key, body);
    assert.equal(first.status, 200);
    const deployment = first.headers.get("x-stratum-deployment");
    assert.ok(deployment);
    assert.equal((await chat(k.key, body)).headers.get("x-stratum-cache"), "hit");
    const streamed = await chat(k.key, { ...body, messages: [{ role: "user", content: "stream metrics" }], stream: true });
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /\[DONE\]/);
    assert.equal((await chat(k.key, body)).status, 200);
    const limited = await chat(k.key, body);
    assert.equal(limited.status, 429);

    const route = "/v1/chat/completions";
    const samples = (await eventually(
      async () => {
        const res = await fetch(`${srv.url}/metrics`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
        const s = parseMetrics(await res.text());
        return find(s, "stratum_tokens_total", { model: "gpt-test", direction: "out" }) && find(s, "stratum_requests_total", { route, status: "429" }) ? s : undefined;
      },
      3000,
      "metrics after traffic",
    ))!;
    const req200 = find(samples, "stratum_requests_total", { route, model: "gpt-test", status: "200" });
    assert.ok(req200 && req200.value >= 4, "200s counted (streamed included)");
    assert.ok(find(samples, "stratum_requests_total", { route, model: "gpt-test", status: "429" })!.value >= 1);
    assert.ok(find(samples, "stratum_request_duration_seconds_bucket", { route, model: "gpt-test", status: "200", le: "+Inf" })!.value >= 4);
    assert.ok(find(samples, "stratum_request_duration_seconds_count", { route, model: "gpt-test", status: "200" })!.value >= 4);
    assert.ok(find(samples, "stratum_time_to_first_token_seconds_count", { model: "gpt-test" })!.value >= 1, "TTFT observed for the stream");
    assert.ok(find(samples, "stratum_time_to_first_token_seconds_bucket", { model: "gpt-test", le: "+Inf" }));
    assert.ok(find(samples, "stratum_tokens_total", { model: "gpt-test", direction: "in" })!.value > 0);
    assert.ok(find(samples, "stratum_tokens_total", { model: "gpt-test", direction: "out" })!.value > 0);
    assert.ok(find(samples, "stratum_cost_usd_total", { model: "gpt-test" })!.value > 0);
    assert.ok(find(samples, "stratum_upstream_attempts_total", { deployment, outcome: "success" })!.value >= 2);
    assert.equal(find(samples, "stratum_circuit_state", { deployment })!.value, 0);
    assert.ok(find(samples, "stratum_circuit_state", {}) !== undefined);
    assert.ok(find(samples, "stratum_cache_lookups_total", { result: "hit" })!.value >= 1);
    assert.ok(find(samples, "stratum_cache_lookups_total", { result: "miss" })!.value >= 1);
    assert.ok(find(samples, "stratum_rate_limit_rejections_total", { scope: "key", limit: "requests" })!.value >= 1);
    // Unknown models are not label values (bounded cardinality).
    await chat(k.key, { ...body, model: "attacker-controlled-" + Math.random() });
    const after = await (await fetch(`${srv.url}/metrics`)).text();
    assert.ok(!after.includes("attacker-controlled-"));
  });

  test("logs: one JSON line per request with reqId matching x-request-id; safe client ids are echoed", async () => {
    const body = { model: "gpt-test", messages: [{ role: "user", content: "log me" }] };
    const r = await chat(srv.adminKey, body);
    const id = r.headers.get("x-request-id");
    assert.match(id ?? "", /^[0-9a-f]{8}-[0-9a-z]+$/);
    const line = await eventually(() => srv.logs.map((l) => JSON.parse(l) as Json).find((l) => l.reqId === id && l.msg === "request"), 3000, "request log line");
    assert.equal(line.status, 200);
    assert.equal(line.route, "/v1/chat/completions");
    assert.equal(line.model, "gpt-test");
    assert.equal(typeof line.ms, "number");
    assert.equal(typeof line.keyId, "string");

    const mine = "trace-abc.123:xyz";
    const echoed = await chat(srv.adminKey, body, { "x-request-id": mine });
    assert.equal(echoed.headers.get("x-request-id"), mine);
    await eventually(() => srv.logs.some((l) => (JSON.parse(l) as Json).reqId === mine), 3000, "client id in logs");
    // Streams carry it too.
    const s = await chat(srv.adminKey, { ...body, stream: true }, { "x-request-id": "stream-id-1" });
    assert.equal(s.headers.get("x-request-id"), "stream-id-1");
    // Unsafe ids (log injection, oversized) are replaced.
    for (const unsafe of ["x".repeat(200), "a b", '"}{"level":60,"msg":"forged', "id;drop\ttable"]) {
      const u = await chat(srv.adminKey, body, { "x-request-id": unsafe });
      assert.equal(u.status, 200);
      assert.match(u.headers.get("x-request-id") ?? "", /^[0-9a-f]{8}-[0-9a-z]+$/);
    }
    assert.ok(!srv.logs.some((l) => l.includes("forged")));
    // Every line is a JSON object.
    for (const l of srv.logs) assert.equal(typeof JSON.parse(l), "object");
  });

  test("secrets: the upstream gets the provider key, and no log line contains it or any Stratum key", async () => {
    const r = await chat(srv.adminKey, { model: "gpt-secret", messages: [{ role: "user", content: "hello" }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, "captured");
    assert.ok(capture.seen.length >= 1);
    assert.equal(capture.seen.at(-1)!.authorization, `Bearer ${PROVIDER_SECRET}`);
    // The client's own key is never forwarded upstream.
    for (const h of capture.seen) assert.ok(!JSON.stringify(h).includes(srv.adminKey));

    // An upstream failure path and an auth failure with a real-looking key, to exercise error logging.
    const failed = await chat(srv.adminKey, { model: "gpt-secret", messages: [{ role: "user", content: "fail" }] });
    assert.ok(failed.status >= 500, failed.text);
    assert.ok(!failed.text.includes(PROVIDER_SECRET));
    await chat(srv.adminKey + "x", { model: "gpt-test", messages: [{ role: "user", content: "hi" }] });

    await eventually(() => srv.logs.some((l) => (JSON.parse(l) as Json).status === failed.status), 3000, "the failed request logged");
    const secrets = [PROVIDER_SECRET, srv.adminKey, ...keysSeen];
    assert.ok(keysSeen.length > 3);
    for (const line of srv.logs) {
      for (const s of secrets) assert.ok(!line.includes(s), `a log line leaks a secret: ${line.slice(0, 300)}`);
    }
    // Neither does the server's config when serialised.
    assert.ok(!JSON.stringify(srv.stratum.config).includes(PROVIDER_SECRET));
  });
});
