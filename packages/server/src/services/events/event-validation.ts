import { toUnitId } from '@switchyard/core/protocol';
import type { ErrorDetail } from '../../errors';
import { MAX_JSON_DEPTH, tooDeep } from '../../http/route';
import type { StoredEvent } from '../../store/types';

/** Largest batch a request may carry. */
export const MAX_EVENTS_PER_BATCH = 1000;

const MAX_STRING = 256;
const MAX_PROPERTIES_BYTES = 8 * 1024;

/** Default bound on |value|: large enough for money in cents, far below what overflows sums of squares. */
export const DEFAULT_MAX_EVENT_VALUE = 1e9;

/** What every event of a batch shares: the sending key's environment, and who sent it (`api_key:<id>`, `user:<id>`; `null` when unknown). */
export interface EventSender {
  environment: string;
  sentBy: string | null;
}

/** No sender known yet (a caller that only checks events). */
const NO_SENDER: EventSender = { environment: '', sentBy: null };

/** Years 0000..9999 UTC, the range of ISO 8601's four-digit years (well inside what `Date` holds). */
const MIN_TIMESTAMP_MS = Date.parse('0000-01-01T00:00:00Z');
const MAX_TIMESTAMP_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Text no store can hold as given: U+0000 (PostgreSQL refuses it in text, failing the whole group
 * of batches it is written with, while SQLite would store it) or a lone UTF-16 surrogate (stored
 * as U+FFFD, so the event would no longer match its own id).
 */
function unstorable(v: string): boolean {
  return v.includes('\u0000') || !(v as string & { isWellFormed(): boolean }).isWellFormed();
}

/** The bounds every stored string of an event meets: its length, and text a store can hold. */
function checkText(v: string, name: string, problems: string[]): void {
  if (v.length > MAX_STRING) problems.push(`${name} is longer than ${MAX_STRING} characters`);
  else if (unstorable(v)) problems.push(`${name} must not contain U+0000 or an unpaired surrogate`);
}

function str(v: unknown, name: string, problems: string[], optional = false): string | null {
  if (v === undefined || v === null) {
    if (!optional) problems.push(`${name} is required`);
    return null;
  }
  if (typeof v !== 'string' || v === '') {
    problems.push(`${name} must be a non-empty string`);
    return null;
  }
  checkText(v, name, problems);
  return v;
}

/**
 * ISO 8601 string or epoch milliseconds to epoch ms; `null` when neither, or when the instant is
 * not a real date in years 0000..9999 UTC. Epoch milliseconds are never negative.
 */
export function parseTimestamp(v: unknown): number | null {
  let t: number;
  if (typeof v === 'number') t = v >= 0 ? Math.trunc(v) : NaN;
  else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) t = Date.parse(v);
  else return null;
  return t >= MIN_TIMESTAMP_MS && t <= MAX_TIMESTAMP_MS ? t : null;
}

/**
 * Validates one event by hand (it runs for every event of every batch, so it stays cheap and
 * names each problem precisely). Returns the stored form or the reasons it is invalid.
 */
export function validateEvent(
  raw: unknown,
  receivedAt: number,
  maxValue = DEFAULT_MAX_EVENT_VALUE,
  sender: EventSender = NO_SENDER,
): { event: StoredEvent } | { problems: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problems: ['an event must be an object'] };
  const e = raw as Record<string, unknown>;
  const problems: string[] = [];
  const id = str(e.id, 'id', problems);
  const type = e.type;
  if (type !== 'exposure' && type !== 'track') problems.push("type must be 'exposure' or 'track'");
  const key = str(e.key, 'key', problems);
  // The SDKs' unit rule: a non-empty string, or a finite number as its decimal string.
  const unitId = toUnitId(e.unit_id);
  if (unitId === null) problems.push('unit_id must be a non-empty string or a finite number');
  else checkText(unitId, 'unit_id', problems);
  let experiment = str(e.experiment, 'experiment', problems, true);
  const variant = str(e.variant, 'variant', problems, true);
  if (type === 'exposure') {
    experiment ??= key;
    if (variant === null && e.variant === undefined) problems.push('variant is required for an exposure');
  }
  let value: number | null = null;
  if (e.value !== undefined && e.value !== null) {
    if (typeof e.value !== 'number' || !Number.isFinite(e.value)) problems.push('value must be a finite number');
    // One unit's huge value would overflow the sum of squares and poison the experiment's statistics.
    else if (Math.abs(e.value) > maxValue) problems.push(`value must be between -${maxValue} and ${maxValue}`);
    else value = e.value;
  }
  let properties: Record<string, unknown> | null = null;
  if (e.properties !== undefined && e.properties !== null) {
    if (typeof e.properties !== 'object' || Array.isArray(e.properties)) problems.push('properties must be an object');
    // {events: [{properties: ...}]}: properties sit at level 3 of the body.
    else if (tooDeep(e.properties, 3)) problems.push(`properties nest deeper than ${MAX_JSON_DEPTH} levels`);
    else if (JSON.stringify(e.properties).length > MAX_PROPERTIES_BYTES)
      problems.push(`properties are larger than ${MAX_PROPERTIES_BYTES} bytes`);
    else properties = e.properties as Record<string, unknown>;
  }
  const timestamp = parseTimestamp(e.timestamp);
  if (timestamp === null) problems.push('timestamp must be an ISO 8601 date-time or epoch milliseconds, within years 0000..9999');
  if (problems.length > 0) return { problems };
  return {
    event: {
      id: id!,
      type: type as StoredEvent['type'],
      key: key!,
      unitId: unitId!,
      experiment,
      variant,
      value,
      properties,
      timestamp: timestamp!,
      receivedAt,
      // Set here rather than by the route afterwards: every event of every batch is made with
      // all its properties at once (adding one later reshapes each object on the hot path).
      environment: sender.environment,
      sentBy: sender.sentBy,
    },
  };
}

/**
 * Validates a whole batch: all events or, with every problem by index, none. Each event carries
 * `sender`: the environment of the key that sent the batch and who sent it.
 *
 * @example
 * ```ts
 * const checked = validateBatch(body, Date.now(), DEFAULT_MAX_EVENT_VALUE, { environment: 'production', sentBy: 'api_key:k1' });
 * if ('events' in checked) await writer.write(checked.events);
 * ```
 */
export function validateBatch(
  raw: unknown,
  receivedAt: number,
  maxValue = DEFAULT_MAX_EVENT_VALUE,
  sender: EventSender = NO_SENDER,
): { events: StoredEvent[] } | { details: ErrorDetail[]; tooMany?: boolean } {
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { events?: unknown }).events)) {
    return { details: [{ path: 'events', message: 'the body must be {"events": [...]}' }] };
  }
  const list = (raw as { events: unknown[] }).events;
  if (list.length > MAX_EVENTS_PER_BATCH)
    return {
      details: [{ path: 'events', message: `at most ${MAX_EVENTS_PER_BATCH} events per batch (got ${list.length})` }],
      tooMany: true,
    };
  const events: StoredEvent[] = [];
  const details: ErrorDetail[] = [];
  list.forEach((item, index) => {
    const r = validateEvent(item, receivedAt, maxValue, sender);
    if ('event' in r) events.push(r.event);
    else
      details.push({ index, path: `events.${index}`, message: r.problems.join('; '), reason: r.problems.join('; '), problems: r.problems });
  });
  return details.length > 0 ? { details } : { events };
}
