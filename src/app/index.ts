export { createStratum, type Stratum, type StratumOptions } from "./stratum.js";
