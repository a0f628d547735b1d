import type { EvaluationContext } from '@switchyard/core';
import { eventId, toUnitId } from '@switchyard/core/protocol';
import type { TrackOptions } from '../client-events';
import type { Logger } from '../logger';
import type { WireEvent } from './types';

/**
 * The wire event for one `track()` call, or `null` (logged) when the call cannot make one: no
 * event key, no unit, a value that is not a finite number, properties that are not a plain
 * object, an unreadable timestamp. Checked here, per call, so one bad call never poisons the
 * batch it would have been sent in.
 *
 * @example
 * ```ts
 * const event = trackEvent('purchase', { key: 'user-1' }, { value: 42.5 }, logger);
 * if (event !== null) processor.enqueue(event);
 * ```
 */
export function trackEvent(eventKey: string, context: EvaluationContext, options: TrackOptions, log: Logger): WireEvent | null {
  if (typeof eventKey !== 'string' || eventKey === '') {
    log.warn('track(): the event key must be a non-empty string; dropped', { eventKey: String(eventKey) });
    return null;
  }
  const unit = toUnitId(options.unitId ?? context?.key);
  if (unit === null) {
    log.warn('track(): no unit (context.key or options.unitId); dropped', { eventKey });
    return null;
  }
  const event: WireEvent = { id: eventId(), type: 'track', key: eventKey, unit_id: unit, timestamp: Date.now() };
  if (options.value !== undefined) {
    if (typeof options.value !== 'number' || !Number.isFinite(options.value)) {
      log.warn('track(): value must be a finite number; dropped', { eventKey });
      return null;
    }
    event.value = options.value;
  }
  if (options.properties !== undefined) {
    // A snapshot: later mutations must not change what is sent, and an unserializable object
    // must fail here, alone, rather than poison the whole batch it would be sent in.
    const p = JSON.parse(JSON.stringify(options.properties)) as unknown;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) {
      log.warn('track(): properties must be a plain object; dropped', { eventKey });
      return null;
    }
    event.properties = p as Record<string, unknown>;
  }
  if (options.timestamp !== undefined) {
    const t = options.timestamp;
    const ts = t instanceof Date ? t.getTime() : t;
    if ((typeof ts === 'number' && !Number.isFinite(ts)) || (typeof ts === 'string' && Number.isNaN(Date.parse(ts)))) {
      log.warn('track(): timestamp must be a Date, epoch ms or an ISO 8601 string; dropped', { eventKey });
      return null;
    }
    event.timestamp = ts;
  }
  return event;
}
