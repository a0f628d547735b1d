import { describe, expect, it, vi } from 'vitest';
import { seriousA11yViolations } from './support/browser';
import { ADMIN_EMAIL } from './support/server';
import { nav, useConsoleHarness } from './support/harness';

const h = useConsoleHarness();

describe('environments screen (ADMIN)', () => {
  it('creates an environment, changes its colour and protection', async () => {
    const { page } = h.w;
    await nav(page, 'Environments').click();
    await page.getByLabel('Environment key').fill('qa');
    await page.getByLabel('Environment name').fill('QA');
    await page.getByRole('button', { name: 'Create environment' }).click();
    const row = page.locator('tr[data-environment="qa"]');
    await row.waitFor();

    await row.getByLabel('Colour of QA').fill('#ff8800');
    await row.getByRole('button', { name: 'Save colour of QA' }).click();
    await vi.waitFor(async () => expect((await h.server.admin('GET', '/api/v1/environments/qa')).data.attributes.color).toBe('#ff8800'));

    await row.getByRole('checkbox', { name: 'Protect QA' }).check();
    await vi.waitFor(async () => expect((await h.server.admin('GET', '/api/v1/environments/qa')).data.attributes.protected).toBe(true));
    // The switcher says so.
    await vi.waitFor(async () =>
      expect(await page.getByLabel('Environment', { exact: true }).locator('option').allTextContents()).toContain('QA (protected)'),
    );
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('shows a bad key next to the field and creates nothing', async () => {
    const { page } = h.w;
    await page.getByLabel('Environment key').fill('not a key!');
    await page.getByRole('button', { name: 'Create environment' }).click();
    await page.getByRole('form', { name: 'New environment' }).getByRole('alert').first().waitFor();
    const keys = (await h.server.admin('GET', '/api/v1/environments')).data.map((e: { attributes: { key: string } }) => e.attributes.key);
    expect(keys.sort()).toEqual(['development', 'production', 'qa']);
  });

  it('shows the 409 when deleting an environment a key still uses, then deletes it once the key is revoked', async () => {
    const { page } = h.w;
    const key = await h.server.admin('POST', '/api/v1/api-keys', { name: 'qa service', kind: 'server', environment: 'qa' });
    const row = page.locator('tr[data-environment="qa"]');
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete QA' }).click();
    const alert = row.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/CONFLICT.*still in use/);
    expect((await h.server.request('GET', '/api/v1/environments/qa', { token: h.server.adminToken })).status).toBe(200);

    await h.server.admin('DELETE', `/api/v1/api-keys/${key.data.id}`);
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete QA' }).click();
    await vi.waitFor(async () => expect(await page.locator('tr[data-environment="qa"]').count()).toBe(0));
    expect((await h.server.request('GET', '/api/v1/environments/qa', { token: h.server.adminToken })).status).toBe(404);
  });

  it('refuses to delete the default environment, with the reason', async () => {
    const { page } = h.w;
    const row = page.locator('tr[data-environment="production"]');
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete Production' }).click();
    await row.getByRole('alert').waitFor();
    expect(await row.getByRole('alert').textContent()).toContain('default environment');
  });
});

describe('users screen (ADMIN)', () => {
  it('creates a user who can then sign in', async () => {
    const { page } = h.w;
    await nav(page, 'Users').click();
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByLabel('Email').fill('bob@console.test');
    await form.getByLabel('Name').fill('Bob');
    await form.getByLabel('Role').selectOption('EXPERIMENTER');
    await form.getByLabel('Initial password').fill('bob-password-1');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.locator('tr[data-user="bob@console.test"]').waitFor();
    const login = await h.server.request('POST', '/api/v1/auth/login', { body: { email: 'bob@console.test', password: 'bob-password-1' } });
    expect(login.status).toBe(200);
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('shows a duplicate email as a conflict and adds nobody', async () => {
    const { page } = h.w;
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByLabel('Email').fill('bob@console.test');
    await form.getByLabel('Initial password').fill('another-password-1');
    await form.getByRole('button', { name: 'Create user' }).click();
    await form.getByRole('alert').waitFor();
    expect(await form.getByRole('alert').textContent()).toContain('CONFLICT');
    expect((await h.server.admin('GET', '/api/v1/users')).data).toHaveLength(2);
  });

  it("changes a user's role", async () => {
    const { page } = h.w;
    const row = page.locator('tr[data-user="bob@console.test"]');
    await row.getByLabel('Role of bob@console.test').selectOption('VIEWER');
    await vi.waitFor(async () => {
      const users = (await h.server.admin('GET', '/api/v1/users')).data as { attributes: { email: string; role: string } }[];
      expect(users.find((u) => u.attributes.email === 'bob@console.test')!.attributes.role).toBe('VIEWER');
    });
  });

  it('shows the refusal to demote the last admin, and the role stays', async () => {
    const { page } = h.w;
    const row = page.locator(`tr[data-user="${ADMIN_EMAIL}"]`);
    await row.getByLabel(`Role of ${ADMIN_EMAIL}`).selectOption('VIEWER');
    await row.getByRole('alert').waitFor();
    expect(await row.getByRole('alert').textContent()).toContain('CONFLICT');
    await vi.waitFor(async () => expect(await row.getByLabel(`Role of ${ADMIN_EMAIL}`).inputValue()).toBe('ADMIN'));
    const me = (await h.server.admin('GET', '/api/v1/auth/me')).data;
    expect(me.attributes.role).toBe('ADMIN');
  });

  it('deletes a user, who can no longer sign in', async () => {
    const { page } = h.w;
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete bob@console.test' }).click();
    await vi.waitFor(async () => expect(await page.locator('tr[data-user="bob@console.test"]').count()).toBe(0));
    const login = await h.server.request('POST', '/api/v1/auth/login', { body: { email: 'bob@console.test', password: 'bob-password-1' } });
    expect(login.status).toBe(401);
  });

  it('raised no uncaught page error and no CSP violation', () => {
    expect(h.w.errors).toEqual([]);
    expect(h.w.cspViolations).toEqual([]);
  });
});
