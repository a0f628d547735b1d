/** Events per request the server takes at most (more is a `413`). */
export const MAX_EVENTS_PER_BATCH = 1000;

/**
 * What an SDK does with an events batch after one `POST /sdk/v1/events`:
 *
 * - `ok`: committed (`2xx`).
 * - `retry`: nothing was stored (network error, timeout, `408`, `429`, `5xx`); resend the same
 *   events with the same ids after `retryAfterMs` (the server's `Retry-After`) or a backoff.
 * - `split`: `413` for a batch of more than one event; send each half separately.
 * - `drop`: the events at `indexes` can never be accepted (the `400`'s named indexes, or the
 *   whole batch for another `4xx` or a `413` of one event); drop those, resend the others.
 */
export type BatchOutcome =
  | { kind: 'ok' }
  | { kind: 'retry'; status: number | null; retryAfterMs: number | null; reason: string }
  | { kind: 'split'; status: number }
  | { kind: 'drop'; status: number; code: string; indexes: number[] };

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
  const v = value?.trim() ?? '';
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  return ms === ms ? Math.min(capMs, Math.max(0, Math.round(ms))) : null;
}

/**
 * Classifies the answer to one events batch of `size` events (see {@link BatchOutcome}). Kept
 * small: it ships in every browser bundle.
 *
 * @example
 * ```ts
 * const res = await fetch(url, { method: 'POST', body: JSON.stringify({ events }) });
 * const outcome = classifyBatchResponse(res.status, await res.text(), res.headers.get('retry-after'), events.length);
 * if (outcome.kind === 'drop') events = events.filter((_, i) => !outcome.indexes.includes(i));
 * ```
 */
export function classifyBatchResponse(status: number, body: string, retryAfter: string | null, size: number): BatchOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 408 || status === 429 || status >= 500 || status < 200)
    return { kind: 'retry', status, retryAfterMs: parseRetryAfter(retryAfter), reason: `HTTP ${status}` };
  if (status === 413 && size > 1) return { kind: 'split', status };
  let e: { code?: unknown; details?: { index?: unknown }[] } = {};
  try {
    e = JSON.parse(body).error ?? {};
  } catch {
    // not the error envelope: the status says enough
  }
  const indexes: number[] = [];
  if (status === 400 && Array.isArray(e.details)) for (let i = 0; i < size; i++) if (e.details.some((d) => d?.index === i)) indexes.push(i);
  // A 400 that names no event (and any other 4xx) faults the batch as a whole.
  if (indexes.length === 0) for (let i = 0; i < size; i++) indexes.push(i);
  return { kind: 'drop', status, code: typeof e.code === 'string' ? e.code : `HTTP ${status}`, indexes };
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
