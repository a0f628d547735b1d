import { HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import type { SwitchyardError } from '../src/index';
import type { FakeSwitchyard } from './support/fake-switchyard';
import { memoryLogger } from './support/logger';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '@switchyard/test-support/wait';
import { faultHarness } from './support/fault-harness';

const h = faultHarness();
let fake: FakeSwitchyard;
const setup = () => (fake = h.setup());
const { client, ids } = h;

describe('events: failures and retries', () => {
  it('retries a batch after 500s with the same event ids, then counts it delivered once', async () => {
    setup();
    fake.onEvents = (body, n) =>
      n <= 2
        ? HttpResponse.json({ error: { code: 'INTERNAL_ERROR' } }, { status: 500 })
        : HttpResponse.json({ data: { accepted: body.events.length, duplicates: 0 } }, { status: 202 });
    const log = memoryLogger();
    const c = client({ offline: false, stream: false, pollIntervalMs: 60_000, logger: log });
    for (let i = 0; i < 3; i++) c.track('m', { key: `u${i}` }, { value: i });
    await until(() => fake.requests.events.length === 3 && c.stats().events.queued === 0, 3000, 'third attempt');
    expect(ids(1)).toHaveLength(3);
    expect(ids(2)).toEqual(ids(1));
    expect(ids(3)).toEqual(ids(1));
    expect(new Set(ids(1)).size).toBe(3);
    expect(c.stats().events).toMatchObject({ delivered: 3, droppedRejected: 0 });
    expect(log.at('warn').some((l) => l.message.includes('will retry with the same ids') && l.fields?.status === 500)).toBe(true);
  });

  it('honours Retry-After on a 429 instead of its own (shorter) backoff', async () => {
    setup();
    const at: number[] = [];
    fake.onEvents = (body, n) => {
      at.push(Date.now());
      return n === 1
        ? HttpResponse.json({ error: { code: 'RATE_LIMIT_EXCEEDED' } }, { status: 429, headers: { 'Retry-After': '1' } })
        : HttpResponse.json({ data: { accepted: body.events.length, duplicates: 0 } }, { status: 202 });
    };
    const c = client({ stream: false, pollIntervalMs: 60_000 });
    c.track('m', { key: 'u1' });
    await until(() => fake.requests.events.length === 1, 2000, 'the first attempt');
    await sleep(20);
    // An explicit flush does not jump a server-requested pause either.
    await c.flush();
    expect(fake.requests.events).toHaveLength(1);
    await until(() => fake.requests.events.length === 2, 4000, 'the retry');
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
    expect(ids(2)).toEqual(ids(1));
    await until(() => c.stats().events.queued === 0, 1000, 'delivery');
  });

  it('drops a batch on a 4xx other than 429, logging the server error code, and does not retry it', async () => {
    setup();
    fake.onEvents = () => HttpResponse.json({ error: { code: 'PERMISSION_DENIED', message: 'client keys cannot' } }, { status: 403 });
    const log = memoryLogger();
    const c = client({ stream: false, pollIntervalMs: 60_000, logger: log });
    const errors: SwitchyardError[] = [];
    c.on('error', (e) => errors.push(e));
    c.track('m', { key: 'u1' });
    c.track('m', { key: 'u2' });
    await c.flush();
    await sleep(150);
    expect(fake.requests.events).toHaveLength(1);
    expect(c.stats().events).toMatchObject({ queued: 0, delivered: 0, droppedRejected: 2 });
    expect(log.at('error').find((l) => l.message.includes('rejected'))?.fields).toMatchObject({
      status: 403,
      code: 'PERMISSION_DENIED',
      count: 2,
    });
    expect(errors.filter((e) => e.code === 'EVENTS_REJECTED').map((e) => e.status)).toEqual([403]);
  });

  it('on a 400 naming bad events, drops only those and resends the rest once', async () => {
    setup();
    fake.onEvents = (body, n) =>
      n === 1
        ? HttpResponse.json(
            {
              error: {
                code: 'VALIDATION_ERROR',
                message: '1 event(s) are invalid',
                details: [{ index: 1, message: 'unit_id is longer than 256 characters' }],
              },
            },
            { status: 400 },
          )
        : HttpResponse.json({ data: { accepted: body.events.length, duplicates: 0 } }, { status: 202 });
    const c = client({ stream: false, pollIntervalMs: 60_000 });
    c.track('m', { key: 'a' });
    c.track('m', { key: 'b' });
    c.track('m', { key: 'c' });
    await c.flush();
    await until(() => c.stats().events.queued === 0, 2000, 'delivery');
    expect(fake.requests.events).toHaveLength(2);
    expect(fake.requests.events[1]!.body.events.map((e: { unit_id: string }) => e.unit_id)).toEqual(['a', 'c']);
    expect(ids(2)).toEqual([ids(1)[0], ids(1)[2]]);
    expect(c.stats().events).toMatchObject({ delivered: 2, droppedRejected: 1 });
  });

  it('splits a batch the server finds too large (413)', async () => {
    setup();
    fake.onEvents = (body) =>
      body.events.length > 2
        ? HttpResponse.json({ error: { code: 'PAYLOAD_TOO_LARGE' } }, { status: 413 })
        : HttpResponse.json({ data: { accepted: body.events.length, duplicates: 0 } }, { status: 202 });
    const c = client({ stream: false, pollIntervalMs: 60_000 });
    for (let i = 0; i < 8; i++) c.track('m', { key: `u${i}` });
    await c.flush();
    await until(() => c.stats().events.queued === 0, 2000, 'delivery');
    const delivered = fake.requests.events
      .filter((r) => r.body.events.length <= 2)
      .flatMap((r) => r.body.events.map((e: { unit_id: string }) => e.unit_id));
    expect(delivered).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']);
    expect(c.stats().events).toMatchObject({ delivered: 8, droppedRejected: 0 });
  });

  it('bounds the queue during an outage: drops the oldest and counts them', async () => {
    setup();
    let down = true;
    const accepted: string[] = [];
    fake.onEvents = (body) => {
      if (down) return HttpResponse.json({}, { status: 503 });
      accepted.push(...body.events.map((e: { unit_id: string }) => e.unit_id));
      return HttpResponse.json({ data: { accepted: body.events.length, duplicates: 0 } }, { status: 202 });
    };
    const c = client({ stream: false, pollIntervalMs: 60_000, events: { capacity: 5, batchSize: 2 } });
    for (let i = 0; i < 12; i++) c.track('m', { key: `u${i}` });
    await until(() => fake.requests.events.length >= 1, 3000, 'the first (failing) delivery');
    // One batch of 2 is in flight (held for retry), 5 wait in the queue, the 5 oldest beyond that were dropped.
    expect(c.stats().events).toMatchObject({ queued: 7, droppedOverflow: 5 });
    down = false;
    await until(() => c.stats().events.queued === 0, 3000, 'delivery after the outage');
    expect(accepted).toEqual(['u0', 'u1', 'u7', 'u8', 'u9', 'u10', 'u11']);
    expect(c.stats().events.delivered).toBe(7);
  });

  it('retries a request that hangs (request timeout) with the same ids', async () => {
    setup();
    fake.onEvents = (body, n) =>
      n === 1 ? 'hang' : HttpResponse.json({ data: { accepted: body.events.length, duplicates: 0 } }, { status: 202 });
    const c = client({ stream: false, pollIntervalMs: 60_000, requestTimeoutMs: 200 });
    c.track('m', { key: 'u1' });
    await until(() => c.stats().events.delivered === 1, 3000, 'delivery after the timeout');
    expect(ids(2)).toEqual(ids(1));
  });

  it('close() retries until closeTimeoutMs when the server stays down, then gives up counting what it dropped', async () => {
    setup();
    fake.onEvents = () => HttpResponse.json({}, { status: 503 });
    const c = client({ stream: false, pollIntervalMs: 60_000, closeTimeoutMs: 300 });
    c.track('m', { key: 'u1' });
    c.track('m', { key: 'u2' });
    // The deadline on a fake clock: what is asserted is when close() settles on it, not how long
    // a loaded machine took.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      let settled = false;
      const closing = c.close().then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(280);
      expect(settled).toBe(false);
      // Retried on its short schedule meanwhile (50, 100, ... ms apart), not once and not in a loop.
      expect(fake.requests.events.length).toBeGreaterThanOrEqual(3);
      expect(fake.requests.events.length).toBeLessThan(20);
      await vi.advanceTimersByTimeAsync(40);
      expect(settled).toBe(true);
      await closing;
    } finally {
      vi.useRealTimers();
    }
    expect(c.stats().events).toMatchObject({ queued: 0, delivered: 0, droppedOnClose: 2 });
  });
});
