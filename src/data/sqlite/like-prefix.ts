/** A LIKE pattern (with `ESCAPE '\'`) matching strings that start with `prefix`, its wildcards taken literally. */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => "\\" + c) + "%";
}
