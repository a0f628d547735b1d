import { HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import type { SwitchyardError } from '../src/index';
import { boolFlag, doc, type FakeSwitchyard } from './support/fake-switchyard';
import { memoryLogger } from './support/logger';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '@switchyard/test-support/wait';
import { faultHarness } from './support/fault-harness';

const h = faultHarness();
let fake: FakeSwitchyard;
const setup = () => (fake = h.setup());
const { client } = h;

describe('stream: failures and recovery', () => {
  it('resumes with Last-Event-ID after a stream cut mid-event, discarding the partial frame', async () => {
    setup();
    const c = client();
    const s1 = await fake.stream(1);
    expect(s1.headers.get('last-event-id')).toBeNull();
    expect(s1.headers.get('authorization')).toBe('Bearer sy_server_test');
    s1.put(doc(1, { a: boolFlag('a') }));
    await c.ready({ timeoutMs: 2000 });
    // Half a patch frame, then the connection breaks.
    s1.write('id: 2\nevent: patch\ndata: {"version":2,"flags":{"a":');
    await sleep(20);
    s1.cut();
    const s2 = await fake.stream(2);
    expect(s2.headers.get('last-event-id')).toBe('1');
    expect(c.configVersion).toBe(1);
    expect(c.boolean('a', { key: 'u' }, false)).toBe(true);
    s2.patch({ version: 2, flags: { a: boolFlag('a', false) } });
    await until(() => c.configVersion === 2, 2000, 'the replayed patch');
    expect(c.detail('a', { key: 'u' }, true)).toEqual({ value: false, variant: 'off', reason: 'DISABLED' });
  });

  it('ignores a patch with malformed JSON: logged, state kept, then reconciled from GET /sdk/v1/config', async () => {
    setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fake.onConfig = async () => {
      await gate;
      return HttpResponse.json(doc(2, { a: boolFlag('a', false) }), { headers: { etag: '"v2"' } });
    };
    const log = memoryLogger();
    const c = client({ logger: log });
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    const s = await fake.stream(1);
    s.put(doc(1, { a: boolFlag('a') }));
    await c.ready();
    s.write('id: 2\nevent: patch\ndata: {"version":2,"flags":{not json\n\n');
    await until(() => errors.includes('INVALID_CONFIG'), 2000, 'the malformed patch to be reported');
    expect(c.configVersion).toBe(1);
    expect(c.boolean('a', { key: 'u' }, false)).toBe(true);
    expect(log.at('error').find((l) => l.message.includes('config data ignored'))?.fields?.reason).toMatch(/malformed JSON/);
    release();
    await until(() => c.configVersion === 2, 3000, 'the reconcile');
    expect(c.boolean('a', { key: 'u' }, true)).toBe(false);
    expect(fake.streams).toHaveLength(1); // the stream itself was fine and stayed up
  });

  it('reconciles a version gap with GET /sdk/v1/config and ignores versions not newer than held', async () => {
    setup();
    fake.onConfig = () => HttpResponse.json(doc(4, { a: boolFlag('a'), b: boolFlag('b') }));
    const c = client();
    const s = await fake.stream(1);
    s.put(doc(2, { a: boolFlag('a') }));
    await c.ready();
    s.patch({ version: 2, flags: { a: null } }); // replayed: not newer
    s.patch({ version: 1, flags: { a: null } }); // older
    await sleep(50);
    expect(c.boolean('a', { key: 'u' }, false)).toBe(true);
    s.patch({ version: 4, flags: { b: boolFlag('b') } }); // v3 missing
    await until(() => c.configVersion === 4, 2000, 'the reconcile');
    expect(fake.requests.config).toHaveLength(1);
    expect(c.boolean('b', { key: 'u' }, false)).toBe(true);
    s.patch({ version: 5, flags: { b: null } });
    await until(() => c.configVersion === 5, 2000, 'the next patch');
    expect(c.detail('b', { key: 'u' }, false).errorCode).toBe('FLAG_NOT_FOUND');
  });

  it('reconnects after 500s with backoff and becomes ready', async () => {
    setup();
    fake.onStream = (_r, n) => (n <= 3 ? HttpResponse.json({ error: { code: 'INTERNAL_ERROR' } }, { status: 500 }) : 'stream');
    const c = client();
    const errors: SwitchyardError[] = [];
    c.on('error', (e) => errors.push(e));
    const s = await fake.stream(1, 5000);
    s.put(doc(7));
    await c.ready({ timeoutMs: 3000 });
    expect(fake.requests.stream).toHaveLength(4);
    expect(errors.filter((e) => e.code === 'STREAM_ERROR').map((e) => e.status)).toEqual([500, 500, 500]);
    expect(c.configVersion).toBe(7);
  });

  it('honours Retry-After on a 503 from the stream', async () => {
    setup();
    const at: number[] = [];
    fake.onStream = (_r, n) => {
      at.push(Date.now());
      return n === 1 ? new HttpResponse(null, { status: 503, headers: { 'Retry-After': '1' } }) : 'stream';
    };
    const c = client();
    (await fake.stream(1, 4000)).put(doc(1));
    await c.ready({ timeoutMs: 4000 });
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
  });

  it('replaces a hung connection (no response at all) after staleAfterMs', async () => {
    setup();
    fake.onStream = (_r, n) => (n === 1 ? 'hang' : 'stream');
    const c = client({ staleAfterMs: 200 });
    const s = await fake.stream(1, 3000);
    s.put(doc(3));
    await c.ready({ timeoutMs: 3000 });
    expect(fake.requests.stream).toHaveLength(2);
  });

  it('emits stale when a connection goes silent (no heartbeat), reconnects, and emits recovered', async () => {
    setup();
    const c = client({ staleAfterMs: 250 });
    const events: string[] = [];
    c.on('stale', () => events.push('stale'));
    c.on('recovered', () => events.push('recovered'));
    const s1 = await fake.stream(1);
    s1.put(doc(1, { a: boolFlag('a') }));
    await c.ready();
    // Heartbeats keep it fresh...
    for (let i = 0; i < 4; i++) {
      await sleep(100);
      s1.write(': heartbeat\n\n');
    }
    expect(events).toEqual([]);
    expect(fake.streams).toHaveLength(1);
    // ...silence does not.
    const s2 = await fake.stream(2, 2000);
    expect(events).toEqual(['stale']);
    expect(c.stats().stale).toBe(true);
    expect(s2.headers.get('last-event-id')).toBe('1');
    expect(c.boolean('a', { key: 'u' }, false)).toBe(true); // still serving the held config
    s2.write(': heartbeat\n\n');
    await until(() => events.length === 2, 1000, 'recovered');
    expect(events).toEqual(['stale', 'recovered']);
    expect(c.stats().stale).toBe(false);
  });

  it('falls back to polling with ETags when the stream is refused', async () => {
    setup();
    fake.onStream = () => new HttpResponse('not here', { status: 404 });
    fake.onConfig = (req) =>
      req.headers.get('if-none-match') === '"v5"'
        ? new HttpResponse(null, { status: 304, headers: { etag: '"v5"' } })
        : HttpResponse.json(doc(5, { a: boolFlag('a') }), { headers: { etag: '"v5"' } });
    const log = memoryLogger();
    const c = client({ pollIntervalMs: 50, logger: log });
    await c.ready({ timeoutMs: 2000 });
    expect(c.stats().sync).toBe('polling');
    await until(() => fake.requests.config.length >= 3, 2000, 'more polls');
    expect(fake.requests.config[0]!.headers.get('if-none-match')).toBeNull();
    expect(fake.requests.config[1]!.headers.get('if-none-match')).toBe('"v5"');
    expect(fake.requests.stream).toHaveLength(1); // never retried: it was refused, not failing
    expect(c.configVersion).toBe(5);
    expect(log.at('warn').some((l) => l.message.includes('falling back to polling'))).toBe(true);
  });

  it('falls back to polling when a proxy answers 200 with something that is not an event stream', async () => {
    setup();
    fake.onStream = () => new HttpResponse('<html>login</html>', { status: 200, headers: { 'content-type': 'text/html' } });
    fake.onConfig = () => HttpResponse.json(doc(9));
    const c = client({ pollIntervalMs: 50 });
    await c.ready({ timeoutMs: 2000 });
    expect(c.stats().sync).toBe('polling');
    expect(c.configVersion).toBe(9);
  });

  it('stops on 401 without retrying', async () => {
    setup();
    fake.onStream = () => HttpResponse.json({ error: { code: 'AUTHENTICATION_REQUIRED' } }, { status: 401 });
    const c = client();
    await expect(c.ready({ timeoutMs: 2000 })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await sleep(200);
    expect(fake.requests.stream).toHaveLength(1);
    await expect(c.ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('keeps the held config when a put cannot be compiled or is malformed', async () => {
    setup();
    const c = client();
    const s = await fake.stream(1);
    s.put(doc(1, { a: boolFlag('a') }));
    await c.ready();
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    s.write('id: 2\nevent: put\ndata: {"schema_version":1,"version":2,"flags":"nope"}\n\n');
    s.write('id: 3\nevent: put\ndata: {"schema_version":9,"version":3}\n\n');
    await until(() => errors.length === 2, 2000, 'both rejected');
    expect(errors).toEqual(['INVALID_CONFIG', 'INVALID_CONFIG']);
    expect(c.configVersion).toBe(1);
    expect(c.boolean('a', { key: 'u' }, false)).toBe(true);
  });
});

describe('no output and no unhandled rejections by default', () => {
  it('writes nothing to the console or stdio through failures, timeouts and close', async () => {
    setup();
    const spies = [
      ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) => vi.spyOn(console, m)),
      vi.spyOn(process.stdout, 'write'),
      vi.spyOn(process.stderr, 'write'),
    ];
    try {
      fake.onStream = (_r, n) => (n <= 2 ? HttpResponse.json({}, { status: 500 }) : 'stream');
      fake.onEvents = () => HttpResponse.json({ error: { code: 'VALIDATION_ERROR' } }, { status: 400 });
      const c = client();
      await c.ready({ timeoutMs: 10 }).catch(() => {});
      const s = await fake.stream(1, 3000);
      s.put(doc(1, { a: boolFlag('a') }));
      await c.ready();
      s.write('event: patch\ndata: nope\n\n');
      c.track('m', { key: 'u' });
      c.track('', { key: 'u' }); // invalid: dropped with a (silent) log
      c.track('m', {}, { properties: { self: undefined } });
      c.on('change', () => {
        throw new Error('listener bug');
      });
      s.patch({ version: 2, flags: {} });
      await c.flush();
      s.cut();
      await sleep(100);
      await c.close();
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
