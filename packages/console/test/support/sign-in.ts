/** Signs in through the form, as a person would, and waits for the flags list. */
export async function signIn(page: import('playwright-core').Page, email: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Feature flags' }).waitFor();
}
