// Builds an FTS5 MATCH expression from analyzed terms. Every term is a
// double-quoted string (FTS5 syntax inside quotes is inert; `"` is doubled),
// OR-ed together, so no user input can produce an FTS5 syntax error or reach
// operators such as NEAR, column filters or prefix queries.

export const quoteTerm = (t: string): string => `"${t.replaceAll('"', '""')}"`;

/** An OR query over the terms, or undefined when there is nothing to search. */
export function matchExpression(terms: readonly string[]): string | undefined {
  if (terms.length === 0) return undefined;
  return terms.map(quoteTerm).join(" OR ");
}
