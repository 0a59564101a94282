import { openDatabase } from "../data/index.js";
import { SqliteMemoryStore, SqliteSessionStore } from "./index.js";
import { memoryStoreContract, sessionStoreContract } from "./store-contract.test.js";
import { test } from "node:test";
import assert from "node:assert/strict";

sessionStoreContract("sqlite", (maxMessages) => new SqliteSessionStore(openDatabase(":memory:"), maxMessages ? { maxMessages } : {}));
memoryStoreContract("sqlite", (maxFactsPerUser) => new SqliteMemoryStore(openDatabase(":memory:"), maxFactsPerUser ? { maxFactsPerUser } : {}));

test("sqlite schema is applied idempotently (several stores on one database)", async () => {
  const db = openDatabase(":memory:");
  const a = new SqliteSessionStore(db);
  await a.appendTurns("t", "s", [{ role: "user", content: "kept" }]);
  const b = new SqliteSessionStore(db);
  assert.equal((await b.history("t", "s")).messages.length, 1);
  const m1 = new SqliteMemoryStore(db);
  await m1.add("t", "u", { text: "remembered fact" });
  const m2 = new SqliteMemoryStore(db);
  assert.equal((await m2.search("t", "u", "fact", 1)).length, 1);
});
