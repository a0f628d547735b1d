import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { seriousA11yViolations, type WatchedPage } from './support/browser';
import { useConsoleHarness } from './support/harness';

const h = useConsoleHarness();
const ONCALL = { email: 'oncall@console.test', password: 'oncall-password-1' };
let oncall: WatchedPage;

beforeAll(async () => {
  await h.server.user('ADMIN', ONCALL.email, ONCALL.password);
  oncall = await h.open(ONCALL.email, ONCALL.password);
});

/** The text of one cell of the conflict panel's row for `field`. */
const cell = (page: Page, field: string, side: 'theirs' | 'yours') =>
  page.locator(`.conflict-table tr[data-field="${field}"] pre.conflict-${side}`).textContent();
const flag = async (key: string) => (await h.server.admin('GET', `/api/v1/feature-flags/${key}`)).data.attributes;
const NZ_RULE = expect.objectContaining({ when: { attr: 'country', op: 'eq', values: ['NZ'] } });
const serving = (page: Page) => page.getByRole('checkbox', { name: /^Serve targeting in Production/ });

describe('a 412 conflict is shown', () => {
  it('two people edit one flag: the second save gets a 412, the panel shows both values, reapply keeps the kill switch off', async () => {
    const { page } = h.w;
    await h.server.admin('POST', '/api/v1/feature-flags', { key: 'payments', name: 'Payments', type: 'boolean', enabled: true });
    const v0 = (await flag('payments')).version as number;
    await page.goto('/flags/payments');
    await oncall.page.goto('/flags/payments');
    await page.getByRole('heading', { name: 'Payments' }).waitFor();
    await oncall.page.getByRole('heading', { name: 'Payments' }).waitFor();

    // The first person starts a rules edit...
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('button', { name: 'Add attribute clause' }).click();
    await page.getByLabel('Attribute 1').fill('country');
    await page.getByLabel('Values 1').fill('NZ');
    // ...while the on-call engineer turns the flag off during an incident, in their own session.
    await serving(oncall.page).uncheck();
    await oncall.page.getByRole('button', { name: 'Save targeting in Production' }).click();
    await oncall.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect(await flag('payments')).toMatchObject({ enabled: false, rules: [], version: v0 + 1 });

    // The first screen's live refetch brings the newer version, and the draft is kept as it was:
    // it says the flag changed instead of rebasing the draft (which would overwrite on save).
    await page.getByRole('status').filter({ hasText: 'This flag changed since you started editing' }).waitFor({ timeout: 30_000 });
    expect(await page.getByLabel('Attribute 1').inputValue()).toBe('country');

    await page.getByRole('button', { name: 'Save targeting in Production' }).click();
    const panel = page.getByRole('alert').filter({ hasText: 'Someone else changed this flag' });
    await panel.waitFor();
    // What changed on the server beside what this person has.
    await vi.waitFor(async () => expect(await cell(page, 'Serving', 'theirs')).toBe('false'), { timeout: 10_000 });
    expect(await cell(page, 'Serving', 'yours')).toBe('false');
    expect(JSON.parse((await cell(page, 'Rules', 'theirs'))!)).toEqual([]);
    expect(JSON.parse((await cell(page, 'Rules', 'yours'))!)).toEqual([NZ_RULE]);
    // The stale save stored nothing.
    expect(await flag('payments')).toMatchObject({ enabled: false, rules: [], version: v0 + 1 });
    expect(await seriousA11yViolations(page)).toEqual([]);

    await panel.getByRole('button', { name: 'Reapply my changes on the latest version' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    // Reapplied on the latest version: the rules edit is in, the kill switch stays off.
    expect(await flag('payments')).toMatchObject({ enabled: false, rules: [NZ_RULE], version: v0 + 2 });
    expect(await page.getByText('Someone else changed this flag').count()).toBe(0);
    expect(await serving(page).isChecked()).toBe(false);

    // The on-call screen has no unsaved changes, so it follows the save live; an edit made there
    // now builds on the latest version and saves without a conflict.
    await oncall.page.getByLabel('Attribute 1').waitFor({ timeout: 30_000 });
    expect(await oncall.page.getByLabel('Values 1').inputValue()).toBe('NZ');
    await oncall.page.getByLabel('Values 1').fill('NZ, AU');
    await oncall.page.getByRole('button', { name: 'Save targeting in Production' }).click();
    await vi.waitFor(async () => expect((await flag('payments')).version).toBe(v0 + 3));
    expect(await flag('payments')).toMatchObject({
      enabled: false,
      rules: [expect.objectContaining({ when: { attr: 'country', op: 'eq', values: ['NZ', 'AU'] } })],
    });
    expect(await oncall.page.getByText('Someone else changed this flag').count()).toBe(0);
    expect(h.w.errors).toEqual([]);
    expect(oncall.errors).toEqual([]);
  });

  it('in the experiment editor: a change through the API, both values side by side, and discard keeps the server version', async () => {
    const { page } = h.w;
    await h.server.admin('POST', '/api/v1/experiments', {
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
    await h.server.admin('PATCH', '/api/v1/experiments/banner-test', { name: 'Banner test (theirs)', hypothesis: 'Blue wins' });
    await page.getByRole('button', { name: 'Save details' }).click();

    const panel = page.getByRole('alert').filter({ hasText: 'Someone else changed this experiment' });
    await panel.waitFor();
    await vi.waitFor(async () => expect(await cell(page, 'Name', 'theirs')).toBe('"Banner test (theirs)"'), { timeout: 10_000 });
    expect(await cell(page, 'Name', 'yours')).toBe('"Banner test (mine)"');
    expect(await page.locator('.conflict-table tr[data-field="Name"] th').textContent()).toContain('changed by both');
    expect(await cell(page, 'Hypothesis', 'theirs')).toBe('"Blue wins"');
    expect(await cell(page, 'Traffic allocation (%)', 'yours')).toBe('50');
    const stale = (await h.server.admin('GET', '/api/v1/experiments/banner-test')).data.attributes;
    expect([stale.name, stale.traffic_allocation]).toEqual(['Banner test (theirs)', 100]);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await panel.getByRole('button', { name: /Discard mine/ }).click();
    await vi.waitFor(async () => expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Banner test (theirs)'));
    expect(await page.getByLabel('Traffic allocation (%)').inputValue()).toBe('100');
    const kept = (await h.server.admin('GET', '/api/v1/experiments/banner-test')).data.attributes;
    expect([kept.name, kept.hypothesis, kept.traffic_allocation]).toEqual(['Banner test (theirs)', 'Blue wins', 100]);
    expect(h.w.errors).toEqual([]);
  });
});
