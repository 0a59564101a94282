import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseDataset } from "../types.js";
import {
  containsAll,
  costUsd,
  exactMatch,
  factRecall,
  groundedness,
  jsonValid,
  ndcgAtK,
  normalizeAnswer,
  recallAtK,
  reciprocalRank,
  regexMatch,
  retrievedIds,
  scoreItem,
  tokenF1,
} from "./index.js";

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≈ ${b}`);

describe("text metrics", () => {
  test("SQuAD normalisation: case, punctuation, articles, whitespace, citation markers", () => {
    assert.equal(normalizeAnswer("  The Relay, listens on   port 7443! [1]"), "relay listens on port 7443");
    assert.equal(normalizeAnswer("An apple a day"), "apple day");
    assert.equal(exactMatch("The port is 7443.", "port is 7443"), 1);
    assert.equal(exactMatch("port 7443", "port 9090"), 0);
    assert.equal(exactMatch("", ""), 1);
  });

  test("token F1 by hand", () => {
    // pred: [relay, listens, on, port, 7443]; gold: [port, 7443] → P = 2/5, R = 1, F1 = 2·0.4·1/1.4 = 4/7
    close(tokenF1("The relay listens on port 7443.", "port 7443"), 4 / 7);
    close(tokenF1("port 7443", "port 7443"), 1);
    assert.equal(tokenF1("nothing", "port 7443"), 0);
    assert.equal(tokenF1("", "port"), 0);
    assert.equal(tokenF1("", "the"), 1); // both normalise to empty
    // duplicates count once per occurrence: pred [a1, a1], gold [a1] → P = 1/2, R = 1 → 2/3
    close(tokenF1("x x", "x"), 2 / 3);
  });

  test("contains (all facts, case-insensitive), fact recall, regex, JSON", () => {
    assert.equal(containsAll("The relay listens on PORT 7443.", ["port 7443", "relay"]), 1);
    assert.equal(containsAll("The relay listens on port 7443.", ["port 7443", "9090"]), 0);
    assert.equal(containsAll("anything", []), 1);
    close(factRecall("The relay listens on port 7443.", ["port 7443", "9090"]), 0.5);
    assert.equal(regexMatch("port 7443", "/PORT \\d+/i"), 1);
    assert.equal(regexMatch("port 7443", "^\\d+$"), 0);
    assert.equal(regexMatch("abc", /b/g), 1);
    assert.equal(jsonValid('{"a": [1, 2]}'), 1);
    assert.equal(jsonValid('```json\n{"a": 1}\n```'), 1);
    assert.equal(jsonValid("{a: 1}"), 0);
    assert.equal(jsonValid("   "), 0);
  });
});

describe("retrieval metrics", () => {
  test("recall@k, MRR and nDCG@k by hand", () => {
    const retrieved = ["d3", "d1", "d7", "d2"];
    const relevant = ["d1", "d2"];
    close(recallAtK(retrieved, relevant, 2), 0.5);
    close(recallAtK(retrieved, relevant, 4), 1);
    close(reciprocalRank(retrieved, relevant), 0.5);
    assert.equal(reciprocalRank(["x"], relevant), 0);
    // DCG@4 = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3)
    close(ndcgAtK(retrieved, relevant, 4), (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3)));
    close(ndcgAtK(["d1", "d2"], relevant, 2), 1);
    assert.equal(ndcgAtK([], relevant, 5), 0);
    assert.equal(recallAtK([], [], 5), 1);
  });

  test("ids from citations: chunk or document ids, whichever the dataset names; deduplicated", () => {
    const cits = [
      { chunk_id: "c1", document_id: "docA" },
      { chunk_id: "c2", document_id: "docA" },
      { chunk_id: "c3", document_id: "docB" },
    ];
    assert.deepEqual(retrievedIds(cits), ["c1", "c2", "c3"]);
    assert.deepEqual(retrievedIds(cits, ["docA", "docB"]), ["docA", "docB"]);
    assert.deepEqual(retrievedIds(cits, ["c3"]), ["c1", "c2", "c3"]);
  });
});

describe("groundedness, usage, cost", () => {
  test("groundedness against the cited passages' texts", () => {
    const cits = [{ text: "The relay listens on port 7443. Clients reconnect with exponential backoff." }];
    assert.equal(groundedness("The relay listens on port 7443.", cits), 1);
    assert.equal(groundedness("Invoices are issued monthly by the finance team.", cits), 0);
    assert.equal(groundedness("anything", []), undefined);
  });

  test("cost from a price table (USD per million tokens), name@version falls back to the name, * is the default", () => {
    const usage = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 };
    close(costUsd(usage, "gpt", { gpt: { input: 2, output: 10 } })!, (1000 * 2 + 500 * 10) / 1e6);
    close(costUsd(usage, "gpt@3", { gpt: { input: 2, output: 10 } })!, 0.007);
    close(costUsd(usage, "other", { "*": { input: 1, output: 1 } })!, 0.0015);
    assert.equal(costUsd(usage, "gpt"), undefined);
    assert.equal(costUsd(undefined, "gpt", { gpt: { input: 1, output: 1 } }), undefined);
  });

  test("scoreItem computes only the metrics the item asks for; an error scores the empty answer", () => {
    const item = { id: "1", messages: [], expected: "port 7443", facts: ["7443"], relevant_ids: ["docA"] } as never;
    const res = { output: "Port 7443 [1].", citations: [{ chunk_id: "c1", document_id: "docA", text: "The relay listens on port 7443." }], latencyMs: 12, usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } };
    const m = scoreItem(item, res, { model: "m", prices: { m: { input: 1, output: 2 } } });
    assert.equal(m.exact_match, 1);
    assert.equal(m.token_f1, 1);
    assert.equal(m.contains, 1);
    assert.equal(m.recall_at_k, 1);
    assert.equal(m.mrr, 1);
    assert.equal(m.latency_ms, 12);
    assert.equal(m.total_tokens, 15);
    close(m.cost_usd!, 20 / 1e6);
    assert.equal(m.error, 0);
    assert.equal(m.json_valid, undefined);
    assert.equal(m.regex, undefined);
    const failed = scoreItem(item, { ...res, error: "HTTP 500" });
    assert.equal(failed.exact_match, 0);
    assert.equal(failed.recall_at_k, 0);
    assert.equal(failed.error, 1);
    assert.equal(failed.total_tokens, undefined);
    assert.equal(failed.groundedness, undefined);
  });
});

describe("dataset parsing", () => {
  test("JSONL: input shortcut, messages, ids, bad lines reported with their line numbers (not fatal)", () => {
    const text = [
      '{"id": "a", "input": "Which port?", "expected": "7443", "tags": ["net"]}',
      "",
      '{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}], "facts": ["hello"]}',
      "not json",
      '{"id": "b"}',
      '{"id": "c", "input": "x", "relevant_ids": [1]}',
      '{"id": "a", "input": "dup"}',
      '# a comment',
      '{"id": 7, "input": "x", "regex": "(", "json": true}',
      '{"id": 8, "input": "x", "unknown_field": 1}',
      '{"id": 9, "input": "q", "regex": "/7443/i", "json": true}',
    ].join("\n");
    const d = parseDataset(text);
    assert.deepEqual(d.items.map((i) => i.id), ["a", "line-3", "9"]);
    assert.deepEqual(d.items[0]!.messages, [{ role: "user", content: "Which port?" }]);
    assert.deepEqual(d.items[0]!.tags, ["net"]);
    assert.equal(d.items[1]!.messages.length, 2);
    assert.deepEqual(d.errors.map((e) => e.line), [4, 5, 6, 7, 9, 10]);
    assert.match(d.errors[0]!.message, /invalid JSON/);
    assert.match(d.errors[1]!.message, /"messages" or "input"/);
    assert.match(d.errors[2]!.message, /relevant_ids/);
    assert.match(d.errors[3]!.message, /duplicate id "a"/);
    assert.match(d.errors[4]!.message, /regular expression/);
    assert.match(d.errors[5]!.message, /unknown_field/);
  });
});
