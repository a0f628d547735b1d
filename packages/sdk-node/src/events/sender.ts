import { classifyBatchFailure, classifyBatchResponse, type BatchOutcome } from '@switchyard/core/protocol';
import { drain, joinUrl, type Transport } from '../http/transport';
import type { WireEvent } from './types';

/** The protocol's outcome, with the server's counts on success. */
export type SendResult = Exclude<BatchOutcome, { kind: 'ok' }> | { kind: 'ok'; accepted: number; duplicates: number };

/**
 * Posts one batch to `POST /sdk/v1/events` and classifies the answer with the protocol's batch
 * policy (the browser SDK uses the same). Never throws: the processor acts on the outcome.
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
      return { kind: 'drop', status: 0, code: `UNSERIALIZABLE: ${String(err)}`, indexes: events.map((_, i) => i) };
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
      return classifyBatchFailure(err) as SendResult;
    }
    const text = await drain(res);
    const outcome = classifyBatchResponse(res.status, text, res.headers.get('retry-after'), events.length);
    if (outcome.kind !== 'ok') return outcome;
    // The counts are for stats only; a 2xx without them still means committed.
    let data: { accepted?: unknown; duplicates?: unknown } | undefined;
    try {
      data = (JSON.parse(text) as { data?: typeof data }).data;
    } catch {
      data = undefined;
    }
    return {
      kind: 'ok',
      accepted: typeof data?.accepted === 'number' ? data.accepted : events.length,
      duplicates: typeof data?.duplicates === 'number' ? data.duplicates : 0,
    };
  }
}
