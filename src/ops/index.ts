export { createLogger, type Logger } from "./logger.js";
export { LogSink } from "./log-sink.js";
export { Metrics } from "./metrics.js";
