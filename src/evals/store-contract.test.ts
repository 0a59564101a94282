// One EvalStore contract, run against every implementation: memory, SQLite
// (a file) and PostgreSQL (a fresh schema; left out with STRATUM_SKIP_POSTGRES=1).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresTestsEnabled, sharedTestSchema } from "../testing/postgres.js";
import { MemoryEvalStore, runSummary } from "./store.js";
import { SqliteEvalStore } from "./sqlite/eval-store.js";
import { PgEvalStore } from "./postgres/eval-store.js";
import type { EvalRun, EvalStore, ItemResult } from "./types.js";

interface Harness {
  store: EvalStore;
  /** A second handle on the same data (another process / replica). */
  reopen(): Promise<EvalStore>;
  close(): Promise<void>;
}

function item(i: number, over: Partial<ItemResult> = {}): ItemResult {
  return {
    id: `item-${i}`,
    input: `question ${i} — «ünïcode» 🙂`,
    expected: `answer ${i}`,
    output: i % 3 === 0 ? "" : `answer ${i} with a NUL \u0000 and "quotes"`,
    metrics: { exact_match: i % 2, token_f1: 0.25 * (i % 4) },
    latencyMs: 12.5 + i,
    usage: { prompt_tokens: 10, completion_tokens: i, total_tokens: 10 + i },
    tags: ["a", `t${i % 2}`],
    ...over,
  };
}

function run(id: string, createdAt: number, n: number, over: Partial<EvalRun> = {}): EvalRun {
  const items = Array.from({ length: n }, (_, i) => item(i));
  return {
    id,
    createdAt,
    model: "assistant",
    baseUrl: "http://127.0.0.1:8787",
    dataset: "qa.jsonl",
    itemCount: n,
    errorCount: 0,
    durationMs: 1234,
    summary: { exact_match: { mean: 0.5, n }, token_f1: { mean: 0.375, n } },
    items,
    ...over,
  };
}

function contract(name: string, make: () => Promise<Harness>): void {
  describe(`EvalStore contract: ${name}`, () => {
    const withStore = (fn: (h: Harness) => Promise<void>) => async () => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await h.close();
      }
    };

    it("save then get round-trips the run with its items in order", withStore(async ({ store }) => {
      const r = run("r-rt", 1_000, 7);
      r.items[2] = item(2, { error: "HTTP 502: upstream down", metrics: {} });
      r.errorCount = 1;
      await store.save(r);
      assert.deepEqual(await store.get("r-rt"), r);
      assert.equal(await store.get("missing"), undefined);
    }));

    it("list is newest first, without items", withStore(async ({ store }) => {
      await store.save(run("r-old", 1_000, 1));
      await store.save(run("r-new", 3_000, 2));
      await store.save(run("r-mid", 2_000, 0));
      const list = await store.list();
      assert.deepEqual(list.map((s) => s.id), ["r-new", "r-mid", "r-old"]);
      assert.deepEqual(list[0], runSummary(run("r-new", 3_000, 2)));
      assert.equal((list[0] as Partial<EvalRun>).items, undefined);
    }));

    it("saving the same id again replaces the run and its items", withStore(async ({ store }) => {
      await store.save(run("r-re", 1_000, 5));
      const again = run("r-re", 1_500, 2, { model: "assistant@3" });
      await store.save(again);
      assert.deepEqual(await store.get("r-re"), again);
      assert.equal((await store.list()).filter((s) => s.id === "r-re").length, 1);
    }));

    it("a large run (1,200 items) is stored whole and visible to another handle", withStore(async ({ store, reopen }) => {
      const big = run("r-big", 5_000, 1_200);
      await store.save(big);
      const other = await reopen();
      const got = await other.get("r-big");
      assert.equal(got?.items.length, 1_200);
      assert.deepEqual(got?.items[1_199], big.items[1_199]);
    }));
  });
}

contract("memory", async () => {
  const store = new MemoryEvalStore();
  return { store, reopen: async () => store, close: async () => undefined };
});

contract("sqlite file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "stratum-evals-"));
  const file = join(dir, "stratum.db");
  const opened: SqliteEvalStore[] = [new SqliteEvalStore(file)];
  return {
    store: opened[0]!,
    reopen: async () => {
      const s = new SqliteEvalStore(file);
      opened.push(s);
      return s;
    },
    close: async () => {
      for (const s of opened) s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

if (postgresTestsEnabled) {
  const shared = sharedTestSchema();
  after(() => shared.drop());
  contract("postgres", async () => {
    const s = await shared.get();
    await PgEvalStore.open(s.pool);
    await s.truncate();
    return { store: new PgEvalStore(s.pool), reopen: async () => PgEvalStore.open(s.newPool({ max: 2 })), close: async () => undefined };
  });
}
