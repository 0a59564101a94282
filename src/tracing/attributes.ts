// Span attribute names the trace store reads into a trace's summary. Code
// outside this folder sets them as plain strings with the OpenTelemetry API.
export const ATTR = {
  tenant: "stratum.tenant",
  keyId: "stratum.key_id",
  model: "stratum.model",
  sessionId: "stratum.session_id",
  user: "stratum.user",
  stream: "stratum.stream",
  httpStatus: "http.response.status_code",
  tokensIn: "stratum.tokens_in",
  tokensOut: "stratum.tokens_out",
  costUsd: "stratum.cost_usd",
  pipeline: "stratum.pipeline",
  pipelineVersion: "stratum.pipeline.version",
} as const;
