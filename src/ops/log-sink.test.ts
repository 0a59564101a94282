// The stdout log sink: lines gather for a few milliseconds and leave together,
// in order; a lone line is not held for more to come; a burst beyond the
// pending bound is written at once; lines logged just before process.exit()
// are not lost. Through real files and a real child process.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../testing/eventually.js";
import { createLogger } from "./logger.js";
import { LogSink } from "./log-sink.js";

const dir = mkdtempSync(join(tmpdir(), "stratum-log-sink-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const turn = () => new Promise((r) => setImmediate(r));
/** The lines in `path` once it holds at least `n` (or after 2 s, what it holds). */
const waitForLines = (path: string, n: number) => eventually(() => linesOf(path).length >= n, 2000).then(() => linesOf(path), () => linesOf(path));
const linesOf = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { msg: string; n?: number });

test("lines gather briefly and are written together, in order; a quiet server's single line is not held back", async () => {
  const path = join(dir, "a.log");
  const log = createLogger("info", LogSink.to(path));
  log.info({ n: 1 }, "one");
  await turn();
  log.info({ n: 2 }, "two");
  log.warn({ n: 3 }, "three");
  assert.equal(readFileSync(path, "utf8"), "", "nothing is written at once");
  const started = Date.now();
  assert.deepEqual((await waitForLines(path, 1)).map((l) => l.msg), ["one", "two", "three"], "all three in one write");
  assert.ok(Date.now() - started < 1000);
  // One line on its own, as a server that sees a request a minute writes it.
  log.info("alone");
  assert.deepEqual((await waitForLines(path, 4)).map((l) => l.msg), ["one", "two", "three", "alone"]);
});

test("a burst beyond the pending bound is written at once", async () => {
  const path = join(dir, "b.log");
  const log = createLogger("info", LogSink.to(path));
  const text = "x".repeat(1000);
  for (let n = 0; n < 100; n++) log.info({ n, text }, "big");
  const before = linesOf(path).length;
  assert.ok(before > 0 && before < 100, `written at once: ${before} of 100 lines`);
  assert.deepEqual((await waitForLines(path, 100)).map((l) => l.n), Array.from({ length: 100 }, (_, n) => n));
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
