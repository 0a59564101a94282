// The streamed-body transport over real HTTP: a reader that falls behind
// pauses the socket (the upstream feels TCP backpressure instead of Stratum
// buffering the stream), everything arrives intact once it reads again, and
// drain()/destroy() keep or drop the keep-alive connection.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { StratumError } from "../../core/errors.js";
import { ScriptedUpstreams } from "../../testing/scripted-upstream.js";
import { signalCallContext, type CallContext } from "../provider.js";
import { requestJSON, requestStream, upstreamPool } from "./upstream-http.js";

const upstreams = new ScriptedUpstreams();
const pools: Array<{ close(): Promise<void> }> = [];
after(async () => {
  upstreams.closeAll();
  await Promise.all(pools.map((p) => p.close()));
});

const ctx = (): CallContext => signalCallContext(AbortSignal.timeout(10_000), 1_000, "r");
const PIECE = "x".repeat(64 * 1024);
const PIECES = 512; // 32 MiB: far more than the socket buffers hold

test("a reader that stops makes the upstream wait (socket paused), and then gets every byte", async () => {
  let written = 0;
  const up = await upstreams.serve(async (_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    for (let i = 0; i < PIECES; i++) {
      const more = res.write(PIECE);
      written++;
      if (!more) await new Promise((r) => res.once("drain", r));
    }
    res.end();
  });
  const pool = upstreamPool(up.origin, 1);
  pools.push(pool);
  const body = await requestStream(pool.get(1_000), "/", {}, "{}", ctx(), "test");
  const it = body[Symbol.asyncIterator]();
  let bytes = (await it.next()).value!.length;
  await new Promise((r) => setTimeout(r, 300)); // the reader falls behind
  const writtenWhilePaused = written;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    bytes += r.value.length;
  }
  assert.ok(writtenWhilePaused < PIECES / 2, `the upstream was held back while nobody read (it wrote ${writtenWhilePaused} of ${PIECES} pieces)`);
  assert.equal(bytes, PIECE.length * PIECES);
});

test("drain() after the reader stopped keeps the connection for the next call; destroy() drops it", async () => {
  const up = await upstreams.serve((req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: 1\n\n");
    if (req.url === "/keep") setTimeout(() => res.end("data: tail\n\n"), 30);
    // "/drop" never ends: only destroy() frees the connection
  });
  const pool = upstreamPool(up.origin, 1);
  pools.push(pool);
  const first = await requestStream(pool.get(1_000), "/keep", {}, "{}", ctx(), "test");
  await first.next();
  first.drain(1_000);
  const second = await requestStream(pool.get(1_000), "/drop", {}, "{}", ctx(), "test");
  assert.equal(up.state.connections, 1, "the drained connection was reused");
  await second.next();
  second.destroy();
  assert.deepEqual(await second.next(), { done: true, value: undefined });
  const third = await requestStream(pool.get(1_000), "/keep", {}, "{}", ctx(), "test");
  await third.next();
  third.drain(1_000);
  assert.equal(up.state.connections, 2, "a destroyed stream's connection is not reused");
});

test("a whole JSON answer larger than the cap is refused without reading on, and the pool goes on", async () => {
  let n = 0;
  const up = await upstreams.serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    if (n++ > 0) {
      res.end('{"ok":true}');
      return;
    }
    res.write('{"data":"');
    const more = () => {
      if (!res.destroyed && res.write(PIECE)) setImmediate(more);
      else if (!res.destroyed) res.once("drain", more);
    };
    more(); // never ends
  });
  const pool = upstreamPool(up.origin, 1);
  pools.push(pool);
  await assert.rejects(requestJSON(pool.get(1_000), "/", {}, "{}", ctx(), "test", 1024 * 1024), (e: unknown) => e instanceof Error && /larger than 1048576 bytes/.test(e.message));
  assert.deepEqual(await requestJSON(pool.get(1_000), "/", {}, "{}", ctx(), "test"), { ok: true });
});

test("a non-2xx answer is mapped from its raw headers: Retry-After (any case, repeated) and the upstream's message", async () => {
  const up = await upstreams.serve((_req, res) => {
    // Raw header lines: the name's case as sent, and a second Retry-After that the first one wins over.
    res.writeHead(429, ["Content-Type", "application/json", "Retry-After", "7", "retry-after", "30", "X-Other", "a"]);
    res.end(JSON.stringify({ error: { message: "slow down", code: "rate_limit_exceeded" } }));
  });
  const pool = upstreamPool(up.origin, 1);
  pools.push(pool);
  await assert.rejects(requestJSON(pool.get(1_000), "/", {}, "{}", ctx(), "test"), (e: unknown) => {
    const err = e as StratumError;
    assert.equal(err.kind, "UpstreamRateLimited");
    assert.equal(err.upstreamStatus, 429);
    assert.equal(err.retryAfterMs, 7_000);
    assert.match(err.message, /slow down/);
    return true;
  });
});

test("a call whose context is already aborted fails at once with its reason and never reaches the upstream", async () => {
  let requests = 0;
  const up = await upstreams.serve((_req, res) => {
    requests++;
    res.end("{}");
  });
  const pool = upstreamPool(up.origin, 1);
  pools.push(pool);
  const left = new Error("client left");
  const aborted = signalCallContext(AbortSignal.abort(left), 1_000, "r");
  await assert.rejects(requestJSON(pool.get(1_000), "/", {}, "{}", aborted, "test"), (e: unknown) => e instanceof Error && /client left/.test(e.message));
  await assert.rejects(requestStream(pool.get(1_000), "/", {}, "{}", aborted, "test"), (e: unknown) => e instanceof Error && /client left/.test(e.message));
  assert.deepEqual(await requestJSON(pool.get(1_000), "/", {}, "{}", ctx(), "test"), {});
  assert.equal(requests, 1, "only the live call reached the upstream");
});
