import { afterEach, describe, expect, it } from 'vitest';
import { createClient, SwitchyardError, type ConfigDocument, type SwitchyardClient } from '../src/index';
import { BASE, fakeSwitchyard, type FakeSwitchyard } from './support/fake-switchyard';
import { memoryLogger } from './support/logger';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '@switchyard/test-support/wait';

const config: ConfigDocument = {
  schema_version: 1,
  version: 3,
  flags: {
    bool: {
      key: 'bool',
      type: 'boolean',
      enabled: true,
      variants: [
        { key: 'on', value: true },
        { key: 'off', value: false },
      ],
      off_variant: 'off',
      rules: [{ id: 'us', when: { attr: 'country', op: 'eq', values: ['US'] }, serve: { variant: 'on' } }],
      default_serve: { variant: 'off' },
    },
    str: { key: 'str', type: 'string', enabled: true, variants: [{ key: 'a', value: 'alpha' }], default_serve: { variant: 'a' } },
    num: { key: 'num', type: 'number', enabled: true, variants: [{ key: 'n', value: 3.5 }], default_serve: { variant: 'n' } },
    obj: { key: 'obj', type: 'json', enabled: true, variants: [{ key: 'j', value: { a: [1] } }], default_serve: { variant: 'j' } },
  },
  segments: {},
  experiments: {
    exp: {
      key: 'exp',
      status: 'RUNNING',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'treatment', weight: 50, value: 'new' },
      ],
    },
    'company-exp': { key: 'company-exp', status: 'RUNNING', bucket_by: 'company_id', variants: [{ key: 'only', weight: 100 }] },
    paused: {
      key: 'paused',
      status: 'PAUSED',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'b', weight: 50 },
      ],
    },
  },
};

const clients: SwitchyardClient[] = [];
let fake: FakeSwitchyard | null = null;
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  fake?.close();
  fake = null;
});
const offline = (o: Partial<Parameters<typeof createClient>[0]> = {}) => {
  const c = createClient({ offline: true, bootstrap: config, ...o });
  clients.push(c);
  return c;
};

