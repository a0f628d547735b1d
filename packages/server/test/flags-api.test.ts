import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type Reply, type TestServer } from './helpers';
import { configVersion, detailPaths, expectError } from './support';

describe('feature flag API: lists, lookups, updates and config versions', () => {
  let t: TestServer;
  let exp: { id: string; token: string };
  const admin = () => ({ token: t.adminToken });
  const keysOf = (r: Reply) => r.body.data.map((f: { attributes: { key: string } }) => f.attributes.key);

  beforeAll(async () => {
    t = await startTestServer();
    exp = await t.user('EXPERIMENTER');
    // 7 flags: 3 enabled, 2 owned by the experimenter, names for search.
    const specs: [string, string, boolean, string][] = [
      ['page-01', 'Checkout Redesign', true, 'admin'],
      ['page-02', 'checkout button', false, 'admin'],
      ['page-03', 'Search v2', true, 'exp'],
      ['page-04', 'Pricing', false, 'exp'],
      ['page-05', 'Onboarding', true, 'admin'],
      ['page-06', 'Dark mode', false, 'admin'],
      ['page-07', 'CHECKOUT copy', false, 'admin'],
    ];
    for (const [key, name, enabled, who] of specs) {
      const r = await t.request('POST', '/api/v1/feature-flags', {
        token: who === 'exp' ? exp.token : t.adminToken,
        body: { key, name, type: 'boolean', enabled },
      });
      expect(r.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.stop();
  });

  it('pages with limit and an opaque cursor, in creation order, until has_more is false', async () => {
    const pages: Reply[] = [];
    let cursor: string | null = null;
    do {
      const r: Reply = await t.request('GET', `/api/v1/feature-flags?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`, admin());
      expect(r.status).toBe(200);
      pages.push(r);
      cursor = r.body.meta.pagination.next_cursor;
    } while (cursor !== null);
    expect(pages.map((p) => p.body.data.length)).toEqual([3, 3, 1]);
    expect(pages.map((p) => p.body.meta.pagination.has_more)).toEqual([true, true, false]);
    expect(pages.map((p) => p.body.meta.pagination.limit)).toEqual([3, 3, 3]);
    expect(pages.flatMap(keysOf)).toEqual(['page-01', 'page-02', 'page-03', 'page-04', 'page-05', 'page-06', 'page-07']);
    for (const p of pages)
      for (const f of p.body.data)
        expect(f).toMatchObject({
          id: expect.any(String),
          type: 'feature-flag',
          attributes: expect.any(Object),
          relationships: { owner: expect.any(Object) },
        });
    // An exact multiple of the limit ends without an empty extra page.
    const seven = await t.request('GET', '/api/v1/feature-flags?limit=7', admin());
    expect(seven.body.meta.pagination).toEqual({ limit: 7, next_cursor: null, has_more: false });
    // Default limit 50; an empty cursor is the first page.
    const all = await t.request('GET', '/api/v1/feature-flags?cursor=', admin());
    expect(all.body.meta.pagination.limit).toBe(50);
    expect(keysOf(all)).toHaveLength(7);
    // A cursor stays valid when rows before it are deleted.
    const first = await t.request('GET', '/api/v1/feature-flags?limit=2', admin());
    await t.request('POST', '/api/v1/feature-flags', { ...admin(), body: { key: 'page-00-temp', type: 'boolean' } });
    const next = await t.request('GET', `/api/v1/feature-flags?limit=2&cursor=${first.body.meta.pagination.next_cursor}`, admin());
    expect(keysOf(next)).toEqual(['page-03', 'page-04']);
    await t.request('DELETE', '/api/v1/feature-flags/page-00-temp', admin());
  });

  it('filters by q (key or name, case-insensitive), status and owner_id, combined with paging', async () => {
    const list = async (query: string) => keysOf(await t.request('GET', `/api/v1/feature-flags?${query}`, admin()));
    expect(await list('q=checkout')).toEqual(['page-01', 'page-02', 'page-07']);
    expect(await list('q=CHECKOUT')).toEqual(['page-01', 'page-02', 'page-07']);
    expect(await list('q=page-04')).toEqual(['page-04']);
    expect(await list('q=nothing-matches')).toEqual([]);
    expect(await list('status=enabled')).toEqual(['page-01', 'page-03', 'page-05']);
    expect(await list('status=disabled')).toEqual(['page-02', 'page-04', 'page-06', 'page-07']);
    expect(await list(`owner_id=${exp.id}`)).toEqual(['page-03', 'page-04']);
    expect(await list(`owner_id=${exp.id}&status=enabled`)).toEqual(['page-03']);
    expect(await list('q=checkout&status=disabled')).toEqual(['page-02', 'page-07']);
    expect(await list('owner_id=nobody')).toEqual([]);
    const p1 = await t.request('GET', '/api/v1/feature-flags?q=checkout&limit=2', admin());
    expect(keysOf(p1)).toEqual(['page-01', 'page-02']);
    expect(p1.body.meta.pagination.has_more).toBe(true);
    const p2 = await t.request('GET', `/api/v1/feature-flags?q=checkout&limit=2&cursor=${p1.body.meta.pagination.next_cursor}`, admin());
    expect(keysOf(p2)).toEqual(['page-07']);
    expect(p2.body.meta.pagination.has_more).toBe(false);
    // Enabling moves a flag between the status filters.
    await t.request('PATCH', '/api/v1/feature-flags/page-06', { ...admin(), body: { enabled: true } });
    expect(await list('status=enabled')).toContain('page-06');
    await t.request('PATCH', '/api/v1/feature-flags/page-06', { ...admin(), body: { enabled: false } });
  });

  it('looks flags up by id or key, everywhere', async () => {
    const byKey = await t.request('GET', '/api/v1/feature-flags/page-05', admin());
    const byId = await t.request('GET', `/api/v1/feature-flags/${byKey.body.data.id}`, admin());
    expect(byId.body).toEqual(byKey.body);
    expect(byKey.body.data.attributes.key).toBe('page-05');
    const patched = await t.request('PATCH', `/api/v1/feature-flags/${byKey.body.data.id}`, { ...admin(), body: { description: 'by id' } });
    expect(patched.body.data.attributes.description).toBe('by id');
    expect((await t.request('GET', '/api/v1/feature-flags/page-05', admin())).body.data.attributes.description).toBe('by id');
    // Lookups are exact: no case folding, no prefix match.
    expectError(await t.request('GET', '/api/v1/feature-flags/PAGE-05', admin()), 'RESOURCE_NOT_FOUND');
    expectError(await t.request('GET', '/api/v1/feature-flags/page-0', admin()), 'RESOURCE_NOT_FOUND');
    // A segment's id is not a flag's.
    const seg = await t.request('POST', '/api/v1/segments', { ...admin(), body: { key: 'page-05' } });
    expectError(await t.request('GET', `/api/v1/feature-flags/${seg.body.data.id}`, admin()), 'RESOURCE_NOT_FOUND');
    expect((await t.request('GET', `/api/v1/segments/${seg.body.data.id}`, admin())).body.data.attributes.key).toBe('page-05');
  });

  it('PATCH merges the named top-level fields; PUT replaces and re-applies defaults', async () => {
    const body = {
      key: 'merge-me',
      name: 'Merge me',
      description: 'keep me',
      type: 'string',
      enabled: true,
      salt: 'custom-salt',
      bucket_by: 'account_id',
      variants: [
        { key: 'a', value: 'A' },
        { key: 'b', value: 'B' },
      ],
      off_variant: 'b',
      rules: [{ id: 'us', when: { attr: 'country', op: 'eq', values: ['US'] }, serve: { variant: 'b' } }],
      default_serve: { variant: 'a' },
    };
    const created = await t.request('POST', '/api/v1/feature-flags', { ...admin(), body });
    expect(created.status).toBe(201);
    const { created_at: createdAt } = created.body.data.attributes;

    const patched = await t.request('PATCH', '/api/v1/feature-flags/merge-me', {
      ...admin(),
      body: { enabled: false, default_serve: { variant: 'b' } },
    });
    expect(patched.status).toBe(200);
    const { created_at: _c, updated_at: updatedAt, environments, version, ...kept } = patched.body.data.attributes;
    expect(version).toBe(2);
    expect(kept).toEqual({ ...body, enabled: false, default_serve: { variant: 'b' }, prerequisites: [] });
    // The request environment (production) is the same state as the top level.
    const { key: _k, name: _n, description: _d, type: _t, salt: _s, bucket_by: _b, variants: _v, ...state } = kept;
    expect(environments.production).toEqual(state);
    expect(_c).toBe(createdAt);
    expect(Date.parse(updatedAt)).toBeGreaterThanOrEqual(Date.parse(createdAt));
    // Top-level means top-level: a rules array is replaced, not merged element-wise.
    const rules = await t.request('PATCH', '/api/v1/feature-flags/merge-me', {
      ...admin(),
      body: { rules: [{ id: 'de', when: { attr: 'country', op: 'eq', values: ['DE'] }, serve: { variant: 'a' } }] },
    });
    expect(rules.body.data.attributes.rules.map((r: { id: string }) => r.id)).toEqual(['de']);
    expect(rules.body.data.attributes.description).toBe('keep me');

    const put = await t.request('PUT', '/api/v1/feature-flags/merge-me', { ...admin(), body: { type: 'boolean', name: 'Replaced' } });
    expect(put.status).toBe(200);
    const attrs = put.body.data.attributes;
    expect(attrs).toMatchObject({
      key: 'merge-me',
      name: 'Replaced',
      type: 'boolean',
      enabled: false,
      salt: 'merge-me',
      bucket_by: 'key',
      off_variant: 'off',
      variants: [
        { key: 'on', value: true },
        { key: 'off', value: false },
      ],
      default_serve: { variant: 'on' },
      rules: [],
      prerequisites: [],
      created_at: createdAt,
    });
    expect(attrs).not.toHaveProperty('description');
    expect(put.body.data.id).toBe(created.body.data.id);
    expect(put.body.data.relationships.owner).toEqual(created.body.data.relationships.owner);
    // PUT without the required type fails: it is a replacement, not a merge.
    const noType = await t.request('PUT', '/api/v1/feature-flags/merge-me', { ...admin(), body: { name: 'x' } });
    expectError(noType, 'VALIDATION_ERROR');
    expect(detailPaths(noType)).toContain('type');
    // A PATCH that leaves the flag inconsistent is refused as a whole.
    const broken = await t.request('PATCH', '/api/v1/feature-flags/merge-me', {
      ...admin(),
      body: {
        variants: [
          { key: 'yes', value: true },
          { key: 'no', value: false },
        ],
      },
    });
    expectError(broken, 'VALIDATION_ERROR');
    expect(detailPaths(broken)).toEqual(expect.arrayContaining(['off_variant', 'default_serve.variant']));
    expect((await t.request('GET', '/api/v1/feature-flags/merge-me', admin())).body.data.attributes.variants[0].key).toBe('on');
  });

  it('round-trips a GET body through PUT and PATCH; read-only fields are ignored', async () => {
    const got = await t.request('GET', '/api/v1/feature-flags/page-01', admin());
    const attrs = got.body.data.attributes;
    const put = await t.request('PUT', `/api/v1/feature-flags/${got.body.data.id}`, {
      ...admin(),
      body: { ...attrs, id: 'forged', owner_id: 'forged', created_at: '1999-01-01T00:00:00.000Z' },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.data.id).toBe(got.body.data.id);
    expect(put.body.data.attributes.created_at).toBe(attrs.created_at);
    expect(put.body.data.relationships).toEqual(got.body.data.relationships);
    const patch = await t.request('PATCH', '/api/v1/feature-flags/page-01', {
      ...admin(),
      body: { owner_id: exp.id, name: 'Checkout Redesign' },
    });
    expect(patch.body.data.relationships.owner.data.id).toBe(got.body.data.relationships.owner.data.id);
    expect(patch.body.data.attributes).not.toHaveProperty('owner_id');
  });

  it('a string, number or json flag without variants is one problem: its variants', async () => {
    for (const type of ['string', 'number', 'json']) {
      const e = expectError(
        await t.request('POST', '/api/v1/feature-flags', { ...admin(), body: { key: `no-variants-${type}`, type } }),
        'VALIDATION_ERROR',
      );
      expect(e.details).toEqual([{ path: 'variants', message: expect.stringContaining(`a ${type} flag needs its variants`) }]);
    }
    expect(
      (await t.request('POST', '/api/v1/feature-flags', { ...admin(), body: { key: 'no-variants-boolean', type: 'boolean' } })).status,
    ).toBe(201);
  });

  it('the key cannot change', async () => {
    for (const method of ['PATCH', 'PUT']) {
      const r = await t.request(method, '/api/v1/feature-flags/page-02', { ...admin(), body: { key: 'renamed', type: 'boolean' } });
      const e = expectError(r, 'VALIDATION_ERROR');
      expect(e.details).toEqual([expect.objectContaining({ path: 'key' })]);
    }
    expectError(await t.request('GET', '/api/v1/feature-flags/renamed', admin()), 'RESOURCE_NOT_FOUND');
    // Sending the same key is fine.
    expect(
      (await t.request('PATCH', '/api/v1/feature-flags/page-02', { ...admin(), body: { key: 'page-02', name: 'checkout button' } })).status,
    ).toBe(200);
    const seg = await t.request('PATCH', '/api/v1/segments/page-05', { ...admin(), body: { key: 'other-seg' } });
    expectError(seg, 'VALIDATION_ERROR');
  });

  it("every flag or segment change bumps /ready's config_version by one; reads and failures do not", async () => {
    let v = await configVersion(t);
    const step = async (method: string, path: string, body?: unknown, bump = 1) => {
      const r = await t.request(method, path, { ...admin(), ...(body === undefined ? {} : { body }) });
      const now = await configVersion(t);
      expect(now, `${method} ${path} -> ${r.status}`).toBe(v + bump);
      v = now;
      return r;
    };
    await step('POST', '/api/v1/feature-flags', { key: 'versioned', type: 'boolean' });
    await step('PATCH', '/api/v1/feature-flags/versioned', { enabled: true });
    await step('PUT', '/api/v1/feature-flags/versioned', { type: 'boolean', enabled: true });
    await step('POST', '/api/v1/segments', { key: 'versioned-seg' });
    await step('PATCH', '/api/v1/segments/versioned-seg', { included: ['u1'] });
    await step('GET', '/api/v1/feature-flags/versioned', undefined, 0);
    await step('GET', '/api/v1/feature-flags/versioned/evaluate?user_id=u1', undefined, 0);
    await step('PATCH', '/api/v1/feature-flags/versioned', { enabled: 'yes' }, 0);
    await step('POST', '/api/v1/feature-flags', { key: 'versioned', type: 'boolean' }, 0);
    await step('POST', '/api/v1/users', { email: 'versioned@test.local', role: 'VIEWER', password: 'long-enough' }, 0);
    await step('DELETE', '/api/v1/segments/versioned-seg');
    await step('DELETE', '/api/v1/feature-flags/versioned');
    // The evaluation answers from the new version at once.
    const ev = await t.request('GET', '/api/v1/feature-flags/page-05/evaluate?user_id=u1', admin());
    expect(ev.body.meta.config_version).toBe(v);
  });

  it('evaluates with user_id as the key and other query values as attributes', async () => {
    await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: {
        key: 'eval-attrs',
        type: 'number',
        enabled: true,
        variants: [
          { key: 'low', value: 1 },
          { key: 'high', value: 2 },
          { key: 'vip', value: 3 },
        ],
        rules: [
          { id: 'vip', when: { attr: 'key', op: 'eq', values: ['vip-user'] }, serve: { variant: 'vip' } },
          {
            id: 'new-app',
            when: {
              all: [
                { attr: 'app_version', op: 'semver_gte', values: ['2.0.0'] },
                { attr: 'age', op: 'gt', values: [30] },
              ],
            },
            serve: { variant: 'high' },
          },
        ],
        default_serve: { variant: 'low' },
      },
    });
    const ev = async (q: string) =>
      (await t.request('GET', `/api/v1/feature-flags/eval-attrs/evaluate?${q}`, { apiKey: t.serverKey })).body.data;
    expect(await ev('user_id=vip-user')).toEqual({
      key: 'eval-attrs',
      value: 3,
      variant: 'vip',
      reason: 'TARGETING_MATCH',
      rule_id: 'vip',
    });
    expect(await ev('user_id=u1&app_version=2.1.0&age=31')).toMatchObject({ value: 2, rule_id: 'new-app' });
    expect(await ev('user_id=u1&app_version=1.9.9&age=31')).toMatchObject({ value: 1, reason: 'DEFAULT' });
    await t.request('PATCH', '/api/v1/feature-flags/eval-attrs', { ...admin(), body: { enabled: false } });
    expect(await ev('user_id=vip-user')).toMatchObject({ reason: 'DISABLED' });
  });
});
