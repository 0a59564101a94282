import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertTestRedisReachable, closeTestRedis, skipRedis, testRedis, testRedisPrefix } from "../../testing/redis.js";
import { RedisCoalescer } from "./coalescer.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const live = () => new AbortController().signal;
/** Wait until some replica holds the lock for `key` (instead of guessing with a sleep). */
async function locked(prefix: string, key: string): Promise<void> {
  const r = testRedis(prefix);
  for (let i = 0; i < 300 && !(await r.exists(`coalesce:lock:${key}`)); i++) await sleep(5);
}

describe("RedisCoalescer", { skip: skipRedis && "STRATUM_SKIP_REDIS=1" }, () => {
  before(assertTestRedisReachable);
  after(closeTestRedis);

  test("two replicas (and several local callers) share one call: fn runs once", async () => {
    const prefix = testRedisPrefix();
    const a = new RedisCoalescer<{ answer: number }>(testRedis(prefix), { pollMs: 1000 });
    const b = new RedisCoalescer<{ answer: number }>(testRedis(prefix), { pollMs: 1000 });
    let calls = 0;
    const fn = async () => {
      calls++;
      await sleep(150);
      return { answer: 42 };
    };
    const first = a.run("k", live(), fn);
    await locked(prefix, "k");
    const rest = await Promise.all([a.run("k", live(), fn), b.run("k", live(), fn), b.run("k", live(), fn)]);
    const all = [await first, ...rest];
    assert.equal(calls, 1);
    assert.deepEqual(all.map((r) => r.value.answer), [42, 42, 42, 42]);
    assert.deepEqual(all.map((r) => r.shared), [false, true, true, true]);
    // Completed calls are not cached: the next call runs fn again.
    assert.equal((await b.run("k", live(), fn)).shared, false);
    assert.equal(calls, 2);
    a.close();
    b.close();
  });

  test("owner failure: the error goes to the owner's callers, a remote waiter takes over", async () => {
    const prefix = testRedisPrefix();
    const a = new RedisCoalescer<string>(testRedis(prefix));
    const b = new RedisCoalescer<string>(testRedis(prefix));
    const owner = a.run("k", live(), async () => {
      await sleep(100);
      throw new Error("upstream 500");
    });
    await locked(prefix, "k");
    let bCalls = 0;
    const waiter = b.run("k", live(), async () => (bCalls++, "from b"));
    await assert.rejects(owner, /upstream 500/);
    assert.deepEqual(await waiter, { value: "from b", shared: false });
    assert.equal(bCalls, 1);
    a.close();
    b.close();
  });

  test("a dead owner's lock expires and a waiter takes over; waits are bounded", async () => {
    const prefix = testRedisPrefix();
    const redis = testRedis(prefix);
    await redis.set("coalesce:lock:k", "dead-replica", "PX", 200); // a crashed owner
    const b = new RedisCoalescer<string>(testRedis(prefix), { pollMs: 50 });
    const t0 = Date.now();
    const r = await b.run("k", live(), async () => "took over");
    assert.deepEqual(r, { value: "took over", shared: false });
    assert.ok(Date.now() - t0 >= 150, "waited for the lock to lapse");

    await redis.set("coalesce:lock:k2", "stuck", "PX", 60_000);
    const c = new RedisCoalescer<string>(testRedis(prefix), { pollMs: 50, maxWaitMs: 200 });
    const t1 = Date.now();
    assert.deepEqual(await c.run("k2", live(), async () => "uncoalesced"), { value: "uncoalesced", shared: false });
    assert.ok(Date.now() - t1 < 1000);
    b.close();
    c.close();
  });

  test("a waiter that aborts leaves without cancelling the owner; owner abort frees the lock", async () => {
    const prefix = testRedisPrefix();
    const a = new RedisCoalescer<string>(testRedis(prefix));
    const b = new RedisCoalescer<string>(testRedis(prefix));
    const ownerCtl = new AbortController();
    let ownerSignal: AbortSignal | undefined;
    const owner = a.run("k", ownerCtl.signal, (s) => {
      ownerSignal = s;
      return new Promise<string>((_, reject) => s.addEventListener("abort", () => reject(s.reason)));
    });
    await locked(prefix, "k");
    // The lock is visible in Redis a moment before the owner's client has read its SET reply and started fn.
    for (let i = 0; i < 300 && !ownerSignal; i++) await sleep(5);
    const waiterCtl = new AbortController();
    const waiter = b.run("k", waiterCtl.signal, async () => "never");
    waiterCtl.abort(new Error("client went away"));
    await assert.rejects(waiter, /client went away/);
    assert.equal(ownerSignal?.aborted, false);
    ownerCtl.abort(new Error("owner client left"));
    await assert.rejects(owner, /owner client left/);
    await sleep(20);
    assert.deepEqual(await b.run("k", live(), async () => "next"), { value: "next", shared: false });
    a.close();
    b.close();
  });
});

describe("RedisCoalescer without Redis", () => {
  test("runs fn uncoalesced (still shared locally) when Redis is unreachable", async () => {
    const { createRedis } = await import("./client.js");
    const dead = createRedis("redis://127.0.0.1:1/0", { commandTimeoutMs: 200, connectTimeoutMs: 100 });
    try {
      const c = new RedisCoalescer<string>(dead);
      let calls = 0;
      const fn = async () => (calls++, await sleep(50), "local");
      const [x, y] = await Promise.all([c.run("k", live(), fn), c.run("k", live(), fn)]);
      assert.deepEqual([x, y], [{ value: "local", shared: false }, { value: "local", shared: true }]);
      assert.equal(calls, 1);
    } finally {
      dead.disconnect();
    }
  });
});
