// Step lists are checked at start: every mistake names its field path.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./index.js";
import { parseCondition } from "./step-condition.js";

/** The issues of a config with one step pipeline, or [] when it is valid. */
function issues(steps: unknown[], extra: Record<string, unknown> = {}): string[] {
  try {
    parseConfig({ models: [{ name: "fast", deployments: [{ provider: "sim" }] }], pipelines: [{ name: "p", route: "fast", steps, ...extra }] });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
}

const answer = { id: "answer", type: "answer" };

describe("pipeline steps config", () => {
  test("a well-formed list with branches, labels and a bounded loop is accepted", () => {
    assert.deepEqual(
      issues([
        { id: "rewrite", type: "rewrite", route: "fast", budget: { ms: 3000 }, fallback: "skip", maxVisits: 2 },
        { id: "search", type: "retrieve", k: 6 },
        { id: "retry", type: "branch", when: [{ if: "retrieval.hits == 0 and rewrite.changed", goto: "rewrite" }] },
        { id: "gate", type: "branch", when: [{ if: "retrieval.confidence < 0.2", goto: "abstain" }] },
        { id: "classify", type: "classify", keywords: { billing: ["invoice"] }, labels: ["billing", "other"] },
        { id: "by_label", type: "branch", when: [{ if: "classify.label == 'billing'", goto: "billing" }] },
        { id: "answer", type: "answer", budget: { ms: 20000, tokens: 800 }, fallback: "extractive" },
        { id: "verify", type: "verify_grounding", min: 0.6, onFail: { retryStricter: "answer", then: "extractive" }, next: "end" },
        { id: "billing", type: "answer", route: "extractive", next: "verify" },
      ]),
      [],
    );
  });

  test("an unknown goto target names the field", () => {
    const out = issues([{ id: "gate", type: "branch", when: [{ if: "retrieval.confidence < 0.2", goto: "nowhere" }] }, { id: "search", type: "retrieve" }, answer]);
    assert.ok(out.some((i) => i.startsWith("pipelines[0].steps[0].when[0].goto: unknown step \"nowhere\"")), out.join("\n"));
  });

  test("a cycle without a bound is refused; maxVisits on one of its steps allows it", () => {
    const loop = (maxVisits?: number) => [
      { id: "search", type: "retrieve", ...(maxVisits ? { maxVisits } : {}) },
      { id: "again", type: "branch", when: [{ if: "retrieval.hits == 0", goto: "search" }] },
      answer,
    ];
    const out = issues(loop());
    assert.ok(out.some((i) => i.startsWith("pipelines[0].steps[1].when[0].goto:") && /cycle \(search → again → search\) with no bound/.test(i)), out.join("\n"));
    assert.deepEqual(issues(loop(3)), []);
    const viaNext = issues([{ id: "a", type: "retrieve", next: "b" }, { id: "b", type: "retrieve", next: "a" }, answer]);
    assert.ok(viaNext.some((i) => i.startsWith("pipelines[0].steps[1].next:") && /cycle/.test(i)), viaNext.join("\n"));
  });

  test("an unknown route names the step's route field", () => {
    const out = issues([{ id: "search", type: "retrieve" }, { id: "answer", type: "answer", route: "gpt-9" }]);
    assert.deepEqual(out, ['pipelines[0].steps[1].route: unknown model alias "gpt-9"']);
  });

  test("unknown condition variables, fields, labels and bad syntax name the condition", () => {
    const base = [{ id: "search", type: "retrieve" }, { id: "kind", type: "classify", route: "fast", labels: ["billing", "other"] }];
    const cond = (expr: string) => issues([...base, { id: "b", type: "branch", when: [{ if: expr, goto: "end" }] }, answer]);
    assert.match(cond("weather.today > 3").join(), /steps\[2\]\.when\[0\]\.if: unknown condition variable "weather\.today"/);
    assert.match(cond("retrieval.colour == 'red'").join(), /steps\[2\]\.when\[0\]\.if: unknown condition variable "retrieval\.colour" \(retrieve steps set confidence, hits\)/);
    assert.match(cond("grounding.score < 0.5").join(), /"grounding\.score": no verify_grounding step sets it/);
    assert.match(cond("kind.label == 'biling'").join(), /"biling" is not a label of kind \(labels: billing, other\)/);
    assert.match(cond("retrieval.confidence <").join(), /steps\[2\]\.when\[0\]\.if: the condition ends where a value was expected/);
    assert.match(cond("process.exit(1)").join(), /unexpected "\(" after a complete condition/);
    assert.match(cond("retrieval.hits; 1").join(), /unexpected character/);
  });

  test("fallbacks and step references are checked against the step's type", () => {
    assert.match(issues([{ id: "answer", type: "answer", fallback: "skip" }]).join(), /steps\[0\]\.fallback: an answer step cannot be skipped/);
    assert.match(issues([{ id: "s", type: "retrieve", fallback: "extractive" }, answer]).join(), /steps\[0\]\.fallback: extractive is a fallback of answer steps only/);
    assert.match(issues([{ id: "s", type: "retrieve", fallback: "retry" }, answer]).join(), /steps\[0\]\.fallback: "retry" is neither a step id nor one of skip, abstain, fail/);
    assert.match(issues([{ id: "s", type: "retrieve" }, answer, { id: "v", type: "verify_grounding", onFail: { retryStricter: "s" } }]).join(), /steps\[2\]\.onFail\.retryStricter: "s" is not an answer step/);
    assert.match(issues([{ id: "s", type: "retrieve" }, { id: "s", type: "answer" }]).join(), /steps\[1\]\.id: duplicate step id "s"/);
    assert.match(issues([{ id: "c", type: "classify", labels: ["a", "b"] }, answer]).join(), /steps\[0\]\.keywords: a classify step needs a route/);
    assert.match(issues([{ id: "s", type: "retrieve" }]).join(), /pipelines\[0\]\.steps: a step list needs at least one answer/);
    assert.match(issues([{ id: "s", type: "teleport" }, answer]).join(), /pipelines\[0\]\.steps\[0\]\.type/);
    assert.match(issues([answer], { tools: { builtins: ["document_search"] } }).join(), /pipelines\[0\]\.tools: tools are not available in step pipelines/);
  });

  test("the condition parser builds a tree and never evaluates code", () => {
    const p = parseCondition("not (classify.label == 'billing' || retrieval.confidence >= 0.5) and guardrail.flagged");
    assert.ok(p.ok);
    assert.deepEqual(p.vars.sort(), ["classify.label", "guardrail.flagged", "retrieval.confidence"]);
    for (const bad of ["", "a.b ==", "(a.b", "a.b == 1 2", "constructor", "`x`", "a.b = 1"]) assert.equal(parseCondition(bad).ok, false, bad);
    assert.equal(parseCondition("x".repeat(501)).ok, false);
  });
});
