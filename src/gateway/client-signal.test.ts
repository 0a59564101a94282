// The client's abort signal is per connection: a client that leaves aborts
// its request's upstream call; keep-alive requests on one connection share the
// signal without one request's end aborting the next.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "node:net";
import { Agent, request } from "undici";
import { eventually, simProvider, startSim, startTestServer } from "../testing/harness.js";
import { connectionSignal } from "./client-signal.js";

const body = (model: string) => JSON.stringify({ model, messages: [{ role: "user", content: "hello there" }] });

describe("client signal", () => {
  test("a client that leaves before a JSON answer aborts the upstream call at once", async () => {
    const slow = await startSim({ ttftMs: 5_000 });
    const srv = await startTestServer({ providers: { slow: simProvider(slow) }, models: [{ name: "slow", deployments: [{ provider: "slow" }], extractiveFallback: false }], cache: { enabled: false } });
    try {
      const ac = new AbortController();
      const pending = fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" }, body: body("slow"), signal: ac.signal });
      await eventually(() => slow.stats().inFlight === 1, 3_000, "upstream call started");
      const t0 = performance.now();
      ac.abort();
      await assert.rejects(pending);
      await eventually(() => slow.stats().inFlight === 0, 3_000, "upstream released after the client left");
      assert.ok(performance.now() - t0 < 2_000, "released long before the upstream would have answered");
    } finally {
      await srv.close();
      await slow.close();
    }
  });

  test("keep-alive requests on one connection all complete: the signal outlives each request unaborted", async () => {
    const up = await startSim();
    const srv = await startTestServer({ providers: { up: simProvider(up) }, models: [{ name: "m", deployments: [{ provider: "up" }], extractiveFallback: false }], cache: { enabled: false } });
    const agent = new Agent({ connections: 1, pipelining: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await request(`${srv.url}/v1/chat/completions`, { method: "POST", dispatcher: agent, headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" }, body: body("m") });
        assert.equal(res.statusCode, 200);
        const json = (await res.body.json()) as { choices: Array<{ message: { content: string } }>; stratum: { served_by: string } };
        assert.ok(json.choices[0]!.message.content.length > 0);
      }
      assert.equal(up.stats().chat, 5, "every request reached the upstream (none failed over or was cut)");
    } finally {
      await agent.close();
      await srv.close();
      await up.close();
    }
  });

  test("one signal per socket, aborted with client_closed when the socket closes (or already closed)", async () => {
    const socket = new Socket();
    const signal = connectionSignal(socket);
    assert.equal(connectionSignal(socket), signal);
    assert.equal(signal.aborted, false);
    socket.destroy();
    await eventually(() => signal.aborted, 1_000, "aborted on close");
    assert.equal((signal.reason as { code?: string }).code, "client_closed");
    assert.equal(connectionSignal(new Socket().destroy()).aborted, true);
  });
});
