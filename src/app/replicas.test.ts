// Scale-out for real: three `stratum serve` processes on different ports share
// one PostgreSQL schema and one Redis prefix. A client spread across them sees
// one global rate limit, one response cache, one session history and one
// queue of ingestion jobs; a replica killed mid-run loses no acknowledged write.
// Then a backend going away: readiness says which, and requests get a fast 503.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../testing/harness.js";
import { createTestSchema, postgresTestsEnabled, TEST_POSTGRES_URL, type PgTestSchema } from "../testing/postgres.js";
import { skipRedis, TEST_REDIS_URL, testRedisPrefix } from "../testing/redis.js";
import { spawnServer, type ServerProcess } from "../testing/server-process.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const ADMIN = "sk-stratum-replicas-admin-0123456789";

async function call(url: string, method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

function writeConfig(dir: string, pgUrlEnv: string, schema: string, redisPrefix: string, redisTimeoutMs = 2_000): string {
  const file = join(dir, "stratum.config.json");
  writeFileSync(
    file,
    JSON.stringify({
      storage: "postgres",
      postgres: { url: `\${${pgUrlEnv}}`, schema, maxConnections: 8 },
      cache: { store: "redis" },
      redis: { url: "${STRATUM_REPLICA_REDIS}", keyPrefix: redisPrefix, commandTimeoutMs: redisTimeoutMs },
      retrieval: { sampleCollection: false },
      server: { drainTimeoutMs: 2000 },
      // $1 a token on the built-in sim model, and a tenant whose daily budget one request uses up.
      pricing: { sim: { input: 1_000_000, output: 1_000_000 } },
      budgets: { tenants: { capped: { dailyUsd: 0.5 } } },
    }),
  );
  return file;
}

const enabled = postgresTestsEnabled && !skipRedis;

describe("replicas sharing PostgreSQL and Redis", { skip: !enabled && "STRATUM_SKIP_POSTGRES / STRATUM_SKIP_REDIS set" }, () => {
  let pg: PgTestSchema;
  let dir: string;
  const replicas: ServerProcess[] = [];
  before(async () => {
    pg = await createTestSchema({ migrate: false, prefix: "stratum_replicas" });
    dir = mkdtempSync(join(tmpdir(), "stratum-replicas-"));
    // Three servers beside the rest of the suite on two cores: a generous Redis timeout, so a slow
    // machine is not mistaken for a Redis outage (the outage tests below keep the 2 s default).
    const config = writeConfig(dir, "STRATUM_REPLICA_PG", pg.schema, `${testRedisPrefix()}replicas:`, 15_000);
    const env = { STRATUM_REPLICA_PG: TEST_POSTGRES_URL, STRATUM_REPLICA_REDIS: TEST_REDIS_URL, STRATUM_API_KEY: ADMIN, STRATUM_DATA_DIR: dir };
    // Started together: migrations must serialise on their advisory lock.
    replicas.push(...(await Promise.all([0, 1, 2].map(() => spawnServer(env, ["--config", config])))));
  });
  after(async () => {
    for (const r of replicas) r.child.kill("SIGKILL");
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("all three are ready and share keys", async () => {
    for (const r of replicas) assert.equal((await call(r.url, "GET", "/readyz", ADMIN)).status, 200, r.stderr());
  });

  test("one global rate limit across replicas", async () => {
    const created = await call(replicas[0]!.url, "POST", "/admin/keys", ADMIN, { tenant: "acme", limits: { requestsPerMinute: 10 } });
    assert.equal(created.status, 201);
    const key = created.json.key as string;
    // Each replica looks the new key up once first: the burst then measures the shared limit, not a
    // cold-start stampede on the pools of a machine busy with other test files.
    for (const r of replicas) assert.equal((await call(r.url, "GET", "/v1/models", key)).status, 200);
    const others: string[] = [];
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(replicas[i % 3]!.url, "POST", "/v1/chat/completions", key, { model: "sim", messages: [{ role: "user", content: `hello ${i}` }] }).then((r) => {
          if (r.status !== 200 && r.status !== 429) others.push(JSON.stringify(r.json));
          return r.status;
        }),
      ),
    );
    assert.deepEqual(others, [], "every request is served or refused by the limit");
    assert.equal(statuses.filter((s) => s === 200).length, 10, `statuses: ${statuses.join(",")}`);
    assert.equal(statuses.filter((s) => s === 429).length, 20, `statuses: ${statuses.join(",")}`);
  });

  test("a tenant's budget holds across replicas: spent through one, refused by the others", async () => {
    const [a, b] = await Promise.all([0, 1].map(async () => (await call(replicas[0]!.url, "POST", "/admin/keys", ADMIN, { tenant: "capped" })).json.key as string));
    const ask = (r: ServerProcess, key: string) => call(r.url, "POST", "/v1/chat/completions", key, { model: "sim", messages: [{ role: "user", content: "spend" }] });
    assert.equal((await ask(replicas[0]!, a!)).status, 200);
    // Accounting runs after the response; the shared counter then shows the spend to every replica.
    await eventually(
      async () => ((await call(replicas[2]!.url, "GET", "/admin/budgets?tenant=capped", ADMIN)).json.data as Json[]).some((d) => d.scope === "tenant" && d.spent_usd >= 0.5),
      5_000,
      "the tenant's spend on the shared counter",
    );
    for (const [r, key] of [[replicas[1]!, b!], [replicas[2]!, a!]] as const) {
      const over = await ask(r, key);
      assert.equal(over.status, 429, JSON.stringify(over.json));
      assert.equal(over.json.error.code, "budget_exceeded");
      assert.match(over.json.error.message, /tenant "capped"/);
    }
    assert.equal((await ask(replicas[1]!, ADMIN)).status, 200, "another tenant is not capped");
  });

  test("a key revoked on one replica stops working on the others at once (pub/sub, not the cache TTL)", async () => {
    const created = await call(replicas[0]!.url, "POST", "/admin/keys", ADMIN, { tenant: "acme" });
    const key = created.json.key as string;
    assert.equal((await call(replicas[1]!.url, "GET", "/v1/models", key)).status, 200, "cached as valid on replica 2");
    assert.equal((await call(replicas[0]!.url, "DELETE", `/admin/keys/${created.json.id}`, ADMIN)).status, 200);
    const started = Date.now();
    await eventually(async () => (await call(replicas[1]!.url, "GET", "/v1/models", key)).status === 401, 1_000, "replica 2 to reject the revoked key");
    assert.ok(Date.now() - started < 1_000, "well inside the 2 s auth cache TTL");
  });

  test("one response cache across replicas", async () => {
    const body = { model: "sim", temperature: 0, messages: [{ role: "user", content: `cache me ${Date.now()}` }] };
    const first = await call(replicas[0]!.url, "POST", "/v1/chat/completions", ADMIN, body);
    assert.equal(first.headers.get("x-stratum-cache"), "miss");
    for (const r of replicas.slice(1)) {
      const again = await call(r.url, "POST", "/v1/chat/completions", ADMIN, body);
      assert.equal(again.headers.get("x-stratum-cache"), "hit", "another replica serves the cached answer");
      assert.equal(again.json.choices[0].message.content, first.json.choices[0].message.content);
    }
  });

  test("one session history across replicas", async () => {
    const session = { "x-session-id": `replicas-${Date.now()}` };
    await call(replicas[0]!.url, "POST", "/v1/chat/completions", ADMIN, { model: "sim", messages: [{ role: "user", content: "first turn" }] }, session);
    await call(replicas[1]!.url, "POST", "/v1/chat/completions", ADMIN, { model: "sim", messages: [{ role: "user", content: "second turn" }] }, session);
    const stored = await call(replicas[2]!.url, "GET", `/v1/sessions/${session["x-session-id"]}`, ADMIN);
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.json.messages.map((m: Json) => [m.role, m.role === "user" ? m.content : "…"]), [
      ["user", "first turn"],
      ["assistant", "…"],
      ["user", "second turn"],
      ["assistant", "…"],
    ]);
  });

  test("a document ingested through one replica (queued, run by any worker) is searchable on the others", async () => {
    const queued = await call(replicas[1]!.url, "POST", "/v1/collections/shared/documents", ADMIN, { source: "relay.md", content: "# Relay\n\nThe relay listens on port 7443.", async: true });
    assert.equal(queued.status, 202);
    await eventually(async () => (await call(replicas[2]!.url, "GET", `/v1/jobs/${queued.json.id}`, ADMIN)).json?.state === "done", 10_000, "the ingest job to finish");
    const hit = await call(replicas[0]!.url, "POST", "/v1/collections/shared/search", ADMIN, { query: "relay port", k: 1 });
    assert.equal(hit.status, 200);
    assert.match(hit.json.data[0].text, /7443/);
  });

  test("a replica killed mid-run loses no acknowledged write", async () => {
    const user = `u-${Date.now()}`;
    const acked: string[] = [];
    const victim = replicas[1]!;
    let killed = false;
    const writes = Array.from({ length: 60 }, async (_, i) => {
      const target = replicas[i % 3]!;
      if (i === 30 && !killed) {
        killed = true;
        victim.child.kill("SIGKILL");
      }
      try {
        const r = await call(target.url, "POST", "/v1/memory", ADMIN, { user, text: `fact number ${i}` });
        if (r.status === 201) acked.push(`fact number ${i}`);
      } catch {
        // Connection reset by the killed replica: not acknowledged, so nothing is owed.
      }
    });
    await Promise.all(writes);
    await victim.exited;
    assert.ok(acked.length >= 30, `${acked.length} writes acknowledged`);
    const stored = await call(replicas[0]!.url, "GET", `/v1/memory?user=${user}`, ADMIN);
    const texts = new Set((stored.json.data as Json[]).map((f) => f.text));
    for (const a of acked) assert.ok(texts.has(a), `acknowledged "${a}" is stored`);
    // The survivors keep serving.
    assert.equal((await call(replicas[2]!.url, "GET", "/readyz", ADMIN)).status, 200);
  });
});

