import { createClient, type SwitchyardClient } from '@switchyard/sdk-node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { seriousA11yViolations } from './support/browser';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './support/server';
import { signIn } from './support/sign-in';
import { addStaffRule, createFlagInDialog } from './support/flag-steps';
import { nav, useConsoleHarness } from './support/harness';

// The release path of the console, end to end: staging first, then promoted to production, read by
// a real Node SDK holding a production server key made in the console, then killed in production.
let sdk: SwitchyardClient | undefined;

function onShare(client: SwitchyardClient, n: number): number {
  let on = 0;
  for (let i = 0; i < n; i++) if (client.boolean('new-checkout', { key: `user-${i}` }, false)) on++;
  return on / n;
}

const h = useConsoleHarness({ signIn: false });
afterAll(async () => {
  await sdk?.close();
});
describe('release flow: staging -> promote -> production SDK -> kill switch', () => {
  it('signs in and creates a staging environment on the Environments screen', async () => {
    const { page } = h.w;
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await nav(page, 'Environments').click();
    await page.getByRole('heading', { name: 'Environments' }).waitFor();
    await page.getByLabel('Environment key').fill('staging');
    await page.getByLabel('Environment name').fill('Staging');
    await page.getByRole('button', { name: 'Create environment' }).click();
    await page.locator('tr[data-environment="staging"]').waitFor();
    const stored = await h.server.admin('GET', '/api/v1/environments/staging');
    expect(stored.data.attributes).toMatchObject({ key: 'staging', name: 'Staging', protected: false });
    // The switcher offers it at once.
    await vi.waitFor(async () =>
      expect(await page.getByLabel('Environment', { exact: true }).locator('option').allTextContents()).toContain('Staging'),
    );
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('creates a production server key on the API keys screen and connects a Node SDK with it', async () => {
    const { page } = h.w;
    await nav(page, 'API keys').click();
    await page.getByLabel('Key name').fill('checkout service');
    await page.getByLabel('Key environment').selectOption('production');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-secret').textContent())!.trim();
    await page.getByRole('button', { name: 'Done' }).click();
    sdk = createClient({ baseUrl: h.server.url, sdkKey: secret });
    await sdk.ready({ timeoutMs: 20_000 });
    const keys = await h.server.admin('GET', '/api/v1/api-keys');
    expect(keys.data.find((k: { attributes: { name: string } }) => k.attributes.name === 'checkout service').attributes.environment).toBe(
      'production',
    );
  });

  it('creates a flag and sets a rule and a 30 % split in staging only', async () => {
    const { page } = h.w;
    await page.getByLabel('Environment', { exact: true }).selectOption('staging');
    await nav(page, 'Flags').click();
    await createFlagInDialog(page, 'new-checkout', 'New checkout');
    await page.getByRole('heading', { name: 'Targeting in Staging' }).waitFor();

    await addStaffRule(page);
    const def = page.getByRole('group', { name: 'Default (no rule matched)' });
    await def.getByLabel('Percentage split').check();
    await def.getByLabel(/Weight of on/).fill('30');
    await def.getByLabel(/Weight of off/).fill('70');
    await page.getByRole('checkbox', { name: /Serve targeting in Staging/ }).check();
    await page.getByRole('button', { name: 'Save targeting in Staging' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    const envs = (await h.server.admin('GET', '/api/v1/feature-flags/new-checkout')).data.attributes.environments;
    expect(envs.staging).toMatchObject({
      enabled: true,
      rules: [expect.objectContaining({ when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } })],
      default_serve: {
        split: [
          { variant: 'on', weight: 30 },
          { variant: 'off', weight: 70 },
        ],
      },
    });
    expect(envs.production.enabled).toBe(false);
    // Production is untouched: its SDK knows the flag and serves it off to everyone.
    await vi.waitFor(() => expect(sdk!.variant('new-checkout', { key: 'u1', email: 'ann@example.com' })).toBe('off'), { timeout: 20_000 });
    expect(onShare(sdk!, 500)).toBe(0);
  });

  it('promotes staging to production after a diff preview, and the production SDK changes', async () => {
    const { page } = h.w;
    await page.getByRole('button', { name: 'Promote…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Promote new-checkout' });
    await dialog.getByLabel('From').selectOption('staging');
    await dialog.getByLabel('To').selectOption('production');
    const diff = dialog.getByLabel('What changes in Production');
    await diff.waitFor();
    const lines = await diff.locator('.diff-added').allTextContents();
    expect(lines.join('\n')).toContain('"enabled": true');
    expect(lines.join('\n')).toContain('"weight": 30');
    expect(await diff.locator('.diff-removed').allTextContents()).toContainEqual(expect.stringContaining('"enabled": false'));
    expect(await seriousA11yViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Promote Staging to Production' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Promoted.' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();

    await vi.waitFor(() => expect(sdk!.boolean('new-checkout', { key: 'u1', email: 'ann@example.com' }, false)).toBe(true), {
      timeout: 20_000,
    });
    const share = onShare(sdk!, 4000);
    expect(share).toBeGreaterThan(0.27);
    expect(share).toBeLessThan(0.33);
  });

  it('flips the production kill switch from the flags list, and the SDK serves off', async () => {
    const { page } = h.w;
    await page.getByLabel('Environment', { exact: true }).selectOption('production');
    await nav(page, 'Flags').click();
    const toggle = page.getByRole('switch', { name: 'new-checkout in Production' });
    await vi.waitFor(async () => expect(await toggle.getAttribute('aria-checked')).toBe('true'), { timeout: 20_000 });
    // The staging switch stays on: the kill switch is per environment.
    expect(await page.getByRole('switch', { name: 'new-checkout in Staging' }).getAttribute('aria-checked')).toBe('true');
    await toggle.click();
    await vi.waitFor(async () => expect(await toggle.getAttribute('aria-checked')).toBe('false'), { timeout: 10_000 });
    await vi.waitFor(() => expect(sdk!.boolean('new-checkout', { key: 'u1', email: 'ann@example.com' }, true)).toBe(false), {
      timeout: 20_000,
    });
    expect(sdk!.detail('new-checkout', { key: 'u1' }, true).reason).toBe('DISABLED');
    const envs = (await h.server.admin('GET', '/api/v1/feature-flags/new-checkout')).data.attributes.environments;
    expect(envs.production.enabled).toBe(false);
    expect(envs.staging.enabled).toBe(true);
  });

  it('raised no uncaught page error and no CSP violation', () => {
    expect(h.w.errors).toEqual([]);
    expect(h.w.cspViolations).toEqual([]);
  });
});
