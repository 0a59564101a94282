// Model layer: providers, router (retries, breakers, fallback), cache.
export type { ChatProvider, CallContext } from "./provider.js";
export { answeredByFallback, servedFromCache, ModelService, type Served, type ServeContext, type CacheStatus, type ModelServiceHooks } from "./model-service.js";
export { ResponseCache } from "./cache/response-cache.js";
export { Coalescer, type InFlightCoalescer } from "../core/coalescer.js";
export { Router, RouteTable, EXTRACTIVE_ALIAS, type Attempt, type Deployment, type CircuitState } from "./router/index.js";
export { countTokens, countPromptTokens, countMessageTokens, countUsage, estimatePromptTokens, estimateTextTokens, releaseTokenizer } from "./tokenizer.js";
export { createProviders } from "./providers/registry.js";
export { splitSentences } from "./providers/extractive.js";
export { SemanticCache, type EmbedText } from "./cache/semantic-cache.js";
