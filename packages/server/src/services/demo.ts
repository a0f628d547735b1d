import { flagSpec } from './flag-spec';
import { segmentSpec } from './segment-spec';
import { ResourceService } from './resource-service';
import { SYSTEM_ORIGIN, type ServerContext } from './context';
import type { UserRow } from '../store/types';

const DEMO_SEGMENTS = [
  { key: 'beta-testers', name: 'Beta testers', included: ['user-1', 'user-2'], excluded: [], when: { attr: 'email', op: 'ends_with', values: ['@beta.example.com'] } },
];

const DEMO_FLAGS = [
  {
    key: 'checkout-backend', name: 'Checkout backend v2', type: 'boolean', enabled: true,
  },
  {
    key: 'new-checkout', name: 'New checkout', type: 'boolean', enabled: true,
    prerequisites: [{ flag: 'checkout-backend', variants: ['on'] }],
    rules: [
      { id: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } },
      { id: 'beta', when: { segment: 'beta-testers' }, serve: { split: [{ variant: 'on', weight: 20 }, { variant: 'off', weight: 80 }] } },
    ],
    default_serve: { variant: 'off' },
  },
  {
    key: 'pricing-page', name: 'Pricing page layout', type: 'string', enabled: true,
    variants: [{ key: 'classic', value: 'classic' }, { key: 'cards', value: 'cards' }, { key: 'table', value: 'table' }],
    off_variant: 'classic',
    rules: [{ id: 'eu', when: { attr: 'country', op: 'in', values: ['DE', 'FR', 'NL', 'ES', 'IT'] }, serve: { variant: 'cards' } }],
    default_serve: { split: [{ variant: 'classic', weight: 50 }, { variant: 'table', weight: 50 }] },
  },
  {
    key: 'search-results-limit', name: 'Search results per page', type: 'number', enabled: true,
    variants: [{ key: 'ten', value: 10 }, { key: 'twenty', value: 20 }],
    rules: [{ id: 'modern-app', when: { attr: 'app_version', op: 'semver_gte', values: ['2.0.0'] }, serve: { variant: 'twenty' } }],
    default_serve: { variant: 'ten' },
  },
];

/**
 * Seeds demo flags and a segment, idempotently: only what is missing is created, as the first
 * ADMIN, through the same service (and audit) as the API.
 */
export async function seedDemo(ctx: ServerContext, admin: UserRow): Promise<string[]> {
  const origin = { ...SYSTEM_ORIGIN, actor: { type: 'user' as const, id: admin.id, email: admin.email, role: admin.role, label: 'demo seed' } };
  const created: string[] = [];
  const segments = new ResourceService(segmentSpec, ctx);
  for (const s of DEMO_SEGMENTS) {
    if ((await ctx.store.getResource('segment', s.key)) === null) {
      await segments.create(origin, s);
      created.push(`segment ${s.key}`);
    }
  }
  const flags = new ResourceService(flagSpec, ctx);
  for (const f of DEMO_FLAGS) {
    if ((await ctx.store.findByKey(['flag', 'experiment'], f.key)) === null) {
      await flags.create(origin, f);
      created.push(`flag ${f.key}`);
    }
  }
  return created;
}
