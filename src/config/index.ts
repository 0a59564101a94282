export { loadConfig, loadStateConfig, parseConfig, findConfigFile, ConfigError, formatIssues } from "./load.js";
export { Secret } from "./secret.js";
export * from "./schema.js";
