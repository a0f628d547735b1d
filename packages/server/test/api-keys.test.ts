import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type Reply, type TestServer } from './helpers';
import { createKey, expectError, whoAmI } from './support';

describe('API keys: kinds, secrets, effective roles, revocation', () => {
  let t: TestServer;
  let adminId: string;
  beforeAll(async () => {
    t = await startTestServer();
    adminId = await whoAmI(t, t.adminToken);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('creates each kind with a kind-revealing secret that only the creation response carries', async () => {
    const made = {
      server: await createKey(t, { token: t.adminToken }, { name: 'srv', kind: 'server' }),
      client: await createKey(t, { token: t.adminToken }, { name: 'cli', kind: 'client' }),
      management: await createKey(t, { token: t.adminToken }, { name: 'mgt', kind: 'management' }),
    };
    const prefixes = { server: 'sy_srv_', client: 'sy_cli_', management: 'sy_mgt_' };
    for (const [kind, k] of Object.entries(made) as [keyof typeof prefixes, (typeof made)['server']][]) {
      expect(k.key.startsWith(prefixes[kind])).toBe(true);
      expect(k.key.length).toBeGreaterThanOrEqual(prefixes[kind].length + 32);
      expect(k.attributes).toMatchObject({ kind, prefix: k.key.slice(0, 12), revoked: false, revoked_at: null, last_used_at: null });
      expect(k.attributes.role).toBe(kind === 'management' ? 'ADMIN' : null);
      expect(k.relationships.owner.data).toEqual({ id: adminId, type: 'user' });
      const one = await t.request('GET', `/api/v1/api-keys/${k.id}`, { token: t.adminToken });
      expect(one.status).toBe(200);
      expect(one.body.data.attributes).not.toHaveProperty('key');
      expect(JSON.stringify(one.body)).not.toContain(k.key);
      expect(JSON.stringify(one.body)).not.toContain(k.key.slice(12));
    }
    // Two keys never share a secret.
    expect(new Set(Object.values(made).map((k) => k.key)).size).toBe(3);
  });

  it('lists prefix, creator, created and last-used times, never a secret or hash', async () => {
    const k = await createKey(t, { token: t.adminToken }, { name: 'listed', kind: 'management', role: 'VIEWER' });
    const before = Date.now();
    expect((await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key })).status).toBe(200);
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const r: Reply = await t.request('GET', `/api/v1/api-keys?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, {
        token: t.adminToken,
      });
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(2);
      const text = JSON.stringify(r.body);
      expect(text).not.toContain(k.key);
      expect(text).not.toMatch(/"(key|hash|secret)":/);
      expect(text).not.toMatch(/sy_(srv|cli|mgt)_[A-Za-z0-9_-]{20,}/);
      all.push(...r.body.data);
      cursor = r.body.meta.pagination.next_cursor;
      expect(r.body.meta.pagination.has_more).toBe(cursor !== null);
    } while (cursor !== null);
    const listed = all.find((x) => x.id === k.id);
    expect(listed.attributes).toMatchObject({
      name: 'listed',
      kind: 'management',
      role: 'VIEWER',
      prefix: k.key.slice(0, 12),
      revoked: false,
    });
    expect(listed.relationships.owner.data.id).toBe(adminId);
    expect(Number.isNaN(Date.parse(listed.attributes.created_at))).toBe(false);
    expect(Date.parse(listed.attributes.last_used_at)).toBeGreaterThanOrEqual(before - 1000);
    // Every key appears once: the default SDK keys, the test's, and this one.
    expect(new Set(all.map((x) => x.id)).size).toBe(all.length);
    expect(all.map((x) => x.attributes.name)).toEqual(expect.arrayContaining(['Default server key', 'Default client key', 'listed']));
  });

  it('non-ADMINs list only their own keys', async () => {
    const v = await t.user('VIEWER');
    const mine = await createKey(t, { token: v.token }, { name: 'viewer own', kind: 'management' });
    expect(mine.attributes.role).toBe('VIEWER');
    const r = await t.request('GET', '/api/v1/api-keys', { token: v.token });
    expect(r.body.data.map((x: { id: string }) => x.id)).toEqual([mine.id]);
    // The key itself lists its creator's keys.
    const viaKey = await t.request('GET', '/api/v1/api-keys', { apiKey: mine.key });
    expect(viaKey.body.data.map((x: { id: string }) => x.id)).toEqual([mine.id]);
  });

  it('accepts keys as X-API-Key or Authorization: Bearer', async () => {
    const k = await createKey(t, { token: t.adminToken }, { name: 'bearer', kind: 'management' });
    expect((await t.request('GET', '/api/v1/segments', { headers: { authorization: `Bearer ${k.key}` } })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/segments', { apiKey: k.key })).status).toBe(200);
    const me = await t.request('GET', '/api/v1/auth/me', { apiKey: k.key });
    expect(me.body.data).toMatchObject({
      id: k.id,
      type: 'api-key',
      attributes: { kind: 'management', role: 'ADMIN', created_by: adminId },
    });
  });

  it('SDK keys get 403 on the management API except server-side evaluation', async () => {
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'sdk-eval', type: 'boolean', enabled: true } });
    for (const apiKey of [t.serverKey, t.clientKey]) {
      const ok = await t.request('GET', '/api/v1/feature-flags/sdk-eval/evaluate?user_id=u1', { apiKey });
      expect(ok.status).toBe(200);
      expect(ok.body.data).toMatchObject({ key: 'sdk-eval', value: true, variant: 'on', reason: 'DEFAULT' });
      for (const [method, path] of [
        ['GET', '/api/v1/feature-flags'],
        ['GET', '/api/v1/feature-flags/sdk-eval'],
        ['POST', '/api/v1/feature-flags'],
        ['PATCH', '/api/v1/feature-flags/sdk-eval'],
        ['PUT', '/api/v1/feature-flags/sdk-eval'],
        ['DELETE', '/api/v1/feature-flags/sdk-eval'],
        ['GET', '/api/v1/segments'],
        ['GET', '/api/v1/users'],
        ['GET', '/api/v1/api-keys'],
        ['POST', '/api/v1/api-keys'],
        ['GET', '/api/v1/audit-log'],
      ] as const) {
        const r = await t.request(method, path, {
          apiKey,
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: { key: 'x', type: 'boolean', name: 'x', kind: 'server' } }),
        });
        expectError(r, 'PERMISSION_DENIED');
      }
    }
    expect((await t.request('GET', '/api/v1/feature-flags/sdk-eval', { token: t.adminToken })).status).toBe(200);
  });

  it('rejects a role on SDK keys and unknown kinds, roles and fields', async () => {
    for (const body of [
      { name: 'x', kind: 'server', role: 'VIEWER' },
      { name: 'x', kind: 'root' },
      { name: 'x', kind: 'management', role: 'OWNER' },
      { name: '', kind: 'management' },
      { name: 'x', kind: 'management', secret: 'sy_mgt_chosen' },
      { kind: 'management' },
    ]) {
      expectError(await t.request('POST', '/api/v1/api-keys', { token: t.adminToken, body }), 'VALIDATION_ERROR');
    }
  });

  it("a management key acts with min(its role, its creator's current role)", async () => {
    const u = await t.user('ADMIN');
    const k = await createKey(t, { token: u.token }, { name: 'powerful', kind: 'management', role: 'ADMIN' });
    expect((await t.request('GET', '/api/v1/audit-log?limit=1', { apiKey: k.key })).status).toBe(200);

    // Creator demoted to VIEWER: the ADMIN key now only reads.
    expect((await t.request('PATCH', `/api/v1/users/${u.id}`, { token: t.adminToken, body: { role: 'VIEWER' } })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key })).status).toBe(200);
    expectError(
      await t.request('POST', '/api/v1/feature-flags', { apiKey: k.key, body: { key: 'demoted-key-flag', type: 'boolean' } }),
      'PERMISSION_DENIED',
    );
    expectError(await t.request('GET', '/api/v1/audit-log', { apiKey: k.key }), 'PERMISSION_DENIED');
    expect((await t.request('GET', '/api/v1/auth/me', { apiKey: k.key })).body.data.attributes.role).toBe('VIEWER');
    // ...and cannot mint a key above its effective role.
    expectError(
      await t.request('POST', '/api/v1/api-keys', { apiKey: k.key, body: { name: 'x', kind: 'management', role: 'EXPERIMENTER' } }),
      'PERMISSION_DENIED',
    );

    // Promoted to EXPERIMENTER: creates flags, still no users or audit log.
    await t.request('PATCH', `/api/v1/users/${u.id}`, { token: t.adminToken, body: { role: 'EXPERIMENTER' } });
    const flag = await t.request('POST', '/api/v1/feature-flags', { apiKey: k.key, body: { key: 'promoted-key-flag', type: 'boolean' } });
    expect(flag.status).toBe(201);
    expect(flag.body.data.relationships.owner.data.id).toBe(u.id);
    expectError(
      await t.request('POST', '/api/v1/users', {
        apiKey: k.key,
        body: { email: 'nope@test.local', role: 'VIEWER', password: 'long-enough' },
      }),
      'PERMISSION_DENIED',
    );

    // A key minted by a key belongs to the human, with the role capped at the minting key's.
    const child = await createKey(t, { apiKey: k.key }, { name: 'child', kind: 'management' });
    expect(child.attributes.role).toBe('EXPERIMENTER');
    expect(child.relationships.owner.data.id).toBe(u.id);

    // Creator deleted: every key they made stops working at once.
    expect((await t.request('DELETE', `/api/v1/users/${u.id}`, { token: t.adminToken })).status).toBe(204);
    expectError(await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key }), 'AUTHENTICATION_REQUIRED');
    expectError(await t.request('GET', '/api/v1/feature-flags', { apiKey: child.key }), 'AUTHENTICATION_REQUIRED');
  });

  it('a role change ends the sessions issued before it; new ones carry the current role', async () => {
    const made = await t.request('POST', '/api/v1/users', {
      token: t.adminToken,
      body: { email: 'Follow.Me@test.local', role: 'EXPERIMENTER', password: 'follow-password' },
    });
    const u = { id: made.body.data.id as string, token: await t.login('Follow.Me@test.local', 'follow-password') };
    expect(
      (await t.request('POST', '/api/v1/feature-flags', { token: u.token, body: { key: 'role-follow-1', type: 'boolean' } })).status,
    ).toBe(201);
    await t.request('PATCH', `/api/v1/users/${u.id}`, { token: t.adminToken, body: { role: 'VIEWER' } });
    expectError(
      await t.request('POST', '/api/v1/feature-flags', { token: u.token, body: { key: 'role-follow-2', type: 'boolean' } }),
      'AUTHENTICATION_REQUIRED',
    );
    const demoted = await t.login('Follow.Me@test.local', 'follow-password');
    expectError(
      await t.request('POST', '/api/v1/feature-flags', { token: demoted, body: { key: 'role-follow-2', type: 'boolean' } }),
      'PERMISSION_DENIED',
    );
    // Demoted, they can no longer change even what they own.
    expectError(
      await t.request('PATCH', '/api/v1/feature-flags/role-follow-1', { token: demoted, body: { enabled: true } }),
      'PERMISSION_DENIED',
    );
    await t.request('PATCH', `/api/v1/users/${u.id}`, { token: t.adminToken, body: { role: 'ADMIN' } });
    const promoted = await t.login('Follow.Me@test.local', 'follow-password');
    expect((await t.request('GET', '/api/v1/audit-log?limit=1', { token: promoted })).status).toBe(200);
    // Logins match emails case-insensitively.
    expect((await t.login('FOLLOW.ME@TEST.LOCAL', 'follow-password')).length).toBeGreaterThan(20);
  });

  it('a capped key cannot escalate: EXPERIMENTER key of an ADMIN cannot touch users, keys of others or the audit log', async () => {
    const k = await createKey(t, { token: t.adminToken }, { name: 'scoped', kind: 'management', role: 'EXPERIMENTER' });
    expectError(
      await t.request('POST', '/api/v1/api-keys', { apiKey: k.key, body: { name: 'x', kind: 'management', role: 'ADMIN' } }),
      'PERMISSION_DENIED',
    );
    expectError(await t.request('POST', '/api/v1/api-keys', { apiKey: k.key, body: { name: 'x', kind: 'server' } }), 'PERMISSION_DENIED');
    expectError(await t.request('PATCH', `/api/v1/users/${adminId}`, { apiKey: k.key, body: { name: 'pwned' } }), 'PERMISSION_DENIED');
    expectError(await t.request('GET', '/api/v1/audit-log', { apiKey: k.key }), 'PERMISSION_DENIED');
    const usersSeen = await t.request('GET', '/api/v1/users', { apiKey: k.key });
    expect(usersSeen.body.data.map((u: { id: string }) => u.id)).toEqual([adminId]);
  });

  it('revocation takes effect at once, is listed, idempotent, and audited once', async () => {
    const k = await createKey(t, { token: t.adminToken }, { name: 'to revoke', kind: 'management' });
    const srv = await createKey(t, { token: t.adminToken }, { name: 'srv to revoke', kind: 'server' });
    const cli = await createKey(t, { token: t.adminToken }, { name: 'cli to revoke', kind: 'client' });
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'revoke-eval', type: 'boolean' } });
    // Warm: each works (and is remembered as used) before revocation.
    expect((await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/feature-flags/revoke-eval/evaluate', { apiKey: srv.key })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/feature-flags/revoke-eval/evaluate', { apiKey: cli.key })).status).toBe(200);

    for (const x of [k, srv, cli])
      expect((await t.request('DELETE', `/api/v1/api-keys/${x.id}`, { token: t.adminToken })).status).toBe(204);
    expectError(await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key }), 'AUTHENTICATION_REQUIRED');
    expectError(
      await t.request('GET', '/api/v1/feature-flags', { headers: { authorization: `Bearer ${k.key}` } }),
      'AUTHENTICATION_REQUIRED',
    );
    expectError(await t.request('GET', '/api/v1/feature-flags/revoke-eval/evaluate', { apiKey: srv.key }), 'AUTHENTICATION_REQUIRED');
    expectError(await t.request('GET', '/api/v1/feature-flags/revoke-eval/evaluate', { apiKey: cli.key }), 'AUTHENTICATION_REQUIRED');

    const shown = await t.request('GET', `/api/v1/api-keys/${k.id}`, { token: t.adminToken });
    expect(shown.body.data.attributes.revoked).toBe(true);
    const revokedAt = shown.body.data.attributes.revoked_at;
    expect(Number.isNaN(Date.parse(revokedAt))).toBe(false);
    // Revoking again changes nothing and writes no second record.
    expect((await t.request('DELETE', `/api/v1/api-keys/${k.id}`, { token: t.adminToken })).status).toBe(204);
    expect((await t.request('GET', `/api/v1/api-keys/${k.id}`, { token: t.adminToken })).body.data.attributes.revoked_at).toBe(revokedAt);
    const audit = await t.request('GET', `/api/v1/audit-log?resource_id=${k.id}&action=api-key.revoke`, { token: t.adminToken });
    expect(audit.body.data).toHaveLength(1);
    expectError(
      await t.request('DELETE', '/api/v1/api-keys/00000000-0000-0000-0000-000000000000', { token: t.adminToken }),
      'RESOURCE_NOT_FOUND',
    );
    expectError(await t.request('GET', '/api/v1/api-keys/nope', { token: t.adminToken }), 'RESOURCE_NOT_FOUND');
  });

  it('a key can revoke itself, and is refused from the next request on', async () => {
    const k = await createKey(t, { token: t.adminToken }, { name: 'self-revoking', kind: 'management', role: 'VIEWER' });
    expect((await t.request('DELETE', `/api/v1/api-keys/${k.id}`, { apiKey: k.key })).status).toBe(204);
    expectError(await t.request('GET', '/api/v1/api-keys', { apiKey: k.key }), 'AUTHENTICATION_REQUIRED');
  });

  it('refuses made-up, truncated and malformed keys', async () => {
    const k = await createKey(t, { token: t.adminToken }, { name: 'real', kind: 'management' });
    for (const apiKey of ['sy_mgt_made-up', k.key.slice(0, -1), `${k.key}x`, k.key.toUpperCase(), 'sy_', 'not-a-key']) {
      expectError(await t.request('GET', '/api/v1/feature-flags', { apiKey }), 'AUTHENTICATION_REQUIRED');
    }
  });
});
