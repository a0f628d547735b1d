import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchBrowser, openPage, seriousA11yViolations, type WatchedPage } from './support/browser';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startConsoleServer, type ConsoleServer } from './support/server';
import { signIn } from './support/sign-in';

let server: ConsoleServer;
let browser: Browser;
let w: WatchedPage;

beforeAll(async () => {
  server = await startConsoleServer();
  browser = await launchBrowser();
  w = await openPage(browser, server.url);
  await signIn(w.page, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** The text of one cell of the conflict panel's row for `field`. */
const cell = (field: string, side: 'theirs' | 'yours') =>
  w.page.locator(`.conflict-table tr[data-field="${field}"] pre.conflict-${side}`).textContent();

describe('a 412 conflict is shown', () => {
  it('in the flag editor: a kill switch turned off meanwhile stays off when the rules edit is reapplied', async () => {
    const { page } = w;
    await server.admin('POST', '/api/v1/feature-flags', { key: 'payments', name: 'Payments', type: 'boolean', enabled: true });
    await page.goto('/flags/payments');
    await page.getByRole('heading', { name: 'Payments' }).waitFor();

    // A rules edit in progress...
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('button', { name: 'Add attribute clause' }).click();
    await page.getByLabel('Attribute 1').fill('country');
    await page.getByLabel('Values 1').fill('NZ');
    // ...while a colleague turns the flag off during an incident.
    await server.admin('PATCH', '/api/v1/feature-flags/payments', { enabled: false });
    await page.getByRole('button', { name: /Save targeting/ }).click();

    const panel = page.getByRole('alert').filter({ hasText: 'Someone else changed this flag' });
    await panel.waitFor();
    // What changed on the server beside what this person has.
    await vi.waitFor(async () => expect(await cell('Serving', 'theirs')).toBe('false'), { timeout: 10_000 });
    expect(await cell('Serving', 'yours')).toBe('false');
    expect(JSON.parse((await cell('Rules', 'theirs'))!)).toEqual([]);
    expect(JSON.parse((await cell('Rules', 'yours'))!)).toEqual([
      expect.objectContaining({ when: { attr: 'country', op: 'eq', values: ['NZ'] } }),
    ]);
    // Nothing of the stale save was stored.
    const stale = (await server.admin('GET', '/api/v1/feature-flags/payments')).data.attributes;
    expect([stale.enabled, stale.rules]).toEqual([false, []]);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await panel.getByRole('button', { name: 'Reapply my changes on the latest version' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const saved = (await server.admin('GET', '/api/v1/feature-flags/payments')).data.attributes;
    expect(saved.enabled).toBe(false);
    expect(saved.rules).toEqual([expect.objectContaining({ when: { attr: 'country', op: 'eq', values: ['NZ'] } })]);
    expect(await page.getByText('Someone else changed this flag').count()).toBe(0);
    expect(w.errors).toEqual([]);
  });

  it('in the experiment editor: both values side by side, and discard keeps the server version', async () => {
    const { page } = w;
    await server.admin('POST', '/api/v1/experiments', {
      key: 'banner-test',
      name: 'Banner test',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'treatment', weight: 50 },
      ],
    });
    await page.goto('/experiments/banner-test');
    await page.getByRole('heading', { name: 'Banner test' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Banner test (mine)');
    await page.getByLabel('Traffic allocation (%)').fill('50');
    await server.admin('PATCH', '/api/v1/experiments/banner-test', { name: 'Banner test (theirs)', hypothesis: 'Blue wins' });
    await page.getByRole('button', { name: 'Save details' }).click();

    const panel = page.getByRole('alert').filter({ hasText: 'Someone else changed this experiment' });
    await panel.waitFor();
    await vi.waitFor(async () => expect(await cell('Name', 'theirs')).toBe('"Banner test (theirs)"'), { timeout: 10_000 });
    expect(await cell('Name', 'yours')).toBe('"Banner test (mine)"');
    expect(await page.locator('.conflict-table tr[data-field="Name"] th').textContent()).toContain('changed by both');
    expect(await cell('Hypothesis', 'theirs')).toBe('"Blue wins"');
    expect(await cell('Traffic allocation (%)', 'yours')).toBe('50');
    const stale = (await server.admin('GET', '/api/v1/experiments/banner-test')).data.attributes;
    expect([stale.name, stale.traffic_allocation]).toEqual(['Banner test (theirs)', 100]);

    await panel.getByRole('button', { name: /Discard mine/ }).click();
    await vi.waitFor(async () => expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Banner test (theirs)'));
    expect(await page.getByLabel('Traffic allocation (%)').inputValue()).toBe('100');
    const kept = (await server.admin('GET', '/api/v1/experiments/banner-test')).data.attributes;
    expect([kept.name, kept.hypothesis, kept.traffic_allocation]).toEqual(['Banner test (theirs)', 'Blue wins', 100]);
    expect(w.errors).toEqual([]);
  });
});
