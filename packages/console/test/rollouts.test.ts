import { createClient, type SwitchyardClient } from '@switchyard/sdk-node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seriousA11yViolations, type WatchedPage } from './support/browser';
import { useConsoleHarness } from './support/harness';

// The rollout monitor's passes are driven by the test (its interval is an hour), so "the monitor
// rolled it back" is a pass the test ran, not a wait on a timer.
const h = useConsoleHarness({ serverOptions: { rolloutIntervalMs: 3_600_000 } });
const VIEWER = { email: 'viewer@console.test', password: 'viewer-password-1' };
const EXPERIMENTER = { email: 'exp@console.test', password: 'exp-password-1' };
let sdk: SwitchyardClient;
let viewer: WatchedPage;

beforeAll(async () => {
  sdk = createClient({ baseUrl: h.server.url, sdkKey: h.server.serverKey, events: { flushIntervalMs: 50, batchSize: 500 } });
  await sdk.ready({ timeoutMs: 20_000 });
  await h.server.user('VIEWER', VIEWER.email, VIEWER.password);
  await h.server.user('EXPERIMENTER', EXPERIMENTER.email, EXPERIMENTER.password);
  viewer = await h.open(VIEWER.email, VIEWER.password);
});
afterAll(async () => {
  await sdk?.close();
});

const rolloutsOf = async (flag: string) =>
  (await h.server.admin('GET', `/api/v1/feature-flags/${flag}/environments/production/rollouts`)).data as {
    id: string;
    attributes: Record<string, any>;
  }[];
const createFlag = (key: string) =>
  h.server.admin('POST', '/api/v1/feature-flags', { key, name: key, type: 'boolean', enabled: true, default_serve: { variant: 'off' } });

async function openRollouts(page: Page, flag: string): Promise<void> {
  await page.goto(`/flags/${flag}`);
  await page.getByRole('tab', { name: 'Rollouts' }).click();
  await page.getByRole('heading', { name: /Guarded rollouts in/ }).waitFor();
}

/** Waits until the SDK holds the latest config, then sends `n` users through the flag; `fails(on, i)` says who reports an error. */
async function traffic(flag: string, prefix: string, n: number, fails: (on: boolean, i: number) => boolean): Promise<void> {
  await vi.waitFor(() => expect(sdk.detail(flag, { key: `${prefix}-probe` }, false).inExperiment).toBe(true), { timeout: 20_000 });
  for (let i = 0; i < n; i++) {
    const u = { key: `${prefix}-${i}` };
    if (fails(sdk.boolean(flag, u, false), i)) sdk.track('errors', u);
  }
  await sdk.flush();
  await vi.waitFor(() => expect(sdk.stats().events.queued).toBe(0), { timeout: 20_000 });
}

