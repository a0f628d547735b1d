import { commitMutation, SYSTEM_ORIGIN } from '../src/services/context';
import type { TestServer } from './helpers';

/** The single-flag evaluation path. */
export const SINGLE = '/ofrep/v1/evaluate/flags';

async function createFlag(t: TestServer, body: Record<string, unknown>): Promise<void> {
  const r = await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body });
  if (r.status !== 201) throw new Error(`flag create failed: ${r.status} ${JSON.stringify(r.body)}`);
}

/** The flags every test below reads. */
export async function seed(t: TestServer): Promise<void> {
  await createFlag(t, {
    key: 'of-bool',
    type: 'boolean',
    enabled: true,
    rules: [{ id: 'us', when: { attr: 'country', op: 'eq', values: ['US'] }, serve: { variant: 'on' } }],
    default_serve: { variant: 'off' },
  });
  await createFlag(t, {
    key: 'of-string',
    type: 'string',
    enabled: true,
    variants: [
      { key: 'blue', value: 'blue' },
      { key: 'green', value: 'green' },
    ],
    rules: [{ id: 'pro', when: { attr: 'plan', op: 'eq', values: ['pro'] }, serve: { variant: 'green' } }],
    default_serve: { variant: 'blue' },
  });
  // Targets the unit id, so it proves that targetingKey becomes Switchyard's `key`.
  await createFlag(t, {
    key: 'of-number',
    type: 'number',
    enabled: true,
    variants: [
      { key: 'low', value: 10 },
      { key: 'high', value: 99.5 },
    ],
    rules: [{ id: 'vip', when: { attr: 'key', op: 'eq', values: ['vip-user'] }, serve: { variant: 'high' } }],
    default_serve: { variant: 'low' },
  });
  await createFlag(t, {
    key: 'of-json',
    type: 'json',
    enabled: true,
    variants: [{ key: 'v1', value: { theme: 'dark', max: 3 } }],
    default_serve: { variant: 'v1' },
  });
  await createFlag(t, {
    key: 'of-split',
    type: 'boolean',
    enabled: true,
    default_serve: {
      split: [
        { variant: 'on', weight: 50 },
        { variant: 'off', weight: 50 },
      ],
    },
  });
  // Disabled without an off variant: Switchyard serves "the caller's default".
  await createFlag(t, {
    key: 'of-dark',
    type: 'string',
    enabled: false,
    variants: [{ key: 'a', value: 'a' }],
    default_serve: { variant: 'a' },
  });
  // There is no experiment API in this test's scope: the experiment enters the config directly.
  await commitMutation(t.server.ctx, SYSTEM_ORIGIN, {
    writes: [],
    patches: {
      production: {
        experiments: {
          'of-exp': {
            key: 'of-exp',
            status: 'RUNNING',
            salt: 'of-exp',
            bucket_by: 'key',
            traffic_allocation: 100,
            targeting: { attr: 'country', op: 'eq', values: ['US'] },
            variants: [
              { key: 'control', weight: 50, value: 'old' },
              { key: 'treatment', weight: 50, value: 'new' },
            ],
          },
        },
      },
    },
    audit: { action: 'experiment.test', resourceType: 'experiment', resourceId: null, resourceKey: 'of-exp', before: null, after: null },
  });
}
