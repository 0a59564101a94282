export { Router, type Attempt, type Routed, type RouterHooks, type RouteOptions } from "./router.js";
export { RouteTable, EXTRACTIVE_ALIAS, type Deployment } from "./route-table.js";
export { CircuitBreaker, type CircuitState } from "./circuit-breaker.js";
export { Bulkhead } from "./bulkhead.js";
export { fullJitterBackoff, sleep } from "./backoff.js";
