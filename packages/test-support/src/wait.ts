/**
 * Polls `check` every 10 ms until it returns something truthy, and returns that; throws with
 * `what` after `timeoutMs`. Tests wait on conditions this way, never on sleeps.
 *
 * @example
 * ```ts
 * await until(() => client.status === 'ready', 5000, 'the client to be ready');
 * ```
 */
export async function until<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
