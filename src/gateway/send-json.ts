// Sending a JSON body that may already be text: an upstream's answer passed
// on unchanged keeps the text it was parsed from (protocol/raw-json.ts) and
// is sent as that text instead of being serialised again.
import type { FastifyReply } from "fastify";

const JSON_TYPE = "application/json; charset=utf-8";

/** `body`: an object for Fastify to serialise, or JSON text, sent as is with the JSON content type. */
export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  if (typeof body === "string") reply.type(JSON_TYPE);
  return reply.send(body);
}
