import { contextId } from './context';
import type { Snapshot } from './source';
import type { ScopedStorage } from './storage';
import type { Context } from './types';

/** How many contexts keep their last results (the most recently updated ones). */
export const WARM_CACHE_CONTEXTS = 10;

/** The last results per context, served at once on the next page load. */
export interface WarmCache {
  read(context: Context): Snapshot | undefined;
  write(context: Context, snapshot: Snapshot): void;
}

/**
 * Keeps one snapshot per context in one storage entry, for the {@link WARM_CACHE_CONTEXTS}
 * most recently updated contexts (insertion order is recency: an update moves a context last).
 *
 * @example
 * ```ts
 * const cache = createWarmCache(scopedStorage(localStorage, scope));
 * cache.read({ key: 'user-1' }); // the snapshot saved last time, or undefined
 * ```
 */
export function createWarmCache(store: ScopedStorage): WarmCache {
  const all = () => store.get<Record<string, Snapshot>>('cache') ?? {};
  return {
    read: (context) => all()[contextId(context)],
    write(context, snapshot) {
      const entries = all();
      const id = contextId(context);
      delete entries[id];
      entries[id] = snapshot;
      const ids = Object.keys(entries);
      for (const old of ids.slice(0, ids.length - WARM_CACHE_CONTEXTS)) delete entries[old];
      store.set('cache', entries);
    },
  };
}
