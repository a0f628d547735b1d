import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { configVersion, detailPaths, expectError } from './support';

describe('request validation', () => {
  let t: TestServer;
  const admin = () => ({ token: t.adminToken });
  beforeAll(async () => {
    // Invalid login bodies count against the login limit like any attempt; not what is tested here.
    t = await startTestServer({ loginRatePerMinute: 10_000 });
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'existing', type: 'boolean' } });
  });
  afterAll(async () => {
    await t.stop();
  });

  const WRITE_ROUTES: [string, string][] = [
    ['POST', '/api/v1/feature-flags'],
    ['PATCH', '/api/v1/feature-flags/existing'],
    ['PUT', '/api/v1/feature-flags/existing'],
    ['POST', '/api/v1/segments'],
    ['POST', '/api/v1/users'],
    ['POST', '/api/v1/api-keys'],
    ['POST', '/api/v1/auth/login'],
  ];

  it('malformed JSON is a 400 VALIDATION_ERROR on every write route, never a 500', async () => {
    const bodies = [
      '{',
      '{"key": }',
      "{'key': 'x'}",
      '[1,2',
      'undefined',
      'NaN',
      '{"key":"a",}',
      '{"key":"a"}}',
      '\u0001',
      'key=x&type=boolean',
    ];
    for (const [method, path] of WRITE_ROUTES) {
      for (const raw of bodies) {
        const r = await t.request(method, path, { ...admin(), raw, headers: { 'content-type': 'application/json' } });
        const e = expectError(r, 'VALIDATION_ERROR');
        expect(e.message, `${method} ${path} ${raw}`).toMatch(/JSON/);
      }
    }
    const v = await configVersion(t);
    expect(v).toBe(1);
  });

  it('empty bodies and JSON that is not an object are rejected', async () => {
    for (const [method, path] of WRITE_ROUTES) {
      expectError(await t.request(method, path, { ...admin() }), 'VALIDATION_ERROR');
      expectError(
        await t.request(method, path, { ...admin(), raw: '', headers: { 'content-type': 'application/json' } }),
        'VALIDATION_ERROR',
      );
      expectError(
        await t.request(method, path, { ...admin(), raw: '   \n ', headers: { 'content-type': 'application/json' } }),
        'VALIDATION_ERROR',
      );
      for (const raw of ['null', '[]', '"a string"', '42', 'true', '[{"key":"x","type":"boolean"}]']) {
        expectError(
          await t.request(method, path, { ...admin(), raw, headers: { 'content-type': 'application/json' } }),
          'VALIDATION_ERROR',
        );
      }
    }
  });

  it('unknown fields are rejected at their own path', async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ['POST', '/api/v1/feature-flags', { key: 'unknown-field', type: 'boolean', bogus: 1 }],
      ['PATCH', '/api/v1/feature-flags/existing', { enabld: true }],
      ['PUT', '/api/v1/feature-flags/existing', { type: 'boolean', ownerId: 'x' }],
      ['POST', '/api/v1/segments', { key: 'unknown-field', include: ['u1'] }],
      ['POST', '/api/v1/users', { email: 'x@test.local', role: 'VIEWER', password: 'long-enough', is_admin: true }],
      ['POST', '/api/v1/api-keys', { name: 'x', kind: 'management', scopes: ['*'] }],
      ['POST', '/api/v1/auth/login', { email: 'x@test.local', password: 'whatever', remember: true }],
    ];
    for (const [method, path, body] of cases) {
      const r = await t.request(method, path, { ...admin(), body });
      expectError(r, 'VALIDATION_ERROR');
      const known = [
        'key',
        'type',
        'name',
        'description',
        'enabled',
        'variants',
        'off_variant',
        'bucket_by',
        'salt',
        'prerequisites',
        'rules',
        'default_serve',
        'included',
        'excluded',
        'when',
        'email',
        'role',
        'password',
        'kind',
        'id',
        'created_at',
        'updated_at',
        'owner_id',
      ];
      const unknown = Object.keys(body).find((k) => !known.includes(k))!;
      expect(detailPaths(r), `${method} ${path}`).toContain(unknown);
    }
    // An unknown field inside a condition is reported at its path too.
    const cond = await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: {
        key: 'cond-field',
        type: 'boolean',
        rules: [{ id: 'r', when: { attr: 'a', op: 'eq', values: ['x'], negate: true }, serve: { variant: 'on' } }],
      },
    });
    expect(detailPaths(cond)).toContain('rules.0.when.negate');
  });

  it('keys must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$', async () => {
    const bad: unknown[] = [
      '',
      ' ',
      '-leading',
      '.leading',
      '_leading',
      'has space',
      'ünïcode',
      '日本',
      'a'.repeat(129),
      'a/b',
      '../etc',
      'a?b',
      'a#b',
      'a%20b',
      'new\nline',
      'trailing\n',
      'a:b',
      123,
      null,
      true,
      ['a'],
    ];
    for (const key of bad) {
      for (const [path, body] of [
        ['/api/v1/feature-flags', { key, type: 'boolean' }],
        ['/api/v1/segments', { key }],
      ] as const) {
        const r = await t.request('POST', path, { ...admin(), body });
        expectError(r, 'VALIDATION_ERROR');
        expect(detailPaths(r), JSON.stringify(key)).toContain('key');
      }
    }
    for (const key of ['a', '0', 'A.b_c-d', '9lives', 'a'.repeat(128), 'x.-_']) {
      expect((await t.request('POST', '/api/v1/feature-flags', { ...admin(), body: { key, type: 'boolean' } })).status, key).toBe(201);
      expect((await t.request('POST', '/api/v1/segments', { ...admin(), body: { key } })).status, key).toBe(201);
      expect((await t.request('GET', `/api/v1/feature-flags/${encodeURIComponent(key)}`, admin())).body.data.attributes.key).toBe(key);
    }
    // Keys inside a flag are keys too.
    const r = await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: {
        key: 'inner-keys',
        type: 'string',
        variants: [{ key: 'bad key', value: 'x' }],
        prerequisites: [{ flag: '../x', variants: ['on'] }],
      },
    });
    expect(detailPaths(r)).toEqual(expect.arrayContaining(['variants.0.key', 'prerequisites.0.flag']));
  });

  it('validates query parameters', async () => {
    // `!!!` decodes to an empty string, `MDA` to '00', `LTE` to '-1': none is a cursor the API issued.
    for (const q of [
      'limit=0',
      'limit=201',
      'limit=abc',
      'limit=1.5',
      'cursor=!!!',
      'cursor=MDA',
      'cursor=LTE',
      'cursor=bm90LWEtbnVtYmVy',
      `q=${'x'.repeat(201)}`,
    ]) {
      const r = await t.request('GET', `/api/v1/feature-flags?${q}`, admin());
      expectError(r, 'VALIDATION_ERROR');
      expect(detailPaths(r).length, q).toBeGreaterThan(0);
    }
    expectError(await t.request('GET', '/api/v1/audit-log?limit=-1', admin()), 'VALIDATION_ERROR');
    expectError(await t.request('GET', '/api/v1/users?cursor=%%%', admin()), 'VALIDATION_ERROR');
  });

  it('validates user bodies', async () => {
    for (const body of [
      { email: 'not-an-email', role: 'VIEWER', password: 'long-enough' },
      { email: 'a@test.local', role: 'ROOT', password: 'long-enough' },
      { email: 'a@test.local', role: 'VIEWER', password: 'short' },
      { email: 'a@test.local', role: 'VIEWER' },
    ]) {
      expectError(await t.request('POST', '/api/v1/users', { ...admin(), body }), 'VALIDATION_ERROR');
    }
  });
});
