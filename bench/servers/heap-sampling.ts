// V8's sampling heap profiler in the bench's Stratum process (--heap-sample FILE):
// every allocation is sampled, including objects the GC has already collected,
// so the profile shows what a request allocates, not what stays live. Started
// once the server is up (start-up is left out); written when it stops.
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";

/** Start sampling; the returned function stops and writes `{ requests, profile }` to `file`. */
export function startHeapSampling(file: string, requests: () => number): () => void {
  const session = new Session();
  session.connect();
  // An in-process session answers synchronously: the callback has run when post() returns.
  session.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, (err) => {
    if (err) throw err;
  });
  return () => {
    session.post("HeapProfiler.stopSampling", (err, res) => {
      if (err) throw err;
      writeFileSync(file, JSON.stringify({ requests: requests(), profile: res.profile }));
    });
    session.disconnect();
  };
}
