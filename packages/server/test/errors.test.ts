import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type Reply, type TestServer } from './helpers';
import { createKey, expectError, whoAmI } from './support';

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

describe('RATE_LIMIT_EXCEEDED and PAYLOAD_TOO_LARGE', () => {
  let t: TestServer;
  beforeAll(async () => {
    // The harness logs the admin in once: one of the three login tokens is spent.
    t = await startTestServer({ loginRatePerMinute: 3, apiRateBurst: 5, apiRatePerSecond: 1, bodyLimitBytes: 4096 });
  });
  afterAll(async () => {
    await t.stop();
  });
  // The limiters refill with the clock: freeze it (Date only; real timers and I/O go on) so a
  // slow machine cannot refill a bucket in the middle of a burst, and step it to test refills.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('limits login attempts per client, with Retry-After and RateLimit-* headers', async () => {
    const replies: Reply[] = [];
    for (let i = 0; i < 5; i++) {
      // A forged X-Forwarded-For must not buy a fresh bucket (the server does not trust proxies by default).
      replies.push(
        await t.request('POST', '/api/v1/auth/login', {
          body: { email: ADMIN_EMAIL, password: 'wrong-password' },
          headers: { 'x-forwarded-for': `203.0.113.${i}` },
        }),
      );
    }
    expect(replies.map((r) => r.status)).toEqual([401, 401, 429, 429, 429]);
    expect(replies[0]!.headers.get('ratelimit-limit')).toBe('3');
    expect(replies[0]!.headers.get('ratelimit-remaining')).toBe('1');
    // Login refills at 3 per minute: one attempt back after 20 s.
    expect(Number(replies[0]!.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(20);
    expect(replies[1]!.headers.get('ratelimit-remaining')).toBe('0');
    const limited = replies[2]!;
    const e = expectError(limited, 'RATE_LIMIT_EXCEEDED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('ratelimit-limit')).toBe('3');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    expect(e.details).toMatchObject({ retry_after_seconds: retryAfter });
    // Even the right password is refused while limited...
    expectError(
      await t.request('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } }),
      'RATE_LIMIT_EXCEEDED',
    );
    // ...but everything else goes on.
    expect((await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken })).status).toBe(200);
    // After Retry-After seconds, one attempt is allowed again (and only one).
    vi.setSystemTime(Date.now() + retryAfter * 1000);
    expect((await t.request('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).status).toBe(200);
    expectError(
      await t.request('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } }),
      'RATE_LIMIT_EXCEEDED',
    );
  });

  it('limits each API key to its burst, then refills', async () => {
    const k = await createKey(t, { token: t.adminToken }, { name: 'limited', kind: 'management' });
    const other = await createKey(t, { token: t.adminToken }, { name: 'other', kind: 'management' });
    const replies: Reply[] = [];
    for (let i = 0; i < 7; i++) replies.push(await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key }));
    expect(replies.map((r) => r.status).slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(replies.map((r) => r.status).slice(5)).toEqual([429, 429]);
    expect(replies[0]!.headers.get('ratelimit-limit')).toBe('5');
    expect(replies.slice(0, 5).map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0']);
    const limited = replies[5]!;
    expectError(limited, 'RATE_LIMIT_EXCEEDED');
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    // Per key: another key and a user's JWT are unaffected.
    expect((await t.request('GET', '/api/v1/feature-flags', { apiKey: other.key })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken })).status).toBe(200);
    // The same key through the other header shares the bucket.
    expectError(await t.request('GET', '/api/v1/feature-flags', { headers: { authorization: `Bearer ${k.key}` } }), 'RATE_LIMIT_EXCEEDED');
    // One token back per second.
    vi.setSystemTime(Date.now() + 1000);
    const refilled = await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key });
    expect(refilled.status).toBe(200);
    expect(refilled.headers.get('ratelimit-remaining')).toBe('0');
    expectError(await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key }), 'RATE_LIMIT_EXCEEDED');
    vi.setSystemTime(Date.now() + 10_000);
    expect((await t.request('GET', '/api/v1/feature-flags', { apiKey: k.key })).headers.get('ratelimit-remaining')).toBe('4');
  });

  it('SDK keys are limited too', async () => {
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'limited-eval', type: 'boolean' } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await t.request('GET', '/api/v1/feature-flags/limited-eval/evaluate', { apiKey: t.serverKey })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('PAYLOAD_TOO_LARGE for a body over the limit, declared or streamed', async () => {
    // A server of its own: the tests above spend the admin's per-user request budget on purpose.
    const t = await startTestServer({ bodyLimitBytes: 4096 });
    try {
      const big = JSON.stringify({ key: 'too-big', type: 'boolean', description: 'x'.repeat(5000) });
      expectError(
        await t.request('POST', '/api/v1/feature-flags', {
          token: t.adminToken,
          raw: big,
          headers: { 'content-type': 'application/json' },
        }),
        'PAYLOAD_TOO_LARGE',
      );
      // Chunked, without Content-Length.
      const res = await fetch(`${t.url}/api/v1/feature-flags`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json', 'x-request-id': 'chunked-1' },
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(big.slice(0, 3000)));
            c.enqueue(new TextEncoder().encode(big.slice(3000)));
            c.close();
          },
        }),
        duplex: 'half',
      });
      const body: any = await res.json();
      expectError({ status: res.status, headers: res.headers, body }, 'PAYLOAD_TOO_LARGE');
      expect(body.error.request_id).toBe('chunked-1');
      expectError(await t.request('GET', '/api/v1/feature-flags/too-big', { token: t.adminToken }), 'RESOURCE_NOT_FOUND');
      // Just under the limit is fine.
      const fits = await t.request('POST', '/api/v1/feature-flags', {
        token: t.adminToken,
        body: { key: 'fits', type: 'boolean', description: 'x'.repeat(3500) },
      });
      expect(fits.status).toBe(201);
    } finally {
      await t.stop();
    }
  });
});

