// The OpenAI embeddings wire format, shared by the providers that compute
// embeddings themselves (sim, gguf): the request's input shapes and the
// response's base64 encoding.
import type { EmbeddingRequest } from "../../protocol/openai.js";

/** OpenAI's base64 embedding encoding: float32 little-endian bytes. */
export function floatsToBase64(vec: readonly number[]): string {
  const buf = Buffer.allocUnsafe(vec.length * 4);
  for (let i = 0; i < vec.length; i++) buf.writeFloatLE(vec[i]!, i * 4);
  return buf.toString("base64");
}

/** Normalise the four OpenAI input shapes to a list of texts / token arrays. */
export function embeddingInputs(input: EmbeddingRequest["input"]): Array<string | number[]> {
  if (typeof input === "string") return [input];
  if (input.length > 0 && typeof input[0] === "number") return [input as number[]];
  return input as Array<string | number[]>;
}
