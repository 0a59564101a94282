// Tracing built from the config: the per-instance Tracing (spans → trace
// store, OTLP), the online evaluator (scores → trace store, metric, onScore
// listeners), and what the gateway gets of them.
import type { Config } from "../config/schema.js";
import type { Logger, Metrics } from "../ops/index.js";
import { OnlineEvaluator, Tracing, type GatewayTracing, type TraceStore } from "../tracing/index.js";

export interface AppTracing {
  tracing: Tracing;
  onlineEval: OnlineEvaluator;
  gateway: GatewayTracing;
  close(): Promise<void>;
}

export async function createTracing(config: Config, store: TraceStore, metrics: Metrics, log: Logger): Promise<AppTracing | undefined> {
  if (!config.tracing.enabled) return undefined;
  const tracing = await Tracing.create(config.tracing, store, log, { onDropped: (n) => metrics.traceSpansDropped.inc(n) });
  const onlineEval = new OnlineEvaluator(config.tracing.onlineEval, {
    store,
    log,
    observe: (s) => metrics.onlineEvalScore.observe({ pipeline: s.pipeline, version: s.version !== undefined ? String(s.version) : "", metric: s.metric }, s.value),
    onDropped: () => metrics.onlineEvalDropped.inc(),
  });
  return {
    tracing,
    onlineEval,
    gateway: {
      store,
      requestContext: () => tracing.requestContext(),
      offerForEval: (input) => onlineEval.offer(input),
    },
    close: async () => {
      await onlineEval.close();
      await tracing.close();
    },
  };
}
