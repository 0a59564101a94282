// Contract suites every SessionStore / MemoryStore implementation must pass.
// Exported as functions taking a factory so other backends (PostgreSQL) run
// the same suite; sqlite-stores.test.ts runs them for SQLite.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isStratumError } from "../core/errors.js";
import type { ChatMessage } from "../protocol/openai.js";
import type { MemoryStore, SessionStore } from "./types.js";

const user = (content: string): ChatMessage => ({ role: "user", content });
const assistant = (content: string): ChatMessage => ({ role: "assistant", content });

/** `make(maxMessages)` builds an empty store bounded to `maxMessages` per session. */
export function sessionStoreContract(name: string, make: (maxMessages?: number) => SessionStore | Promise<SessionStore>): void {
  describe(`SessionStore contract: ${name}`, () => {
    test("appends with per-session sequence numbers and reads back in order", async () => {
      const s = await make();
      assert.deepEqual(await s.appendTurns("t1", "s1", [user("hi"), assistant("hello")]), { firstSeq: 1, lastSeq: 2 });
      assert.deepEqual(await s.appendTurns("t1", "s1", [user("again")]), { firstSeq: 3, lastSeq: 3 });
      assert.deepEqual(await s.appendTurns("t1", "s2", [user("other")]), { firstSeq: 1, lastSeq: 1 });
      const h = await s.history("t1", "s1");
      assert.deepEqual(h.messages, [user("hi"), assistant("hello"), user("again")]);
      assert.deepEqual(h.seqs, [1, 2, 3]);
      assert.equal(h.summary, undefined);
    });

    test("round-trips tool calls, content parts and null content exactly", async () => {
      const s = await make();
      const msgs: ChatMessage[] = [
        { role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: "https://x/y.png" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":"\\u0000é"}' } }] },
        { role: "tool", tool_call_id: "c1", content: "result ✓" },
      ];
      await s.appendTurns("t", "s", msgs);
      assert.deepEqual((await s.history("t", "s")).messages, msgs);
    });

    test("is tenant-scoped: the same session id in two tenants is two sessions", async () => {
      const s = await make();
      await s.appendTurns("a", "same", [user("from a")]);
      await s.appendTurns("b", "same", [user("from b"), user("b2")]);
      assert.deepEqual((await s.history("a", "same")).messages, [user("from a")]);
      assert.deepEqual((await s.history("b", "same")).seqs, [1, 2]);
      assert.equal(await s.deleteSession("a", "same"), true);
      assert.deepEqual((await s.history("a", "same")).messages, []);
      assert.equal((await s.history("b", "same")).messages.length, 2);
      assert.deepEqual((await s.listSessions("a")).map((x) => x.id), []);
      await assert.rejects(s.setSummary("a", "same", { text: "x", coversThrough: 1 }), (e) => isStratumError(e) && e.kind === "NotFound");
    });

    test("unknown sessions read as empty; deleting them reports false", async () => {
      const s = await make();
      assert.deepEqual(await s.history("t", "nope"), { messages: [], seqs: [] });
      assert.equal(await s.deleteSession("t", "nope"), false);
      assert.equal(await s.get("t", "nope"), undefined);
    });

    test("a summary hides the messages it covers and is validated against the last seq", async () => {
      const s = await make();
      await s.appendTurns("t", "s", [user("1"), assistant("2"), user("3"), assistant("4")]);
      await s.setSummary("t", "s", { text: "they said 1 and 2", coversThrough: 2 });
      const h = await s.history("t", "s");
      assert.deepEqual(h.summary, { text: "they said 1 and 2", coversThrough: 2 });
      assert.deepEqual(h.seqs, [3, 4]);
      assert.deepEqual(h.messages, [user("3"), assistant("4")]);
      await assert.rejects(s.setSummary("t", "s", { text: "x", coversThrough: 5 }), (e) => isStratumError(e) && e.kind === "InvalidRequest");
      await s.appendTurns("t", "s", [user("5")]);
      assert.deepEqual((await s.history("t", "s")).seqs, [3, 4, 5]);
    });

    test("prunes the oldest messages past the per-session bound, keeping seqs increasing", async () => {
      const s = await make(3);
      await s.appendTurns("t", "s", [user("1"), user("2")]);
      await s.appendTurns("t", "s", [user("3"), user("4"), user("5")]);
      const h = await s.history("t", "s");
      assert.deepEqual(h.seqs, [3, 4, 5]);
      assert.deepEqual(h.messages, [user("3"), user("4"), user("5")]);
      const info = await s.get("t", "s");
      assert.equal(info?.messageCount, 3);
      assert.equal(info?.lastSeq, 5);
    });

    test("lists a tenant's sessions, most recently updated first, with a limit and user filter", async () => {
      const s = await make();
      await s.appendTurns("t", "old", [user("x")], { user: "u1" });
      await new Promise((r) => setTimeout(r, 5));
      await s.appendTurns("t", "new", [user("y"), user("z")], { user: "u2" });
      await s.appendTurns("other", "foreign", [user("w")]);
      const all = await s.listSessions("t", { limit: 10 });
      assert.deepEqual(all.map((x) => x.id), ["new", "old"]);
      assert.equal(all[0]!.messageCount, 2);
      assert.equal(all[0]!.user, "u2");
      assert.equal(all[0]!.tenant, "t");
      assert.deepEqual((await s.listSessions("t", { limit: 1 })).map((x) => x.id), ["new"]);
      assert.deepEqual((await s.listSessions("t", { user: "u1" })).map((x) => x.id), ["old"]);
    });

    test("concurrent appends get distinct, gap-free sequence numbers", async () => {
      const s = await make();
      await Promise.all(Array.from({ length: 20 }, (_, i) => s.appendTurns("t", "s", [user(`m${i}`), assistant(`r${i}`)])));
      const h = await s.history("t", "s");
      assert.deepEqual(h.seqs, Array.from({ length: 40 }, (_, i) => i + 1));
      // Each append's pair stays adjacent.
      for (let i = 0; i < 40; i += 2) {
        assert.equal(h.messages[i]!.role, "user");
        assert.equal(String(h.messages[i + 1]!.content).slice(1), String(h.messages[i]!.content).slice(1));
      }
    });
  });
}

export function memoryStoreContract(name: string, make: (maxFactsPerUser?: number) => MemoryStore | Promise<MemoryStore>): void {
  describe(`MemoryStore contract: ${name}`, () => {
    test("add, list newest first, delete", async () => {
      const m = await make();
      const a = await m.add("t", "u", { text: "Prefers metric units", tags: ["prefs", "prefs"] });
      await new Promise((r) => setTimeout(r, 2));
      const b = await m.add("t", "u", { text: "Lives in Lisbon" });
      assert.match(a.id, /\S/);
      assert.deepEqual(a.tags, ["prefs"]);
      assert.deepEqual(b.tags, []);
      assert.deepEqual((await m.list("t", "u")).map((f) => f.id), [b.id, a.id]);
      assert.equal(await m.delete("t", "u", a.id), true);
      assert.equal(await m.delete("t", "u", a.id), false);
      assert.deepEqual(await m.list("t", "u"), [b]);
      assert.deepEqual(await m.search("t", "u", "metric units", 5), []);
    });

    test("is scoped by tenant and user", async () => {
      const m = await make();
      const f = await m.add("t1", "u", { text: "Owns a golden retriever" });
      await m.add("t2", "u", { text: "Owns a golden cat" });
      await m.add("t1", "v", { text: "Owns a golden fish" });
      assert.deepEqual((await m.list("t1", "u")).map((x) => x.id), [f.id]);
      const hits = await m.search("t1", "u", "golden", 10);
      assert.deepEqual(hits.map((h) => h.fact.id), [f.id]);
      assert.equal(await m.delete("t2", "u", f.id), false, "another tenant cannot delete it");
    });

    test("search stems (porter), ranks by relevance and scores in [0, 1]", async () => {
      const m = await make();
      await m.add("t", "u", { text: "The user is running a marathon in October" });
      await m.add("t", "u", { text: "The user dislikes running shoes with thick soles" });
      await m.add("t", "u", { text: "Favourite colour is green" });
      const hits = await m.search("t", "u", "Which marathons has the user run?", 5);
      assert.ok(hits.length >= 1);
      assert.match(hits[0]!.fact.text, /marathon/);
      for (const h of hits) assert.ok(h.score > 0 && h.score <= 1, `score ${h.score}`);
      assert.ok(hits.every((h, i) => i === 0 || hits[i - 1]!.score >= h.score));
      const colour = await m.search("t", "u", "colour", 5);
      assert.equal(colour.length, 1);
      assert.equal(colour[0]!.score, 1);
      assert.deepEqual(await m.search("t", "u", "quantum chromodynamics", 5), []);
    });

    test("matches tags as well as text", async () => {
      const m = await make();
      const f = await m.add("t", "u", { text: "Allergic to peanuts", tags: ["health"] });
      assert.deepEqual((await m.search("t", "u", "health", 3)).map((h) => h.fact.id), [f.id]);
    });

    test("hostile or empty queries never throw", async () => {
      const m = await make();
      await m.add("t", "u", { text: "Drives an electric car" });
      const hostile = [
        "", "   ", '"', '""', "'", "*", "car*", "NEAR(car drives)", "car AND OR NOT", "AND", "OR NOT", "^car", "text:car", "{text}: car",
        "(((", ")", "-car", "+car", "car:", "\u0000", "🚗 car", "ß", "émoji 😀", "col:text", "a\"b", "O'Neil's car", "l'été", "NOT", "car - NEAR/3", "'; DROP TABLE memory_facts; --",
        "x".repeat(10_000), Array.from({ length: 500 }, (_, i) => `w${i}`).join(" "),
      ];
      for (const q of hostile) await m.search("t", "u", q, 5);
      assert.equal((await m.search("t", "u", "NEAR(car drives)", 5)).length, 1);
      assert.equal((await m.search("t", "u", "text:car", 5)).length, 1);
      assert.equal((await m.list("t", "u")).length, 1);
    });

    test("respects k and the per-user bound", async () => {
      const m = await make(3);
      for (let i = 0; i < 5; i++) await m.add("t", "u", { text: `note about topic number ${i}` });
      const kept = await m.list("t", "u");
      assert.equal(kept.length, 3);
      assert.deepEqual(kept.map((f) => f.text).sort(), ["note about topic number 2", "note about topic number 3", "note about topic number 4"]);
      assert.equal((await m.search("t", "u", "topic", 2)).length, 2);
      assert.equal((await m.search("t", "u", "topic", 0)).length, 0);
    });
  });
}
