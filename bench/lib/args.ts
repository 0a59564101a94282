// Command-line flags of bench/gateway.ts.
import { parseArgs } from "node:util";

export interface Options {
  duration: number;
  warmup: number;
  connections: number[];
  modes: Array<"json" | "stream">;
  probe: number;
  repeat: number;
  targets: string[];
  runtime: "bundle" | "tsx";
  profile: boolean;
  heapProfile: boolean;
  soak: boolean;
  soakSeconds: number;
  soakConcurrency: number;
  /** Soak with the response cache on and a unique prompt per request (every request a miss, the cache filling to its bound). */
  soakCache: boolean;
  /** Soak against a faulty upstream (errors, 429s, hangs, streams dying midway): retries, timeouts, the circuit and the fallback under load. */
  soakChaos: boolean;
  json: boolean;
}

export const USAGE = `usage: npm run bench:gateway -- [flags]

  --duration N          seconds per load cell (default 5)
  --quick               2 s cells, 300 probe requests
  --connections 1,10,50 connection counts
  --modes json,stream   request kinds to measure (default both)
  --repeat N            run the whole load matrix N times, report medians (default 1)
  --probe N             sequential requests per latency/TTFB probe (default 1000)
  --targets LIST        systems to measure: direct,floor,stratum,stratum-untraced,portkey
                        (default all but stratum-untraced, which is Stratum with tracing off)
  --runtime bundle|tsx  run the servers as an esbuild bundle (default) or through tsx
  --profile             write a CPU profile of the Stratum process and print its top frames
  --heap-profile        sample what the Stratum process allocates and print it per request
  --soak                run the memory soak instead of the benchmark
  --soak-seconds N      soak length (default 180)
  --soak-concurrency N  requests in flight during the soak (default 32)
  --soak-cache          soak with the response cache on (as configured by default) and a unique
                        prompt per request: the cache fills to its bound and must stay there
  --soak-chaos          soak against a faulty upstream (3% 500s, 2% 429s, 0.05% hangs, 1% streams
                        cut midway): every request must still end cleanly, memory flat
  --no-json             do not write bench/results/*.json
`;

export function parseOptions(argv = process.argv.slice(2)): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string" },
      quick: { type: "boolean", default: false },
      connections: { type: "string", default: "1,10,50" },
      probe: { type: "string" },
      modes: { type: "string", default: "json,stream" },
      repeat: { type: "string", default: "1" },
      targets: { type: "string", default: "direct,floor,stratum,portkey" },
      runtime: { type: "string", default: "bundle" },
      profile: { type: "boolean", default: false },
      "heap-profile": { type: "boolean", default: false },
      soak: { type: "boolean", default: false },
      "soak-seconds": { type: "string", default: "180" },
      "soak-concurrency": { type: "string", default: "32" },
      "soak-cache": { type: "boolean", default: false },
      "soak-chaos": { type: "boolean", default: false },
      "no-json": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, def: number, min: number) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min} (got "${v}")`);
    return n;
  };
  const duration = num("duration", values.duration, values.quick ? 2 : 5, 1);
  const runtime = values.runtime;
  if (runtime !== "bundle" && runtime !== "tsx") throw new Error(`--runtime must be bundle or tsx (got "${runtime}")`);
  const targets = values.targets!.split(",").map((s) => s.trim()).filter(Boolean);
  for (const t of targets) if (!["direct", "floor", "stratum", "stratum-untraced", "portkey"].includes(t)) throw new Error(`unknown target "${t}"`);
  const modes = values.modes!.split(",").map((s) => s.trim());
  for (const m of modes) if (m !== "json" && m !== "stream") throw new Error(`unknown mode "${m}"`);
  return {
    modes: modes as Array<"json" | "stream">,
    duration,
    warmup: Math.max(1, Math.min(3, duration / 2)),
    connections: values.connections!.split(",").map((s) => num("connections", s, 1, 1)),
    repeat: Math.round(num("repeat", values.repeat, 1, 1)),
    probe: Math.round(num("probe", values.probe, values.quick ? 300 : 1000, 10)),
    targets,
    runtime,
    profile: values.profile!,
    heapProfile: values["heap-profile"]!,
    soak: values.soak!,
    soakCache: values["soak-cache"]!,
    soakChaos: values["soak-chaos"]!,
    soakSeconds: num("soak-seconds", values["soak-seconds"], 180, 10),
    soakConcurrency: Math.round(num("soak-concurrency", values["soak-concurrency"], 32, 1)),
    json: !values["no-json"],
  };
}
