import { createClient, type SwitchyardClient } from '@switchyard/sdk-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seriousA11yViolations } from './support/browser';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './support/server';
import { signIn } from './support/sign-in';
import { addStaffRule, createFlagInDialog } from './support/flag-steps';
import { useConsoleHarness } from './support/harness';

const h = useConsoleHarness({ signIn: false });
let sdk: SwitchyardClient;

beforeAll(async () => {
  sdk = createClient({ baseUrl: h.server.url, sdkKey: h.server.serverKey });
  await sdk.ready({ timeoutMs: 20_000 });
});
afterAll(async () => {
  await sdk?.close();
});
describe('flags in the console (ADMIN)', () => {
  it('signs in with the HttpOnly session cookie and keeps no token in web storage', async () => {
    await signIn(h.w.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    const cookies = await h.w.context.cookies();
    const session = cookies.find((c) => c.name === 'sy_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    const storage = await h.w.page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(storage).not.toContain(session!.value.slice(0, 20));
    expect(storage).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  it('creates a flag, sets a rule and a 30 % split, and a connected Node SDK sees it', async () => {
    const { page } = h.w;
    await createFlagInDialog(page, 'new-checkout', 'New checkout');
    await page.getByRole('heading', { name: 'New checkout' }).waitFor();

    // Rule 1: staff by email get "on".
    await addStaffRule(page);

    // Default: 30 % on, 70 % off. A split that does not add up to 100 cannot be saved.
    const def = page.getByRole('group', { name: 'Default (no rule matched)' });
    await def.getByLabel('Percentage split').check();
    await def.getByLabel(/Weight of on/).fill('30');
    await def.getByLabel(/Weight of off/).fill('60');
    await expect.poll(() => def.getByRole('alert').textContent()).toContain('not 100');
    const save = page.getByRole('button', { name: /Save targeting/ });
    expect(await save.isDisabled()).toBe(true);
    await def.getByLabel(/Weight of off/).fill('70');
    await page.getByRole('checkbox', { name: /Serve targeting/ }).check();
    await save.click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    const stored = (await h.server.admin('GET', '/api/v1/feature-flags/new-checkout')).data.attributes;
    expect(stored.enabled).toBe(true);
    expect(stored.rules).toEqual([
      expect.objectContaining({ when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } }),
    ]);
    expect(stored.default_serve).toEqual({
      split: [
        { variant: 'on', weight: 30 },
        { variant: 'off', weight: 70 },
      ],
    });

    // The SDK, streaming from the same server, evaluates the new targeting.
    await vi.waitFor(() => expect(sdk.boolean('new-checkout', { key: 'u1', email: 'ann@example.com' }, false)).toBe(true), {
      timeout: 20_000,
    });
    let on = 0;
    for (let i = 0; i < 2000; i++) if (sdk.boolean('new-checkout', { key: `user-${i}` }, false)) on++;
    expect(on / 2000).toBeGreaterThan(0.25);
    expect(on / 2000).toBeLessThan(0.35);
    expect(h.w.errors).toEqual([]);
  });

  it('shows a validation error from the server next to the rule it concerns', async () => {
    const { page } = h.w;
    await page.getByLabel('Operator 1').selectOption('matches');
    await page.getByLabel('Values 1').fill('(unclosed');
    await page.getByRole('button', { name: /Save targeting/ }).click();
    const rule = page.locator('[data-rule]').first();
    await rule.getByRole('alert').first().waitFor();
    expect(await rule.getByRole('alert').first().textContent()).toMatch(/regex|pattern|expression/i);
    // Nothing was applied: the stored rule is still the valid one.
    const stored = (await h.server.admin('GET', '/api/v1/feature-flags/new-checkout')).data.attributes;
    expect(stored.rules[0].when.op).toBe('ends_with');
    await page.getByRole('button', { name: 'Discard changes' }).click();
  });

  it('tests a user with server-side evaluation', async () => {
    const { page } = h.w;
    await page.getByRole('tab', { name: 'Test a user' }).click();
    await page.getByLabel('User id').fill('u1');
    await page.getByLabel(/Attributes/).fill('email=bo@example.com');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    const result = page.getByTestId('evaluation');
    await result.waitFor();
    expect(await result.textContent()).toContain('TARGETING_MATCH');
  });

  it('flips the kill switch from the flags list, and the SDK sees it without a reload elsewhere', async () => {
    const { page } = h.w;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flags' }).click();
    const toggle = page.getByRole('switch', { name: /new-checkout in Production/ });
    await toggle.waitFor();
    // The list may first paint its cached copy from before the save, then the refetched one.
    await vi.waitFor(async () => expect(await toggle.getAttribute('aria-checked')).toBe('true'), { timeout: 10_000 });
    await toggle.click();
    await vi.waitFor(async () => expect(await toggle.getAttribute('aria-checked')).toBe('false'), { timeout: 10_000 });
    await vi.waitFor(() => expect(sdk.boolean('new-checkout', { key: 'u1', email: 'ann@example.com' }, true)).toBe(false), {
      timeout: 20_000,
    });
    expect((await h.server.admin('GET', '/api/v1/feature-flags/new-checkout')).data.attributes.enabled).toBe(false);
  });

  it('shows a change made through the API without a reload', async () => {
    const { page } = h.w;
    await h.server.admin('PATCH', '/api/v1/feature-flags/new-checkout', { enabled: true });
    const toggle = page.getByRole('switch', { name: /new-checkout in Production/ });
    await vi.waitFor(async () => expect(await toggle.getAttribute('aria-checked')).toBe('true'), { timeout: 20_000 });
  });

  it('filters the list by search', async () => {
    const { page } = h.w;
    await h.server.admin('POST', '/api/v1/feature-flags', { key: 'other-flag', type: 'boolean' });
    await page.getByRole('row', { name: /other-flag/ }).waitFor({ timeout: 20_000 });
    await page.getByLabel('Search').fill('checkout');
    await vi.waitFor(async () => expect(await page.getByRole('row', { name: /other-flag/ }).count()).toBe(0));
    expect(await page.getByRole('row', { name: /new-checkout/ }).count()).toBe(1);
    await page.getByLabel('Search').fill('');
  });

  it('has no serious or critical accessibility violations on the flags list and every flag tab', async () => {
    const { page } = h.w;
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'new-checkout' }).click();
    await page.getByRole('heading', { name: 'New checkout' }).waitFor();
    for (const tab of ['Targeting', 'Variants', 'Test a user', 'History', 'Code']) {
      await page.getByRole('tab', { name: tab }).click();
      expect(await seriousA11yViolations(page), tab).toEqual([]);
    }
    // The browser snippet points at this server (the console's own origin), ready to paste.
    expect(await page.locator('figure.snippet', { hasText: 'Browser' }).textContent()).toContain(`baseUrl: '${h.server.url}'`);
  });

  it('raised no uncaught page error and no CSP violation', () => {
    expect(h.w.errors).toEqual([]);
    expect(h.w.cspViolations).toEqual([]);
  });
});
