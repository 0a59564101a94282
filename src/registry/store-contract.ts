// The contract every RegistryStore passes (run on SQLite and PostgreSQL by
// store.test.ts). Not part of the build's public surface.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isStratumError } from "../core/errors.js";
import { contentHash } from "./content-hash.js";
import type { RegistryStore } from "./types.js";

const add = (s: RegistryStore, name: string, spec: unknown, extra: { parentVersion?: number | null; note?: string } = {}) =>
  s.addVersion({ kind: "pipeline", name, spec, hash: contentHash(spec), createdBy: "k1", ...extra });

export function registryStoreContract(label: string, make: () => Promise<RegistryStore>): void {
  describe(`RegistryStore contract: ${label}`, () => {
    test("versions are numbered per entry, keep lineage and are immutable; the same content returns the existing version", async () => {
      const s = await make();
      const v1 = await add(s, "assistant", { route: "a", k: 1 }, { note: "first" });
      assert.equal(v1.created, true);
      assert.equal(v1.version.version, 1);
      assert.equal(v1.version.parentVersion, null);
      assert.equal(v1.version.note, "first");
      assert.equal(v1.version.createdBy, "k1");
      const v2 = await add(s, "assistant", { route: "b", k: 1 });
      assert.equal(v2.version.version, 2);
      assert.equal(v2.version.parentVersion, 1);
      // Key order does not matter: canonical JSON.
      const again = await add(s, "assistant", { k: 1, route: "a" });
      assert.equal(again.created, false);
      assert.equal(again.version.version, 1);
      assert.deepEqual(again.version.spec, { route: "a", k: 1 });
      const other = await add(s, "other", { route: "a", k: 1 });
      assert.equal(other.version.version, 1, "numbering is per entry");
      const branch = await add(s, "assistant", { route: "c" }, { parentVersion: 1 });
      assert.equal(branch.version.version, 3);
      assert.equal(branch.version.parentVersion, 1);
      await assert.rejects(add(s, "assistant", { route: "d" }, { parentVersion: 9 }), (e) => isStratumError(e) && e.kind === "InvalidRequest" && e.param === "parent_version");
      assert.deepEqual((await s.versions("pipeline", "assistant")).map((v) => v.version), [1, 2, 3]);
      assert.equal((await s.getVersion("pipeline", "assistant", 2))?.hash, contentHash({ route: "b", k: 1 }));
      assert.equal(await s.getVersion("pipeline", "assistant", 4), undefined);
      assert.equal(await s.getVersion("prompt", "assistant", 1), undefined, "kinds are separate");
    });

    test("aliases move atomically, with compare-and-set, only to existing versions", async () => {
      const s = await make();
      await add(s, "p", { v: 1 });
      await add(s, "p", { v: 2 });
      assert.deepEqual((await s.setAlias("pipeline", "p", "production", 1, { expect: null })).aliases, { production: 1 });
      const lost = await s.setAlias("pipeline", "p", "production", 2, { expect: null });
      assert.equal(lost.ok, false);
      assert.equal(lost.previous, 1);
      const moved = await s.setAlias("pipeline", "p", "production", 2, { expect: 1 });
      assert.equal(moved.ok, true);
      assert.equal(moved.previous, 1);
      await s.setAlias("pipeline", "p", "staging", 1);
      assert.deepEqual(await s.aliases("pipeline", "p"), { production: 2, staging: 1 });
      await assert.rejects(s.setAlias("pipeline", "p", "production", 7), (e) => isStratumError(e) && e.kind === "NotFound");
      await assert.rejects(s.setAlias("pipeline", "nope", "production", 1), (e) => isStratumError(e) && e.kind === "NotFound");
      assert.deepEqual(await s.list(), [{ kind: "pipeline", name: "p", latestVersion: 2, aliases: { production: 2, staging: 1 } }]);
      assert.deepEqual(await s.list("route"), []);
    });

    test("concurrent adds of different specs get distinct consecutive versions; concurrent adds of one spec get one version", async () => {
      const s = await make();
      const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => add(s, "c", { i })));
      assert.deepEqual(outs.map((o) => o.version.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
      const same = await Promise.all(Array.from({ length: 5 }, () => add(s, "d", { same: true })));
      assert.equal(same.filter((o) => o.created).length, 1);
      assert.ok(same.every((o) => o.version.version === 1));
    });

    test("eval runs link to a version, idempotently", async () => {
      const s = await make();
      await add(s, "e", { x: 1 });
      await s.linkEvalRun("pipeline", "e", 1, "run_a");
      await s.linkEvalRun("pipeline", "e", 1, "run_b");
      const v = await s.linkEvalRun("pipeline", "e", 1, "run_a");
      assert.deepEqual(v.evalRuns, ["run_a", "run_b"]);
      await assert.rejects(s.linkEvalRun("pipeline", "e", 2, "run_c"), (e) => isStratumError(e) && e.kind === "NotFound");
    });
  });
}
