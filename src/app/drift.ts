// Builds the drift monitor from the config: its store, metrics, the webhook
// sink and the re-evaluation trigger (which calls this server over HTTP with
// the evals runner once it listens). Loads the persisted windows and starts
// the periodic check.
import type { Server } from "node:http";
import type { Config } from "../config/schema.js";
import { DriftMetrics, DriftMonitor, EvalReevaluator, WebhookAlertSink, type AlertSink, type DriftStore, type ReevaluationTrigger } from "../drift/index.js";
import type { EvalStore } from "../evals/index.js";
import type { Logger, Metrics } from "../ops/index.js";

export interface DriftWiring {
  config: Config;
  store: DriftStore;
  metrics: Metrics;
  log: Logger;
  /** Where re-evaluation runs are stored (the configured storage's eval store, as `stratum eval` uses). */
  evals: EvalStore;
  /** The HTTP server, once built (the re-evaluation calls it). */
  server: () => Server | undefined;
  /** The key re-evaluation calls with when drift.reevaluate.apiKey is not set (STRATUM_API_KEY). */
  adminKey?: string;
}

export interface DriftService {
  monitor: DriftMonitor;
  close(): Promise<void>;
}

export async function createDriftMonitor(w: DriftWiring): Promise<DriftService | undefined> {
  const cfg = w.config.drift;
  if (!cfg.enabled) return undefined;
  const sinks: AlertSink[] = cfg.webhookUrl ? [new WebhookAlertSink(cfg.webhookUrl, cfg.webhookTimeoutMs, w.log)] : [];
  let reevaluate: ReevaluationTrigger | undefined;
  if (cfg.reevaluate) {
    const apiKey = cfg.reevaluate.apiKey?.reveal() ?? w.adminKey;
    if (!apiKey) w.log.warn("drift.reevaluate: no key to call the server with (set drift.reevaluate.apiKey or STRATUM_API_KEY); re-evaluations will be refused");
    reevaluate = new EvalReevaluator({
      dataset: cfg.reevaluate.dataset,
      pipeline: cfg.reevaluate.pipeline,
      concurrency: cfg.reevaluate.concurrency,
      store: w.evals,
      log: w.log,
      target: () => {
        const baseUrl = selfUrl(w.server(), w.config.server.host);
        return baseUrl ? { baseUrl, ...(apiKey ? { apiKey } : {}) } : undefined;
      },
    });
  }
  const monitor = new DriftMonitor({ config: cfg, log: w.log, store: w.store, metrics: new DriftMetrics(w.metrics.registry), sinks, ...(reevaluate ? { reevaluate } : {}) });
  await monitor.load();
  monitor.start();
  return {
    monitor,
    async close() {
      await monitor.close();
      await reevaluate?.idle();
    },
  };
}

/** This server's own base URL (a wildcard listen address is reached on loopback). */
function selfUrl(server: Server | undefined, host: string): string | undefined {
  const a = server?.address();
  if (!a || typeof a === "string") return undefined;
  const h = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${h}:${a.port}`;
}
