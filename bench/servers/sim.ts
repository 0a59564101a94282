// sim-upstream as a bench child process (the same server as
// `stratum sim-upstream`, without the CLI around it).
import { startSimUpstream } from "../../src/sim/server.js";
import { numFlag, onStop, ready } from "./common.js";

const sim = await startSimUpstream({
  host: "127.0.0.1",
  port: 0,
  ttftMs: numFlag("ttft-ms", 0),
  tokensPerSecond: numFlag("tokens-per-second", 0),
  outputTokens: numFlag("output-tokens", 16),
  // Faults, for the soak's --soak-chaos (all 0 by default).
  errorRate: numFlag("error-rate", 0),
  rateLimitRate: numFlag("rate-limit-rate", 0),
  retryAfterSeconds: numFlag("retry-after", 1),
  hangRate: numFlag("hang-rate", 0),
  midStreamErrorRate: numFlag("mid-stream-error-rate", 0),
});
ready(sim.url);
onStop(() => sim.close());
