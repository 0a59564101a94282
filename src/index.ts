// Stratum as a library: the typed API behind the server and CLI.
export { createStratum, type Stratum, type StratumOptions } from "./app/index.js";
export { loadConfig, parseConfig, ConfigError, type Config, type ConfigInput } from "./config/index.js";
export { StratumError, type ErrorKind } from "./core/errors.js";
export { ModelService, Router, RouteTable, type ChatProvider } from "./models/index.js";
export { startSimUpstream } from "./sim/server.js";
export type * from "./protocol/openai.js";
