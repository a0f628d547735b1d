import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Actor } from '../../auth/actor';
import { tokenBucketLimiter, type RateLimiter } from '../../middleware/rate-limit';
import { redisRateLimiter } from '../../middleware/redis-rate-limiter';
import type { StoredEvent } from '../../store/types';
import { memoryUnitLedger, redisUnitLedger, type UnitLedger } from './unit-ledger';

/** One event of a valid batch that the sending key may not send; the rest of the batch is stored. */
export interface RefusedEvent {
  index: number;
  path: string;
  code: 'PERMISSION_DENIED' | 'RATE_LIMIT_EXCEEDED';
  message: string;
  /** With `RATE_LIMIT_EXCEEDED`: when the key may introduce a new unit again. */
  retry_after_seconds?: number;
}

/** The per-key limits on what a public client key may put into results. */
export interface EventAdmission {
  /** Counts the new units of each client key; `null` switches the limit off. */
  newUnits: RateLimiter | null;
  ledger: UnitLedger;
}

/**
 * The admission of a server: `newUnitsPerMinute` new units per client key per minute (0: no
 * limit), counted in Redis when there is one (every instance shares the budget), else in memory.
 *
 * @example
 * ```ts
 * const admission = createEventAdmission({ newUnitsPerMinute: 1000, redis: null, budgetMs: 100 });
 * ```
 */
export function createEventAdmission(options: {
  newUnitsPerMinute: number;
  redis: Redis | null;
  budgetMs: number;
  logger?: Logger;
}): EventAdmission {
  const { newUnitsPerMinute: perMinute, redis, budgetMs, logger } = options;
  const limits = { capacity: perMinute, perSecond: perMinute / 60 };
  return {
    newUnits:
      perMinute <= 0
        ? null
        : redis === null
          ? tokenBucketLimiter(limits)
          : redisRateLimiter({ redis, name: 'new-units', ...limits, budgetMs, ...(logger ? { logger } : {}) }),
    ledger: redis === null ? memoryUnitLedger() : redisUnitLedger({ redis, budgetMs, ...(logger ? { logger } : {}) }),
  };
}

/**
 * Splits a validated batch sent by `actor` into the events to store and those refused:
 * a client key's track events naming a metric outside its `allowed_metrics`, and the events of
 * units that key has not sent before once it has introduced its budget of new units this
 * minute. Server keys, management keys and people are trusted with both (they send on behalf of
 * a backend, not a browser). Exposures are never refused for their metric key.
 *
 * @example
 * ```ts
 * const { events, refused } = await admitEvents(admission, actor, checked.events, Date.now());
 * ```
 */
export async function admitEvents(
  admission: EventAdmission,
  actor: Actor | null | undefined,
  events: StoredEvent[],
  now: number,
): Promise<{ events: StoredEvent[]; refused: RefusedEvent[] }> {
  if (actor === null || actor === undefined || actor.type !== 'api_key' || actor.kind !== 'client') return { events, refused: [] };
  const refused = new Map<number, RefusedEvent>();
  const allowed = actor.allowedMetrics === undefined || actor.allowedMetrics === null ? null : new Set(actor.allowedMetrics);
  if (allowed !== null)
    events.forEach((e, index) => {
      if (e.type === 'track' && !allowed.has(e.key))
        refused.set(index, {
          index,
          path: `events.${index}.key`,
          code: 'PERMISSION_DENIED',
          message: `this key may only send the metrics ${[...allowed].join(', ')}; '${e.key}' is not one of them`,
        });
    });
  if (admission.newUnits !== null) {
    const units = [...new Set(events.filter((_, i) => !refused.has(i)).map((e) => e.unitId))];
    const fresh = units.length === 0 ? [] : await admission.ledger.claim(actor.id, units, now);
    const newUnits = units.filter((_, i) => fresh[i] === true);
    const decisions = await Promise.all(newUnits.map(() => admission.newUnits!.take(`units:${actor.id}`, now)));
    const over = new Map<string, number>();
    newUnits.forEach((unit, i) => {
      if (!decisions[i]!.allowed) over.set(unit, decisions[i]!.resetSeconds);
    });
    if (over.size > 0) {
      // Not stored: the unit is new again the next time this key sends it.
      await admission.ledger.release(actor.id, [...over.keys()]);
      events.forEach((e, index) => {
        const retry = over.get(e.unitId);
        if (retry === undefined || refused.has(index)) return;
        refused.set(index, {
          index,
          path: `events.${index}.unit_id`,
          code: 'RATE_LIMIT_EXCEEDED',
          message: `this key introduced more new units than its limit allows per minute; retry in ${retry} s`,
          retry_after_seconds: retry,
        });
      });
    }
  }
  if (refused.size === 0) return { events, refused: [] };
  return { events: events.filter((_, i) => !refused.has(i)), refused: [...refused.values()].sort((a, b) => a.index - b.index) };
}
