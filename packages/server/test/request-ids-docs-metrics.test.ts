import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

describe('request ids, docs and metrics', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('every response carries X-Request-ID, honouring a sane one', async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ['GET', '/health', {}],
      ['GET', '/ready', {}],
      ['GET', '/metrics', {}],
      ['GET', '/docs', {}],
      ['GET', '/api/v1/openapi.json', {}],
      ['GET', '/api/v1/feature-flags', { token: t.adminToken }],
      ['GET', '/api/v1/feature-flags', {}],
      ['GET', '/api/v1/feature-flags/missing', { token: t.adminToken }],
      ['GET', '/no/such/route', {}],
      ['POST', '/api/v1/feature-flags', { token: t.adminToken, raw: '{' }],
      ['POST', '/api/v1/auth/login', { body: { email: 'admin@test.local', password: 'admin-password-1' } }],
      ['DELETE', '/api/v1/api-keys/nope', { token: t.adminToken }],
    ];
    for (const [i, [method, path, o]] of cases.entries()) {
      const mine = `req-${i}-abc`;
      const withId = await t.request(method, path, { ...o, headers: { 'x-request-id': mine } });
      expect(withId.headers.get('x-request-id'), `${method} ${path}`).toBe(mine);
      if (withId.status >= 400) expect(withId.body.error.request_id).toBe(mine);
      const without = await t.request(method, path, o);
      expect(without.headers.get('x-request-id'), `${method} ${path}`).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    }
    // A CORS preflight too, and the header is exposed to browsers.
    const pre = await t.request('OPTIONS', '/api/v1/feature-flags', {
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'x-request-id': 'preflight-1' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('x-request-id')).toBe('preflight-1');
    const get = await t.request('GET', '/health', { headers: { origin: 'https://app.example' } });
    expect(get.headers.get('access-control-expose-headers') ?? '').toMatch(/X-Request-ID/i);
    // Two requests never share a generated id.
    const ids = await Promise.all(Array.from({ length: 10 }, async () => (await t.request('GET', '/health')).headers.get('x-request-id')));
    expect(new Set(ids).size).toBe(10);
  });

  it('GET /docs serves an HTML page for the OpenAPI document', async () => {
    const r = await t.request('GET', '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.body).toMatch(/^<!doctype html>/i);
    expect(r.body).toContain('/api/v1/openapi.json');
    // Every file the page names is served (an icon it does not name is a 404 in the browser's console).
    for (const [, path] of (r.body as string).matchAll(/(?:href|src)="(\/docs\/[^"]+)"/g)) {
      const file = await fetch(`${t.url}${path}`);
      expect(file.status, path).toBe(200);
    }
    expect(r.body).toMatch(/<link rel="icon"[^>]*href="\/docs\//);
    const doc = await t.request('GET', '/api/v1/openapi.json');
    for (const p of [
      '/api/v1/feature-flags',
      '/api/v1/feature-flags/{id}',
      '/api/v1/segments',
      '/api/v1/users',
      '/api/v1/api-keys',
      '/api/v1/audit-log',
      '/api/v1/auth/login',
    ]) {
      expect(Object.keys(doc.body.paths), p).toContain(p);
    }
  });

  it('/metrics labels requests by route template, never by raw path', async () => {
    const scrape = async () => {
      const r = await t.request('GET', '/metrics');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
      const text: string = r.body;
      return {
        text,
        count(labels: string) {
          const line = text.split('\n').find((l) => l.startsWith(`switchyard_http_requests_total{${labels}}`));
          return line === undefined ? 0 : Number(line.split(' ').pop());
        },
      };
    };
    const before = await scrape();
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'metric-flag', type: 'boolean' } });
    for (let i = 0; i < 3; i++) await t.request('GET', '/api/v1/feature-flags/metric-flag', { token: t.adminToken });
    await t.request('GET', '/api/v1/feature-flags/another-raw-key', { token: t.adminToken });
    await t.request('GET', '/api/v1/feature-flags/metric-flag/evaluate?user_id=secret-user', { apiKey: t.serverKey });
    await t.request('GET', '/api/v1/feature-flags/metric-flag');
    await t.request('GET', '/totally/unknown/path-123');
    const after = await scrape();
    const text = after.text;
    const delta = (labels: string) => after.count(labels) - before.count(labels);
    expect(delta('method="GET",route="/api/v1/feature-flags/:id",status="200"')).toBe(3);
    expect(delta('method="GET",route="/api/v1/feature-flags/:id",status="404"')).toBe(1);
    expect(delta('method="GET",route="/api/v1/feature-flags/:id",status="401"')).toBe(1);
    expect(delta('method="POST",route="/api/v1/feature-flags",status="201"')).toBe(1);
    expect(delta('method="GET",route="/api/v1/feature-flags/:key/evaluate",status="200"')).toBe(1);
    expect(delta('method="GET",route="unmatched",status="404"')).toBe(1);
    expect(text).toContain('route="unmatched"');
    for (const raw of ['metric-flag"', 'another-raw-key', 'secret-user', 'path-123']) expect(text).not.toContain(raw);
    expect(text).toMatch(
      /switchyard_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/v1\/feature-flags\/:id"\}/,
    );
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});
