// The RegistryStore contract on SQLite and PostgreSQL, and the config seeding
// policy of RegistryService.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase } from "../data/index.js";
import { PipelineSchema } from "../config/schema.js";
import { isStratumError } from "../core/errors.js";
import { postgresTestsEnabled, sharedTestSchema } from "../testing/postgres.js";
import { migrateRegistry, PgRegistryStore, RegistryService, SqliteRegistryStore, parseModelRef } from "./index.js";
import { registryStoreContract } from "./store-contract.js";

registryStoreContract("sqlite", async () => new SqliteRegistryStore(openDatabase(":memory:")));

if (postgresTestsEnabled) {
  const pg = sharedTestSchema();
  after(() => pg.drop());
  registryStoreContract("postgres", async () => {
    const s = await pg.get();
    await migrateRegistry(s.pool);
    await s.truncate();
    return new PgRegistryStore(s.pool);
  });
}

describe("RegistryService", () => {
  const pipeline = (route: string) => PipelineSchema.parse({ name: "assistant", route });

  test("config seeding: a changed config is a new version (parent: the previous); production follows the config until something else moves it", async () => {
    const svc = new RegistryService(new SqliteRegistryStore(openDatabase(":memory:")));
    const [a] = await svc.seedPipelines([pipeline("extractive")]);
    assert.deepEqual({ v: a!.version, created: a!.created, prod: a!.production }, { v: 1, created: true, prod: 1 });
    const [same] = await svc.seedPipelines([pipeline("extractive")]);
    assert.deepEqual({ v: same!.version, created: same!.created }, { v: 1, created: false });
    const [b] = await svc.seedPipelines([pipeline("sim")]);
    assert.deepEqual({ v: b!.version, created: b!.created, prod: b!.production }, { v: 2, created: true, prod: 2 });
    assert.equal((await svc.store.getVersion("pipeline", "assistant", 2))?.parentVersion, 1);
    // An operator rolls back to v1; the next start with an unchanged config keeps it there.
    await svc.setAlias("pipeline", "assistant", "production", 1);
    const [kept] = await svc.seedPipelines([pipeline("sim")]);
    assert.equal(kept!.production, 1);
    // A config change while production was moved: a new version, production stays.
    const [c] = await svc.seedPipelines([pipeline("other")].map((p) => ({ ...p, route: "extractive", retrieval: { ...p.retrieval, k: 3 } })));
    assert.equal(c!.version, 3);
    assert.equal(c!.production, 1);
    assert.deepEqual(await svc.store.aliases("pipeline", "assistant"), { config: 3, production: 1 });
  });

  test("specs are validated per kind with the field named; the spec's name must match", async () => {
    const svc = new RegistryService(new SqliteRegistryStore(openDatabase(":memory:")), { hasRoute: (r) => r === "extractive" });
    const bad = async (kind: "pipeline" | "prompt" | "route", spec: unknown, param: string) =>
      assert.rejects(svc.addVersion(kind, "x", { spec, createdBy: "t" }), (e) => isStratumError(e) && e.kind === "InvalidRequest" && e.param === param);
    await bad("pipeline", { route: "nope" }, "spec.route");
    await bad("pipeline", { retrieval: { k: 0 } }, "spec.retrieval.k");
    await bad("pipeline", { name: "y" }, "spec.name");
    await bad("pipeline", { bogus: 1 }, "spec");
    await bad("prompt", { system: "" }, "spec.system");
    await bad("route", { deployments: [] }, "spec.deployments");
    await assert.rejects(svc.addVersion("pipeline", "a@b", { spec: {}, createdBy: "t" }), (e) => isStratumError(e) && e.param === "name");
    const ok = await svc.addVersion("prompt", "greeting", { spec: { system: "Be brief. {{context}}" }, createdBy: "t" });
    assert.deepEqual(ok.version.spec, { version: "1", system: "Be brief. {{context}}" });
  });

  test("model references", () => {
    assert.deepEqual(parseModelRef("assistant"), { name: "assistant" });
    assert.deepEqual(parseModelRef("assistant@3"), { name: "assistant", selector: { version: 3 } });
    assert.deepEqual(parseModelRef("assistant@staging"), { name: "assistant", selector: { alias: "staging" } });
    assert.deepEqual(parseModelRef("@x"), { name: "@x" });
    assert.deepEqual(parseModelRef("x@"), { name: "x@" });
  });
});