/** A TCP relay to a backend that the test can cut (a backend that "goes away"). */
async function cuttableProxy(target: { host: string; port: number }): Promise<{ port: number; cut(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe("a backend that goes away", { skip: !enabled && "STRATUM_SKIP_POSTGRES / STRATUM_SKIP_REDIS set" }, () => {
  let pg: PgTestSchema;
  let dir: string;
  let server: ServerProcess;
  let pgProxy: Awaited<ReturnType<typeof cuttableProxy>>;
  let redisProxy: Awaited<ReturnType<typeof cuttableProxy>>;
  before(async () => {
    pg = await createTestSchema({ migrate: false, prefix: "stratum_outage" });
    dir = mkdtempSync(join(tmpdir(), "stratum-outage-"));
    const pgUrl = new URL(TEST_POSTGRES_URL);
    const redisUrl = new URL(TEST_REDIS_URL);
    pgProxy = await cuttableProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    redisProxy = await cuttableProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    pgUrl.port = String(pgProxy.port);
    redisUrl.port = String(redisProxy.port);
    const config = writeConfig(dir, "STRATUM_REPLICA_PG", pg.schema, `${testRedisPrefix()}outage:`);
    server = await spawnServer({ STRATUM_REPLICA_PG: pgUrl.toString(), STRATUM_REPLICA_REDIS: redisUrl.toString(), STRATUM_API_KEY: ADMIN, STRATUM_DATA_DIR: dir }, ["--config", config]);
  });
  after(async () => {
    server?.child.kill("SIGKILL");
    pgProxy?.cut();
    redisProxy?.cut();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("Redis down: readiness names it; a rate-limited request gets a retryable 503 quickly; the cache degrades to a miss", async () => {
    assert.equal((await call(server.url, "GET", "/readyz", ADMIN)).status, 200);
    const limited = (await call(server.url, "POST", "/admin/keys", ADMIN, { tenant: "acme", limits: { requestsPerMinute: 100 } })).json.key as string;
    assert.equal((await call(server.url, "POST", "/v1/chat/completions", limited, { model: "sim", messages: [{ role: "user", content: "hi" }] })).status, 200);
    redisProxy.cut();
    const ready = await call(server.url, "GET", "/readyz", ADMIN);
    assert.equal(ready.status, 503);
    assert.match(ready.json.reason, /redis unavailable/);
    const started = Date.now();
    const r = await call(server.url, "POST", "/v1/chat/completions", limited, { model: "sim", messages: [{ role: "user", content: "hi" }] });
    assert.equal(r.status, 503, JSON.stringify(r.json));
    assert.equal(r.json.error.type, "service_unavailable");
    assert.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
    // No limit to enforce: the response cache is the only Redis use, and a cache that fails is a miss.
    const unlimited = await call(server.url, "POST", "/v1/chat/completions", ADMIN, { model: "sim", messages: [{ role: "user", content: "hi again" }] });
    assert.equal(unlimited.status, 200);
  });

  test("PostgreSQL down: readiness names it; requests get a 503 with a retryable error", async () => {
    pgProxy.cut();
    const ready = await call(server.url, "GET", "/readyz", ADMIN);
    assert.equal(ready.status, 503);
    assert.match(ready.json.reason, /postgres unavailable/);
    const started = Date.now();
    // A key the auth cache has not seen needs the database.
    const r = await call(server.url, "GET", "/v1/models", "sk-stratum-not-cached-0123456789");
    assert.equal(r.status, 503, JSON.stringify(r.json));
    assert.equal(r.json.error.type, "service_unavailable");
    assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
    // The process is still alive.
    assert.equal((await call(server.url, "GET", "/healthz", ADMIN)).status, 200);
  });
});
