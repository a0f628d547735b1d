import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { configVersion, detailPaths, expectError } from './support';

describe('config validation: flags and segments', () => {
  let t: TestServer;
  const admin = () => ({ token: t.adminToken });
  beforeAll(async () => {
    t = await startTestServer();
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'existing', type: 'boolean' } });
  });
  afterAll(async () => {
    await t.stop();
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
      // Both flags exist: the summary must not say otherwise.
      expect(e.message).toBe("the feature flag's references are invalid (see details)");
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
});
