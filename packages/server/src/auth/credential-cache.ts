import { isStoreUnavailable } from '../store/store-errors';
import type { ApiKeyRow, Store, UserRow } from '../store/types';

interface Entry<T> {
  row: T;
  /** When it was read from the store (the cache's clock). */
  at: number;
}

/** What {@link CredentialCache.invalidate} drops: a user (and the keys they created), some keys, or with neither everything. */
export interface CredentialChange {
  userId?: string;
  apiKeyIds?: string[];
}

/** Counters for metrics and tests. */
export interface CredentialCacheStats {
  hits: number;
  misses: number;
  /** Answers given from an expired entry because the store was unavailable. */
  staleServed: number;
}

/** Entries kept at most; the oldest go first (a forgotten one is simply read again). */
const MAX_ENTRIES = 50_000;

/**
 * API keys (by secret hash) and users (by id) as authentication reads them, kept for `ttlMs`
 * so that a request does not need the database to know who sent it. Invalidated at once on
 * every instance when a key is revoked or a user changed (the server wires
 * {@link CredentialCache.invalidate} to the signal the instances share); the TTL bounds how
 * long a missed signal matters.
 *
 * Degraded mode: when the store is unavailable, an expired entry is served instead of failing
 * — the key or user was valid when last read, and nothing can be revoked while the database is
 * down — so SDK reads, streams, evaluation and OFREP keep working with known credentials. An
 * unknown credential still needs the store (and gets its `503`). Only rows found are cached: a
 * key created a moment ago works at once.
 *
 * @example
 * ```ts
 * const cache = new CredentialCache(store, 30_000, Date.now);
 * const key = await cache.apiKeyByHash(hashApiKey(secret));
 * cache.invalidate({ apiKeyIds: [key!.id] });
 * ```
 */
export class CredentialCache {
  private readonly keys = new Map<string, Entry<ApiKeyRow>>();
  private readonly users = new Map<string, Entry<UserRow>>();
  readonly stats: CredentialCacheStats = { hits: 0, misses: 0, staleServed: 0 };
  /** Bumped by every invalidation: a read that started before one must not cache what it read. */
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The API key with this secret hash, or `null`. */
  apiKeyByHash(hash: string): Promise<ApiKeyRow | null> {
    return this.read(this.keys, hash, () => this.store.getApiKeyByHash(hash));
  }

  /** The user with this id, or `null`. */
  user(id: string): Promise<UserRow | null> {
    return this.read(this.users, id, () => this.store.getUser(id));
  }

  /** Forgets what a change makes stale (everything when it names nothing). */
  invalidate(change: CredentialChange = {}): void {
    this.generation++;
    const ids = new Set(change.apiKeyIds ?? []);
    if (change.userId === undefined && ids.size === 0) {
      this.keys.clear();
      this.users.clear();
      return;
    }
    if (change.userId !== undefined) this.users.delete(change.userId);
    for (const [hash, e] of this.keys)
      // A management key acts with its creator's role: a change of the user changes the key.
      if (ids.has(e.row.id) || (change.userId !== undefined && e.row.createdBy === change.userId)) this.keys.delete(hash);
  }

  private async read<T>(map: Map<string, Entry<T>>, id: string, load: () => Promise<T | null>): Promise<T | null> {
    const cached = map.get(id);
    const now = this.now();
    if (cached !== undefined && now - cached.at < this.ttlMs) {
      this.stats.hits++;
      return cached.row;
    }
    this.stats.misses++;
    const generation = this.generation;
    let row: T | null;
    try {
      row = await load();
    } catch (err) {
      if (cached !== undefined && isStoreUnavailable(err)) {
        this.stats.staleServed++;
        return cached.row;
      }
      throw err;
    }
    map.delete(id);
    if (row !== null && this.ttlMs > 0 && generation === this.generation) {
      if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
      map.set(id, { row, at: now });
    }
    return row;
  }
}
