// Polling for a condition in tests, without the server harness around it.

/** Wait until `fn` returns truthy (polling), or fail after `ms`. */
export async function eventually<T>(fn: () => T | Promise<T>, ms = 3000, what = "condition"): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
