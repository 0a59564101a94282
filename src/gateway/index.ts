// Gateway layer: HTTP APIs (OpenAI, Anthropic, admin), auth, limits, metering.
export { buildGateway } from "./server.js";
export { GatewayContext, type GatewayDeps, type Knowledge } from "./context.js";
export { ChatFlow } from "./chat-flow.js";
export { KeyService, hashKey, generateKey, publicKeyView, KEY_PREFIX } from "./auth/key-service.js";
export { RateLimiter } from "./limits/rate-limiter.js";
export { toHttpError } from "./http-errors.js";
