import { describe, expect, it, vi } from 'vitest';
import { seriousA11yViolations } from './support/browser';
import { useConsoleHarness } from './support/harness';

const h = useConsoleHarness({
  seed: (server) => server.admin('POST', '/api/v1/feature-flags', { key: 'audited-flag', type: 'boolean' }),
});

describe('API keys and the audit log', () => {
  it('creates a key, shows its secret once, and revokes it', async () => {
    const { page } = h.w;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Key name').fill('checkout service');
    await page.getByLabel('Key environment').selectOption('development');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-secret').textContent())!.trim();
    expect(secret).toMatch(/^sy_srv_/);
    // The secret works against the SDK endpoint.
    expect((await fetch(`${h.server.url}/sdk/v1/config`, { headers: { 'x-api-key': secret } })).status).toBe(200);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Done' }).click();
    // Listed without the secret.
    const row = page.locator('tr[data-key="checkout service"]');
    await row.waitFor();
    // Which environment the key works in is part of the row.
    const headers = await page.locator('thead th').allTextContents();
    expect((await row.locator('td').allTextContents())[headers.indexOf('Environment')]).toBe('development');
    expect(await page.content()).not.toContain(secret);

    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke checkout service' }).click();
    await row.getByText('revoked').waitFor();
    await vi.waitFor(async () =>
      expect((await fetch(`${h.server.url}/sdk/v1/config`, { headers: { 'x-api-key': secret } })).status).toBe(401),
    );
  });

  it('lists audit records with filters and diffs', async () => {
    const { page } = h.w;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await page.locator('tr[data-action="api-key.revoke"], tr[data-action^="api-key"]').first().waitFor();
    await page.getByLabel('Resource type').selectOption('feature-flag');
    await vi.waitFor(async () => {
      const actions = await page.locator('tr[data-action]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.every((a) => a!.startsWith('feature-flag.'))).toBe(true);
    });
    await page
      .getByRole('button', { name: /Show change/ })
      .first()
      .click();
    expect(await page.locator('figure.diff').first().textContent()).toContain('audited-flag');
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(h.w.errors).toEqual([]);
    expect(h.w.cspViolations).toEqual([]);
  });
});
