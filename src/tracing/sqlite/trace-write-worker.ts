// The trace write thread's entry: its own connection to the SQLite file (no
// mmap, so the pages it touches do not count towards the process's resident
// memory) writing each batch it is sent, one transaction each, and answering
// with the batch's id and the error, if any.
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";
import { boundPageCache } from "../../data/sqlite/page-cache.js";
import { prepareTraceWrites } from "./trace-writes.js";
import type { WriteReply, WriteRequest } from "./trace-write-thread.js";

const db = new Database((workerData as { file: string }).file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
boundPageCache(db);
const write = prepareTraceWrites(db);

parentPort!.on("message", (m: WriteRequest | "close") => {
  if (m === "close") {
    db.close();
    parentPort!.close();
    return;
  }
  let reply: WriteReply;
  try {
    write(m.batch);
    reply = { id: m.id };
  } catch (e) {
    reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply);
});
