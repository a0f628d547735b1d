import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type Reply, type TestServer } from './helpers';
import { createKey, expectError } from './support';

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
