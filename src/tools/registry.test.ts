import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ToolRegistry, ToolError } from "./registry.js";
import type { Tool } from "./types.js";

const add: Tool = {
  definition: {
    name: "add",
    description: "adds two numbers",
    risk: "low",
    parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"], additionalProperties: false },
  },
  run: async (args) => {
    const { a, b } = args as { a: number; b: number };
    return { sum: a + b };
  },
};
const ctx = () => ({ signal: new AbortController().signal, tenant: "t" });

describe("ToolRegistry", () => {
  it("runs a valid call and returns its JSON content", async () => {
    const r = new ToolRegistry([add]);
    const res = await r.execute({ id: "c1", name: "add", arguments: { a: 1, b: 2 } }, ctx());
    assert.equal(res.ok, true);
    assert.deepEqual(res.value, { sum: 3 });
    assert.equal(res.content, '{"sum":3}');
  });

  it("reports unknown tools clearly", async () => {
    const r = new ToolRegistry([add]);
    assert.throws(() => r.validate("nope", {}), (e: unknown) => e instanceof ToolError && e.toolCode === "unknown_tool" && /unknown tool "nope".*add/.test(e.message));
    const res = await r.execute({ id: "c1", name: "nope", arguments: {} }, ctx());
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, "unknown_tool");
  });

  it("reports invalid arguments with the failing path", async () => {
    const r = new ToolRegistry([add]);
    const res = await r.execute({ id: "c1", name: "add", arguments: { a: "x", c: 1 } }, ctx());
    assert.equal(res.error?.code, "invalid_arguments");
    assert.match(res.error!.message, /\/a: must be number/);
    assert.match(res.error!.message, /unexpected property "c"/);
    assert.match(res.error!.message, /must have required property 'b'/);
    assert.throws(() => ToolRegistry.parseArguments("add", "{oops"), /not valid JSON/);
  });

  it("refuses duplicate names, bad names and bad schemas", () => {
    const r = new ToolRegistry([add]);
    assert.throws(() => r.register(add), /already registered/);
    assert.throws(() => r.register({ ...add, definition: { ...add.definition, name: "bad name" } }), /invalid tool name/);
    assert.throws(() => r.register({ ...add, definition: { ...add.definition, name: "x", parameters: { type: "nonsense" } } }), /invalid parameters schema/);
  });

  it("times out a slow tool and reports a failing tool", async () => {
    const slow: Tool = { definition: { name: "slow", description: "", risk: "low", parameters: { type: "object" }, timeoutMs: 30 }, run: () => new Promise(() => undefined) };
    const boom: Tool = { definition: { name: "boom", description: "", risk: "low", parameters: { type: "object" } }, run: async () => { throw new Error("kaput"); } };
    const r = new ToolRegistry([slow, boom]);
    const s = await r.execute({ id: "1", name: "slow", arguments: {} }, ctx());
    assert.equal(s.error?.code, "tool_timeout");
    const b = await r.execute({ id: "2", name: "boom", arguments: {} }, ctx());
    assert.equal(b.error?.code, "tool_failed");
    assert.match(b.content, /kaput/);
  });

  it("exposes OpenAI tool definitions", () => {
    const r = new ToolRegistry([add]);
    assert.deepEqual(r.openAITools()[0], { type: "function", function: { name: "add", description: "adds two numbers", parameters: add.definition.parameters } });
  });
});
