import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChatMessage } from "../protocol/openai.js";
import { condenseQuery, looksLikeFollowUp } from "./condense-query.js";

const relay: ChatMessage[] = [
  { role: "user", content: "How does the relay work?" },
  { role: "assistant", content: "The relay forwards events over WebSockets to every subscriber of a channel." },
];

describe("condenseQuery: rule", () => {
  test("a pronoun follow-up gets the previous topic appended", async () => {
    const q = await condenseQuery(relay, "which port does it use?");
    assert.match(q, /^which port does it use\?/);
    assert.match(q, /\bport\b/);
    assert.match(q, /\brelay\b/);
    assert.match(q, /WebSockets/, "a proper noun from the answer is salient");
    assert.doesNotMatch(q, /\b(the|over|does)\b.*\b(the|over)\b/, "no stopwords appended");
  });

  test("the previous question outranks the answer", async () => {
    const history: ChatMessage[] = [
      { role: "user", content: "What is the billing cycle for enterprise invoices?" },
      { role: "assistant", content: "Invoices are issued monthly; annual contracts are invoiced upfront. " + "Extra filler words appear here. ".repeat(30) },
    ];
    const q = await condenseQuery(history, "and for startups?");
    const added = q.slice("and for startups?".length).trim().split(" ");
    assert.deepEqual(added.slice(0, 4).sort(), ["billing", "cycle", "enterprise", "invoices"]);
    assert.ok(added.length <= 6);
  });

  test("openers like 'what about' mark a follow-up; words already asked are not repeated", async () => {
    const q = await condenseQuery(relay, "What about the relay latency in Europe?");
    assert.equal(q.match(/relay/gi)?.length, 1);
    assert.match(q, /WebSockets/);
  });

  test("a standalone question is returned unchanged", async () => {
    const q = await condenseQuery(relay, "What are the PostgreSQL connection pool settings for production deployments?");
    assert.equal(q, "What are the PostgreSQL connection pool settings for production deployments?");
  });

  test("no history: the question itself", async () => {
    assert.equal(await condenseQuery([], "  which port does it use?  "), "which port does it use?");
    assert.equal(await condenseQuery([{ role: "system", content: "be nice" }], "it?"), "it?");
  });

  test("detects follow-ups", () => {
    assert.ok(looksLikeFollowUp("and Windows?"));
    assert.ok(looksLikeFollowUp("How about the second option they mentioned?"));
    assert.ok(looksLikeFollowUp("Can you explain those configuration settings in more detail please?"));
    assert.ok(!looksLikeFollowUp("How do I rotate API keys for the production tenant?"));
  });

  test("the result is capped", async () => {
    const q = await condenseQuery(relay, "it " + "word ".repeat(400), { maxChars: 100 });
    assert.ok(q.length <= 100);
  });
});

describe("condenseQuery: llm", () => {
  test("asks for a standalone rewrite and returns it trimmed", async () => {
    let seen: ChatMessage[] = [];
    const q = await condenseQuery(relay, "which port does it use?", {
      llm: async (m) => {
        seen = m;
        return '  Query: "Which port does the relay use?"\n';
      },
    });
    assert.equal(q, "Which port does the relay use?");
    assert.equal(seen[0]!.role, "system");
    assert.match(String(seen[0]!.content), /standalone search query/);
    assert.match(String(seen[1]!.content), /How does the relay work\?/);
    assert.match(String(seen[1]!.content), /Follow-up question: which port does it use\?/);
  });

  for (const [name, llm] of [
    ["throws", async () => { throw new Error("route down"); }],
    ["returns empty", async () => "   \n  "],
    ["rambles", async () => "Sure! " + "Here is a long explanation. ".repeat(40)],
  ] as const) {
    test(`falls back to the rule when the model ${name}`, async () => {
      const q = await condenseQuery(relay, "which port does it use?", { llm });
      assert.match(q, /^which port does it use\? .*relay/);
    });
  }

  test("the model is not called without history", async () => {
    const q = await condenseQuery([], "which port?", { llm: async () => assert.fail("called") });
    assert.equal(q, "which port?");
  });
});
