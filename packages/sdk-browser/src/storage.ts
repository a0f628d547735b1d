/** JSON values in `localStorage` under one SDK key's namespace; every failure (quota, privacy mode) is ignored. */
export interface ScopedStorage {
  get<T>(name: string): T | undefined;
  set(name: string, value: unknown): void;
  remove(name: string): void;
}

/** FNV-1a 32-bit, base 36: short, stable names that never contain a secret. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/** `localStorage` when the page may use it (it throws in some sandboxed frames), else `null`. */
export function defaultStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * Storage names are `switchyard:<hash of scope>:<name>`, so two keys or servers never share
 * entries and the key itself is never written down.
 *
 * @example
 * ```ts
 * const store = scopedStorage(localStorage, baseUrl + clientKey);
 * store.set('index', ['a']);
 * ```
 */
export function scopedStorage(storage: Storage | null, scope: string): ScopedStorage {
  const prefix = `switchyard:${shortHash(scope)}:`;
  return {
    get(name) {
      try {
        const raw = storage?.getItem(prefix + name);
        return raw == null ? undefined : JSON.parse(raw);
      } catch {
        return undefined;
      }
    },
    set(name, value) {
      try {
        storage?.setItem(prefix + name, JSON.stringify(value));
      } catch {
        // full or forbidden: warm start is an optimisation
      }
    },
    remove(name) {
      try {
        storage?.removeItem(prefix + name);
      } catch {
        // as above
      }
    },
  };
}
