export { createStratum, type Stratum, type StratumOptions } from "./stratum.js";
export { compactHeap, limitHeapGrowth } from "./heap-growth.js";
