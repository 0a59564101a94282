// The stdout log sink: a line leaves at the end of the turn it was logged in
// (never held for more lines), a turn's lines leave together and in order, a
// turn that logs a lot writes before it ends, and lines logged just before
// process.exit() are not lost. Through real files and a real child process.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "./logger.js";
import { LogSink } from "./log-sink.js";

const dir = mkdtempSync(join(tmpdir(), "stratum-log-sink-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const turn = () => new Promise((r) => setImmediate(r));
const linesOf = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { msg: string; n?: number });

test("a turn's lines are written together at its end, in order; a quiet server's single line is not held back", async () => {
  const path = join(dir, "a.log");
  const log = createLogger("info", LogSink.to(path));
  log.info({ n: 1 }, "one");
  log.info({ n: 2 }, "two");
  log.warn({ n: 3 }, "three");
  assert.equal(readFileSync(path, "utf8"), "", "nothing is written during the turn");
  await turn();
  assert.deepEqual(linesOf(path).map((l) => l.msg), ["one", "two", "three"]);
  // One line on its own, as a server that sees a request a minute writes it.
  log.info("alone");
  await turn();
  assert.deepEqual(linesOf(path).map((l) => l.msg), ["one", "two", "three", "alone"]);
});

test("a turn that logs more than the pending bound writes before the turn ends", async () => {
  const path = join(dir, "b.log");
  const log = createLogger("info", LogSink.to(path));
  const text = "x".repeat(1000);
  for (let n = 0; n < 100; n++) log.info({ n, text }, "big");
  const before = linesOf(path).length;
  assert.ok(before >= 60 && before < 100, `written during the turn: ${before} of 100 lines`);
  await turn();
  assert.deepEqual(linesOf(path).map((l) => l.n), Array.from({ length: 100 }, (_, n) => n));
});

test("lines logged in the turn that calls process.exit() reach stdout", () => {
  const script = `
    import { createLogger } from "./src/ops/logger.ts";
    const log = createLogger("info");
    log.info({ step: 1 }, "before exit");
    log.error({ step: 2 }, "last words");
    process.exit(3);`;
  let out = "";
  try {
    execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: new URL("../..", import.meta.url).pathname, encoding: "utf8" });
  } catch (e) {
    const err = e as { status: number; stdout: string };
    assert.equal(err.status, 3);
    out = err.stdout;
  }
  const msgs = out.split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.deepEqual(msgs, ["before exit", "last words"]);
});
