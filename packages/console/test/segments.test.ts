import { describe, expect, it, vi } from 'vitest';
import { seriousA11yViolations } from './support/browser';
import { useConsoleHarness } from './support/harness';

const segment = async () => (await h.server.admin('GET', '/api/v1/segments/beta-testers')).data.attributes;
const evaluate = async (query: string) =>
  (await h.server.admin('GET', `/api/v1/feature-flags/beta-feature/evaluate?${query}`)).data as { variant: string; reason: string };

const h = useConsoleHarness();

describe('segments screen', () => {
  it('creates a segment with included and excluded units and a condition', async () => {
    const { page } = h.w;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Segments' }).click();
    await page.getByText('No segments yet.').waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'New segment' }).click();
    await page.getByLabel('Segment key').fill('beta-testers');
    await page.getByLabel('Segment name').fill('Beta testers');
    await page.getByLabel(/Included units/).fill('u1\nu2, u3');
    await page.getByLabel(/Excluded units/).fill('u9');
    await page.getByRole('button', { name: 'Add attribute clause' }).click();
    await page.getByLabel('Attribute 1').fill('country');
    await page.getByLabel('Operator 1').selectOption('in');
    await page.getByLabel('Values 1').fill('NZ, AU');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.getByRole('heading', { name: 'Beta testers' }).waitFor();
    expect(page.url()).toMatch(/\/segments\/beta-testers$/);
    expect(await segment()).toMatchObject({
      key: 'beta-testers',
      name: 'Beta testers',
      included: ['u1', 'u2', 'u3'],
      excluded: ['u9'],
      when: { attr: 'country', op: 'in', values: ['NZ', 'AU'] },
    });
  });

  it('is what a flag rule that names it serves to (server-side evaluation)', async () => {
    await h.server.admin('POST', '/api/v1/feature-flags', {
      key: 'beta-feature',
      type: 'boolean',
      enabled: true,
      rules: [{ id: 'beta', when: { segment: 'beta-testers' }, serve: { variant: 'on' } }],
      default_serve: { variant: 'off' },
    });
    expect((await evaluate('user_id=u1')).variant).toBe('on');
    expect((await evaluate('user_id=zz&country=NZ')).variant).toBe('on');
    expect((await evaluate('user_id=u9&country=NZ')).variant).toBe('off'); // excluded: the condition does not bring it back
    expect((await evaluate('user_id=zz&country=US')).variant).toBe('off');
  });

  it('shows an invalid condition under the condition and saves nothing', async () => {
    const { page } = h.w;
    await page.getByLabel('Operator 1').selectOption('matches');
    await page.getByLabel('Values 1').fill('(unclosed');
    await page.getByRole('button', { name: 'Save segment' }).click();
    const condition = page.getByRole('group', { name: 'Condition of the segment' });
    await condition.getByRole('alert').first().waitFor();
    expect(await condition.getByRole('alert').first().textContent()).toMatch(/regex|pattern|expression/i);
    expect((await segment()).when.op).toBe('in');
  });

  it('edits the lists and removes the condition', async () => {
    const { page } = h.w;
    await page.getByLabel(/Included units/).fill('u1\nu2\nu3\nu4');
    await page.getByRole('button', { name: 'Remove clause 1 of the segment' }).click();
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const s = await segment();
    expect(s.included).toEqual(['u1', 'u2', 'u3', 'u4']);
    expect(s.when ?? null).toBeNull();
    // Server-side evaluation reads the compiled config, which follows the change right after it.
    await vi.waitFor(async () => expect((await evaluate('user_id=u4')).variant).toBe('on'));
    await vi.waitFor(async () => expect((await evaluate('user_id=zz&country=NZ')).variant).toBe('off'));
  });

  it('lists the segment with its counts', async () => {
    const { page } = h.w;
    await page.getByRole('link', { name: 'Segments' }).first().click();
    const row = page.locator('tr[data-segment="beta-testers"]');
    await row.waitFor();
    await vi.waitFor(async () => expect((await row.locator('td').allTextContents()).slice(0, 2)).toEqual(['4', '1']));
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('raised no uncaught page error and no CSP violation', () => {
    expect(h.w.errors).toEqual([]);
    expect(h.w.cspViolations).toEqual([]);
  });
});
