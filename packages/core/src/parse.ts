/**
 * Attribute coercion shared by the operators. Contexts built from query strings carry only
 * strings, so numeric and date operators accept numeric strings too.
 */

/** A finite number from a number or a numeric string, else `null`. */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    const t = value.trim();
    if (t === '') return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Epoch milliseconds from a Date, epoch-ms number, numeric string or ISO 8601 string, else `null`. */
export function toEpochMs(value: unknown): number | null {
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? null : t;
  }
  const n = toNumber(value);
  if (n !== null) return n;
  if (typeof value === 'string') {
    // A date-time without an offset is read as UTC: JavaScript would use the machine's zone,
    // and the same context must evaluate the same everywhere.
    const t = Date.parse(LOCAL_DATE_TIME.test(value) ? `${value}Z` : value);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** The string form equality operators compare: primitives only. */
export function toComparable(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : null;
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return null;
  }
}
