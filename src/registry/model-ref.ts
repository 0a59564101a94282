// `assistant`, `assistant@3`, `assistant@staging`: how a request's model
// names a pipeline version.

export type VersionSelector = { version: number } | { alias: string };

export interface ModelRef {
  name: string;
  /** Absent: the serving default (the `production` alias, or the rollout in progress). */
  selector?: VersionSelector;
}

export function parseModelRef(model: string): ModelRef {
  const at = model.lastIndexOf("@");
  if (at <= 0 || at === model.length - 1) return { name: model };
  const name = model.slice(0, at);
  const sel = model.slice(at + 1);
  return /^[0-9]{1,9}$/.test(sel) ? { name, selector: { version: Number(sel) } } : { name, selector: { alias: sel } };
}
