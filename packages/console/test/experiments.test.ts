import { createClient, type SwitchyardClient } from '@switchyard/sdk-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seriousA11yViolations } from './support/browser';
import { useConsoleHarness } from './support/harness';

const h = useConsoleHarness();
let sdk: SwitchyardClient;

beforeAll(async () => {
  sdk = createClient({ baseUrl: h.server.url, sdkKey: h.server.serverKey });
  await sdk.ready({ timeoutMs: 20_000 });
});
afterAll(async () => {
  await sdk?.close();
});
describe('an experiment from set-up to results', () => {
  it('is set up through the form and starts as a DRAFT', async () => {
    const { page } = h.w;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Experiments' }).click();
    await page.getByRole('button', { name: 'New experiment' }).click();
    await page.getByLabel('Key', { exact: true }).fill('green-button');
    await page.getByLabel('Name', { exact: true }).fill('Green button');
    await page.getByLabel('Hypothesis').fill('Green converts better');
    // Weights must add up to 100 before the form can be sent.
    await page.getByLabel('Variant 2 weight (%)').fill('40');
    await page.getByRole('alert').filter({ hasText: 'not 100' }).waitFor();
    expect(await page.getByRole('button', { name: 'Create experiment' }).isDisabled()).toBe(true);
    await page.getByLabel('Variant 2 weight (%)').fill('50');
    await page.getByLabel('Variant 2 key').fill('green');
    await page.getByRole('button', { name: 'Add guardrail' }).click();
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.getByRole('heading', { name: 'Green button' }).waitFor();
    expect(await page.getByText('DRAFT', { exact: true }).count()).toBeGreaterThan(0);
    // Only the actions the state machine allows from DRAFT are enabled.
    const lifecycle = page.getByRole('group', { name: 'Lifecycle' });
    expect(await lifecycle.getByRole('button', { name: 'Start' }).isEnabled()).toBe(true);
    expect(await lifecycle.getByRole('button', { name: 'Pause' }).isDisabled()).toBe(true);
    expect(await lifecycle.getByRole('button', { name: 'Complete' }).isDisabled()).toBe(true);
    const stored = (await h.server.admin('GET', '/api/v1/experiments/green-button')).data.attributes;
    expect(stored.variants).toEqual([
      { key: 'control', weight: 50 },
      { key: 'green', weight: 50 },
    ]);
    expect(stored.guardrails).toEqual([{ metric: 'errors', max_relative_increase: 0.1 }]);
  });

  it('starts, pauses and resumes through the lifecycle buttons', async () => {
    const lifecycle = h.w.page.getByRole('group', { name: 'Lifecycle' });
    await lifecycle.getByRole('button', { name: 'Start' }).click();
    await vi.waitFor(async () => expect(await lifecycle.getByRole('button', { name: 'Pause' }).isEnabled()).toBe(true), {
      timeout: 15_000,
    });
    expect(await lifecycle.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
    await lifecycle.getByRole('button', { name: 'Pause' }).click();
    await vi.waitFor(async () => expect(await lifecycle.getByRole('button', { name: 'Resume' }).isEnabled()).toBe(true), {
      timeout: 15_000,
    });
    await lifecycle.getByRole('button', { name: 'Resume' }).click();
    await vi.waitFor(async () => expect(await lifecycle.getByRole('button', { name: 'Pause' }).isEnabled()).toBe(true), {
      timeout: 15_000,
    });
    expect((await h.server.admin('GET', '/api/v1/experiments/green-button')).data.attributes.status).toBe('RUNNING');
  });

  it('shows results of seeded traffic in the table and the forest plot, live', async () => {
    // Real traffic through the Node SDK: exposures from evaluation, purchases tracked; green converts more.
    // The probe that waits for the running experiment is itself an exposed unit.
    await vi.waitFor(() => expect(sdk.variant('green-button', { key: 'probe' })).not.toBeNull(), { timeout: 20_000 });
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const units = { control: 0, green: 0 };
    const converted = { control: 0, green: 0 };
    units[sdk.variant('green-button', { key: 'probe' }) as 'control' | 'green']++;
    for (let i = 0; i < 1200; i++) {
      const ctx = { key: `unit-${i}` };
      const v = sdk.variant('green-button', ctx) as 'control' | 'green';
      units[v]++;
      if (rand() < (v === 'green' ? 0.3 : 0.1)) {
        sdk.track('purchase', ctx);
        converted[v]++;
      }
    }
    await sdk.flush();

    const { page } = h.w;
    const plot = page.getByRole('img', { name: /Forest plot/ });
    await plot.waitFor({ timeout: 60_000 });
    const row = page.locator('tr[data-metric="purchase"][data-variant="green"]');
    await vi.waitFor(async () => expect(await row.locator('td').nth(1).textContent()).toBe(String(units.green)), { timeout: 60_000 });
    expect(await page.locator('tr[data-metric="purchase"][data-variant="control"] td').nth(1).textContent()).toBe(String(units.control));

    // Read the chart: the plotted lift is the server's, and clearly positive.
    const results = (await h.server.admin('GET', '/api/v1/experiments/green-button/results')).data;
    const lift = results.metrics.purchase.comparisons[0].relative_lift as number;
    expect(lift).toBeGreaterThan(0.5);
    const label = (await plot.getAttribute('aria-label')) ?? '';
    expect(label).toContain(`purchase · green: +${(lift * 100).toFixed(1)}%`);
    expect(await page.locator('g[data-row="purchase · green"] text').last().textContent()).toBe(`+${(lift * 100).toFixed(1)}%`);
    expect(await row.textContent()).toContain(`+${(lift * 100).toFixed(1)}%`);
    expect(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toContain('format=csv');

    // The cumulative chart ends today at each variant's conversion rate so far.
    const today = new Date().toISOString().slice(0, 10);
    const rate = (v: 'control' | 'green') => `${((converted[v] / units[v]) * 100).toFixed(1)}%`;
    const daily = page.getByRole('img', { name: /Cumulative purchase by day/ });
    await vi.waitFor(
      async () =>
        expect(await daily.getAttribute('aria-label')).toBe(
          `Cumulative purchase by day. On ${today}: control ${rate('control')}, green ${rate('green')}`,
        ),
      { timeout: 30_000 },
    );
    expect(await page.locator('g[data-series="green"] text').textContent()).toBe(`green ${rate('green')}`);
  });

  it('exports the results as CSV with the session cookie', async () => {
    const [download] = await Promise.all([h.w.page.waitForEvent('download'), h.w.page.getByRole('link', { name: 'Export CSV' }).click()]);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const csv = readFileSync(path, 'utf8');
    expect(csv.split('\n')[0]).toContain('metric');
    expect(csv).toContain('purchase');
  });

  it('completes, after which only Archive is possible', async () => {
    const lifecycle = h.w.page.getByRole('group', { name: 'Lifecycle' });
    await lifecycle.getByRole('button', { name: 'Complete' }).click();
    await vi.waitFor(async () => expect(await lifecycle.getByRole('button', { name: 'Archive' }).isEnabled()).toBe(true), {
      timeout: 15_000,
    });
    for (const name of ['Start', 'Pause', 'Resume', 'Complete'])
      expect(await lifecycle.getByRole('button', { name }).isDisabled(), name).toBe(true);
  });

  it('has no serious accessibility violations on the experiment screens, and no page error', async () => {
    const { page } = h.w;
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Experiments' }).click();
    await page.getByRole('link', { name: 'green-button' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'New experiment' }).click();
    await page.getByLabel('Key', { exact: true }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(h.w.errors).toEqual([]);
    expect(h.w.cspViolations).toEqual([]);
  });
});
