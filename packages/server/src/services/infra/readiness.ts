/** One dependency's answer to a readiness check. */
export interface DependencyStatus {
  status: 'up' | 'down';
  /** How long it took to answer (absent when it did not answer in time). */
  latency_ms?: number;
  /** Why it is down. */
  error?: string;
}

/** A dependency check: resolves when the dependency answered, rejects (or never settles) when it did not. */
export type DependencyCheck = () => Promise<unknown>;

/** How long `/ready` waits for the slowest dependency: it answers within a second whatever they do. */
export const READY_BUDGET_MS = 800;

/**
 * Runs every check at once, each bounded by `budgetMs`, and reports each dependency. A check
 * that rejects, resolves to `false`, or has not answered in time is `down`.
 *
 * @example
 * ```ts
 * const deps = await checkDependencies({ database: () => store.ping() });
 * deps.database.status; // 'up' | 'down'
 * ```
 */
export async function checkDependencies(
  checks: Record<string, DependencyCheck>,
  budgetMs = READY_BUDGET_MS,
): Promise<Record<string, DependencyStatus>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyStatus]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${budgetMs} ms`)), budgetMs);
      });
      try {
        const answer = await Promise.race([Promise.resolve().then(check), timeout]);
        if (answer === false) return [name, { status: 'down', error: 'the check failed' }];
        return [name, { status: 'up', latency_ms: Math.round((performance.now() - started) * 10) / 10 }];
      } catch (err) {
        return [name, { status: 'down', error: err instanceof Error ? err.message : String(err) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
