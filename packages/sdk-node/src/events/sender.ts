import { classifyBatchFailure, classifyBatchResponse, type BatchOutcome } from '@switchyard/core/protocol';
import { drain, joinUrl, type Transport } from '../http/transport';
import type { WireEvent } from './types';

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

  async send(events: readonly WireEvent[], signal?: AbortSignal): Promise<BatchOutcome> {
    let body: string;
    try {
      body = JSON.stringify({ events });
    } catch (err) {
      // Properties are snapshotted as JSON when tracked, so this means a bug, not bad input.
      return { kind: 'drop', status: 0, code: 'UNSERIALIZABLE', message: String(err), indexes: events.map((_, i) => i) };
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
      return classifyBatchFailure(err);
    }
    const text = await drain(res);
    return classifyBatchResponse(res.status, text, res.headers.get('retry-after'), events.length);
  }
}
