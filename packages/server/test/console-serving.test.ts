import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

// A console build of our own making, so this test does not depend on the console package.
const dir = mkdtempSync(join(tmpdir(), 'switchyard-console-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(
  join(dir, 'index.html'),
  '<!doctype html><title>console</title><script type="module" src="/assets/index-abc123.js"></script>',
);
writeFileSync(join(dir, 'assets/index-abc123.js'), 'console.log(1)');
writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');

let t: TestServer;
const previous = process.env.SWITCHYARD_CONSOLE_DIR;
beforeAll(async () => {
  process.env.SWITCHYARD_CONSOLE_DIR = dir;
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
  if (previous === undefined) delete process.env.SWITCHYARD_CONSOLE_DIR;
  else process.env.SWITCHYARD_CONSOLE_DIR = previous;
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, accept = 'text/html') => fetch(t.url + path, { headers: { accept } });

function expectStrictCsp(res: Response): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(res.headers.get('permissions-policy')).toContain('camera=()');
}

describe('serving the console', () => {
  it('serves index.html at / with no-cache and a strict CSP', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>console</title>');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-type')).toContain('text/html');
    expectStrictCsp(res);
  });

  it('answers client-side routes with index.html (SPA fallback)', async () => {
    for (const path of ['/flags', '/flags/new-checkout', '/experiments/x/results']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('<title>console</title>');
      expectStrictCsp(res);
    }
  });

  it('caches hashed assets for a year as immutable', async () => {
    const res = await get('/assets/index-abc123.js', '*/*');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toContain('text/javascript');
    expect(await res.text()).toBe('console.log(1)');
  });

  it('answers a missing asset with a 404, not with the app', async () => {
    const res = await get('/assets/index-gone.js', '*/*');
    expect(res.status).toBe(404);
  });

  it('never shadows server paths', async () => {
    for (const path of ['/api/v1/nothing', '/sdk/v1/nothing', '/docs/nothing', '/metrics/x', '/health/x', '/ready/x']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RESOURCE_NOT_FOUND');
    }
    const health = await get('/health', 'application/json');
    expect(await health.json()).toEqual({ data: { status: 'ok' } });
    const docs = await get('/docs');
    expect(await docs.text()).not.toContain('<title>console</title>');
  });

  it('does not serve files outside the console directory', async () => {
    const res = await fetch(`${t.url}/..%2f..%2fetc%2fpasswd`, { headers: { accept: 'text/html' } });
    const text = await res.text();
    expect(text).not.toContain('root:');
  });
});
