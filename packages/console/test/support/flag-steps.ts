import type { Page } from 'playwright-core';

/** Creates a flag through the "New flag" dialog of the flags list; the flag's page opens. */
export async function createFlagInDialog(page: Page, key: string, name: string): Promise<void> {
  await page.getByRole('button', { name: 'New flag' }).click();
  const dialog = page.getByRole('dialog', { name: 'New flag' });
  await dialog.getByLabel('Key').fill(key);
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create flag' }).click();
}

/** Adds a rule to the targeting draft on screen: emails ending in `@example.com` get `on`. */
export async function addStaffRule(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Add rule' }).click();
  await page.getByRole('button', { name: 'Add attribute clause' }).click();
  await page.getByLabel('Attribute 1').fill('email');
  await page.getByLabel('Operator 1').selectOption('ends_with');
  await page.getByLabel('Values 1').fill('@example.com');
  await page.getByRole('group', { name: 'Serve for rule 1' }).getByLabel('Variant to serve').selectOption('on');
}
