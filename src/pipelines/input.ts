// Input processing: what a pipeline accepts as a user turn.
import { StratumError } from "../core/errors.js";
import { countTokens } from "../models/index.js";
import { contentText, type ChatMessage } from "../protocol/openai.js";

/** Unicode NFC, no control characters (except newline/tab), no runs of blank lines, trimmed. */
export function normaliseText(text: string): string {
  return text
    .normalize("NFC")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/**
 * Split a request into the client's own system messages, the earlier turns it
 * sent, and the new question, and check the question: the last message must be
 * a non-empty user message within the token cap.
 */
export function prepareTurn(messages: readonly ChatMessage[], maxTokens: number): { system: ChatMessage[]; earlier: ChatMessage[]; question: string } {
  const at = messages.length - 1;
  const last = messages[at];
  if (!last || last.role !== "user") {
    throw new StratumError("InvalidRequest", "The last message must be a user message (the question).", { param: `messages[${at}].role` });
  }
  const question = normaliseText(contentText(last.content));
  if (!question) throw new StratumError("InvalidRequest", "The question is empty.", { param: `messages[${at}].content` });
  const tokens = countTokens(question);
  if (tokens > maxTokens) {
    throw new StratumError("InvalidRequest", `The question is ${tokens} tokens long; this pipeline accepts at most ${maxTokens}.`, {
      param: `messages[${at}].content`,
      code: "input_too_long",
    });
  }
  const system = messages.filter((m) => m.role === "system" || m.role === "developer");
  const earlier = messages.slice(0, at).filter((m) => m.role !== "system" && m.role !== "developer");
  return { system, earlier, question };
}
