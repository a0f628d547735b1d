import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { withinBudget } from '../infra/redis';

/**
 * Remembers which units each API key has already sent, so that a key's *new* units can be
 * counted. Shared through Redis when configured; otherwise (and while Redis fails) in memory.
 */
export interface UnitLedger {
  /** Marks the units as seen from `keyId`; `true` at the index of each unit not seen before. */
  claim(keyId: string, units: readonly string[], now: number): Promise<boolean[]>;
  /** Forgets units claimed but then refused, so that a later attempt counts them as new again. */
  release(keyId: string, units: readonly string[]): Promise<void>;
}

/** How long a unit stays known to a key after it was last claimed new: a day. */
export const UNIT_MEMORY_MS = 24 * 60 * 60 * 1000;

/**
 * The in-process ledger: per key, the units seen in the last `ttlMs`, at most `maxPerKey` of
 * them (the oldest are forgotten first; a forgotten unit simply counts as new again).
 *
 * @example
 * ```ts
 * const ledger = memoryUnitLedger();
 * await ledger.claim('key-1', ['u1', 'u2'], Date.now()); // [true, true]
 * await ledger.claim('key-1', ['u1'], Date.now()); // [false]
 * ```
 */
export function memoryUnitLedger(options: { ttlMs?: number; maxPerKey?: number } = {}): UnitLedger {
  const ttlMs = options.ttlMs ?? UNIT_MEMORY_MS;
  const maxPerKey = options.maxPerKey ?? 100_000;
  const byKey = new Map<string, Map<string, number>>();
  return {
    async claim(keyId, units, now) {
      let seen = byKey.get(keyId);
      if (seen === undefined) byKey.set(keyId, (seen = new Map()));
      const known = seen;
      return units.map((unit) => {
        const at = known.get(unit);
        if (at !== undefined && now - at < ttlMs) return false;
        known.delete(unit);
        known.set(unit, now);
        // Insertion order is age order: drop the oldest.
        if (known.size > maxPerKey) known.delete(known.keys().next().value!);
        return true;
      });
    },
    async release(keyId, units) {
      const seen = byKey.get(keyId);
      for (const unit of units) seen?.delete(unit);
    },
  };
}

/**
 * The ledger every instance on one Redis shares: one `SET NX PX` per unit (pipelined), so two
 * instances never both count a unit as new. When Redis errors or takes longer than `budgetMs`,
 * this instance falls back to its in-memory ledger for that batch: events are never refused
 * because Redis is down.
 */
export function redisUnitLedger(options: { redis: Redis; budgetMs: number; logger?: Logger; ttlMs?: number }): UnitLedger {
  const { redis, budgetMs, logger } = options;
  const ttlMs = options.ttlMs ?? UNIT_MEMORY_MS;
  const local = memoryUnitLedger({ ttlMs });
  const keyOf = (keyId: string, unit: string) => `switchyard:units:${keyId}:${unit}`;
  let lastWarned = 0;
  return {
    async claim(keyId, units, now) {
      if (redis.status === 'ready') {
        try {
          const pipeline = redis.pipeline();
          for (const unit of units) pipeline.set(keyOf(keyId, unit), '1', 'PX', ttlMs, 'NX');
          const replies = (await withinBudget(pipeline.exec(), budgetMs)) ?? [];
          return units.map((_, i) => {
            const [err, reply] = replies[i] ?? [new Error('no reply'), null];
            if (err !== null) throw err;
            return reply === 'OK';
          });
        } catch (err) {
          if (Date.now() - lastWarned > 30_000) {
            lastWarned = Date.now();
            logger?.warn({ err: (err as Error).message }, 'redis unit ledger unavailable; counting new units in this instance only');
          }
        }
      }
      return local.claim(keyId, units, now);
    },
    async release(keyId, units) {
      await local.release(keyId, units);
      if (redis.status !== 'ready' || units.length === 0) return;
      await withinBudget(redis.del(...units.map((u) => keyOf(keyId, u))), budgetMs).catch(() => undefined);
    },
  };
}
