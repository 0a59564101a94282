// A step's time budget: its work gets a signal that aborts at the deadline (or
// when the client goes away), and the step is over budget when the deadline
// passed, even if the work swallowed the abort and returned something.

export type Budgeted<T> = { ok: true; value: T } | { ok: false; timedOut: boolean; error: unknown };

export async function withinBudget<T>(parent: AbortSignal, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<Budgeted<T>> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error(`over its time budget of ${ms} ms`)), ms);
  const signal = AbortSignal.any([parent, deadline.signal]);
  const aborted = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
  try {
    const value = await Promise.race([work(signal), aborted]);
    if (deadline.signal.aborted) return { ok: false, timedOut: true, error: deadline.signal.reason };
    return { ok: true, value };
  } catch (error) {
    if (parent.aborted) throw error; // the client went away: no fallback, the request is over
    return { ok: false, timedOut: deadline.signal.aborted, error: deadline.signal.aborted ? deadline.signal.reason : error };
  } finally {
    clearTimeout(timer);
  }
}
