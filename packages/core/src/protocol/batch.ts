/** Events per request the server takes at most (more is a `413`). */
export const MAX_EVENTS_PER_BATCH = 1000;

/**
 * What an SDK does with an events batch after one `POST /sdk/v1/events`:
 *
 * - `ok`: committed (`2xx`); `accepted + duplicates` events are delivered.
 * - `retry`: nothing was stored (network error, timeout, `408`, `429`, `5xx`); resend the same
 *   events with the same ids after `retryAfterMs` (the server's `Retry-After`) or a backoff.
 * - `split`: `413` for a batch of more than one event; send each half separately.
 * - `drop`: the events at `indexes` can never be accepted (the `400`'s named indexes, or the
 *   whole batch for another `4xx` or a `413` of one event); drop those, resend the others.
 */
export type BatchOutcome =
  | { kind: 'ok'; accepted: number; duplicates: number }
  | { kind: 'retry'; status: number | null; retryAfterMs: number | null; reason: string }
  | { kind: 'split'; status: number }
  | { kind: 'drop'; status: number; code: string; message: string; indexes: number[] };

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date) into milliseconds from `now`; `null`
 * when absent or unparseable. Capped so a broken header cannot park an SDK for days.
 *
 * @example
 * ```ts
 * parseRetryAfter('2'); // 2000
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now(), capMs = 5 * 60_000): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(capMs, Math.round(Number(v) * 1000));
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.min(capMs, Math.max(0, at - now));
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
  data?: { accepted?: unknown; duplicates?: unknown };
}

function parse(body: string): ErrorBody {
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === 'object' && v !== null ? (v as ErrorBody) : {};
  } catch {
    return {};
  }
}

/**
 * Classifies the answer to one events batch of `size` events (see {@link BatchOutcome}).
 *
 * @example
 * ```ts
 * const res = await fetch(url, { method: 'POST', body: JSON.stringify({ events }) });
 * const outcome = classifyBatchResponse(res.status, await res.text(), res.headers.get('retry-after'), events.length);
 * if (outcome.kind === 'drop') events = events.filter((_, i) => !outcome.indexes.includes(i));
 * ```
 */
export function classifyBatchResponse(status: number, body: string, retryAfter: string | null, size: number): BatchOutcome {
  const b = parse(body);
  if (status >= 200 && status < 300) {
    const accepted = b.data?.accepted;
    const duplicates = b.data?.duplicates;
    return {
      kind: 'ok',
      accepted: typeof accepted === 'number' ? accepted : size,
      duplicates: typeof duplicates === 'number' ? duplicates : 0,
    };
  }
  if (status === 408 || status === 429 || status >= 500 || status < 200) {
    return { kind: 'retry', status, retryAfterMs: parseRetryAfter(retryAfter), reason: `HTTP ${status}` };
  }
  if (status === 413 && size > 1) return { kind: 'split', status };
  const e = b.error ?? {};
  const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
  const message = typeof e.message === 'string' ? e.message : body.slice(0, 200);
  const all = Array.from({ length: size }, (_, i) => i);
  if (status !== 400 || !Array.isArray(e.details)) return { kind: 'drop', status, code, message, indexes: all };
  const named = new Set<number>();
  for (const d of e.details as unknown[]) {
    const i = (d as { index?: unknown } | null)?.index;
    if (typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < size) named.add(i);
  }
  // A 400 that names no event faults the batch as a whole.
  const indexes = named.size === 0 ? all : [...named].sort((x, y) => x - y);
  return { kind: 'drop', status, code, message, indexes };
}

/**
 * A batch whose request never got an answer (network error, timeout, abort): retried.
 *
 * @example
 * ```ts
 * fetch(url, init).catch((e) => classifyBatchFailure(e)); // { kind: 'retry', status: null, ... }
 * ```
 */
export function classifyBatchFailure(error: unknown): BatchOutcome {
  const e = error as { name?: unknown; message?: unknown; cause?: { code?: unknown } } | null;
  const reason = typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.name === 'string' ? e.name : 'network error';
  return { kind: 'retry', status: null, retryAfterMs: null, reason };
}

/**
 * Splits a batch in two halves (the `split` outcome).
 *
 * @example
 * ```ts
 * splitBatch([1, 2, 3]); // [[1, 2], [3]]
 * ```
 */
export function splitBatch<T>(batch: readonly T[]): [T[], T[]] {
  const mid = Math.ceil(batch.length / 2);
  return [batch.slice(0, mid), batch.slice(mid)];
}
