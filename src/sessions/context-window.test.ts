import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isStratumError } from "../core/errors.js";
import { countPromptTokens } from "../models/index.js";
import type { ChatMessage, Tool } from "../protocol/openai.js";
import { fitContext, SUMMARY_PREFIX, type FitContextInput } from "./context-window.js";

const sys: ChatMessage = { role: "system", content: "You are a helpful assistant. Context: the relay listens on port 7000." };
const u = (content: string): ChatMessage => ({ role: "user", content });
const a = (content: string): ChatMessage => ({ role: "assistant", content });
const call = (...ids: string[]): ChatMessage => ({
  role: "assistant",
  content: null,
  tool_calls: ids.map((id) => ({ id, type: "function" as const, function: { name: "lookup", arguments: `{"id":"${id}"}` } })),
});
const result = (id: string, content = `result for ${id}`): ChatMessage => ({ role: "tool", tool_call_id: id, content });
const count = (messages: ChatMessage[], tools?: Tool[]) => countPromptTokens(tools ? { messages, tools } : { messages });

const history: ChatMessage[] = [
  u("How does the relay work?"),
  a("The relay forwards events over WebSockets to subscribers."),
  u("Is it encrypted?"),
  a("Yes, with TLS 1.3 on every hop."),
  u("Who maintains it?"),
  a("The platform team."),
];
const current = [u("Which port does it use?")];
const base = (over: Partial<FitContextInput> = {}): FitContextInput => ({
  system: [sys], history, current, contextTokens: 10_000, reserveOutputTokens: 100, strategy: "drop", ...over,
});

/** The invariants every result must hold. */
function checkInvariants(input: FitContextInput, r: Awaited<ReturnType<typeof fitContext>>): void {
  assert.equal(r.tokens, count(r.messages, input.tools), "tokens matches countPromptTokens");
  assert.ok(r.tokens + input.reserveOutputTokens <= input.contextTokens, `over budget: ${r.tokens}+${input.reserveOutputTokens} > ${input.contextTokens}`);
  assert.deepEqual(r.messages.slice(0, input.system.length), input.system);
  assert.deepEqual(r.messages.slice(-input.current.length || r.messages.length), input.current.length ? input.current : r.messages.slice(r.messages.length));
  const called = new Set<string>();
  const rest = r.messages.slice(input.system.length);
  for (const [i, m] of rest.entries()) {
    if (m.role === "assistant") for (const c of m.tool_calls ?? []) called.add(c.id);
    if (m.role === "tool") {
      assert.ok(called.has(m.tool_call_id), `orphan tool message at ${i}`);
      assert.ok(i > 0, "history starts with a tool message");
    }
  }
}

