import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startReceiver, type Receiver } from '../../server/test/webhook-receiver';
import { seriousA11yViolations } from './support/browser';
import { useConsoleHarness } from './support/harness';

const h = useConsoleHarness({ serverOptions: { webhookAllowPrivate: true } });
let receiver: Receiver;

// The receiver listens on loopback, which only webhookAllowPrivate lets a webhook target.
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});
describe('webhooks screen', () => {
  it('subscribes a receiver, shows the secret once, lists deliveries and redelivers', async () => {
    const { page } = h.w;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByLabel('Description').fill('ops channel');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const secret = (await page.getByTestId('webhook-secret').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Done' }).click();
    const row = page.locator(`tr[data-url="${receiver.url}"]`);
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);

    // A flag change is delivered, signed with the secret the screen showed.
    receiver.secret = secret;
    await h.server.admin('POST', '/api/v1/feature-flags', { key: 'hooked', type: 'boolean' });
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 15_000 });
    expect(receiver.received[0]!).toMatchObject({ verified: true, body: { type: 'flag.created' } });

    await row.getByRole('button', { name: 'Deliveries' }).click();
    const delivery = page.locator(`tr[data-delivery="${receiver.received[0]!.id}"]`);
    await delivery.waitFor();
    expect(await delivery.getAttribute('data-status')).toBe('succeeded');
    expect(await delivery.textContent()).toContain('200');
    await delivery.getByRole('button', { name: 'Redeliver' }).click();
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), { timeout: 15_000 });
    expect(receiver.received[1]!.id).toBe(receiver.received[0]!.id);
    await vi.waitFor(async () => expect(await delivery.textContent()).toMatch(/succeeded\s*2/), { timeout: 15_000 });

    await row.getByRole('button', { name: 'Disable' }).click();
    await page.locator(`tr[data-url="${receiver.url}"][data-enabled="false"]`).waitFor();
    expect(await delivery.getByRole('button', { name: 'Redeliver' }).isDisabled()).toBe(true);
  });
});
