import type { Envelope } from './client';

/**
 * Follows `meta.pagination.next_cursor` until the last page (200 per page, the API's maximum).
 *
 * @example
 * ```ts
 * const all = await fetchAll((cursor) => unwrap(api.GET('/api/v1/segments', { params: { query: { limit: 200, cursor } } })));
 * ```
 */
export async function fetchAll<T>(page: (cursor: string | undefined) => Promise<Envelope<T[]>>, max = 100_000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const env = await page(cursor);
    out.push(...env.data);
    const next = env.meta?.pagination?.next_cursor ?? null;
    if (next === null || out.length >= max) return out;
    cursor = next;
  }
}
