import { describe, expect, it } from 'vitest';
import { useConsoleHarness } from './support/harness';

// `/docs` is the server's page, not the console's; it is tested here because this package
// drives a real Chromium against a real server.

const h = useConsoleHarness({ page: false });

describe('/docs: the API reference in a browser', () => {
  it('renders every operation of the OpenAPI document under the strict CSP, from this server only', async () => {
    const w = await h.blank();
    const origins = new Set<string>();
    w.page.on('request', (r) => origins.add(new URL(r.url()).origin));
    const res = await w.page.goto('/docs');
    const csp = res!.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);

    const doc = (await h.server.request('GET', '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
    await w.page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => w.page.locator('.opblock').count(), { timeout: 30_000 }).toBe(operations);
    // Paths are shown resolved: the title, a tag and an operation a newcomer looks for.
    await w.page
      .getByRole('heading', { name: /Switchyard API/ })
      .first()
      .waitFor();
    expect(await w.page.locator('.opblock-summary-path', { hasText: /^\/api\/v1\/feature-flags$/ }).count()).toBeGreaterThan(0);

    // Expanding an operation shows its responses (the document's $refs resolved, no error box).
    await w.page
      .locator('.opblock-summary-path', { hasText: /^\/api\/v1\/feature-flags$/ })
      .first()
      .click();
    await w.page.locator('.responses-wrapper').first().waitFor();
    expect(await w.page.locator('.errors-wrapper').count()).toBe(0);

    expect(w.errors).toEqual([]);
    expect(w.cspViolations).toEqual([]);
    expect([...origins]).toEqual([h.server.url]);
    await w.context.close();
  });

  it('serves the UI files with their types, and nothing else under /docs', async () => {
    for (const [path, type] of [
      ['/docs/swagger-ui.css', /^text\/css/],
      ['/docs/swagger-ui-bundle.js', /^text\/javascript/],
      ['/docs/init.js', /^text\/javascript/],
    ] as const) {
      const r = await fetch(h.server.url + path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type'), path).toMatch(type);
      expect((await r.arrayBuffer()).byteLength, path).toBeGreaterThan(100);
    }
    expect((await fetch(`${h.server.url}/docs/index.html`)).status).toBe(404);
    expect((await fetch(`${h.server.url}/docs/../package.json`)).status).toBe(404);
  });
});
