import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, startTestServer, type TestServer } from './helpers';
import { expectError, whoAmI } from './support';

describe('error envelope: every code', () => {
  let t: TestServer;
  let viewer: { id: string; token: string };
  beforeAll(async () => {
    t = await startTestServer();
    viewer = await t.user('VIEWER');
  });
  afterAll(async () => {
    await t.stop();
  });

  it('VALIDATION_ERROR', async () => {
    const e = expectError(
      await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'bad key', type: 'boolean' } }),
      'VALIDATION_ERROR',
    );
    expect(e.details).toEqual([expect.objectContaining({ path: 'key', message: expect.any(String) })]);
    expectError(await t.request('GET', '/api/v1/feature-flags?limit=0', { token: t.adminToken }), 'VALIDATION_ERROR');
  });

  it('AUTHENTICATION_REQUIRED, with the same answer for unknown emails and wrong passwords', async () => {
    expectError(await t.request('GET', '/api/v1/feature-flags'), 'AUTHENTICATION_REQUIRED');
    expectError(await t.request('GET', '/api/v1/feature-flags', { token: 'garbage' }), 'AUTHENTICATION_REQUIRED');
    expectError(
      await t.request('GET', '/api/v1/feature-flags', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }),
      'AUTHENTICATION_REQUIRED',
    );
    // A token signed with another secret.
    const [h, p] = t.adminToken.split('.');
    expectError(await t.request('GET', '/api/v1/feature-flags', { token: `${h}.${p}.${'A'.repeat(43)}` }), 'AUTHENTICATION_REQUIRED');
    const wrongPassword = expectError(
      await t.request('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: 'wrong-password' } }),
      'AUTHENTICATION_REQUIRED',
    );
    const unknownEmail = expectError(
      await t.request('POST', '/api/v1/auth/login', { body: { email: 'nobody@test.local', password: 'wrong-password' } }),
      'AUTHENTICATION_REQUIRED',
    );
    expect(unknownEmail.message).toBe(wrongPassword.message);
  });

  it("a deleted user's token stops working", async () => {
    const u = await t.user('EXPERIMENTER');
    expect((await t.request('DELETE', `/api/v1/users/${u.id}`, { token: t.adminToken })).status).toBe(204);
    expectError(await t.request('GET', '/api/v1/feature-flags', { token: u.token }), 'AUTHENTICATION_REQUIRED');
  });

  it('PERMISSION_DENIED', async () => {
    expectError(
      await t.request('POST', '/api/v1/feature-flags', { token: viewer.token, body: { key: 'denied', type: 'boolean' } }),
      'PERMISSION_DENIED',
    );
    expectError(await t.request('GET', '/api/v1/audit-log', { token: viewer.token }), 'PERMISSION_DENIED');
  });

  it('RESOURCE_NOT_FOUND for missing resources and routes', async () => {
    for (const path of [
      '/api/v1/feature-flags/missing',
      '/api/v1/segments/missing',
      `/api/v1/users/${randomUUID()}`,
      `/api/v1/api-keys/${randomUUID()}`,
      '/api/v1/feature-flags/missing/evaluate',
    ]) {
      expectError(await t.request('GET', path, { token: t.adminToken }), 'RESOURCE_NOT_FOUND');
    }
    for (const [method, path, body] of [
      ['PATCH', '/api/v1/feature-flags/missing', { name: 'x' }],
      ['PUT', '/api/v1/feature-flags/missing', { type: 'boolean' }],
      ['PUT', '/api/v1/segments/missing', { name: 'x' }],
      ['DELETE', '/api/v1/feature-flags/missing'],
      ['DELETE', '/api/v1/segments/missing'],
      ['PATCH', `/api/v1/users/${randomUUID()}`, { name: 'x' }],
      ['DELETE', `/api/v1/users/${randomUUID()}`],
    ] as const) {
      expectError(await t.request(method, path, { token: t.adminToken, ...(body === undefined ? {} : { body }) }), 'RESOURCE_NOT_FOUND');
    }
    for (const path of ['/nope', '/api/v1/nope', '/api/v2/feature-flags', '/api/v1/feature-flags/a/b/c']) {
      const e = expectError(await t.request('GET', path, { token: t.adminToken }), 'RESOURCE_NOT_FOUND');
      expect(e.message).toContain(path);
    }
  });

  it('CONFLICT: duplicate keys, per namespace', async () => {
    expect((await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'dup', type: 'boolean' } })).status).toBe(
      201,
    );
    const e = expectError(
      await t.request('POST', '/api/v1/feature-flags', {
        token: t.adminToken,
        body: { key: 'dup', type: 'string', variants: [{ key: 'a', value: 'a' }] },
      }),
      'CONFLICT',
    );
    expect(e.message).toContain('dup');
    // Segments have their own namespace.
    expect((await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: 'dup' } })).status).toBe(201);
    expectError(await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: 'dup' } }), 'CONFLICT');
    // Keys are case-sensitive identifiers: a different case is a different flag.
    expect((await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'DUP', type: 'boolean' } })).status).toBe(
      201,
    );
  });

  it('CONFLICT: flags and experiments share one key namespace', async () => {
    const now = new Date().toISOString();
    const ctx = t.server.ctx;
    await ctx.store.commit({
      writes: [
        {
          table: 'resources',
          action: 'insert',
          row: {
            seq: 0,
            id: randomUUID(),
            kind: 'experiment',
            environment: 'production',
            key: 'checkout-test',
            ownerId: null,
            status: 'DRAFT',
            version: 1,
            createdAt: now,
            updatedAt: now,
            data: {
              key: 'checkout-test',
              name: 'Checkout test',
              status: 'DRAFT',
              variants: [
                { key: 'control', weight: 50 },
                { key: 'b', weight: 50 },
              ],
            },
          },
        },
      ],
    });
    const e = expectError(
      await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'checkout-test', type: 'boolean' } }),
      'CONFLICT',
    );
    expect(e.message).toContain('experiment');
    expectError(await t.request('GET', '/api/v1/feature-flags/checkout-test', { token: t.adminToken }), 'RESOURCE_NOT_FOUND');
    expect((await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: 'checkout-test' } })).status).toBe(201);
  });

  it('CONFLICT: deleting a segment or flag something still refers to', async () => {
    const admin = { token: t.adminToken };
    expect((await t.request('POST', '/api/v1/segments', { ...admin, body: { key: 'beta', included: ['u1'] } })).status).toBe(201);
    expect(
      (
        await t.request('POST', '/api/v1/segments', {
          ...admin,
          body: { key: 'beta-plus', when: { any: [{ segment: 'beta' }, { attr: 'plan', op: 'eq', values: ['pro'] }] } },
        })
      ).status,
    ).toBe(201);
    expect((await t.request('POST', '/api/v1/feature-flags', { ...admin, body: { key: 'base', type: 'boolean' } })).status).toBe(201);
    const uses = await t.request('POST', '/api/v1/feature-flags', {
      ...admin,
      body: {
        key: 'uses-beta',
        type: 'boolean',
        prerequisites: [{ flag: 'base', variants: ['on'] }],
        rules: [{ id: 'r1', when: { segment: 'beta-plus' }, serve: { variant: 'on' } }],
      },
    });
    expect(uses.status).toBe(201);
    const seg = expectError(await t.request('DELETE', '/api/v1/segments/beta-plus', admin), 'CONFLICT');
    expect(seg.details.map((d: { path: string }) => d.path)).toContain('flags.uses-beta.rules.0.when');
    // A segment used by another segment.
    const nested = expectError(await t.request('DELETE', '/api/v1/segments/beta', admin), 'CONFLICT');
    expect(nested.details.map((d: { path: string }) => d.path)).toContain('segments.beta-plus.when');
    const prereq = expectError(await t.request('DELETE', '/api/v1/feature-flags/base', admin), 'CONFLICT');
    expect(prereq.details.map((d: { path: string }) => d.path)).toContain('flags.uses-beta.prerequisites.0.flag');
    // Everything is still there; once the reference is gone the delete goes through.
    expect((await t.request('GET', '/api/v1/segments/beta-plus', admin)).status).toBe(200);
    expect((await t.request('PATCH', '/api/v1/feature-flags/uses-beta', { ...admin, body: { rules: [], prerequisites: [] } })).status).toBe(
      200,
    );
    expect((await t.request('DELETE', '/api/v1/segments/beta-plus', admin)).status).toBe(204);
    expect((await t.request('DELETE', '/api/v1/segments/beta', admin)).status).toBe(204);
    expect((await t.request('DELETE', '/api/v1/feature-flags/base', admin)).status).toBe(204);
  });

  it('CONFLICT: duplicate user emails (case-insensitive) and the last ADMIN', async () => {
    expectError(
      await t.request('POST', '/api/v1/users', {
        token: t.adminToken,
        body: { email: ADMIN_EMAIL.toUpperCase(), role: 'VIEWER', password: 'long-enough' },
      }),
      'CONFLICT',
    );
    const adminId = await whoAmI(t, t.adminToken);
    expectError(await t.request('PATCH', `/api/v1/users/${adminId}`, { token: t.adminToken, body: { role: 'VIEWER' } }), 'CONFLICT');
    expectError(await t.request('DELETE', `/api/v1/users/${adminId}`, { token: t.adminToken }), 'CONFLICT');
    expect((await t.request('GET', '/api/v1/auth/me', { token: t.adminToken })).body.data.attributes.role).toBe('ADMIN');
  });

  it('honours a sane X-Request-ID in error bodies and replaces an unsafe one', async () => {
    const mine = await t.request('GET', '/api/v1/feature-flags', { headers: { 'x-request-id': 'trace-abc.123:4_5-6' } });
    expect(expectError(mine, 'AUTHENTICATION_REQUIRED').request_id).toBe('trace-abc.123:4_5-6');
    for (const unsafe of ['has spaces', 'a'.repeat(129), '<script>', 'semi;colon']) {
      const r = await t.request('GET', '/api/v1/nope', { headers: { 'x-request-id': unsafe } });
      const e = expectError(r, 'RESOURCE_NOT_FOUND');
      expect(e.request_id).not.toBe(unsafe);
      expect(e.request_id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
