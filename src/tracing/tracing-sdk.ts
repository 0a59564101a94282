// The OpenTelemetry SDK parts a Tracing may need, loaded only when the config
// asks for them: the trace-id ratio sampler (sampleRatio below 1) and the OTLP
// exporter. The SDK and the exporter with what they pull in (metrics SDK,
// transformers) are ~4 MiB of heap that a process tracing only into its own
// store never uses.
import { ROOT_CONTEXT } from "@opentelemetry/api";
import type { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { TracingConfig } from "../config/schema.js";

export interface TracingSdk {
  /** Whether a root span with this trace id is sampled, when sampleRatio < 1 (the SDK's trace-id ratio sampler). */
  sampleRoot?: (traceId: string) => boolean;
  /** OTLP export, when tracing.otlp is set. */
  otlp?: BatchSpanProcessor;
}

export async function loadTracingSdk(cfg: TracingConfig): Promise<TracingSdk> {
  const sdk: TracingSdk = {};
  if (!cfg.enabled || cfg.sampleRatio <= 0) return sdk;
  if (cfg.sampleRatio < 1 || cfg.otlp) {
    const { BatchSpanProcessor, SamplingDecision, TraceIdRatioBasedSampler } = await import("@opentelemetry/sdk-trace-base");
    if (cfg.sampleRatio < 1) {
      const sampler = new TraceIdRatioBasedSampler(cfg.sampleRatio);
      sdk.sampleRoot = (traceId) => sampler.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
    }
    if (cfg.otlp) {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
      const url = cfg.otlp.endpoint.replace(/\/+$/, "");
      const headers = Object.fromEntries(Object.entries(cfg.otlp.headers).map(([k, v]) => [k, typeof v === "string" ? v : v.reveal()]));
      sdk.otlp = new BatchSpanProcessor(new OTLPTraceExporter({ url: url.endsWith("/v1/traces") ? url : `${url}/v1/traces`, headers }), { scheduledDelayMillis: 1_000 });
    }
  }
  return sdk;
}
