import { describe, expect, it } from 'vitest';
import { nav, useConsoleHarness } from './support/harness';

const VIEWER = { email: 'viewer@console.test', password: 'viewer-password-1' };

const h = useConsoleHarness({
  signIn: VIEWER,
  async seed(server) {
    await server.admin('POST', '/api/v1/feature-flags', {
      key: 'viewer-sees',
      type: 'boolean',
      enabled: true,
      rules: [{ id: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } }],
    });
    await server.admin('POST', '/api/v1/experiments', {
      key: 'viewer-exp',
      name: 'Viewer experiment',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'b', weight: 50 },
      ],
      metrics: [{ key: 'purchase', type: 'conversion' }],
    });
    await server.admin('POST', '/api/v1/segments', { key: 'viewer-segment', included: ['u1'] });
    await server.user('VIEWER', VIEWER.email, VIEWER.password);
  },
});

describe('a VIEWER', () => {
  it('sees every flag control disabled', async () => {
    const { page } = h.w;
    expect(await page.getByRole('button', { name: 'New flag' }).isDisabled()).toBe(true);
    const toggle = page.getByRole('switch', { name: /viewer-sees in Production/ });
    await toggle.waitFor();
    expect(await toggle.isDisabled()).toBe(true);
    expect(await toggle.getAttribute('aria-checked')).toBe('true');

    await page.getByRole('link', { name: 'viewer-sees' }).click();
    await page.getByText('Viewers can read targeting but not change it.').waitFor();
    // Everything in the targeting editor is disabled, yet the rule is shown.
    expect(await page.getByLabel('Attribute 1').inputValue()).toBe('email');
    for (const control of await page.locator('.targeting input, .targeting select, .targeting textarea').all())
      expect(await control.isDisabled()).toBe(true);
    for (const name of [/Save targeting/, 'Add rule', 'Delete rule 1'])
      expect(await page.getByRole('button', { name }).isDisabled(), String(name)).toBe(true);
    expect(await page.getByRole('switch', { name: /viewer-sees in Production/ }).isDisabled()).toBe(true);
  });

  it('still gets a 403 from the server if it tries anyway', async () => {
    const status = await h.w.page.evaluate(async () => {
      const s = (await (await fetch('/api/v1/auth/session')).json()) as { data: { csrf_token: string } };
      const r = await fetch('/api/v1/feature-flags/viewer-sees', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'x-csrf-token': s.data.csrf_token },
        body: JSON.stringify({ enabled: false }),
      });
      return r.status;
    });
    expect(status).toBe(403);
    expect((await h.server.admin('GET', '/api/v1/feature-flags/viewer-sees')).data.attributes.enabled).toBe(true);
  });

  it('sees experiment creation and lifecycle disabled', async () => {
    const { page } = h.w;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Experiments' }).click();
    expect(await page.getByRole('button', { name: 'New experiment' }).isDisabled()).toBe(true);
    await page.getByRole('link', { name: 'viewer-exp' }).click();
    const lifecycle = page.getByRole('group', { name: 'Lifecycle' });
    await lifecycle.waitFor();
    for (const name of ['Start', 'Pause', 'Resume', 'Complete', 'Archive'])
      expect(await lifecycle.getByRole('button', { name }).isDisabled(), name).toBe(true);
  });

  it('sees segments, environments and users read-only', async () => {
    const { page } = h.w;
    await nav(page, 'Segments').click();
    expect(await page.getByRole('button', { name: 'New segment' }).isDisabled()).toBe(true);
    await page.getByRole('link', { name: 'viewer-segment' }).click();
    await page.getByText('Viewers can read segments but not change them.').waitFor();
    expect(await page.getByLabel(/Included units/).inputValue()).toBe('u1');
    for (const name of ['Save segment', 'Delete segment']) expect(await page.getByRole('button', { name }).isDisabled(), name).toBe(true);

    await nav(page, 'Environments').click();
    const prod = page.locator('tr[data-environment="production"]');
    await prod.waitFor();
    for (const control of await page.locator('main input, main button, main select').all()) expect(await control.isDisabled()).toBe(true);

    await nav(page, 'Users').click();
    const me = page.locator('tr[data-user="viewer@console.test"]');
    await me.waitFor();
    // The server shows a viewer only itself.
    expect(await page.locator('tr[data-user]').count()).toBe(1);
    for (const control of await page.locator('main input, main button, main select').all()) expect(await control.isDisabled()).toBe(true);

    // API keys: a VIEWER may create only management keys with its own role, so that is all it is offered.
    await nav(page, 'API keys').click();
    // The screen renders after the click resolves: wait for its options rather than read none.
    const kinds = page.getByLabel('Kind').locator('option');
    await kinds.first().waitFor({ state: 'attached' });
    expect(await kinds.evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['management']);
    await page.getByLabel('Key name').fill('viewer script');
    await page.getByRole('button', { name: 'Create key' }).click();
    expect((await page.getByTestId('new-secret').textContent())!.trim()).toMatch(/^sy_mgt_/);
    await page.getByRole('button', { name: 'Done' }).click();

    // Webhooks are an ADMIN's: no form that can only fail, and no request the server refuses.
    const asked: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/v1/webhooks')) asked.push(r.url());
    });
    await nav(page, 'Webhooks').click();
    await page.getByText('Only admins manage webhooks.').waitFor();
    expect(await page.locator('main input, main button').count()).toBe(0);
    expect(asked).toEqual([]);
    expect(h.w.errors).toEqual([]);
    expect(h.w.cspViolations).toEqual([]);
  });
});
