import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleServer } from '../server.mjs';

// This example has no dependencies of its own (it is not linked until `pnpm install` runs
// again): the server and Playwright are taken from the SDK package that depends on them.
const { chromium } = await import('playwright-core');
const { startServer } = await import('@switchyard/server');

const ADMIN = { email: 'admin@example-app.test', password: 'example-admin-password' };
const screenshotPath = fileURLToPath(new URL('../../../docs/images/browser-app.png', import.meta.url));

describe('examples/browser-app in Chromium against the demo server', () => {
  let switchyard: any;
  let app: { url: string; close(): Promise<void> };
  let browser: import('playwright-core').Browser;
  let dir: string;
  let token: string;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(switchyard.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-example-'));
    switchyard = await startServer({
      port: 0,
      host: '127.0.0.1',
      dbPath: join(dir, 'db.sqlite'),
      demo: true,
      logLevel: 'silent',
      printCredentials: false,
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      jwtSecret: 'example-browser-app-secret-long-enough',
      env: {},
    });
    token = (
      await (
        await fetch(`${switchyard.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ADMIN),
        })
      ).json()
    ).data.access_token;
    app = await startExampleServer({ switchyardUrl: switchyard.url, clientKey: switchyard.credentials.clientKey });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-quic',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await switchyard?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the flag, the experiment variant and live updates; tracks a purchase', async () => {
    const page = await browser.newPage({ viewport: { width: 1180, height: 520 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(app.url);
    await page.waitForSelector('#status[data-status="ready"]');

    // Ann has an @example.com address: the staff rule serves her the new checkout.
    expect(await page.getAttribute('#checkout-flow', 'data-flow')).toBe('new');
    expect(await page.textContent('#checkout-flow .flow-title')).toBe('One-page checkout');
    const colour = await page.getAttribute('#buy', 'data-colour');
    const variant = await page.evaluate(() => (window as any).shop.client.variant('checkout-cta'));
    expect(colour).toBe(variant === 'green' ? 'green' : 'blue');
    expect(await page.textContent('#flags')).toContain('TARGETING_MATCH');
    expect(await page.locator('#flags tr').count()).toBe(5);

    // Bob does not: identify() swaps the context.
    await page.selectOption('#user', 'bob');
    await page.waitForSelector('#checkout-flow[data-flow="classic"]', { timeout: 2000 });
    await page.selectOption('#user', 'ann');
    await page.waitForSelector('#checkout-flow[data-flow="new"]', { timeout: 2000 });

    // A change through the management API reaches the open page.
    await api('PATCH', '/api/v1/feature-flags/new-checkout', { enabled: false });
    await page.waitForSelector('#checkout-flow[data-flow="classic"]', { timeout: 1000 });
    await api('PATCH', '/api/v1/feature-flags/new-checkout', { enabled: true });
    await page.waitForSelector('#checkout-flow[data-flow="new"]', { timeout: 1000 });

    // A purchase is tracked, and delivered even though the tab is closed right away.
    const before = await switchyard.ctx.store.countEvents();
    await page.click('#buy');
    expect(await page.isVisible('#thanks')).toBe(true);
    const shot = process.env.UPDATE_SCREENSHOT === '1' ? screenshotPath : join(dir, 'browser-app.png');
    mkdirSync(join(shot, '..'), { recursive: true });
    await page.screenshot({ path: shot });
    await page.close({ runBeforeUnload: true });
    const deadline = Date.now() + 10_000;
    // exposures of Ann and Bob, purchase and revenue
    while ((await switchyard.ctx.store.countEvents()) < before + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await switchyard.ctx.store.countEvents()) - before).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
  });
});
