export { createStratum, type Stratum, type StratumOptions } from "./stratum.js";
export { limitHeapGrowth } from "./heap-growth.js";
