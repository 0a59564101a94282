// The connection every SQLite store shares: WAL, and a page cache bounded below
// better-sqlite3's build default (16 MiB, which a server appending a usage row
// per request fills, as resident memory, within ~100k requests).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openDatabase } from "./database.js";
import { PAGE_CACHE_KIB } from "./page-cache.js";

test("a file database opens in WAL mode with the bounded page cache, below the driver's default", () => {
  const dir = mkdtempSync(join(tmpdir(), "stratum-db-"));
  try {
    const file = join(dir, "stratum.db");
    const db = openDatabase(file);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("cache_size", { simple: true }), PAGE_CACHE_KIB);
    db.close();
    const raw = new Database(file);
    const driverDefault = raw.pragma("cache_size", { simple: true }) as number;
    raw.close();
    // Negative sizes are KiB: a larger magnitude is a larger cache.
    assert.ok(-driverDefault > -PAGE_CACHE_KIB, `driver default ${driverDefault} KiB vs ours ${PAGE_CACHE_KIB}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
