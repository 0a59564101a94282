// The RetrievalStore contract on SQLite (in memory, one store per test).
import { memoryStore } from "./test-support.js";
import { retrievalStoreContract } from "./store-contract.js";

retrievalStoreContract("SQLite", () => memoryStore(), { vectors: true });
