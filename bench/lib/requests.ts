// The requests every gateway bench sends, and the admin key the bench's
// Stratum process is started with.
export const ADMIN_KEY = "sk-stratum-bench-admin-0000000000000000";
/** The model alias the bench's Stratum serves (bench/servers/stratum.ts), in front of sim-upstream. */
export const MODEL = "bench";

export const MESSAGES = [
  { role: "system", content: "You are a terse assistant." },
  { role: "user", content: "Say something short about gateways and benchmarks." },
];

export const BODIES = {
  json: JSON.stringify({ model: MODEL, messages: MESSAGES, max_tokens: 16 }),
  // include_usage for everyone: Stratum always asks its upstream for usage, so all systems move the same frames.
  stream: JSON.stringify({ model: MODEL, messages: MESSAGES, max_tokens: 16, stream: true, stream_options: { include_usage: true } }),
};
export type Mode = keyof typeof BODIES;

/** "json,stream" → the modes, or an error naming the flag's bad value. */
export function modesOf(text: string): Mode[] {
  const modes = text.split(",") as Mode[];
  if (!modes.every((m) => m in BODIES)) throw new Error(`--modes: json and/or stream (got "${text}")`);
  return modes;
}

// One counter for every mode: the cache key leaves out `stream`, so a JSON and
// a streamed request with the same number would share an entry.
let unique = 0;

/**
 * A fresh body per call: the user message ends with a counter, so a response
 * cache never hits and every request takes the miss path (key, lookup,
 * coalescing, store).
 */
export function uniqueBodies(mode: Mode): () => string {
  const last = MESSAGES[MESSAGES.length - 1]!;
  return () => {
    const body = JSON.parse(BODIES[mode]) as { messages: Array<{ role: string; content: string }> };
    body.messages[body.messages.length - 1] = { ...last, content: `${last.content} #${++unique}` };
    return JSON.stringify(body);
  };
}
