/**
 * The console's flags list with 10,000 flags, in headless Debian Chromium against a real server.
 *
 * The same measurements run on a server with BASELINE flags (the baseline, same run, same
 * browser), so each figure is reported as a ratio 10,000 / baseline: a list that rendered every
 * row would scale ~100x, a virtualized one should stay near 1x for everything except loading.
 *
 * Per size, ROUNDS times in a fresh page: load (navigation until "N of N flags" is shown: the
 * console fetches every page of 200), rows in the DOM, a search keystroke until the filtered
 * rows are painted, a jump to the bottom of the list until the last flag's row is in the DOM,
 * and one kill-switch flip until the switch shows the new state. Timings are taken in the page
 * with performance.now() and requestAnimationFrame.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { machineLine } from '../lib/machine.mjs';
import { SERVER_DIST, assertBuilt, fmt, load1, loadNote, median, repoRoot, writeSection } from '../server/lib.mjs';

const BIG = 10_000;
const BASELINE = 100;
const EMAIL = 'admin@bench.local';
const PASSWORD = 'bench-password-1';

const flagBody = (i) => ({ key: `flag-${String(i).padStart(5, '0')}`, type: 'boolean', enabled: i % 2 === 0, name: `Flag ${i}` });

/**
 * Seeds `count` flags: in one `POST /api/v1/import` (one transaction, one config version) when the
 * server has bulk import, else one create per flag (servers before it), eight at a time.
 */
async function seed(url, token, count) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const doc = await (await fetch(`${url}/api/v1/openapi.json`)).json();
  if (doc.paths['/api/v1/import']?.post !== undefined) {
    const r = await fetch(`${url}/api/v1/import`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ flags: Array.from({ length: count }, (_, i) => flagBody(i)) }),
    });
    if (r.status !== 201) throw new Error(`import of ${count} flags: ${r.status} ${(await r.text()).slice(0, 500)}`);
    return;
  }
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const body = flagBody(next++);
      const r = await fetch(`${url}/api/v1/feature-flags`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (r.status !== 201) throw new Error(`create ${body.key}: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function startWithFlags(count) {
  const { startServer } = await import(pathToFileURL(SERVER_DIST).href);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-console-'));
  process.env.SWITCHYARD_CONSOLE_DIR = path.join(repoRoot, 'packages/console/dist');
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dbPath: path.join(dir, 'db.sqlite'),
    logLevel: 'silent',
    printCredentials: false,
    adminEmail: EMAIL,
    adminPassword: PASSWORD,
    apiRateBurst: 1e9,
    apiRatePerSecond: 1e9,
    loginRatePerMinute: 1e6,
    env: {},
  });
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  const token = (await login.json()).data.access_token;
  await seed(server.url, token, count);
  return { server, stop: async () => (await server.close(), rmSync(dir, { recursive: true, force: true })) };
}

async function measure(browser, url, count) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/sign-in`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Feature flags' }).waitFor();
  // Load: a fresh navigation until every flag is in the list.
  const t0 = Date.now();
  await page.goto(`${url}/flags`);
  await page.getByText(`${count} of ${count} flags`).waitFor({ timeout: 300_000 });
  const loadMs = Date.now() - t0;
  const rows = await page.locator('[role="row"][data-flag]').count();
  const searchMs = await page.evaluate(async () => {
    const input = document.querySelector('input[type="search"]');
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const start = performance.now();
    setter.call(input, 'flag-0004');
    input.dispatchEvent(new Event('input', { bubbles: true }));
    for (;;) {
      await new Promise((r) => requestAnimationFrame(r));
      const rows = [...document.querySelectorAll('[role="row"][data-flag]')];
      if (rows.length > 0 && rows.every((r) => r.getAttribute('data-flag').startsWith('flag-0004'))) return performance.now() - start;
      if (performance.now() - start > 60_000) throw new Error('search never applied');
    }
  });
  await page.getByLabel('Search').fill('');
  await page.getByText(`${count} of ${count} flags`).waitFor();
  const last = `flag-${String(count - 1).padStart(5, '0')}`;
  const scrollMs = await page.evaluate(async (last) => {
    const scroller = document.querySelector('.flags-scroll');
    const start = performance.now();
    scroller.scrollTop = scroller.scrollHeight;
    for (;;) {
      await new Promise((r) => requestAnimationFrame(r));
      if (document.querySelector(`[data-flag="${last}"]`)) return performance.now() - start;
      if (performance.now() - start > 60_000) throw new Error('last row never rendered');
    }
  }, last);
  // One switch per environment in each row: flip production's.
  const toggle = page.getByRole('switch', { name: `${last} in Production`, exact: true });
  const before = await toggle.getAttribute('aria-checked');
  const tFlip = Date.now();
  await toggle.click();
  await page.waitForFunction(
    ([key, was]) =>
      document.querySelector(`[data-flag="${key}"] [role="switch"][aria-label$=" in Production"]`)?.getAttribute('aria-checked') !== was,
    [last, before],
  );
  const flipMs = Date.now() - tFlip;
  await context.close();
  if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
  return { loadMs, rows, searchMs, scrollMs, flipMs };
}

export async function run({ resultsDir, quick = false, log = console.log }) {
  assertBuilt();
  const rounds = quick ? 1 : 3;
  const loadBefore = load1();
  const started = Date.now();
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
  const figures = {};
  try {
    for (const count of [BASELINE, BIG]) {
      log(`console flags list: creating ${count} flags`);
      const s = await startWithFlags(count);
      try {
        const samples = [];
        for (let i = 0; i < rounds; i++) samples.push(await measure(browser, s.server.url, count));
        figures[count] = Object.fromEntries(Object.keys(samples[0]).map((k) => [k, median(samples.map((x) => x[k]))]));
        log(`  ${count}: ${JSON.stringify(figures[count])}`);
      } finally {
        await s.stop();
      }
    }
  } finally {
    await browser.close();
  }
  const b = figures[BASELINE];
  const big = figures[BIG];
  const row = (label, key, unit, digits = 1) =>
    `| ${label} | ${fmt(b[key], digits)} ${unit} | ${fmt(big[key], digits)} ${unit} | ${fmt(big[key] / b[key], 2)}× |`;
  const md = `## Console: the flags list with 10,000 flags

Measured on ${machineLine()}. Headless Debian Chromium against a real server (SQLite), signed in as admin; ${rounds} round(s) per size, each cell the median. Baseline: the same measurements with ${BASELINE} flags in the same run. ${loadNote(loadBefore, load1())} Wall time ${Math.round((Date.now() - started) / 1000)} s.

| measure | ${BASELINE} flags (baseline) | ${BIG.toLocaleString('en-US')} flags | ratio |
|---|--:|--:|--:|
${row('rows in the DOM', 'rows', '', 0)}
${row('search keystroke until filtered rows are painted', 'searchMs', 'ms')}
${row('jump to the bottom until the last row is rendered', 'scrollMs', 'ms')}
${row('kill-switch flip until the switch shows it', 'flipMs', 'ms')}
${row('load (every page of 200 fetched, list shown)', 'loadMs', 'ms', 0)}

Rows in the DOM stay bounded by the viewport (virtualized), so search, scroll and flips cost about the same with 100 or 10,000 flags; loading grows with the number of flags because the list is fetched whole (${BIG / 200} requests of 200).
`;
  writeSection(resultsDir, 'console-flags-list', md);
  return figures;
}
