// The `tools.mcp` config: what is accepted, what is refused with a clear path
// and message, and how MCP risks count for approvals.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../config/index.js";
import { toolsNeedApproval, type ConfigInput } from "../../config/schema.js";
import { mcpServerSpecs } from "../../pipelines/index.js";

function withMcp(mcp: unknown[], extra: Record<string, unknown> = {}): ConfigInput {
  return { pipelines: [{ name: "agent", tools: { mcp, ...extra } }] } as unknown as ConfigInput;
}

describe("tools.mcp config", () => {
  test("stdio and http servers parse; env references are resolved into the server specs", () => {
    process.env.STRATUM_MCP_TEST_TOKEN = "s3cret";
    try {
      const cfg = parseConfig(
        withMcp([
          { name: "fs", transport: "stdio", command: "mcp-fs", args: ["--root", "/srv"], env: { TOKEN: "${STRATUM_MCP_TEST_TOKEN}", MODE: "ro" }, risk: "low" },
          { name: "crm", transport: "http", url: "https://crm.example.com/mcp", headers: { authorization: { env: "STRATUM_MCP_TEST_TOKEN" } }, risk: "high", allow: ["create_lead"] },
        ]),
      );
      const tools = cfg.pipelines[0]!.tools!;
      assert.equal(tools.mcp[0]!.timeoutMs, 30_000);
      assert.equal(toolsNeedApproval(tools), true, "a high-risk MCP server needs approvals");
      const specs = mcpServerSpecs(tools.mcp);
      assert.deepEqual(specs[0], { name: "fs", risk: "low", timeoutMs: 30_000, transport: "stdio", command: "mcp-fs", args: ["--root", "/srv"], env: { TOKEN: "s3cret", MODE: "ro" } });
      assert.deepEqual(specs[1], { name: "crm", risk: "high", timeoutMs: 30_000, allow: ["create_lead"], transport: "http", url: "https://crm.example.com/mcp", headers: { authorization: "s3cret" } });
    } finally {
      delete process.env.STRATUM_MCP_TEST_TOKEN;
    }
  });

  test("low and medium risks stay under the default threshold", () => {
    const cfg = parseConfig(withMcp([{ name: "a", transport: "stdio", command: "x", risk: "medium" }]));
    assert.equal(toolsNeedApproval(cfg.pipelines[0]!.tools), false);
    const strict = parseConfig(withMcp([{ name: "a", transport: "stdio", command: "x", risk: "medium" }], { approvalThreshold: "low" }));
    assert.equal(toolsNeedApproval(strict.pipelines[0]!.tools), true);
  });

  test("malformed entries are refused with the field named", () => {
    const bad: Array<[unknown[], RegExp]> = [
      [[{ name: "a", transport: "stdio", risk: "low" }], /command/],
      [[{ name: "a", transport: "ftp", url: "ftp://x", risk: "low" }], /transport/],
      [[{ name: "a__b", transport: "stdio", command: "x", risk: "low" }], /MCP server names/],
      [[{ name: "a", transport: "http", url: "file:///etc/passwd", risk: "low" }], /url/],
      [[{ name: "a", transport: "http", url: "https://x.example", risk: "extreme" }], /risk/],
      [[{ name: "a", transport: "stdio", command: "x", risk: "low" }, { name: "a", transport: "stdio", command: "y", risk: "low" }], /unique/],
      [[{ name: "a", transport: "stdio", command: "x", risk: "low", env: { K: "${STRATUM_MCP_UNSET_VAR}" } }], /environment variable STRATUM_MCP_UNSET_VAR is not set/],
      [[{ name: "a", transport: "stdio", command: "x", risk: "low", shell: true }], /shell|unrecognized/i],
    ];
    for (const [mcp, re] of bad) assert.throws(() => parseConfig(withMcp(mcp)), re, JSON.stringify(mcp));
  });
});
