// What the gateway needs from tracing: the context request spans start under,
// the store the trace routes read, and the online evaluator's intake.
import type { Context } from "@opentelemetry/api";
import type { ChatCompletion, ChatRequest } from "../protocol/openai.js";
import type { TraceStore } from "./types.js";

/** One pipeline response offered to online evaluation (sampled; scored later). */
export interface OnlineEvalInput {
  traceId: string;
  tenant: string;
  /** The model name the client asked for (the pipeline). */
  model: string;
  request: ChatRequest;
  /** The whole answer (streams: assembled), with its `stratum` extension. */
  completion: ChatCompletion;
}

export interface GatewayTracing {
  readonly store: TraceStore;
  requestContext(): Context;
  /** Cheap: samples first (`input` is built only for a sampled response) and enqueues; scoring happens off the response path. */
  offerForEval?(input: () => OnlineEvalInput): void;
}
