// loadConfig / parseConfig: defaults, env overrides, files, errors that name
// the field, and secrets that never print.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { ConfigError, loadConfig, parseConfig, Secret } from "./index.js";

/** Assert `fn` throws a ConfigError whose message contains every needle. */
function throwsConfig(fn: () => unknown, ...needles: string[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  for (const n of needles) assert.ok(caught.message.includes(n), `error names ${JSON.stringify(n)}:\n${caught.message}`);
  return caught;
}

describe("config loading", () => {
  let dir: string;
  let empty: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "stratum-config-"));
    empty = join(dir, "empty");
    mkdirSync(empty);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("defaults: port 8787, host 127.0.0.1, dataDir .stratum, built-in extractive and sim aliases", () => {
    const { config, path } = loadConfig({ env: {}, cwd: empty });
    assert.equal(path, undefined);
    assert.equal(config.server.port, 8787);
    assert.equal(config.server.host, "127.0.0.1");
    assert.equal(config.dataDir, ".stratum");
    assert.equal(config.server.bodyLimitBytes, 4 * 1024 * 1024);
    assert.equal(config.cache.enabled, true);
    assert.equal(config.budgets.onExceeded, "block");
    assert.deepEqual(config.limits, { perKey: {}, perUser: {} });
    const names = config.models.map((m) => m.name);
    assert.deepEqual(names.sort(), ["extractive", "sim"]);
    assert.equal(config.models.find((m) => m.name === "extractive")!.deployments[0]!.provider, "extractive");
    assert.equal(config.models.find((m) => m.name === "sim")!.deployments[0]!.provider, "sim");
    // parseConfig({}) gives the same.
    assert.deepEqual(parseConfig({}), config);
  });

  test("user aliases come first; a user alias named like a built-in replaces it", () => {
    const cfg = parseConfig({ models: [{ name: "sim", deployments: [{ provider: "extractive" }] }, { name: "mine", deployments: [{ provider: "sim" }] }] });
    assert.deepEqual(
      cfg.models.map((m) => m.name),
      ["sim", "mine", "extractive"],
    );
    assert.equal(cfg.models[0]!.deployments[0]!.provider, "extractive");
  });

  test("env overrides HOST, PORT and STRATUM_DATA_DIR, over the file", () => {
    const file = join(dir, "env.yaml");
    writeFileSync(file, "server:\n  port: 1234\n  host: 10.0.0.1\ndataDir: /from/file\n");
    const { config } = loadConfig({ path: file, cwd: empty, env: { HOST: "0.0.0.0", PORT: "9001", STRATUM_DATA_DIR: "/tmp/stratum-data" } });
    assert.equal(config.server.host, "0.0.0.0");
    assert.equal(config.server.port, 9001);
    assert.equal(config.dataDir, "/tmp/stratum-data");
    // Without env, the file wins over defaults.
    const fromFile = loadConfig({ path: file, cwd: empty, env: {} }).config;
    assert.equal(fromFile.server.port, 1234);
    assert.equal(fromFile.server.host, "10.0.0.1");
    assert.equal(fromFile.dataDir, "/from/file");
    // PORT=0 (ephemeral) is allowed; an empty PORT is ignored.
    assert.equal(loadConfig({ cwd: empty, env: { PORT: "0" } }).config.server.port, 0);
    assert.equal(loadConfig({ cwd: empty, env: { PORT: "" } }).config.server.port, 8787);
  });

  test("an invalid PORT is a clear error", () => {
    for (const bad of ["abc", "-1", "65536", "80.5", "8080x", "1e3", "0x50", " 80"]) throwsConfig(() => loadConfig({ cwd: empty, env: { PORT: bad } }), "PORT", bad);
  });

  test("JSON and YAML files load alike", () => {
    const body = {
      server: { port: 7000 },
      providers: { local: { type: "sim", ttftMs: 5 } },
      models: [{ name: "m", deployments: [{ provider: "local", model: "x" }], fallbacks: ["extractive"] }],
      pricing: { x: { input: 1, output: 2 } },
    };
    const json = join(dir, "c.json");
    const yaml = join(dir, "c.yaml");
    writeFileSync(json, JSON.stringify(body));
    writeFileSync(
      yaml,
      [
        "server:",
        "  port: 7000",
        "providers:",
        "  local: { type: sim, ttftMs: 5 }",
        "models:",
        "  - name: m",
        "    deployments:",
        "      - provider: local",
        "        model: x",
        "    fallbacks: [extractive]",
        "pricing:",
        "  x: { input: 1, output: 2 }",
        "",
      ].join("\n"),
    );
    const a = loadConfig({ path: json, cwd: empty, env: {} });
    const b = loadConfig({ path: yaml, cwd: empty, env: {} });
    assert.equal(a.path, json);
    assert.equal(b.path, yaml);
    assert.deepEqual(a.config, b.config);
    assert.equal(a.config.server.port, 7000);
    const local = a.config.providers.local!;
    assert.equal(local.type, "sim");
    assert.equal(local.type === "sim" && local.ttftMs, 5);
    assert.equal(a.config.models[0]!.deployments[0]!.weight, 1, "defaults fill in nested fields");
    // An empty YAML file is the defaults.
    const blank = join(dir, "blank.yaml");
    writeFileSync(blank, "");
    assert.equal(loadConfig({ path: blank, cwd: empty, env: {} }).config.server.port, 8787);
  });

  test("STRATUM_CONFIG names the file; a default file in cwd is found; --config wins", () => {
    const viaEnv = join(dir, "via-env.yaml");
    writeFileSync(viaEnv, "server:\n  port: 7100\n");
    assert.equal(loadConfig({ cwd: empty, env: { STRATUM_CONFIG: viaEnv } }).config.server.port, 7100);
    // Relative to cwd.
    assert.equal(loadConfig({ cwd: dir, env: { STRATUM_CONFIG: "via-env.yaml" } }).config.server.port, 7100);

    const withDefault = join(dir, "with-default");
    mkdirSync(withDefault);
    writeFileSync(join(withDefault, "stratum.config.yaml"), "server:\n  port: 7200\n");
    const found = loadConfig({ cwd: withDefault, env: {} });
    assert.equal(found.config.server.port, 7200);
    assert.equal(found.path, join(withDefault, "stratum.config.yaml"));

    const explicit = join(dir, "explicit.json");
    writeFileSync(explicit, '{"server":{"port":7300}}');
    assert.equal(loadConfig({ path: explicit, cwd: withDefault, env: { STRATUM_CONFIG: viaEnv } }).config.server.port, 7300);
  });

  test("a missing --config or STRATUM_CONFIG file is an error naming it", () => {
    throwsConfig(() => loadConfig({ path: join(dir, "nope.yaml"), cwd: empty, env: {} }), "not found", "nope.yaml");
    throwsConfig(() => loadConfig({ cwd: empty, env: { STRATUM_CONFIG: "missing.json" } }), "not found", "missing.json");
  });

  test("unparseable files and a non-mapping top level are errors naming the file", () => {
    const badJson = join(dir, "bad.json");
    writeFileSync(badJson, "{ not json");
    throwsConfig(() => loadConfig({ path: badJson, cwd: empty, env: {} }), "bad.json");
    const badYaml = join(dir, "bad.yaml");
    writeFileSync(badYaml, "server: [unclosed\n");
    throwsConfig(() => loadConfig({ path: badYaml, cwd: empty, env: {} }), "bad.yaml");
    const list = join(dir, "list.yaml");
    writeFileSync(list, "- a\n- b\n");
    throwsConfig(() => loadConfig({ path: list, cwd: empty, env: {} }), "list.yaml", "mapping");
  });

  test("error messages name the field", () => {
    throwsConfig(() => parseConfig({ models: [{ name: "x", deployments: [{ provider: "nope" }] }] }), "models[0].deployments[0].provider", "nope");
    throwsConfig(
      () => parseConfig({ models: [{ name: "x", deployments: [{ provider: "sim" }], fallbacks: ["extractive", "ghost"] }] }),
      "models[0].fallbacks[1]",
      "ghost",
    );
    throwsConfig(
      () =>
        parseConfig({
          models: [
            { name: "dup", deployments: [{ provider: "sim" }] },
            { name: "dup", deployments: [{ provider: "sim" }] },
          ],
        }),
      "models[1].name",
      "duplicate",
      "dup",
    );
    throwsConfig(() => parseConfig({ budgets: { onExceeded: "downgrade" } }), "budgets.downgradeTo");
    throwsConfig(() => parseConfig({ budgets: { onExceeded: "downgrade", downgradeTo: "nowhere" } }), "budgets.downgradeTo", "nowhere");
    throwsConfig(() => parseConfig({ budgets: { tenants: { acme: { monthlyUsd: -1 } } } }), "budgets.tenants.acme.monthlyUsd");
    throwsConfig(() => parseConfig({ budgets: { perTenant: { weeklyUsd: 5 } } }), "budgets.perTenant", "weeklyUsd");
    throwsConfig(() => parseConfig({ router: { retry: { budget: { percent: 150 } } } }), "router.retry.budget.percent");
    throwsConfig(() => parseConfig({ router: { retry: { budget: { minPerSecond: -1 } } } }), "router.retry.budget.minPerSecond");
    throwsConfig(() => parseConfig({ router: { retry: { budget: { windowMs: 0 } } } }), "router.retry.budget.windowMs");
    throwsConfig(() => parseConfig({ router: { retry: { budget: { share: 20 } } } }), "router.retry.budget", "share");
    throwsConfig(() => parseConfig({ usage: { retentionDays: -1 } }), "usage.retentionDays");
    throwsConfig(() => parseConfig({ usage: { retentionDays: "forever" } }), "usage.retentionDays");
    throwsConfig(() => parseConfig({ server: { port: "8080" } }), "server.port");
    throwsConfig(() => parseConfig({ server: { port: 70000 } }), "server.port");
    throwsConfig(() => parseConfig({ cache: { enabled: "yes" } }), "cache.enabled");
    throwsConfig(() => parseConfig({ providers: { p: { type: "bogus" } } }), "providers.p.type");
    throwsConfig(() => parseConfig({ providers: { "bad name": { type: "sim" } } }), "providers");
    throwsConfig(() => parseConfig({ models: [{ name: "has space", deployments: [{ provider: "sim" }] }] }), "models[0].name");
    throwsConfig(() => parseConfig({ models: [{ name: "empty", deployments: [] }] }), "models[0].deployments");
    throwsConfig(() => parseConfig({ limits: { perUser: { requestsPerMinute: 0 } } }), "limits.perUser.requestsPerMinute");
    throwsConfig(() => parseConfig({ serverr: {} }), "serverr");
    throwsConfig(() => parseConfig({ server: { prot: 1 } }), "prot");
    // Every problem is reported, not just the first.
    const e = throwsConfig(() => parseConfig({ server: { port: "x" }, cache: { ttlSeconds: -1 } }), "server.port", "cache.ttlSeconds");
    assert.equal(e.issues.length, 2);
    // A source name is included.
    throwsConfig(() => parseConfig({ server: { port: "x" } }, "/etc/stratum.yaml"), "/etc/stratum.yaml");
  });

  describe("secrets", () => {
    const NAME = "STRATUM_LOAD_TEST_SECRET";
    const VALUE = "sk-live-" + "q".repeat(8) + Math.random().toString(36).slice(2);
    before(() => {
      process.env[NAME] = VALUE;
    });
    after(() => {
      delete process.env[NAME];
    });

    test("env references resolve to Secrets that never serialise or print their value", () => {
      const cfg = parseConfig({
        providers: {
          a: { type: "openai", apiKey: `\${${NAME}}` },
          b: { type: "anthropic", apiKey: { env: NAME } },
        },
      });
      const a = cfg.providers.a!;
      const b = cfg.providers.b!;
      assert.ok(a.type === "openai" && a.apiKey instanceof Secret);
      assert.ok(b.type === "anthropic" && b.apiKey instanceof Secret);
      assert.equal(a.apiKey.reveal(), VALUE);
      assert.equal(b.apiKey!.reveal(), VALUE);
      assert.equal(a.apiKey.envName, NAME);

      const json = JSON.stringify(cfg);
      assert.ok(!json.includes(VALUE), "JSON.stringify");
      assert.ok(json.includes(NAME), "the variable name is shown instead");
      assert.ok(!inspect(cfg, { depth: Infinity }).includes(VALUE), "util.inspect");
      assert.ok(!inspect(cfg, { depth: Infinity, showHidden: true }).includes(VALUE), "util.inspect showHidden");
      assert.ok(!String(a.apiKey).includes(VALUE), "String()");
      assert.ok(!`${a.apiKey}`.includes(VALUE), "template literal");
    });

    test("literal secrets and unset variables are refused, naming the field", () => {
      const lit = throwsConfig(() => parseConfig({ providers: { p: { type: "openai", apiKey: "sk-123" } } }), "providers.p.apiKey", "env");
      assert.ok(!lit.message.includes("sk-123"), "the literal is not echoed");
      throwsConfig(() => parseConfig({ providers: { p: { type: "openai", apiKey: "${STRATUM_LOAD_TEST_UNSET_VAR}" } } }), "providers.p.apiKey", "STRATUM_LOAD_TEST_UNSET_VAR");
      throwsConfig(() => parseConfig({ providers: { p: { type: "anthropic", apiKey: { env: "STRATUM_LOAD_TEST_UNSET_VAR" } } } }), "providers.p.apiKey", "STRATUM_LOAD_TEST_UNSET_VAR");
      throwsConfig(() => parseConfig({ providers: { p: { type: "openai", apiKey: { env: "not a name" } } } }), "providers.p.apiKey");
    });
  });
});
