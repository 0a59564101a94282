import { test } from "node:test";
import assert from "node:assert/strict";
import { PiiDetector, redact, restore } from "./index.js";

const d = new PiiDetector();

test("redact → restore round trip, same value same placeholder", () => {
  const text = "Email jane@example.com or jane@example.com, card 4111 1111 1111 1111, backup bob@example.org.";
  const { text: red, mapping } = redact(text, d.detect(text), { reversible: true });
  assert.equal(red, "Email [EMAIL_1] or [EMAIL_1], card [CREDIT_CARD_1], backup [EMAIL_2].");
  assert.equal(mapping.get("[EMAIL_1]"), "jane@example.com");
  assert.equal(mapping.size, 3);
  assert.equal(restore(red, mapping), text);
});

test("restore leaves mangled or invented placeholders alone", () => {
  const text = "write to jane@example.com";
  const { mapping } = redact(text, d.detect(text), { reversible: true });
  const reply = "Sent to [EMAIL_1]; also tried [EMAIL_7], [EMAIL 1] and [email_1].";
  assert.equal(restore(reply, mapping), "Sent to jane@example.com; also tried [EMAIL_7], [EMAIL 1] and [email_1].");
});

test("non-reversible redaction keeps no values", () => {
  const text = "a@example.com b@example.com a@example.com";
  const { text: red, mapping } = redact(text, d.detect(text));
  assert.equal(red, "[EMAIL_1] [EMAIL_2] [EMAIL_1]");
  assert.equal(mapping.size, 0);
});

test("a conversation continues numbering with an earlier mapping", () => {
  const first = redact("mail a@example.com", d.detect("mail a@example.com"), { reversible: true });
  const t2 = "now b@example.com and a@example.com";
  const second = redact(t2, d.detect(t2), { reversible: true, mapping: first.mapping });
  assert.equal(second.text, "now [EMAIL_2] and [EMAIL_1]");
  assert.equal(restore(second.text, second.mapping), t2);
});

test("overlapping and span-less findings are handled", () => {
  const text = "0123456789";
  const { text: red } = redact(text, [
    { detector: "x", type: "A", start: 0, end: 6, score: 1 },
    { detector: "x", type: "B", start: 4, end: 8, score: 1 },
    { detector: "x", type: "C", score: 1 },
  ], { reversible: true });
  assert.equal(red, "[A_1]6789");
});
