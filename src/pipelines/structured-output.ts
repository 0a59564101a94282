// Structured output: when a request asks for JSON (`response_format`
// json_object or json_schema), the answer is validated; an invalid one is
// retried once with the validation errors, then refused with a clear error —
// never passed on as if it were valid.
import { Ajv, type ValidateFunction } from "ajv";
import { StratumError } from "../core/errors.js";
import type { ModelService, Served, ServeContext } from "../models/index.js";
import { contentText, type ChatCompletion, type ChatRequest } from "../protocol/openai.js";

type Check = (text: string) => string[];

export class StructuredOutput {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  /** Compiled schemas by their JSON text; bounded, schemas repeat across requests. */
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly models: ModelService) {}

  /** A whole completion, validated (and retried once) when the request asks for JSON. */
  complete(name: string, req: ChatRequest, ctx: ServeContext): Promise<Served<ChatCompletion>> {
    let check: Check | undefined;
    try {
      check = this.checkFor(req);
    } catch (e) {
      return Promise.reject(e);
    }
    // Plain text: the model's own promise, no async layer around it.
    return check ? this.completeChecked(name, req, ctx, check) : this.models.complete(name, req, ctx);
  }

  private async completeChecked(name: string, req: ChatRequest, ctx: ServeContext, check: Check): Promise<Served<ChatCompletion>> {
    const first = await this.models.complete(name, req, ctx);
    const text = answerText(first.result);
    const errors = check(text);
    if (errors.length === 0) return first;
    const retry: ChatRequest = {
      ...req,
      messages: [
        ...req.messages,
        { role: "assistant", content: text },
        { role: "user", content: `Your reply is not valid: ${errors.join("; ")}. Reply again with only the JSON, matching the schema exactly.` },
      ],
    };
    const second = await this.models.complete(name, retry, { ...ctx, noCache: true });
    const again = check(answerText(second.result));
    if (again.length === 0) return { ...second, attempts: [...first.attempts, ...second.attempts] };
    throw new StratumError("OutputInvalid", `The model's output did not match the requested format after a retry: ${again.join("; ")}`, { code: "invalid_structured_output" });
  }

  /** The check a request asks for, or undefined (plain text). A schema that does not compile is the client's error. */
  checkFor(req: ChatRequest): Check | undefined {
    const rf = req.response_format;
    if (!rf || rf.type === "text") return undefined;
    const schema = rf.type === "json_schema" ? rf.json_schema.schema : undefined;
    const validate = schema ? this.compile(schema) : undefined;
    return (text) => {
      let value: unknown;
      try {
        value = JSON.parse(stripFence(text));
      } catch (e) {
        return [`it is not JSON (${(e as Error).message})`];
      }
      if (!validate) return value !== null && typeof value === "object" ? [] : ["it is not a JSON object"];
      if (validate(value)) return [];
      return (validate.errors ?? []).slice(0, 5).map((er) => `${er.instancePath || "(root)"} ${er.message ?? "is invalid"}`);
    };
  }

  private compile(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    let v = this.compiled.get(key);
    if (!v) {
      try {
        v = this.ajv.compile(schema);
      } catch (e) {
        throw new StratumError("InvalidRequest", `response_format.json_schema.schema is not a valid JSON schema: ${(e as Error).message}`, { param: "response_format.json_schema.schema" });
      }
      if (this.compiled.size >= 256) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, v);
    }
    return v;
  }
}

function answerText(c: ChatCompletion): string {
  return contentText(c.choices[0]?.message.content ?? "");
}

/** Models often wrap JSON in a ```json fence. */
function stripFence(text: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return m ? m[1]! : text;
}
