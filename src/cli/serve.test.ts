// `stratum serve` as a real process: first-start admin key, embedded
// defaults, and SIGTERM draining in-flight streams before exit.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, startSim } from "../testing/harness.js";
import { spawnServer as serve } from "../testing/server-process.js";

describe("stratum serve", () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill("SIGKILL");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("first start prints a generated admin key once; it works; a restart keeps it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stratum-serve-"));
    dirs.push(dataDir);
    const first = await serve({ STRATUM_DATA_DIR: dataDir, STRATUM_API_KEY: "" });
    children.push(first.child);
    const key = /(sk-stratum-[A-Za-z0-9_-]+)/.exec(first.stderr())?.[1];
    assert.ok(key, "admin key printed");
    const models = await fetch(`${first.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(models.status, 200);
    const ids = ((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    assert.deepEqual(ids.sort(), ["assistant", "extractive", "sim"]);
    // Its request log line reaches stdout at once, not when more lines have gathered.
    const logged = () => first.stdout().split("\n").some((l) => l.includes('"route":"/v1/models"') && l.includes('"msg":"request"'));
    assert.ok(await eventually(logged, 2000, "the request line").catch(() => false), `request line on stdout: ${first.stdout().slice(-500)}`);
    // The bundled docs were ingested on first start: the assistant answers with citations.
    const asked = await fetch(`${first.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "assistant", messages: [{ role: "user", content: "How do I add a provider?" }] }),
    });
    assert.equal(asked.status, 200);
    const answer = (await asked.json()) as { choices: Array<{ message: { content: string } }>; stratum: { citations: Array<{ source: string }> } };
    assert.ok(answer.stratum.citations.length > 0, answer.choices[0]!.message.content);
    assert.match(answer.choices[0]!.message.content, /\[\d+\]/);
    first.child.kill("SIGTERM");
    assert.equal(await first.exited, 0);

    const second = await serve({ STRATUM_DATA_DIR: dataDir, STRATUM_API_KEY: "" });
    children.push(second.child);
    assert.ok(!/sk-stratum-/.test(second.stderr()), "no new key printed on restart");
    assert.equal((await fetch(`${second.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
    second.child.kill("SIGTERM");
    assert.equal(await second.exited, 0);
  });

  test("SIGTERM drains an in-flight stream to completion, refuses new work, then exits 0", async () => {
    const sim = await startSim({ tokensPerSecond: 40, outputTokens: 40 }); // ~1 s stream
    const dataDir = mkdtempSync(join(tmpdir(), "stratum-drain-"));
    dirs.push(dataDir);
    const cfg = join(dataDir, "stratum.config.json");
    writeFileSync(cfg, JSON.stringify({ providers: { up: { type: "openai", baseUrl: `${sim.url}/v1` } }, models: [{ name: "slow", deployments: [{ provider: "up" }] }] }));
    const key = "sk-stratum-drain-test-key";
    const srv = await serve({ STRATUM_DATA_DIR: dataDir, STRATUM_API_KEY: key }, ["--config", cfg]);
    children.push(srv.child);
    try {
      const res = await fetch(`${srv.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "slow", stream: true, messages: [{ role: "user", content: "go" }] }),
      });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.ok(!first.done);
      srv.child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 150));
      // New work is refused while draining (connection refused, or 503 on a kept-alive socket).
      const refused = await fetch(`${srv.url}/readyz`).then(
        (r) => r.status,
        () => "refused",
      );
      assert.ok(refused === "refused" || refused === 503, `new request during drain: ${refused}`);
      let body = new TextDecoder().decode(first.value);
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        body += new TextDecoder().decode(r.value);
      }
      assert.ok(body.endsWith("data: [DONE]\n\n"), "stream completed");
      assert.match(body, /"finish_reason":"stop"/);
      assert.equal(await srv.exited, 0);
    } finally {
      await sim.close();
    }
  });
});
