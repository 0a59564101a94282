import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createLogger } from "./logger.js";

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger("info", sink), lines };
}

test("secret keys are censored at the top level and one object down; the caller's object is unchanged", async () => {
  const { log, lines } = capture();
  const headers = { authorization: "Bearer sk-live-123", accept: "text/plain" };
  const provider = { baseUrl: "http://up", apiKey: "sk-up-456" };
  const fields = { key: "sk-789", apiKey: "sk-000", headers, provider, reqId: "r1", n: 3 };
  log.info(fields, "with secrets");
  await new Promise((r) => setImmediate(r));
  const line = lines.find((l) => l.msg === "with secrets")!;
  assert.equal(line.key, "[redacted]");
  assert.equal(line.apiKey, "[redacted]");
  assert.deepEqual(line.headers, { authorization: "[redacted]", accept: "text/plain" });
  assert.deepEqual(line.provider, { baseUrl: "http://up", apiKey: "[redacted]" });
  assert.equal(line.reqId, "r1");
  assert.equal(line.n, 3);
  assert.doesNotMatch(JSON.stringify(lines), /sk-(live|up|789|000)/);
  // Nothing the caller holds was changed.
  assert.equal(headers.authorization, "Bearer sk-live-123");
  assert.equal(provider.apiKey, "sk-up-456");
  assert.equal(fields.key, "sk-789");
});

test("lines without secrets, errors and arrays pass through whole", async () => {
  const { log, lines } = capture();
  log.info({ reqId: "r2", status: 200, models: ["a", "b"] }, "request");
  log.error({ err: new Error("upstream broke") }, "failed");
  await new Promise((r) => setImmediate(r));
  const request = lines.find((l) => l.msg === "request")!;
  assert.deepEqual(request.models, ["a", "b"]);
  assert.equal(request.status, 200);
  const failed = lines.find((l) => l.msg === "failed")!;
  assert.equal((failed.err as { message: string }).message, "upstream broke");
  assert.equal(typeof (failed.err as { stack: string }).stack, "string");
});