describe('evaluation API', () => {
  it('returns typed values and details', () => {
    const c = offline();
    expect(c.boolean('bool', { key: 'u', country: 'US' }, false)).toBe(true);
    expect(c.boolean('bool', { key: 'u', country: 'FR' }, true)).toBe(false);
    expect(c.string('str', { key: 'u' }, 'x')).toBe('alpha');
    expect(c.number('num', { key: 'u' }, 0)).toBe(3.5);
    expect(c.json('obj', { key: 'u' }, {})).toEqual({ a: [1] });
    expect(c.detail('bool', { key: 'u', country: 'US' }, false)).toEqual({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      ruleId: 'us',
    });
    expect(c.detail('nope', { key: 'u' }, 'd')).toEqual({ value: 'd', variant: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    expect(c.detail('str', { key: 'u' }, 1)).toEqual({ value: 1, variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
  });

  it('returns experiment variants: the variant for enrolled units, null otherwise, control when paused', () => {
    const c = offline();
    const v = c.variant('exp', { key: 'user-1' });
    expect(['control', 'treatment']).toContain(v);
    expect(c.detail('exp', { key: 'user-1' }, 'dflt')).toMatchObject({ variant: v, reason: 'SPLIT', inExperiment: true });
    expect(c.variant('exp', {})).toBeNull();
    expect(c.variant('nope', { key: 'u' })).toBeNull();
    expect(c.detail('paused', { key: 'u' }, 'x')).toMatchObject({
      value: 'control',
      variant: 'control',
      reason: 'DISABLED',
      inExperiment: false,
    });
  });

  it('never throws, even for hostile input', () => {
    const c = offline();
    const hostile = {
      get key(): string {
        throw new Error('getter');
      },
    };
    expect(c.detail('exp', hostile, 'd')).toMatchObject({ value: 'd', reason: 'ERROR' });
    expect(c.boolean(undefined as unknown as string, { key: 'u' }, true)).toBe(true);
    expect(c.boolean('bool', null as unknown as { key: string }, true)).toBe(false);
    expect(() => c.track(null as unknown as string, null as unknown as { key: string })).not.toThrow();
  });

  it('is ready at once with a bootstrap and emits ready on the next microtask', async () => {
    const c = offline();
    const seen: unknown[] = [];
    c.on('ready', (e) => seen.push(e));
    expect(c.isReady).toBe(true);
    await c.ready({ timeoutMs: 0 });
    await Promise.resolve();
    expect(seen).toEqual([{ version: 3, source: 'bootstrap' }]);
  });

  it('offline without a bootstrap is ready with nothing: every key is unknown', async () => {
    const c = createClient({ offline: true });
    clients.push(c);
    await c.ready();
    expect(c.detail('bool', { key: 'u' }, false)).toMatchObject({ reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    expect(c.stats()).toMatchObject({ sync: 'offline', configVersion: 0 });
  });

  it('serves the default with PROVIDER_NOT_READY before the first config, without waiting', () => {
    fake = fakeSwitchyard();
    fake.onStream = () => 'hang';
    const c = createClient({ sdkKey: 'k', baseUrl: BASE, fetch: fake.fetch });
    clients.push(c);
    // Synchronous answers (no promise to wait on) while the stream request still hangs.
    expect(c.detail('bool', { key: 'u' }, true)).toEqual({ value: true, variant: null, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' });
    expect(c.variant('exp', { key: 'u' })).toBeNull();
    expect(c.stats().configVersion).toBeNull();
  });

  it('rejects unusable options when created', () => {
    expect(() => createClient({ baseUrl: BASE })).toThrow(SwitchyardError);
    expect(() => createClient({ offline: true, bootstrap: '/does/not/exist.json' })).toThrow(/cannot read the bootstrap file/);
    expect(() => createClient({ offline: true, bootstrap: { schema_version: 1 } as unknown as ConfigDocument })).toThrow(/version/);
    try {
      createClient({ sdkKey: '', baseUrl: BASE });
    } catch (e) {
      expect((e as SwitchyardError).code).toBe('INVALID_OPTIONS');
    }
  });

  it('rejects ready() with CLOSED when closed first', async () => {
    fake = fakeSwitchyard();
    fake.onStream = () => 'hang';
    const c = createClient({ sdkKey: 'k', baseUrl: BASE, fetch: fake.fetch });
    const p = c.ready({ timeoutMs: 5000 });
    await c.close();
    await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(c.ready()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('exposures and tracking', () => {
  const setup = () => {
    fake = fakeSwitchyard();
    const f = fake;
    const c = createClient({
      sdkKey: 'k',
      baseUrl: BASE,
      fetch: f.fetch,
      bootstrap: config,
      stream: false,
      pollIntervalMs: 60_000,
      events: { flushIntervalMs: 20 },
    });
    f.onConfig = () => new Response(null, { status: 503 });
    clients.push(c);
    const sent = () => f.requests.events.flatMap((r) => r.body.events);
    return { c, sent };
  };

  it('records one exposure per (experiment, unit) through any evaluation method, on the experiment unit attribute', async () => {
    const { c, sent } = setup();
    for (let i = 0; i < 3; i++) {
      c.variant('exp', { key: 'user-1' });
      c.string('exp', { key: 'user-1' }, 'd');
      c.detail('exp', { key: 'user-2' }, 'd');
      c.variant('company-exp', { key: 'someone', company_id: 'acme' });
      c.variant('company-exp', { key: 'someone-else', company_id: 'acme' });
    }
    c.variant('exp', {}); // not enrolled: no exposure
    c.detail('paused', { key: 'user-1' }, 'x'); // paused: control, no exposure
    c.boolean('exp', { key: 'user-3' }, false); // type mismatch: the caller's default, no exposure
    await c.flush();
    await until(() => c.stats().events.delivered === 3, 2000, 'exposures delivered');
    const ev = sent();
    expect(ev.map((e) => [e.type, e.key, e.experiment, e.unit_id])).toEqual([
      ['exposure', 'exp', 'exp', 'user-1'],
      ['exposure', 'exp', 'exp', 'user-2'],
      ['exposure', 'company-exp', 'company-exp', 'acme'],
    ]);
    expect(ev[0].variant).toBe(c.variant('exp', { key: 'user-1' }));
    expect(ev[2].variant).toBe('only');
    for (const e of ev) {
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof e.timestamp).toBe('number');
    }
    expect(c.stats().exposuresRemembered).toBe(3);
  });

  it('sends track events with value, properties (snapshotted) and timestamps', async () => {
    const { c, sent } = setup();
    const props: Record<string, unknown> = { currency: 'EUR', items: [1, 2] };
    c.track('purchase', { key: 'user-1' }, { value: 42.5, properties: props, timestamp: new Date('2026-01-02T03:04:05Z') });
    props.currency = 'changed later';
    c.track('signup', { key: 7 as unknown as string }, { timestamp: '2026-01-01T00:00:00Z' });
    c.track('visit', { key: 'ignored' }, { unitId: 'acme' });
    await c.flush();
    await until(() => c.stats().events.delivered === 3, 2000, 'tracks delivered');
    const [a, b, d] = sent();
    expect(a).toMatchObject({
      type: 'track',
      key: 'purchase',
      unit_id: 'user-1',
      value: 42.5,
      properties: { currency: 'EUR', items: [1, 2] },
      timestamp: Date.parse('2026-01-02T03:04:05Z'),
    });
    expect(b).toMatchObject({ key: 'signup', unit_id: '7', timestamp: '2026-01-01T00:00:00Z' });
    expect(b.value).toBeUndefined();
    expect(d).toMatchObject({ key: 'visit', unit_id: 'acme' });
  });

  it('drops invalid tracks alone, with a log line each', async () => {
    const { c, sent } = setup();
    const log = memoryLogger();
    const c2 = createClient({ sdkKey: 'k', baseUrl: BASE, fetch: fake!.fetch, stream: false, pollIntervalMs: 60_000, logger: log });
    clients.push(c2);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    c2.track('', { key: 'u' });
    c2.track('m', {});
    c2.track('m', { key: 'u' }, { value: Number.NaN });
    c2.track('m', { key: 'u' }, { properties: circular });
    c2.track('m', { key: 'u' }, { timestamp: 'yesterday' });
    c2.track('ok', { key: 'u' });
    await c2.flush();
    expect(c2.stats().events.delivered).toBe(1);
    expect(log.at('warn').filter((l) => l.message.startsWith('track()'))).toHaveLength(5);
    expect(sent().map((e) => e.key)).toEqual(['ok']);
    void c;
  });

  it('sends nothing when events are disabled or offline', async () => {
    fake = fakeSwitchyard();
    const c = createClient({
      sdkKey: 'k',
      baseUrl: BASE,
      fetch: fake.fetch,
      bootstrap: config,
      stream: false,
      pollIntervalMs: 60_000,
      events: { enabled: false },
    });
    clients.push(c);
    c.variant('exp', { key: 'u' });
    c.track('m', { key: 'u' });
    await c.flush();
    await sleep(50);
    expect(fake.requests.events).toHaveLength(0);
    const o = offline();
    o.variant('exp', { key: 'u' });
    o.track('m', { key: 'u' });
    expect(o.stats().events.queued).toBe(0);
  });
});

describe('events API', () => {
  it('on/once/off and listener errors stay contained', async () => {
    fake = fakeSwitchyard();
    const log = memoryLogger();
    const c = createClient({ sdkKey: 'k', baseUrl: BASE, fetch: fake.fetch, logger: log });
    clients.push(c);
    const got: number[] = [];
    const onChange = (ch: { version: number }) => got.push(ch.version);
    c.on('change', onChange);
    c.once('change', () => {
      throw new Error('listener bug');
    });
    const s = await fake.stream(1);
    s.put({ schema_version: 1, version: 1, flags: {}, segments: {}, experiments: {} });
    await c.ready();
    s.patch({ version: 2, flags: {} });
    await until(() => got.length === 1, 1000, 'change');
    c.off('change', onChange);
    s.patch({ version: 3, flags: {} });
    await until(() => c.configVersion === 3, 1000, 'v3');
    expect(got).toEqual([2]);
    expect(log.at('error').some((l) => l.message.includes("'change' listener threw"))).toBe(true);
  });
});
