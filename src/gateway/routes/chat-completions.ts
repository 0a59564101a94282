// POST /v1/chat/completions — OpenAI Chat Completions, JSON and SSE.
import type { FastifyInstance } from "fastify";
import { ChatRequestSchema, type ChatCompletion, type ChatCompletionChunk, type ChatRequest } from "../../protocol/openai.js";
import { ChunkMaker } from "../../protocol/chunks.js";
import { jsonTextOf } from "../../protocol/raw-json.js";
import { SSE_DONE, sseData } from "../../protocol/sse.js";
import type { GatewayContext } from "../context.js";
import { withRequestSpan } from "../request-span.js";
import { serveChat, type ChatDialect } from "../serve-chat.js";
import { shapeValidator } from "../validate.js";

const validateChatRequest = shapeValidator(ChatRequestSchema);

export function chatCompletionsRoute(app: FastifyInstance, g: GatewayContext): void {
  app.post("/v1/chat/completions", async (request, reply) => {
    const key = await g.authenticate(request);
    return withRequestSpan(g, request, reply, key, (rt) => {
      const req = validateChatRequest(request.body);
      return serveChat(g, request, reply, key, req, openAIDialect(req, request.id), rt);
    });
  });
}

const USAGE_NULL_END = ',"usage":null}';

/**
 * The upstream's own text of an unchanged chunk, made what the client should
 * get: no usage member when the client did not ask for usage, `"usage":null`
 * when it did (OpenAI sends it on every chunk then; vLLM, Ollama and others
 * leave it out). Edits are at the text's end only, where they are exact: the
 * last brace of a valid JSON text closes its top-level object, so a text
 * ending in `,"usage":null}` has that member at the top level, and a member
 * added before the last brace is a top-level member (not a duplicate: the
 * parsed chunk has no usage).
 */
function upstreamText(chunk: ChatCompletionChunk, includeUsage: boolean): string | undefined {
  const text = jsonTextOf(chunk);
  if (text === undefined) return undefined;
  if (!("usage" in chunk)) {
    if (!includeUsage) return text;
    // A chunk always has members (`choices` at least), so the new one follows a comma.
    return text.endsWith("}") ? `${text.slice(0, -1)},"usage":null}` : undefined;
  }
  if (chunk.usage !== null) return undefined;
  if (includeUsage) return text;
  return text.endsWith(USAGE_NULL_END) ? `${text.slice(0, -USAGE_NULL_END.length)}}` : undefined;
}

/**
 * The upstream's own text of an unchanged completion with Stratum's extension
 * added as its last member: the answer is not serialised again (~15k
 * instructions a request, the largest JSON.stringify on the path). As in
 * upstreamText, the last brace of the text closes its top-level object; an
 * answer that came with a `stratum` member of its own is serialised instead.
 */
function completionText(c: ChatCompletion, stratum: Record<string, unknown>): string | undefined {
  if (c.stratum !== undefined) return undefined;
  const text = jsonTextOf(c);
  if (text === undefined) return undefined;
  const end = text.lastIndexOf("}");
  return end < 0 ? undefined : `${text.slice(0, end)},"stratum":${JSON.stringify(stratum)}}`;
}

function openAIDialect(req: ChatRequest, requestId: string): ChatDialect {
  const includeUsage = req.stream_options?.include_usage === true;
  return {
    json: (c, stratum) => completionText(c, stratum) ?? { ...c, stratum },
    stream: () => ({
      chunk(chunk) {
        if (chunk.choices.length === 0 && chunk.usage) return ""; // the usage chunk goes last, in end()
        // OpenAI: with include_usage every other chunk carries usage: null; without it, no usage field.
        const text = upstreamText(chunk, includeUsage);
        if (text !== undefined) return `data: ${text}\n\n`;
        // A copy with usage as the client asked (chunks are never changed in place).
        const { usage: _upstream, ...rest } = chunk;
        return sseData(includeUsage ? { ...rest, usage: null } : rest);
      },
      end(usage, acc) {
        if (!includeUsage) return SSE_DONE;
        return sseData(new ChunkMaker(acc.completionId || `chatcmpl-${requestId}`, req.model).usage(usage())) + SSE_DONE;
      },
      error: (err) => sseData(err.body) + SSE_DONE,
    }),
  };
}
