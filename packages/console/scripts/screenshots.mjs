// Takes the README's screenshots of the console from a real demo server in headless Debian
// Chromium, so they stay current: `pnpm --filter @switchyard/console screenshots` after a build.
// Writes docs/images/console-flags.png, console-targeting.png and console-results.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '@switchyard/server';

const images = fileURLToPath(new URL('../../../docs/images/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'switchyard-screenshots-'));
process.env.SWITCHYARD_CONSOLE_DIR = fileURLToPath(new URL('../dist', import.meta.url));
const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  dbPath: join(dir, 'db.sqlite'),
  demo: true,
  logLevel: 'silent',
  printCredentials: false,
  adminEmail: 'admin@switchyard.local',
  adminPassword: 'screenshot-password-1',
  env: {},
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 });
  await page.goto(`${server.url}/sign-in`);
  await page.getByLabel('Email').fill('admin@switchyard.local');
  await page.getByLabel('Password').fill('screenshot-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Feature flags' }).waitFor();
  await page.locator('[role="row"][data-flag]').first().waitFor();
  await page.screenshot({ path: join(images, 'console-flags.png') });

  const first = await page.locator('[role="row"][data-flag]').first().getAttribute('data-flag');
  const withRules = (await page.locator('[role="row"][data-flag="new-checkout"]').count()) > 0 ? 'new-checkout' : first;
  await page.goto(`${server.url}/flags/${withRules}`);
  await page.getByRole('heading', { name: /Targeting in/ }).waitFor();
  await page.screenshot({ path: join(images, 'console-targeting.png'), fullPage: true });

  await page.goto(`${server.url}/experiments`);
  const exp = page.locator('table a').first();
  await exp.waitFor();
  await exp.click();
  await page.getByRole('img', { name: /Forest plot/ }).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(images, 'console-results.png'), fullPage: true });
  console.log(`screenshots written to ${images}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
