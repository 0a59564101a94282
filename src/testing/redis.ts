// Test support for Redis-backed code. Tests talk to STRATUM_TEST_REDIS_URL
// (default redis://127.0.0.1:6379/15); every client gets a unique key prefix
// so parallel test files never collide, and `closeTestRedis()` deletes that
// prefix's keys (never FLUSHALL) and disconnects. With STRATUM_SKIP_REDIS=1 the
// Redis tests are skipped; otherwise an unreachable Redis FAILS them clearly.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { createRedis, unlinkByPrefix, type CreateRedisOptions } from "../data/redis/client.js";

export const TEST_REDIS_URL = process.env.STRATUM_TEST_REDIS_URL || "redis://127.0.0.1:6379/15";
/** True when STRATUM_SKIP_REDIS=1: Redis tests should be skipped (pass `{ skip: skipRedis }`). */
export const skipRedis = process.env.STRATUM_SKIP_REDIS === "1";

const clients: Redis[] = [];
const prefixes = new Set<string>();

/** A fresh key prefix, unique to this process and call. */
export function testRedisPrefix(): string {
  const p = `stratum-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
  prefixes.add(p);
  return p;
}

/** A client on the test Redis with a unique (or the given) key prefix; closed by `closeTestRedis()`. */
export function testRedis(prefix = testRedisPrefix(), opts: Omit<CreateRedisOptions, "keyPrefix"> = {}): Redis {
  prefixes.add(prefix);
  const c = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 5000, connectTimeoutMs: 2000, ...opts, keyPrefix: prefix });
  const dup = c.duplicate.bind(c);
  // Track duplicates (subscriber / blocking connections) so they are closed too.
  c.duplicate = ((override?: Parameters<Redis["duplicate"]>[0]) => {
    const d = dup(override);
    d.on("error", () => {});
    clients.push(d as Redis);
    return d;
  }) as Redis["duplicate"];
  clients.push(c);
  return c;
}

/** Throw a clear error unless the test Redis answers PING (within 2 s). */
export async function assertTestRedisReachable(): Promise<void> {
  const c = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2000, maxRetriesPerRequest: 0, options: { retryStrategy: () => null } });
  let lastError: unknown;
  c.on("error", (e: unknown) => (lastError = e));
  try {
    await c.ping();
  } catch (err) {
    const e = lastError ?? err;
    throw new Error(
      `Redis tests need a Redis at ${TEST_REDIS_URL} (STRATUM_TEST_REDIS_URL) but it is unreachable: ${e instanceof Error ? e.message : String(e)}. ` +
        `Start one (e.g. \`redis-server\` or \`docker run -p 6379:6379 redis\`) or set STRATUM_SKIP_REDIS=1 to skip these tests.`,
    );
  } finally {
    c.disconnect();
  }
}

/** Delete the keys of every prefix used by this process and disconnect all test clients. */
export async function closeTestRedis(): Promise<void> {
  if (!clients.length) return;
  const cleaner = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2000 });
  try {
    for (const p of prefixes) await unlinkByPrefix(cleaner, p).catch(() => {});
  } finally {
    cleaner.disconnect();
    for (const c of clients.splice(0)) c.disconnect();
    prefixes.clear();
  }
}