describe('guarded rollouts in the console', () => {
  it('shows a field error where it occurs, starts a rollout, shows its stage, units and guardrails, and stops it', async () => {
    const { page } = h.w;
    await createFlag('new-checkout');
    await openRollouts(page, 'new-checkout');
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Stage 2 below stage 1: the server's message appears under the stage 2 share field.
    await page.getByLabel('Stage 2 share (%)').fill('3');
    await page.getByRole('button', { name: 'Start rollout in Production' }).click();
    const stage2 = page.getByLabel('Stage 2 share (%)');
    await vi.waitFor(async () => expect(await stage2.getAttribute('aria-invalid')).toBe('true'));
    const described = (await stage2.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-err'))!;
    expect((await page.locator(`[id="${described}"]`).textContent())!.length).toBeGreaterThan(0);
    expect(await rolloutsOf('new-checkout')).toEqual([]);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await stage2.fill('25');
    await page.getByLabel('Guardrail 1 max increase (%)').fill('10');
    await page.getByRole('button', { name: 'Start rollout in Production' }).click();
    await page.getByRole('status').filter({ hasText: 'Running' }).waitFor();
    const [started] = await rolloutsOf('new-checkout');
    expect(started!.attributes).toMatchObject({
      status: 'running',
      variant: 'on',
      control: 'off',
      stage: 1,
      share: 5,
      on_regression: 'rollback',
      guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.1 }],
    });
    expect(started!.attributes.stages.map((s: { percent: number }) => s.percent)).toEqual([5, 25, 50, 100]);

    // Before any exposure the verdict says there is nothing to judge (not `ok`).
    const section = page.locator(`[data-rollout="${started!.id}"]`);
    expect(await section.locator('tr[data-check="errors"] td').last().textContent()).toMatch(
      /^insufficient data · the control arm has no units/,
    );

    // Healthy traffic through a real Node SDK: the same error rate in both arms.
    await traffic('new-checkout', 'healthy', 400, (_on, i) => i % 10 === 0);
    await vi.waitFor(
      async () => {
        const r = (await rolloutsOf('new-checkout'))[0]!.attributes;
        expect(r.units.variant + r.units.control).toBeGreaterThanOrEqual(400);
        expect(await section.textContent()).toContain(`${r.units.variant} served on, ${r.units.control} served off`);
        expect(await section.textContent()).toContain('Share served on');
      },
      { timeout: 30_000 },
    );
    const dd = await section.locator('dl').textContent();
    expect(dd).toContain('1 of 4');
    expect(dd).toContain('5%');
    const check = section.locator('tr[data-check="errors"]');
    await check.waitFor();
    expect(await check.locator('td').last().textContent()).toMatch(/^(ok|uncomputable)/);
    // The chart draws each guardrail the server has an estimate and interval for.
    const now = (await rolloutsOf('new-checkout'))[0]!.attributes.guardrail_checks[0];
    if (now.estimate !== null && now.interval !== null)
      expect(await section.getByRole('img', { name: /^Guardrail chart\. errors: / }).count()).toBe(1);
    else expect(await section.getByText('No guardrail has enough data for a chart yet.').count()).toBe(1);
    expect(await seriousA11yViolations(page)).toEqual([]);

    // A viewer sees it, with the stop button disabled.
    await openRollouts(viewer.page, 'new-checkout');
    const viewerStop = viewer.page.getByRole('button', { name: /Stop rollout/ });
    await viewerStop.waitFor();
    expect(await viewerStop.isDisabled()).toBe(true);

    await section.getByRole('button', { name: 'Stop rollout (serve off)' }).click();
    await section.getByRole('status').filter({ hasText: 'Stopped' }).waitFor();
    const [stopped] = await rolloutsOf('new-checkout');
    expect(stopped!.attributes.status).toBe('stopped');
    expect(stopped!.attributes.history.map((e: { action: string }) => e.action)).toEqual(['started', 'stopped']);
    expect((await h.server.admin('GET', '/api/v1/feature-flags/new-checkout')).data.attributes.default_serve).toEqual({ variant: 'off' });
    // The stopped rollout stays in view, and the form is back for the next one.
    await page.getByRole('button', { name: 'Start rollout in Production' }).waitFor();
    expect(await section.getByRole('button', { name: /Stop rollout/ }).count()).toBe(0);
  });

  it('shows the rollout monitor rolling back a rollout whose new arm emits errors, live, with the breach and the history', async () => {
    const { page } = h.w;
    await createFlag('risky-checkout');
    await openRollouts(page, 'risky-checkout');
    await page.getByRole('button', { name: 'Remove stage 2' }).click();
    await page.getByRole('button', { name: 'Remove stage 2' }).click();
    await page.getByLabel('Stage 1 share (%)').fill('50');
    await page.getByRole('button', { name: 'Start rollout in Production' }).click();
    await page.getByRole('status').filter({ hasText: 'Running' }).waitFor();
    const [r] = await rolloutsOf('risky-checkout');

    // The new arm fails for a third of its users, the control for nobody.
    await traffic('risky-checkout', 'risky', 300, (on, i) => on && i % 3 === 0);
    const outcome = (await h.server.server.jobs.rollouts.check()).get(r!.id);
    expect(outcome).toBe('rolled_back');

    // No reload: the screen's live refetch shows it.
    await page.getByRole('status').filter({ hasText: 'Rolled back to the control' }).waitFor({ timeout: 30_000 });
    const section = page.locator(`[data-rollout="${r!.id}"]`);
    expect(await section.locator('tr[data-check="errors"] td').last().textContent()).toMatch(/^breach/);
    expect(await section.locator('.rollout-history').textContent()).toMatch(/rolled back · stage 1 \(50%\) · by the rollout monitor/);
    // The control emitted no errors: the table shows both rates (a relative change of zero is undefined).
    const breach = (await rolloutsOf('risky-checkout'))[0]!.attributes.guardrail_checks[0];
    expect(breach).toMatchObject({ metric: 'errors', verdict: 'breach', control_mean: 0 });
    const cells = await section.locator('tr[data-check="errors"] td').allTextContents();
    expect(cells.slice(0, 2)).toEqual(['0', String(Number(breach.variant_mean.toFixed(4)))]);
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(h.w.errors).toEqual([]);
    expect(viewer.errors).toEqual([]);
  });

  it('is disabled for a viewer, and only an admin may start one in a protected environment', async () => {
    await createFlag('viewer-flag');
    await openRollouts(viewer.page, 'viewer-flag');
    expect(await viewer.page.getByRole('button', { name: 'Start rollout in Production' }).isDisabled()).toBe(true);
    expect(await viewer.page.getByLabel('Stage 1 share (%)').isDisabled()).toBe(true);
    expect(await seriousA11yViolations(viewer.page)).toEqual([]);

    // An experimenter's own flag: startable until production is protected.
    const exp = await h.open(EXPERIMENTER.email, EXPERIMENTER.password);
    const login = await h.server.request('POST', '/api/v1/auth/login', { body: EXPERIMENTER });
    const token = login.body.data.access_token as string;
    const created = await h.server.request('POST', '/api/v1/feature-flags', {
      token,
      body: { key: 'own-flag', type: 'boolean', enabled: true, default_serve: { variant: 'off' } },
    });
    expect(created.status).toBe(201);
    await openRollouts(exp.page, 'own-flag');
    expect(await exp.page.getByRole('button', { name: 'Start rollout in Production' }).isDisabled()).toBe(false);
    await h.server.admin('PATCH', '/api/v1/environments/production', { protected: true });
    await exp.page.reload();
    await exp.page.getByRole('tab', { name: 'Rollouts' }).click();
    await exp.page.getByText('Production is protected: only admins change it.').first().waitFor();
    expect(await exp.page.getByRole('button', { name: 'Start rollout in Production' }).isDisabled()).toBe(true);
    // The server agrees.
    const refused = await h.server.request('POST', '/api/v1/feature-flags/own-flag/environments/production/rollouts', {
      token,
      body: {
        variant: 'on',
        stages: [{ percent: 100 }],
        guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.1 }],
      },
    });
    expect(refused.status).toBe(403);
    await h.server.admin('PATCH', '/api/v1/environments/production', { protected: false });
    expect(exp.errors).toEqual([]);
    await exp.context.close();
  });
});
