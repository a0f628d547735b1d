import { drain, joinUrl, type Transport } from '../http/transport';
import { parseRetryAfter } from '../http/retry-after';
import type { WireEvent } from './types';

/** What became of one POST of a batch. */
export type SendResult =
  /** Committed by the server (`202`). */
  | { kind: 'ok'; accepted: number; duplicates: number }
  /** Worth retrying with the same ids: network error, timeout, 5xx, 429. */
  | { kind: 'retry'; status: number | null; retryAfterMs: number | null; reason: string }
  /** `413`: the body was too large; smaller batches may pass. */
  | { kind: 'too-large'; status: number; code: string; message: string }
  /** Any other 4xx: retrying the same bytes cannot succeed. `badIndexes` are the events the server named, when it did. */
  | { kind: 'rejected'; status: number; code: string; message: string; badIndexes: number[] };

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

function parseError(text: string): { code: string; message: string; badIndexes: number[] } {
  let body: ErrorBody = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // not JSON: keep the defaults
  }
  const e = body?.error ?? {};
  const badIndexes: number[] = [];
  if (Array.isArray(e.details)) {
    for (const d of e.details as unknown[]) {
      const i = (d as { index?: unknown } | null)?.index;
      if (typeof i === 'number' && Number.isInteger(i)) badIndexes.push(i);
    }
  }
  return {
    code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
    message: typeof e.message === 'string' ? e.message : text.slice(0, 200),
    badIndexes,
  };
}

/**
 * Posts one batch to `POST /sdk/v1/events` and classifies the answer. Never throws: the
 * processor decides what to do from the result.
 */
export class EventSender {
  private readonly url: string;

  constructor(
    private readonly transport: Transport,
    eventsBaseUrl: string,
  ) {
    this.url = joinUrl(eventsBaseUrl, '/sdk/v1/events');
  }

  async send(events: readonly WireEvent[], signal?: AbortSignal): Promise<SendResult> {
    let body: string;
    try {
      body = JSON.stringify({ events });
    } catch (err) {
      // Properties are snapshotted as JSON when tracked, so this means a bug, not bad input.
      return { kind: 'rejected', status: 0, code: 'UNSERIALIZABLE', message: String(err), badIndexes: [] };
    }
    let res;
    try {
      const init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal } = {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      };
      if (signal !== undefined) init.signal = signal;
      res = await this.transport.request(this.url, init);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { kind: 'retry', status: null, retryAfterMs: null, reason: e.cause?.code ?? e.name ?? 'network error' };
    }
    const text = await drain(res);
    const status = res.status;
    if (status >= 200 && status < 300) {
      let data: { data?: { accepted?: unknown; duplicates?: unknown } } = {};
      try {
        data = JSON.parse(text) as typeof data;
      } catch {
        // a 2xx without the usual body still means committed
      }
      const accepted = typeof data?.data?.accepted === 'number' ? data.data.accepted : events.length;
      const duplicates = typeof data?.data?.duplicates === 'number' ? data.data.duplicates : 0;
      return { kind: 'ok', accepted, duplicates };
    }
    if (status === 429 || status >= 500 || status === 408) {
      return { kind: 'retry', status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')), reason: `HTTP ${status}` };
    }
    const err = parseError(text);
    if (status === 413) return { kind: 'too-large', status, code: err.code, message: err.message };
    return { kind: 'rejected', status, ...err };
  }
}
