// A step's time budget: its work gets a signal that aborts at the deadline (or
// when the client goes away), and the step is over budget when the deadline
// passed, even if the work swallowed the abort and returned something.

export type Budgeted<T> = { ok: true; value: T } | { ok: false; timedOut: boolean; error: unknown };

export async function withinBudget<T>(parent: AbortSignal, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<Budgeted<T>> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error(`over its time budget of ${ms} ms`)), ms);
  const signal = AbortSignal.any([parent, deadline.signal]);
  // The listener is removed when the step ends: Node keeps a combined signal
  // that has an abort listener alive until it aborts, and the parent (the
  // client's connection signal) outlives the request, so each step would
  // otherwise leave ~1 KB behind for good.
  const onAbort = () => rejectAborted(signal.reason);
  let rejectAborted: (reason: unknown) => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    rejectAborted = reject;
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const value = await Promise.race([work(signal), aborted]);
    if (deadline.signal.aborted) return { ok: false, timedOut: true, error: deadline.signal.reason };
    return { ok: true, value };
  } catch (error) {
    if (parent.aborted) throw error; // the client went away: no fallback, the request is over
    return { ok: false, timedOut: deadline.signal.aborted, error: deadline.signal.aborted ? deadline.signal.reason : error };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}