describe('behind a trusted proxy (trustProxy: true)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ trustProxy: true, loginRatePerMinute: 2 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('limits logins per forwarded client and records the forwarded address', async () => {
    const attempt = (ip: string) =>
      t.request('POST', '/api/v1/auth/login', {
        body: { email: ADMIN_EMAIL, password: 'nope-nope' },
        headers: { 'x-forwarded-for': `${ip}, 10.0.0.1` },
      });
    expect([
      (await attempt('198.51.100.1')).status,
      (await attempt('198.51.100.1')).status,
      (await attempt('198.51.100.1')).status,
    ]).toEqual([401, 401, 429]);
    expect((await attempt('198.51.100.2')).status).toBe(401);
    await t.request('POST', '/api/v1/segments', {
      token: t.adminToken,
      body: { key: 'proxied' },
      headers: { 'x-forwarded-for': '198.51.100.7, 10.0.0.1' },
    });
    const audit = await t.request('GET', '/api/v1/audit-log?resource_id=proxied', { token: t.adminToken });
    expect(audit.body.data[0].attributes.ip).toBe('198.51.100.7');
  });
});

describe('INTERNAL_ERROR', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers 500 INTERNAL_ERROR without internals when the store fails under a running server', async () => {
    expect((await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken })).status).toBe(200);
    await t.server.ctx.store.close();
    const requests: [string, string, unknown?][] = [
      ['GET', '/api/v1/feature-flags'],
      ['POST', '/api/v1/feature-flags', { key: 'after-close', type: 'boolean' }],
      ['GET', '/api/v1/users'],
      ['GET', '/api/v1/audit-log'],
    ];
    for (const [method, path, body] of requests) {
      const r = await t.request(method, path, {
        token: t.adminToken,
        headers: { 'x-request-id': 'boom-1' },
        ...(body === undefined ? {} : { body }),
      });
      const e = expectError(r, 'INTERNAL_ERROR');
      expect(e.request_id).toBe('boom-1');
      const text = JSON.stringify(r.body);
      expect(text).not.toMatch(/\bat\s+\S+\s+\(|\.ts:\d+|\.js:\d+|node_modules|stack|TypeError|database connection|sqlite/i);
      expect(e.details).toBeNull();
    }
    // Readiness says which dependency is missing (503, retryable), still without internals.
    const ready = await t.request('GET', '/ready', { headers: { 'x-request-id': 'boom-2' } });
    const notReady = expectError(ready, 'SERVICE_UNAVAILABLE');
    expect(notReady.request_id).toBe('boom-2');
    expect(notReady.details.dependencies.database.status).toBe('down');
    expect(JSON.stringify(ready.body)).not.toMatch(/\bat\s+\S+\s+\(|\.ts:\d+|\.js:\d+|node_modules|stack|TypeError|sqlite/i);
    // Routes that need no store still answer.
    expect((await t.request('GET', '/health')).status).toBe(200);
  });
});
