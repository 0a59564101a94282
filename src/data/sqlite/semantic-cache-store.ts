import type { SemanticCacheStore } from "../types.js";
import type { SqliteDb } from "./database.js";
import { likePrefix } from "./like-prefix.js";
import { nearestOf } from "../semantic-nearest.js";

/** Partitions scanned newest first, at most this many entries each. */
const SCAN_LIMIT = 1_000;

/**
 * Semantic cache entries that survive restarts: vectors as float32 blobs, one
 * partition read per lookup (newest first, bounded), expired and surplus rows
 * swept every few hundred writes.
 */
export class SqliteSemanticCacheStore<V> implements SemanticCacheStore<V> {
  private readonly scanStmt;
  private readonly addStmt;
  private readonly sweepStmt;
  private writes = 0;

  constructor(
    private readonly db: SqliteDb,
    private readonly maxEntries = 2_000,
  ) {
    this.scanStmt = db.prepare("SELECT vector, value FROM semantic_cache WHERE partition = ? AND expires_at > ? ORDER BY id DESC LIMIT ?");
    this.addStmt = db.prepare("INSERT INTO semantic_cache (partition, vector, value, expires_at) VALUES (?, ?, ?, ?)");
    this.sweepStmt = db.prepare("DELETE FROM semantic_cache WHERE expires_at <= ? OR id <= (SELECT id FROM semantic_cache ORDER BY id DESC LIMIT 1 OFFSET ?)");
  }

  async nearest(partition: string, vector: Float32Array, minScore: number): Promise<{ value: V; score: number } | undefined> {
    const rows = this.scanStmt.all(partition, Date.now(), SCAN_LIMIT) as Array<{ vector: Buffer; value: string }>;
    const best = nearestOf(rows, (r) => toFloats(r.vector), vector, minScore);
    return best && { value: JSON.parse(best.entry.value) as V, score: best.score };
  }

  async add(partition: string, vector: Float32Array, value: V, ttlMs: number): Promise<void> {
    this.addStmt.run(partition, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), JSON.stringify(value), Date.now() + ttlMs);
    if (++this.writes % 200 === 0) this.sweepStmt.run(Date.now(), this.maxEntries);
  }

  async clear(prefix = ""): Promise<void> {
    this.db.prepare("DELETE FROM semantic_cache WHERE partition LIKE ? ESCAPE '\\'").run(likePrefix(prefix));
  }
}

/** A blob's float32 values (copied: a blob's offset need not be 4-byte aligned). */
function toFloats(b: Buffer): Float32Array {
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