describe("fitContext", () => {
  test("empty history: system + current", async () => {
    const input = base({ history: [] });
    const r = await fitContext(input);
    assert.deepEqual(r.messages, [sys, ...current]);
    assert.equal(r.dropped, 0);
    assert.equal(r.summarized, 0);
    checkInvariants(input, r);
  });

  test("everything fits: nothing changes", async () => {
    const input = base();
    const r = await fitContext(input);
    assert.deepEqual(r.messages, [sys, ...history, ...current]);
    assert.equal(r.dropped, 0);
    checkInvariants(input, r);
  });

  test("exactly at the limit keeps everything; one token over drops the oldest", async () => {
    const full = count([sys, ...history, ...current]);
    const exact = base({ contextTokens: full + 100 });
    const r = await fitContext(exact);
    assert.equal(r.tokens, full);
    assert.equal(r.dropped, 0);
    const over = base({ contextTokens: full + 99 });
    const r2 = await fitContext(over);
    assert.equal(r2.dropped, 1);
    assert.deepEqual(r2.messages, [sys, ...history.slice(1), ...current]);
    assert.equal(r2.keptFrom, 1);
    checkInvariants(over, r2);
  });

  test("system + current exactly at the limit fits; one over is context_length_exceeded", async () => {
    const fixed = count([sys, ...current]);
    const r = await fitContext(base({ contextTokens: fixed + 100 }));
    assert.deepEqual(r.messages, [sys, ...current]);
    assert.equal(r.dropped, history.length);
    await assert.rejects(fitContext(base({ contextTokens: fixed + 99 })), (e) => {
      assert.ok(isStratumError(e));
      assert.equal(e.kind, "InvalidRequest");
      assert.equal(e.code, "context_length_exceeded");
      assert.match(e.message, new RegExp(`${fixed}.*100.*${fixed + 99}`));
      return true;
    });
  });

  test("a huge current message is refused, never truncated silently", async () => {
    const huge = [u("word ".repeat(20_000))];
    await assert.rejects(fitContext(base({ current: huge })), (e) => isStratumError(e) && e.code === "context_length_exceeded");
  });

  test("a huge old message is dropped with everything older; newer turns stay", async () => {
    const h = [u("first"), a("lorem ipsum ".repeat(5_000)), u("second"), a("answer")];
    const input = base({ history: h, contextTokens: 2_000 });
    const r = await fitContext(input);
    assert.deepEqual(r.messages, [sys, u("second"), a("answer"), ...current]);
    assert.equal(r.dropped, 2);
    assert.equal(r.keptFrom, 2);
    checkInvariants(input, r);
  });

  test("declared tools count against the budget", async () => {
    const tools: Tool[] = [{ type: "function", function: { name: "lookup", description: "Looks things up ".repeat(20), parameters: { type: "object" } } }];
    const full = count([sys, ...history, ...current], tools);
    const r = await fitContext(base({ tools, contextTokens: full + 100 }));
    assert.equal(r.dropped, 0);
    assert.equal(r.tokens, full);
    const r2 = await fitContext(base({ tools, contextTokens: full + 99 }));
    assert.equal(r2.dropped, 1);
  });

  describe("tool calls", () => {
    const h: ChatMessage[] = [
      u("Look up A and B"),
      call("c1", "c2"),
      result("c1"),
      result("c2", "x".repeat(400)),
      a("A is 1 and B is 2."),
      u("thanks"),
      a("You're welcome."),
    ];

    test("a call and its results are kept or dropped as one unit at every budget", async () => {
      const full = count([sys, ...h, ...current]);
      const fixed = count([sys, ...current]);
      const seen = new Set<number>();
      for (let ctx = fixed + 100; ctx <= full + 100; ctx++) {
        const input = base({ history: h, contextTokens: ctx });
        const r = await fitContext(input);
        checkInvariants(input, r);
        const kept = r.messages.length - 2;
        seen.add(kept);
        // The unit [call, result, result] is never split: 2 or 1 kept of it is impossible.
        assert.ok(![4, 5].includes(kept), `split the tool unit: kept ${kept}`);
        assert.equal(r.dropped + kept, h.length);
      }
      assert.deepEqual([...seen].sort((x, y) => x - y), [0, 1, 2, 3, 6, 7]);
    });

    test("an orphan tool message (its call pruned) is dropped, never leading the history", async () => {
      const input = base({ history: [result("gone"), a("So that was it."), u("ok")] });
      const r = await fitContext(input);
      assert.deepEqual(r.messages, [sys, a("So that was it."), u("ok"), ...current]);
      assert.equal(r.dropped, 1);
      checkInvariants(input, r);
    });

    test("a call missing one of its results is dropped (upstreams reject it)", async () => {
      const input = base({ history: [u("go"), call("c1", "c2"), result("c1"), a("done"), u("next")] });
      const r = await fitContext(input);
      assert.deepEqual(r.messages, [sys, u("go"), a("done"), u("next"), ...current]);
      assert.equal(r.dropped, 2);
      checkInvariants(input, r);
    });

    test("a trailing call answered by the current turn is pinned to it", async () => {
      const cur = [result("c9", "42")];
      const hist = [u("lorem ipsum ".repeat(200)), u("What is the answer?"), call("c9")];
      const fixed = count([sys, call("c9"), ...cur]);
      const input = base({ history: hist, current: cur, contextTokens: fixed + 100 });
      const r = await fitContext(input);
      assert.deepEqual(r.messages, [sys, call("c9"), ...cur]);
      assert.equal(r.dropped, 2);
      assert.equal(r.keptFrom, 2);
      checkInvariants(input, r);
      await assert.rejects(fitContext({ ...input, contextTokens: fixed + 99 }), (e) => isStratumError(e) && e.code === "context_length_exceeded");
    });
  });

  describe("summaries", () => {
    const long = [
      u("Early question " + "alpha ".repeat(200)),
      a("Early answer " + "beta ".repeat(200)),
      ...history,
      u("And the roadmap? " + "details ".repeat(300)),
      a("Roadmap: " + "items ".repeat(300)),
    ];
    // Room for the two newest turns and a little more: older turns must go.
    const tight = count([sys, ...long.slice(-2), ...current]) + 100 + 30;

    test("an earlier summary is included after the system messages when it fits", async () => {
      const input = base({ summary: "They discussed relays." });
      const r = await fitContext(input);
      assert.deepEqual(r.messages[1], { role: "system", content: SUMMARY_PREFIX + "They discussed relays." });
      assert.equal(r.summary, "They discussed relays.");
      assert.equal(r.summarized, 0);
      checkInvariants(input, r);
    });

    test("summarize condenses the dropped turns into one message that fits", async () => {
      let prompt: ChatMessage[] = [];
      const input = base({
        history: long,
        contextTokens: tight + 420,
        strategy: "summarize",
        summary: "Older: the user is called Ana.",
        summarize: async (m) => {
          prompt = m;
          return "  The user asked how the relay works (WebSockets, TLS 1.3).  ";
        },
      });
      const r = await fitContext(input);
      checkInvariants(input, r);
      assert.equal(r.summary, "The user asked how the relay works (WebSockets, TLS 1.3).");
      assert.deepEqual(r.messages[1], { role: "system", content: SUMMARY_PREFIX + r.summary });
      assert.ok(r.summarized > 0);
      assert.equal(r.summarized, r.keptFrom);
      assert.equal(r.dropped, 0);
      assert.deepEqual(r.messages.slice(2, -1), long.slice(r.keptFrom));
      const text = String(prompt[1]!.content);
      assert.match(text, /Older: the user is called Ana/);
      assert.match(text, /user: Early question alpha/);
      assert.match(text, /assistant: Early answer beta/);
      assert.equal(r.keptFrom, 2);
      assert.doesNotMatch(text, /How does the relay work/, "kept turns are not summarised");
      assert.equal(prompt[0]!.role, "system");
    });

    for (const [name, summarize, reason] of [
      ["throws", async () => { throw new Error("upstream down"); }, "summarize_failed"],
      ["returns nothing", async () => "   ", "summarize_failed"],
      ["is too long", async () => "blah ".repeat(5_000), "summary_too_long"],
    ] as const) {
      test(`falls back to dropping when the summariser ${name}`, async () => {
        const input = base({ history: long, contextTokens: tight, strategy: "summarize", summarize });
        const r = await fitContext(input);
        checkInvariants(input, r);
        assert.equal(r.fallback?.reason, reason);
        assert.equal(r.summarized, 0);
        assert.equal(r.summary, undefined);
        assert.ok(r.dropped > 0);
        const dropOnly = await fitContext({ ...input, strategy: "drop" });
        assert.deepEqual(r.messages, dropOnly.messages);
      });
    }

    test("never exceeds the budget at any size, summarising or not", async () => {
      const fixed = count([sys, ...current]);
      const full = count([sys, ...long, ...current]);
      for (let ctx = fixed + 100; ctx <= full + 150; ctx += 7) {
        for (const summary of [undefined, "Earlier: greetings."]) {
          const input = base({ history: long, contextTokens: ctx, strategy: "summarize", summarize: async () => "A short recap of the talk.", ...(summary ? { summary } : {}) });
          const r = await fitContext(input);
          checkInvariants(input, r);
          assert.equal(r.dropped + r.summarized + (r.messages.length - 2 - (r.summary ? 1 : 0)), long.length);
        }
      }
    });

    test("summarize without a summariser drops and says so", async () => {
      const r = await fitContext(base({ history: long, contextTokens: tight, strategy: "summarize" }));
      assert.equal(r.fallback?.reason, "no_summarizer");
    });

    test("no summariser call when nothing needs dropping", async () => {
      const r = await fitContext(base({ strategy: "summarize", summarize: async () => assert.fail("called") }));
      assert.equal(r.summarized, 0);
      assert.equal(r.dropped, 0);
    });
  });
});
