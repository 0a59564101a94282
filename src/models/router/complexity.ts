// How demanding a chat request looks, in [0, 1], from its text and shape alone
// (no model call, a few µs): complexity routing sends requests under the
// alias's threshold to its small, cheap deployments first. Each signal adds
// its share, capped at 1:
//
// | signal                                                        | adds            |
// |---------------------------------------------------------------|-----------------|
// | length of the whole prompt                                    | chars / 8000, at most 0.4 |
// | reasoning asked for in the last user turn (why, explain, prove, compare, step by step, ...) | 0.15 each, at most 0.3 |
// | code (a fenced block, or code-like syntax)                    | 0.3             |
// | math (an equation, LaTeX, an integral or derivative)          | 0.2             |
// | tools offered, or a JSON schema to fill                       | 0.2             |
// | a long conversation (more than 6 messages)                    | 0.1             |
//
// "What's the capital of France?" scores ~0; "Explain why this function leaks
// memory" with the code scores 0.45 and more.
import { contentText, type ChatRequest } from "../../protocol/openai.js";

const REASONING =
  /\b(why|explain|prove|derive|analy[sz]e|compare|contrast|evaluate|design|architect\w*|optimi[sz]e|debug|trade-?offs?|step[- ]by[- ]step|reason(ing)?|plan|critique|implications?)\b/gi;
const CODE = /```|\b(function|class|def|return|import|const|let|var|public|static|async|await)\b[^\n]*[({;=]|=>|#include|SELECT\s+.+\s+FROM/i;
const MATH = /\\(frac|int|sum|sqrt)|∫|∑|\b(solve|integral|derivative|equation|theorem|matrix|eigen\w*)\b|\w\s*[-+*/^]\s*\w+\s*=\s*\w/i;

export function scoreComplexity(req: Pick<ChatRequest, "messages" | "tools" | "response_format">): number {
  const texts = req.messages.map((m) => contentText(m.content));
  const all = texts.join("\n");
  const lastUser = texts[req.messages.findLastIndex((m) => m.role === "user")] ?? "";
  let score = Math.min(0.4, all.length / 8000);
  const cues = new Set((lastUser.match(REASONING) ?? []).map((w) => w.toLowerCase()));
  score += Math.min(0.3, 0.15 * cues.size);
  if (CODE.test(all)) score += 0.3;
  if (MATH.test(all)) score += 0.2;
  if (req.tools?.length || req.response_format?.type === "json_schema") score += 0.2;
  if (req.messages.length > 6) score += 0.1;
  return Math.min(1, score);
}
