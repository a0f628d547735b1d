import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

// promtool comes from Debian's prometheus package (.ci/run installs it).
function promtool(args: string[], input: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`promtool is not installed (apt-get install prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

describe('/metrics', () => {
  it('passes promtool check metrics on a live server', async () => {
    await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken });
    const text = await scrape();
    const r = promtool(['check', 'metrics'], text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('promtool would catch a gauge named like a counter (the check can fail)', () => {
    const bad = '# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n';
    const r = promtool(['check', 'metrics'], bad);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('non-counter metrics should not have "_total" suffix');
  });

  it('exposes the operational gauges: config version, in-flight requests, SSE clients', async () => {
    const production = /^switchyard_config_version\{environment="production"\} (\d+)$/m;
    const before = Number(production.exec(await scrape())?.[1]);
    expect(before).toBeGreaterThanOrEqual(0);
    const created = await t.request('POST', '/api/v1/feature-flags', {
      token: t.adminToken,
      body: { key: 'metrics-flag', type: 'boolean' },
    });
    expect(created.status).toBe(201);
    const text = await scrape();
    expect(Number(production.exec(text)?.[1])).toBe(before + 1);
    // The scrape itself is in flight while the gauge is read.
    expect(text).toMatch(/^switchyard_http_requests_in_flight 1$/m);
    // Labelled by environment: no stream is open in any of them.
    expect(text).toMatch(/^# TYPE switchyard_sse_clients gauge$/m);
    expect(text).not.toMatch(/^switchyard_sse_clients(\{[^}]*\})? [1-9]/m);
    expect(text).not.toMatch(/^nodejs_active_handles_total/m);
  });
});
