import { test } from "node:test";
import assert from "node:assert/strict";
import { jsonTextOf, keepJsonText } from "./raw-json.js";

test("the kept text stays with the object and never travels to a copy", () => {
  const text = '{ "id":"c1", "choices":[{"delta":{"content":"\\u00e9"}}] }';
  const chunk = JSON.parse(text) as { id: string; choices: unknown[] };
  keepJsonText(chunk, text);
  assert.equal(jsonTextOf(chunk), text);
  // Invisible to everything that looks at the chunk's data.
  assert.deepStrictEqual(chunk, JSON.parse(text));
  assert.deepStrictEqual(Object.keys(chunk), ["id", "choices"]);
  assert.equal(JSON.stringify(chunk), JSON.stringify(JSON.parse(text)));
  // A changed copy (how stages change chunks) has no text: it is serialised, not re-sent.
  assert.equal(jsonTextOf({ ...chunk, id: "c2" }), undefined);
  assert.equal(jsonTextOf(structuredClone(chunk)), undefined);
  assert.equal(jsonTextOf(JSON.parse(text) as object), undefined);
});

test("registering again replaces the text", () => {
  const chunk = JSON.parse('{"a":1}') as object;
  keepJsonText(chunk, '{"a":1}');
  keepJsonText(chunk, '{"a": 1}');
  assert.equal(jsonTextOf(chunk), '{"a": 1}');
  assert.deepStrictEqual(Object.getOwnPropertySymbols(chunk), []);
});
