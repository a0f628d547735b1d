import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { configVersion, detailPaths, expectError } from './support';

const SQL = "Robert'); DROP TABLE resources;--";
/** Strings that must come back byte for byte (no NUL: that is not valid in every store). */
const ODD = [
  SQL,
  '日本語 🚀',
  '  padded  ',
  'tab\there\nnewline\r\n',
  'quote " and \\ backslash',
  '<script>alert(1)</script>',
  '👩‍💻 zero-width joiner',
  '\u202eRTL override',
  'e\u0301 (NFD, must not be normalized)',
  '%_ like wildcards',
  "1' OR '1'='1",
  '${jndi:ldap://x}',
  'x\ud800y lone surrogate',
];

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

  it('rejects invalid flag configs with the path of every problem', async () => {
    const split = (...w: [string, number][]) => ({ split: w.map(([variant, weight]) => ({ variant, weight })) });
    const cases: { name: string; body: Record<string, unknown>; paths: string[]; message?: RegExp }[] = [
      {
        name: 'default split not summing to 100',
        body: { default_serve: split(['on', 50], ['off', 40]) },
        paths: ['default_serve.split'],
        message: /sum to 100/,
      },
      {
        name: 'rule split not summing to 100',
        body: { rules: [{ id: 'r', serve: split(['on', 30], ['off', 30]) }] },
        paths: ['rules.0.serve.split'],
        message: /sum to 100/,
      },
      { name: 'weights over 100', body: { default_serve: split(['on', 100], ['off', 0.01]) }, paths: ['default_serve.split'] },
      {
        name: 'three-decimal weight',
        body: { default_serve: split(['on', 50.005], ['off', 49.995]) },
        paths: ['default_serve.split.0.weight', 'default_serve.split.1.weight'],
      },
      { name: 'negative weight', body: { default_serve: split(['on', -10], ['off', 110]) }, paths: ['default_serve.split.0.weight'] },
      {
        name: 'unknown default variant',
        body: { default_serve: { variant: 'maybe' } },
        paths: ['default_serve.variant'],
        message: /unknown variant/,
      },
      { name: 'unknown rule variant', body: { rules: [{ id: 'r', serve: { variant: 'maybe' } }] }, paths: ['rules.0.serve.variant'] },
      {
        name: 'unknown split variant',
        body: { default_serve: split(['on', 50], ['maybe', 50]) },
        paths: ['default_serve.split.1.variant'],
      },
      { name: 'unknown off variant', body: { off_variant: 'maybe' }, paths: ['off_variant'] },
      {
        name: 'variant of the wrong type',
        body: {
          variants: [
            { key: 'on', value: 'yes' },
            { key: 'off', value: false },
          ],
        },
        paths: ['variants.0.value'],
      },
      {
        name: 'duplicate variant keys',
        body: {
          variants: [
            { key: 'on', value: true },
            { key: 'on', value: false },
          ],
          off_variant: 'on',
        },
        paths: ['variants.1.key'],
      },
      { name: 'no variants', body: { variants: [] }, paths: ['variants'] },
      {
        name: 'duplicate rule ids',
        body: {
          rules: [
            { id: 'r', serve: { variant: 'on' } },
            { id: 'r', serve: { variant: 'off' } },
          ],
        },
        paths: ['rules.1.id'],
      },
      {
        name: 'unknown operator',
        body: { rules: [{ id: 'r', when: { attr: 'country', op: 'like', values: ['US'] }, serve: { variant: 'on' } }] },
        paths: ['rules.0.when.op'],
        message: /operator/,
      },
      {
        name: 'missing values',
        body: { rules: [{ id: 'r', when: { attr: 'country', op: 'in' }, serve: { variant: 'on' } }] },
        paths: ['rules.0.when.values'],
      },
      {
        name: 'regex RE2 refuses (backreference)',
        body: { rules: [{ id: 'r', when: { attr: 'email', op: 'matches', values: ['(a+)\\1'] }, serve: { variant: 'on' } }] },
        paths: ['rules.0.when.values.0'],
      },
      {
        name: 'nested regex RE2 refuses (lookahead)',
        body: {
          rules: [
            {
              id: 'r',
              when: {
                all: [{ attr: 'plan', op: 'eq', values: ['pro'] }, { not: { attr: 'email', op: 'matches', values: ['^(?=\\w)\\w+$'] } }],
              },
              serve: { variant: 'on' },
            },
          ],
        },
        paths: ['rules.0.when.all.1.not.values.0'],
      },
      {
        name: 'invalid regex',
        body: { rules: [{ id: 'r', when: { attr: 'email', op: 'matches', values: ['(unclosed'] }, serve: { variant: 'on' } }] },
        paths: ['rules.0.when.values.0'],
      },
      {
        name: 'condition nested too deep',
        body: {
          rules: [
            {
              id: 'r',
              when: Array.from({ length: 40 }).reduce<unknown>((c) => ({ not: c }), { attr: 'a', op: 'exists' }),
              serve: { variant: 'on' },
            },
          ],
        },
        paths: [],
        message: /invalid/,
      },
      {
        name: 'unknown segment',
        body: { rules: [{ id: 'r', when: { segment: 'nobody-made-this' }, serve: { variant: 'on' } }] },
        paths: ['rules.0.when'],
        message: /segment/,
      },
      {
        name: 'unknown prerequisite flag',
        body: { prerequisites: [{ flag: 'no-such-flag', variants: ['on'] }] },
        paths: ['prerequisites.0.flag'],
      },
      {
        name: 'prerequisite variant the flag lacks',
        body: { prerequisites: [{ flag: 'existing', variants: ['maybe'] }] },
        paths: ['prerequisites.0.variants.0'],
      },
      {
        name: 'own prerequisite',
        body: { key: 'self-loop', prerequisites: [{ flag: 'self-loop', variants: ['on'] }] },
        paths: ['prerequisites.0.flag'],
      },
      { name: 'unknown type', body: { type: 'date' }, paths: ['type'] },
      {
        name: 'several problems at once',
        body: { off_variant: 'maybe', default_serve: split(['on', 10], ['nope', 10]) },
        paths: ['off_variant', 'default_serve.split.1.variant', 'default_serve.split'],
      },
    ];
    const version = await configVersion(t);
    for (const c of cases) {
      const body = { key: 'invalid-config', type: 'boolean', ...c.body };
      const r = await t.request('POST', '/api/v1/feature-flags', { ...admin(), body });
      const e = expectError(r, 'VALIDATION_ERROR');
      expect(detailPaths(r), c.name).toEqual(expect.arrayContaining(c.paths));
      expect(Array.isArray(e.details) && e.details.length > 0, c.name).toBe(true);
      for (const d of e.details) expect(typeof d.message, c.name).toBe('string');
      if (c.message !== undefined) expect(JSON.stringify(e), c.name).toMatch(c.message);
      // The same problem through PUT on an existing flag.
      const put = await t.request('PUT', '/api/v1/feature-flags/existing', { ...admin(), body: { ...body, key: 'existing' } });
      expectError(put, 'VALIDATION_ERROR');
    }
    expect(await configVersion(t)).toBe(version);
    expectError(await t.request('GET', '/api/v1/feature-flags/invalid-config', admin()), 'RESOURCE_NOT_FOUND');
    expect((await t.request('GET', '/api/v1/feature-flags/existing', admin())).body.data.attributes).toMatchObject({
      rules: [],
      prerequisites: [],
      off_variant: 'off',
    });
  });

  it('rejects a prerequisite cycle across flags, and leaves both flags as they were', async () => {
    expect((await t.request('POST', '/api/v1/feature-flags', { ...admin(), body: { key: 'cycle-a', type: 'boolean' } })).status).toBe(201);
    expect(
      (
        await t.request('POST', '/api/v1/feature-flags', {
          ...admin(),
          body: { key: 'cycle-b', type: 'boolean', prerequisites: [{ flag: 'cycle-a', variants: ['on'] }] },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await t.request('POST', '/api/v1/feature-flags', {
          ...admin(),
          body: { key: 'cycle-c', type: 'boolean', prerequisites: [{ flag: 'cycle-b', variants: ['on'] }] },
        })
      ).status,
    ).toBe(201);
    const version = await configVersion(t);
    for (const via of ['cycle-b', 'cycle-c']) {
      const r = await t.request('PATCH', '/api/v1/feature-flags/cycle-a', {
        ...admin(),
        body: { prerequisites: [{ flag: via, variants: ['on'] }] },
      });
      const e = expectError(r, 'VALIDATION_ERROR');
      expect(JSON.stringify(e.details)).toMatch(/cycle/);
      expect(detailPaths(r).some((p) => p.endsWith('prerequisites'))).toBe(true);
    }
    expect(await configVersion(t)).toBe(version);
    expect((await t.request('GET', '/api/v1/feature-flags/cycle-a', admin())).body.data.attributes.prerequisites).toEqual([]);
    expect((await t.request('GET', '/api/v1/feature-flags/cycle-c/evaluate?user_id=u', admin())).status).toBe(200);
  });

  it('rejects invalid segments: bad conditions, regexes, unknown and cyclic segment references', async () => {
    const cases: { body: Record<string, unknown>; paths: string[] }[] = [
      { body: { key: 'bad-seg', when: { attr: 'email', op: 'matches', values: ['\\p{Greek}'] } }, paths: ['when.values.0'] },
      { body: { key: 'bad-seg', when: { attr: 'email', op: 'almost', values: ['x'] } }, paths: ['when.op'] },
      { body: { key: 'bad-seg', when: { segment: 'nobody' } }, paths: ['when'] },
      { body: { key: 'bad-seg', included: [1, 2] }, paths: ['included.0', 'included.1'] },
      { body: { key: 'bad-seg', excluded: 'u1' }, paths: ['excluded'] },
      { body: { key: 'bad-seg', included: ['x'.repeat(257)] }, paths: ['included.0'] },
    ];
    for (const c of cases) {
      const r = await t.request('POST', '/api/v1/segments', { ...admin(), body: c.body });
      expectError(r, 'VALIDATION_ERROR');
      expect(detailPaths(r), JSON.stringify(c.body)).toEqual(expect.arrayContaining(c.paths));
    }
    expect((await t.request('POST', '/api/v1/segments', { ...admin(), body: { key: 'seg-1' } })).status).toBe(201);
    expect((await t.request('POST', '/api/v1/segments', { ...admin(), body: { key: 'seg-2', when: { segment: 'seg-1' } } })).status).toBe(
      201,
    );
    const r = await t.request('PATCH', '/api/v1/segments/seg-1', { ...admin(), body: { when: { segment: 'seg-2' } } });
    expect(JSON.stringify(expectError(r, 'VALIDATION_ERROR').details)).toMatch(/cycle/);
    expect((await t.request('GET', '/api/v1/segments/seg-1', admin())).body.data.attributes).not.toHaveProperty('when');
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

describe('SQL-looking and unicode input is stored and returned verbatim', () => {
  let t: TestServer;
  const admin = () => ({ token: t.adminToken });
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('in flag names, descriptions, variant values and rule values', async () => {
    for (const [i, s] of ODD.entries()) {
      const body = {
        key: `odd-${i}`,
        name: s,
        description: `${s} / ${s}`,
        type: 'string',
        enabled: true,
        variants: [
          { key: 'hit', value: s },
          { key: 'miss', value: 'miss' },
        ],
        rules: [{ id: s, when: { attr: 'label', op: 'in', values: [s, 'other'] }, serve: { variant: 'hit' } }],
        default_serve: { variant: 'miss' },
      };
      const created = await t.request('POST', '/api/v1/feature-flags', { ...admin(), body });
      expect(created.status, s).toBe(201);
      const got = await t.request('GET', `/api/v1/feature-flags/odd-${i}`, admin());
      expect(got.body.data.attributes).toMatchObject({ name: s, description: `${s} / ${s}`, variants: body.variants, rules: body.rules });
      // The stored value matches on evaluation, too (a lone surrogate cannot travel in a URL).
      if (s.includes('\ud800')) continue;
      const ev = await t.request('GET', `/api/v1/feature-flags/odd-${i}/evaluate?user_id=u1&label=${encodeURIComponent(s)}`, admin());
      expect(ev.body.data, s).toMatchObject({ value: s, variant: 'hit', reason: 'TARGETING_MATCH', rule_id: s });
    }
    // The table the SQL string names is alive and well.
    const list = await t.request('GET', '/api/v1/feature-flags?limit=200', admin());
    expect(list.body.data).toHaveLength(ODD.length);
  });

  it('in segment included/excluded lists, and they target by unit id', async () => {
    const body = { key: 'odd-segment', name: '日本語 🚀 segment', included: ODD, excluded: [...ODD].reverse().map((s) => `not ${s}`) };
    expect((await t.request('POST', '/api/v1/segments', { ...admin(), body })).status).toBe(201);
    const got = await t.request('GET', '/api/v1/segments/odd-segment', admin());
    expect(got.body.data.attributes.included).toEqual(ODD);
    expect(got.body.data.attributes.excluded).toEqual(body.excluded);
    expect(got.body.data.attributes.name).toBe('日本語 🚀 segment');
    await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: {
        key: 'odd-seg-flag',
        type: 'boolean',
        enabled: true,
        rules: [{ id: 'seg', when: { segment: 'odd-segment' }, serve: { variant: 'on' } }],
        default_serve: { variant: 'off' },
      },
    });
    for (const s of [SQL, '日本語 🚀', '  padded  ']) {
      const ev = await t.request('GET', `/api/v1/feature-flags/odd-seg-flag/evaluate?user_id=${encodeURIComponent(s)}`, admin());
      expect(ev.body.data, s).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    }
    const miss = await t.request('GET', `/api/v1/feature-flags/odd-seg-flag/evaluate?user_id=${encodeURIComponent('padded')}`, admin());
    expect(miss.body.data).toMatchObject({ value: false, reason: 'DEFAULT' });
  });

  it('in search queries, users and key names, without wildcard or injection effects', async () => {
    const q = async (s: string) =>
      (await t.request('GET', `/api/v1/feature-flags?limit=200&q=${encodeURIComponent(s)}`, admin())).body.data.map(
        (f: { attributes: { key: string } }) => f.attributes.key,
      );
    expect(await q(SQL)).toEqual(['odd-0']);
    expect(await q("'")).toEqual(expect.arrayContaining(['odd-0', 'odd-10']));
    expect(await q('%_')).toEqual(['odd-9']);
    expect(await q('%')).toEqual(['odd-9']);
    expect(await q('日本語')).toEqual(['odd-1']);
    expect(await q("' OR 1=1 --")).toEqual([]);
    const user = await t.request('POST', '/api/v1/users', {
      ...admin(),
      body: { email: 'odd@test.local', name: SQL, role: 'VIEWER', password: '密码 🚀 long enough' },
    });
    expect(user.body.data.attributes.name).toBe(SQL);
    expect((await t.request('GET', `/api/v1/users/${user.body.data.id}`, admin())).body.data.attributes.name).toBe(SQL);
    expect((await t.login('odd@test.local', '密码 🚀 long enough')).length).toBeGreaterThan(20);
    const key = await t.request('POST', '/api/v1/api-keys', {
      ...admin(),
      body: { name: '日本語 🚀 key', kind: 'management', role: 'VIEWER' },
    });
    expect((await t.request('GET', `/api/v1/api-keys/${key.body.data.id}`, admin())).body.data.attributes.name).toBe('日本語 🚀 key');
  });
});
