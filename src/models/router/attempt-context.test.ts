// The abort half of the CallContext contract, for both implementations: the
// router's AttemptContext (listeners in an array, signal built on demand) and
// signalCallContext (on a caller's AbortSignal).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { signalCallContext, type CallContext } from "../provider.js";
import { AttemptContext } from "./attempt-context.js";

const kinds: Array<[string, () => { ctx: CallContext; abort: (reason?: unknown) => void }]> = [
  ["AttemptContext", () => {
    const ctx = new AttemptContext(1_000, "r");
    return { ctx, abort: (reason) => ctx.abort(reason) };
  }],
  ["signalCallContext", () => {
    const c = new AbortController();
    return { ctx: signalCallContext(c.signal, 1_000, "r"), abort: (reason) => c.abort(reason) };
  }],
];

for (const [name, make] of kinds) {
  describe(`CallContext abort contract: ${name}`, () => {
    test("a listener hears the reason once; an unsubscribed one never", () => {
      const { ctx, abort } = make();
      const heard: unknown[] = [];
      const gone: unknown[] = [];
      ctx.onAbort((r) => heard.push(r));
      const stop = ctx.onAbort((r) => gone.push(r));
      stop();
      stop(); // twice is harmless
      const reason = new Error("timeout");
      abort(reason);
      abort(new Error("later"));
      assert.deepEqual(heard, [reason]);
      assert.deepEqual(gone, []);
    });

    test("after the abort: a new listener is called at once; the signal is aborted with the reason", () => {
      const { ctx, abort } = make();
      const reason = new Error("client left");
      abort(reason);
      let heard: unknown;
      const stop = ctx.onAbort((r) => (heard = r));
      assert.equal(heard, reason);
      stop();
      assert.equal(ctx.signal.aborted, true);
      assert.equal(ctx.signal.reason, reason);
    });

    test("a signal read before the abort aborts with it", () => {
      const { ctx, abort } = make();
      const signal = ctx.signal;
      let fired = 0;
      signal.addEventListener("abort", () => fired++);
      assert.equal(signal.aborted, false);
      abort(new Error("x"));
      assert.equal(signal.aborted, true);
      assert.equal(fired, 1);
      assert.equal(ctx.signal, signal, "one signal per context");
    });

    test("an abort without a reason is an AbortError, as AbortController's", () => {
      const { ctx, abort } = make();
      let heard: unknown;
      ctx.onAbort((r) => (heard = r));
      abort();
      assert.ok(heard instanceof DOMException && heard.name === "AbortError");
    });
  });
}

test("AttemptContext builds no AbortSignal unless asked", () => {
  const ctx = new AttemptContext(1_000, "r");
  ctx.onAbort(() => {});
  ctx.abort(new Error("x"));
  assert.equal((ctx as unknown as { controller?: AbortController }).controller, undefined);
});
