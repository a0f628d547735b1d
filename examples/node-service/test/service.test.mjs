import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The real server, from its build (`cd packages/server && npx tsup`); `@switchyard/server` once linked.
import { startServer } from '@switchyard/server';
import { startService } from '../src/service.mjs';

const waitFor = async (check, timeoutMs, what) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('examples/node-service', () => {
  let dir;
  let server;
  let token;
  let service;
  const api = (method, path, body) =>
    fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const checkout = async (query) => (await fetch(`${service.url}/checkout?${query}`)).json();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'example-node-service-'));
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      dbPath: join(dir, 'db.sqlite'),
      logLevel: 'silent',
      printCredentials: false,
      adminEmail: 'admin@example.test',
      adminPassword: 'admin-password-1',
      jwtSecret: 'example-secret-long-enough-for-hs256',
      // What the README runs the example against (`pnpm start`): the demo's flags and experiment.
      demo: true,
      env: {},
    });
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.test', password: 'admin-password-1' }),
    });
    token = (await login.json()).data.access_token;
    service = await startService({
      sdkKey: server.credentials.serverKey,
      baseUrl: server.url,
      clientOptions: { events: { flushIntervalMs: 50 } },
    });
  });

  afterAll(async () => {
    await service?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the flag and the experiment from the server config', async () => {
    expect((await (await fetch(`${service.url}/health`)).json()).ready).toBe(true);
    expect(await checkout('user=alice&email=alice@example.com')).toMatchObject({ checkout: 'new', reason: 'TARGETING_MATCH' });
    expect(await checkout('user=bob&email=bob@shop.test&country=FR')).toMatchObject({ checkout: 'classic', reason: 'DEFAULT' });
    expect(['control', 'green']).toContain((await checkout('user=alice')).cta);
  });

  it('changes its answer when the flag is flipped on the server', async () => {
    const carol = 'user=carol&email=carol@example.com';
    expect((await checkout(carol)).checkout).toBe('new');
    expect((await api('PATCH', '/api/v1/feature-flags/new-checkout', { enabled: false })).status).toBe(200);
    await waitFor(async () => (await checkout(carol)).checkout === 'classic', 2000, 'the flip to reach the service');
    expect(await checkout(carol)).toMatchObject({ checkout: 'classic', reason: 'DISABLED' });
    expect((await api('PATCH', '/api/v1/feature-flags/new-checkout', { enabled: true })).status).toBe(200);
    await waitFor(async () => (await checkout(carol)).checkout === 'new', 2000, 'the flip back');
  });

  it('sends exposures and purchases to the server', async () => {
    // Let the earlier tests' exposures land first, so the count below is this test's alone.
    await service.client.flush();
    await waitFor(() => service.client.stats().events.queued === 0, 3000, 'earlier events delivered');
    const before = await server.ctx.store.countEvents();
    await checkout('user=dave');
    await checkout('user=dave'); // same user: one exposure
    await fetch(`${service.url}/purchase?user=dave&amount=19.99`, { method: 'POST' });
    await service.client.flush();
    await waitFor(async () => (await server.ctx.store.countEvents()) >= before + 2, 3000, 'one exposure and one purchase stored');
    await new Promise((r) => setTimeout(r, 200)); // nothing more trickles in: dave was exposed once
    expect(await server.ctx.store.countEvents()).toBe(before + 2);
  });
});
