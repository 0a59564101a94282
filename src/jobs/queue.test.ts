// JobQueue contract: the in-process queue and the Redis Streams queue pass the same suite.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertTestRedisReachable, closeTestRedis, skipRedis, testRedis, testRedisPrefix } from "../testing/redis.js";
import { MemoryJobQueue, RedisStreamQueue, type JobQueue, type JobQueueOptions } from "./index.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting for condition");
    await sleep(10);
  }
}

/** `make(opts)` returns queue instances sharing one backing store (two "replicas" of the same queue). */
const queues: Array<[string, (opts?: JobQueueOptions) => (() => JobQueue)]> = [
  [
    "memory",
    (opts) => {
      const q = new MemoryJobQueue(opts);
      return () => q;
    },
  ],
];
if (!skipRedis) {
  queues.push([
    "redis",
    (opts) => {
      const prefix = testRedisPrefix();
      return () => new RedisStreamQueue(testRedis(prefix), opts);
    },
  ]);
}

for (const [name, make] of queues) {
  describe(`JobQueue contract: ${name}`, () => {
    if (name === "redis") {
      before(assertTestRedisReachable);
      after(closeTestRedis);
    }

    test("enqueue, consume, ack; status goes queued -> running -> done with the result", async () => {
      const q = make()();
      const id = await q.enqueue("ingest", { doc: "a.md" });
      assert.equal((await q.getStatus(id))?.state, "queued");
      const ctl = new AbortController();
      const seen: unknown[] = [];
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => (release = r));
      const worker = q.consume<{ doc: string }, { chunks: number }>(
        "ingest",
        async (job) => {
          seen.push(job.payload);
          assert.equal(job.attempt, 1);
          assert.equal(job.type, "ingest");
          await gate;
          return { chunks: 3 };
        },
        { signal: ctl.signal },
      );
      await until(async () => (await q.getStatus(id))?.state === "running");
      release();
      await until(async () => (await q.getStatus(id))?.state === "done");
      const st = await q.getStatus(id);
      assert.deepEqual(st?.result, { chunks: 3 });
      assert.equal(st?.attempts, 1);
      assert.deepEqual(seen, [{ doc: "a.md" }]);
      assert.equal(await q.getStatus("no-such-job"), undefined);
      ctl.abort();
      await worker;
    });

    test("a failing handler is retried, then dead-lettered with its error", async () => {
      const q = make({ claimIdleMs: 100, maxDeliveries: 3 })();
      const ok = await q.enqueue("score", { n: 1 });
      const bad = await q.enqueue("score", { n: 2 });
      const attempts: number[] = [];
      const ctl = new AbortController();
      const worker = q.consume<{ n: number }, string>(
        "score",
        async (job) => {
          if (job.payload.n === 1) return "fine";
          attempts.push(job.attempt);
          throw new Error(`boom ${job.attempt}`);
        },
        { signal: ctl.signal },
      );
      await until(async () => (await q.getStatus(bad))?.state === "failed", 5000);
      assert.deepEqual(attempts, [1, 2, 3]);
      const st = await q.getStatus(bad);
      assert.equal(st?.error, "boom 3");
      assert.equal(st?.attempts, 3);
      assert.equal((await q.getStatus(ok))?.state, "done");
      const dead = await q.deadLetters("score");
      assert.equal(dead.length, 1);
      assert.deepEqual({ id: dead[0]!.id, payload: dead[0]!.payload, error: dead[0]!.error, attempts: dead[0]!.attempts }, { id: bad, payload: { n: 2 }, error: "boom 3", attempts: 3 });
      await sleep(300);
      assert.deepEqual(attempts, [1, 2, 3], "not delivered again after dead-lettering");
      ctl.abort();
      await worker;
    });

    test("a consumer that dies mid-job: another consumer claims it after the idle timeout and runs it exactly once more", async () => {
      const replica = make({ claimIdleMs: 150 });
      const a = replica();
      const b = replica();
      const id = await a.enqueue("ingest", { doc: "x" });
      const ctlA = new AbortController();
      let aStarted = false;
      // A takes the job and hangs; it is then stopped without finishing (drain timeout), like a crash.
      const workerA = a.consume("ingest", () => ((aStarted = true), new Promise<never>(() => {})), { signal: ctlA.signal, drainTimeoutMs: 0 });
      await until(() => aStarted);
      ctlA.abort();
      await workerA;
      const runs: number[] = [];
      const ctlB = new AbortController();
      const workerB = b.consume("ingest", async (job) => void runs.push(job.attempt), { signal: ctlB.signal });
      await until(async () => (await b.getStatus(id))?.state === "done");
      await sleep(400);
      assert.deepEqual(runs, [2], "run once more, as the second delivery");
      ctlB.abort();
      await workerB;
    });

    test("a live consumer keeps a long job: it is not claimed by others while running", async () => {
      const replica = make({ claimIdleMs: 90 });
      const a = replica();
      const b = replica();
      const id = await a.enqueue("long", {});
      let runs = 0;
      const handler = async () => {
        runs++;
        await sleep(400);
        return "ok";
      };
      const ctl = new AbortController();
      const workers = [a.consume("long", handler, { signal: ctl.signal }), b.consume("long", handler, { signal: ctl.signal })];
      await until(async () => (await a.getStatus(id))?.state === "done");
      assert.equal(runs, 1);
      ctl.abort();
      await Promise.all(workers);
    });

    test("concurrency is respected", async () => {
      const q = make()();
      for (let i = 0; i < 12; i++) await q.enqueue("c", { i });
      let running = 0;
      let peak = 0;
      let done = 0;
      const ctl = new AbortController();
      const worker = q.consume(
        "c",
        async () => {
          peak = Math.max(peak, ++running);
          await sleep(30);
          running--;
          done++;
        },
        { signal: ctl.signal, concurrency: 3 },
      );
      await until(() => done === 12);
      assert.equal(peak, 3);
      ctl.abort();
      await worker;
    });

    test("graceful stop: in-flight jobs finish, no new jobs are taken", async () => {
      const q = make()();
      const first = await q.enqueue("g", { n: 1 });
      const ctl = new AbortController();
      let started = 0;
      const worker = q.consume(
        "g",
        async () => {
          started++;
          await sleep(150);
          return "finished";
        },
        { signal: ctl.signal },
      );
      await until(() => started === 1);
      const second = await q.enqueue("g", { n: 2 });
      ctl.abort();
      const t0 = Date.now();
      await worker;
      assert.ok(Date.now() - t0 < 1000);
      assert.equal((await q.getStatus(first))?.state, "done");
      assert.equal(started, 1);
      assert.equal((await q.getStatus(second))?.state, "queued");
      // The next consumer picks up what was left.
      const ctl2 = new AbortController();
      const worker2 = q.consume("g", async () => "later", { signal: ctl2.signal });
      await until(async () => (await q.getStatus(second))?.state === "done");
      ctl2.abort();
      await worker2;
    });
  });
}
