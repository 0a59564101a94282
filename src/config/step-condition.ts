// The condition language of pipeline branch steps, parsed (never eval'd):
//   retrieval.confidence < 0.2
//   classify.label == 'billing' or guardrail.blocked
//   not (grounding.score >= 0.6 and retrieval.hits > 2)
// Operands: variables `<step id or kind>.<field>`, numbers, 'strings' or "strings", true/false.
// Operators: == != < <= > >= and/&& or/|| not/! and parentheses. The config
// layer parses (so a bad condition fails at start); pipelines/steps evaluates.

export type Operand = { var: string } | { lit: string | number | boolean };
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

export type Condition =
  | { k: "or"; a: Condition; b: Condition }
  | { k: "and"; a: Condition; b: Condition }
  | { k: "not"; a: Condition }
  | { k: "cmp"; op: CompareOp; left: Operand; right: Operand }
  | { k: "truthy"; v: Operand };

export type ParsedCondition = { ok: true; cond: Condition; vars: string[] } | { ok: false; error: string };

const MAX_LENGTH = 500;
const MAX_DEPTH = 32;

type Token =
  | { t: "var"; v: string }
  | { t: "lit"; v: string | number | boolean }
  | { t: "op"; v: CompareOp }
  | { t: "and" | "or" | "not" | "(" | ")" };

const TOKEN = /\s*(?:([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|(-?\d+(?:\.\d+)?)|'([^']*)'|"([^"]*)"|(==|!=|<=|>=|<|>)|(&&|\|\||!|\(|\)))/y;

function tokenize(src: string): Token[] | string {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < src.length) {
    if (/^\s*$/.test(src.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(src);
    if (!m) return `unexpected character at position ${at + (src.slice(at).length - src.slice(at).trimStart().length)}: "${src.slice(at).trimStart().slice(0, 12)}"`;
    at = TOKEN.lastIndex;
    const [, word, num, sq, dq, cmp, punct] = m;
    if (word !== undefined) {
      const lower = word.toLowerCase();
      if (lower === "and" || lower === "or" || lower === "not") out.push({ t: lower });
      else if (lower === "true" || lower === "false") out.push({ t: "lit", v: lower === "true" });
      else if (!word.includes(".")) return `"${word}" is not a variable (use <step>.<field>, e.g. retrieval.confidence) or a quoted string`;
      else out.push({ t: "var", v: word });
    } else if (num !== undefined) out.push({ t: "lit", v: Number(num) });
    else if (sq !== undefined || dq !== undefined) out.push({ t: "lit", v: (sq ?? dq)! });
    else if (cmp !== undefined) out.push({ t: "op", v: cmp as CompareOp });
    else if (punct === "&&") out.push({ t: "and" });
    else if (punct === "||") out.push({ t: "or" });
    else if (punct === "!") out.push({ t: "not" });
    else out.push({ t: punct as "(" | ")" });
  }
  return out;
}

/** Parse a condition; the error says what is wrong (the caller adds the field path). */
export function parseCondition(src: string): ParsedCondition {
  if (src.length > MAX_LENGTH) return { ok: false, error: `a condition is at most ${MAX_LENGTH} characters` };
  const tokens = tokenize(src);
  if (typeof tokens === "string") return { ok: false, error: tokens };
  if (tokens.length === 0) return { ok: false, error: "the condition is empty" };
  let i = 0;
  const vars = new Set<string>();
  const fail = (msg: string): never => {
    throw new SyntaxError(msg);
  };
  const peek = () => tokens[i];

  const operand = (): Operand => {
    const tok = tokens[i++];
    if (!tok) return fail("the condition ends where a value was expected");
    if (tok.t === "var") {
      vars.add(tok.v);
      return { var: tok.v };
    }
    if (tok.t === "lit") return { lit: tok.v };
    return fail(`expected a value, found "${tok.t === "op" ? tok.v : tok.t}"`);
  };
  const unary = (depth: number): Condition => {
    if (depth > MAX_DEPTH) fail(`conditions nest at most ${MAX_DEPTH} deep`);
    const tok = peek();
    if (tok?.t === "not") {
      i++;
      return { k: "not", a: unary(depth + 1) };
    }
    if (tok?.t === "(") {
      i++;
      const inner = or(depth + 1);
      if (peek()?.t !== ")") fail("a \"(\" is not closed");
      i++;
      return inner;
    }
    const left = operand();
    const next = peek();
    if (next?.t === "op") {
      i++;
      return { k: "cmp", op: next.v, left, right: operand() };
    }
    return { k: "truthy", v: left };
  };
  const and = (depth: number): Condition => {
    let c = unary(depth);
    while (peek()?.t === "and") {
      i++;
      c = { k: "and", a: c, b: unary(depth) };
    }
    return c;
  };
  const or = (depth: number): Condition => {
    let c = and(depth);
    while (peek()?.t === "or") {
      i++;
      c = { k: "or", a: c, b: and(depth) };
    }
    return c;
  };

  try {
    const cond = or(0);
    const rest = peek();
    if (rest) fail(`unexpected "${rest.t === "op" || rest.t === "var" || rest.t === "lit" ? String(rest.v) : rest.t}" after a complete condition`);
    return { ok: true, cond, vars: [...vars] };
  } catch (e) {
    if (e instanceof SyntaxError) return { ok: false, error: e.message };
    throw e;
  }
}

/** String literals compared with a variable by == or != (to check labels against a classifier's set). */
export function comparedStrings(cond: Condition): Array<{ var: string; value: string }> {
  switch (cond.k) {
    case "or":
    case "and":
      return [...comparedStrings(cond.a), ...comparedStrings(cond.b)];
    case "not":
      return comparedStrings(cond.a);
    case "truthy":
      return [];
    case "cmp": {
      if (cond.op !== "==" && cond.op !== "!=") return [];
      const { left, right } = cond;
      if ("var" in left && "lit" in right && typeof right.lit === "string") return [{ var: left.var, value: right.lit }];
      if ("var" in right && "lit" in left && typeof left.lit === "string") return [{ var: right.var, value: left.lit }];
      return [];
    }
  }
}
