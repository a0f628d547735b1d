import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

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
