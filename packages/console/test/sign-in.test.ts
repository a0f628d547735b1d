import { describe, expect, it } from 'vitest';
import { seriousA11yViolations } from './support/browser';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './support/server';
import { signIn } from './support/sign-in';
import { useConsoleHarness } from './support/harness';

const h = useConsoleHarness({ page: false });

describe('sign-in, sign-out and the page headers', () => {
  it('serves the console with a strict CSP and Permissions-Policy', async () => {
    const w = await h.blank();
    const res = await w.page.goto('/flags');
    const headers = res!.headers();
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(headers['permissions-policy']).toContain('camera=()');
    expect(headers['cache-control']).toBe('no-cache');
    await w.context.close();
  });

  it('refuses a wrong password with a message, then signs in and out', async () => {
    const w = await h.blank();
    await w.page.goto('/flags');
    // Not signed in: the app sends the visitor to the sign-in form.
    await w.page.getByRole('heading', { name: 'Sign in to Switchyard' }).waitFor();
    expect(await seriousA11yViolations(w.page)).toEqual([]);
    // No OIDC issuer configured: no identity-provider sign-in is offered.
    expect(await w.page.getByRole('heading', { name: 'Sign in with your identity provider' }).count()).toBe(0);
    await w.page.getByLabel('Email').fill(ADMIN_EMAIL);
    await w.page.getByLabel('Password').fill('wrong-password');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await w.page.getByRole('alert').filter({ hasText: 'incorrect' }).waitFor();

    await signIn(w.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    // A reload keeps the session: the cookie, not page memory, carries it.
    await w.page.reload();
    await w.page.getByRole('heading', { name: 'Feature flags' }).waitFor();

    await w.page.getByRole('button', { name: 'Sign out' }).click();
    await w.page.getByRole('heading', { name: 'Sign in to Switchyard' }).waitFor();
    expect((await w.context.cookies()).find((c) => c.name === 'sy_session')).toBeUndefined();
    await w.page.goto('/flags');
    await w.page.getByRole('heading', { name: 'Sign in to Switchyard' }).waitFor();
    expect(w.errors).toEqual([]);
    expect(w.cspViolations).toEqual([]);
    await w.context.close();
  });
});
