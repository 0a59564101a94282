// Asynchronous jobs: a queue contract with an in-process default and Redis Streams for scale-out.
export type * from "./types.js";
export { MemoryJobQueue } from "./memory-queue.js";
export { RedisStreamQueue, type RedisStreamQueueOptions } from "./redis-queue.js";
