// `stratum sim-upstream`: run the simulated upstream (src/sim/server.ts) as a
// process, for benchmarks and failure drills against a real gateway.
import type { Command } from "commander";
import { startSimUpstream, type SimUpstreamOptions } from "../sim/server.js";

type NumberKind = "int" | "number" | "rate";

/** flag -> option key, kind and bounds; the single source for parsing and help. */
const NUMERIC: Array<{ flag: string; key: keyof SimUpstreamOptions; kind: NumberKind; min?: number; max?: number; help: string }> = [
  { flag: "port", key: "port", kind: "int", min: 0, max: 65535, help: "port to listen on (0 = ephemeral)" },
  { flag: "ttft-ms", key: "ttftMs", kind: "int", min: 0, help: "delay before the first token" },
  { flag: "tokens-per-second", key: "tokensPerSecond", kind: "number", min: 0, help: "streaming pace (0 = as fast as possible)" },
  { flag: "output-tokens", key: "outputTokens", kind: "int", min: 1, help: "tokens per answer (capped by max_tokens)" },
  { flag: "error-rate", key: "errorRate", kind: "rate", help: "fraction of requests answered 500" },
  { flag: "rate-limit-rate", key: "rateLimitRate", kind: "rate", help: "fraction of requests answered 429" },
  { flag: "retry-after", key: "retryAfterSeconds", kind: "number", min: 0, help: "Retry-After seconds on 429s" },
  { flag: "hang-rate", key: "hangRate", kind: "rate", help: "fraction of requests never answered" },
  { flag: "mid-stream-error-rate", key: "midStreamErrorRate", kind: "rate", help: "fraction of responses whose connection dies midway" },
  { flag: "embedding-dimensions", key: "embeddingDimensions", kind: "int", min: 1, max: 8192, help: "embedding vector size" },
  { flag: "seed", key: "seed", kind: "int", help: "seed mixed into generated text and vectors" },
];

function parseNumber(flag: string, raw: string, kind: NumberKind, min?: number, max?: number): number {
  const n = Number(raw);
  const lo = kind === "rate" ? 0 : min;
  const hi = kind === "rate" ? 1 : max;
  const ok = raw.trim() !== "" && Number.isFinite(n) && (kind !== "int" || Number.isInteger(n)) && (lo === undefined || n >= lo) && (hi === undefined || n <= hi);
  if (!ok) {
    const what = kind === "int" ? "an integer" : "a number";
    const range = lo !== undefined && hi !== undefined ? ` between ${lo} and ${hi}` : lo !== undefined ? ` >= ${lo}` : "";
    throw new Error(`--${flag} must be ${what}${range} (got "${raw}")`);
  }
  return n;
}

/** Commander's raw options -> validated server options; throws naming the flag. */
export function parseSimUpstreamOptions(raw: Record<string, unknown>): SimUpstreamOptions {
  const out: SimUpstreamOptions = { host: typeof raw.host === "string" ? raw.host : "127.0.0.1", noUsage: raw.usage === false };
  for (const spec of NUMERIC) {
    const camel = spec.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = raw[camel];
    if (typeof v === "string") (out as Record<string, unknown>)[spec.key] = parseNumber(spec.flag, v, spec.kind, spec.min, spec.max);
  }
  out.port ??= 8790;
  return out;
}

export function registerSimUpstreamCommand(program: Command): void {
  const cmd: Command = program
    .command("sim-upstream")
    .description("run a simulated OpenAI/Anthropic-compatible upstream for benchmarks and failure tests")
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--no-usage", "never send usage, so the gateway must count tokens itself");
  for (const spec of NUMERIC) cmd.option(`--${spec.flag} <n>`, spec.help + (spec.key === "port" ? " (default: 8790)" : ""));

  cmd.action(async (raw: Record<string, unknown>) => {
    let opts: SimUpstreamOptions;
    try {
      opts = parseSimUpstreamOptions(raw);
    } catch (e) {
      cmd.error(`error: ${(e as Error).message}`, { exitCode: 2, code: "stratum.invalidOption" });
    }
    const sim = await startSimUpstream(opts);
    console.log(`sim-upstream listening on ${sim.url}`);
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void sim.close().then(() => {
        process.exitCode = 0;
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
