// SQLite's page cache, bounded for every connection Stratum opens.
import type Database from "better-sqlite3";

/**
 * The page cache per connection, in KiB as `PRAGMA cache_size` takes it (negative).
 * better-sqlite3 builds SQLite with 16 MiB; a server appending a usage row per request
 * filled it within ~100k requests (+12 MiB of RSS), while its hot pages are a few B-tree
 * paths, and reads of the retrieval store's big tables go through mmap, not this cache
 * (bench:retrieval: ingest and query figures unchanged at 2 MiB).
 */
export const PAGE_CACHE_KIB = -2048;

export function boundPageCache(db: Database.Database): void {
  db.pragma(`cache_size = ${PAGE_CACHE_KIB}`);
}
