import { randomUUID } from 'node:crypto';
import { compileConfig, evaluate } from '@switchyard/core';
import type { StoredEvent } from '../../store/types';
import { ExperimentService } from '../domain/experiments';
import { FlagService } from '../domain/flags';
import { stateFieldsOf } from '../domain/flag-spec';
import { segmentSpec } from '../domain/segment-spec';
import { ResourceService } from '../domain/resource-service';
import { commitMutation, systemOrigin, type ServerContext } from '../context';
import type { UserRow } from '../../store/types';
import { prng } from '../infra/prng';

const DEMO_SEGMENTS = [
  {
    key: 'beta-testers',
    name: 'Beta testers',
    included: ['user-1', 'user-2'],
    excluded: [],
    when: { attr: 'email', op: 'ends_with', values: ['@beta.example.com'] },
  },
];

const DEMO_FLAGS = [
  {
    key: 'checkout-backend',
    name: 'Checkout backend v2',
    type: 'boolean',
    enabled: true,
  },
  {
    key: 'new-checkout',
    name: 'New checkout',
    type: 'boolean',
    enabled: true,
    prerequisites: [{ flag: 'checkout-backend', variants: ['on'] }],
    rules: [
      { id: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } },
      {
        id: 'beta',
        when: { segment: 'beta-testers' },
        serve: {
          split: [
            { variant: 'on', weight: 20 },
            { variant: 'off', weight: 80 },
          ],
        },
      },
    ],
    default_serve: { variant: 'off' },
  },
  {
    key: 'pricing-page',
    name: 'Pricing page layout',
    type: 'string',
    enabled: true,
    variants: [
      { key: 'classic', value: 'classic' },
      { key: 'cards', value: 'cards' },
      { key: 'table', value: 'table' },
    ],
    off_variant: 'classic',
    rules: [{ id: 'eu', when: { attr: 'country', op: 'in', values: ['DE', 'FR', 'NL', 'ES', 'IT'] }, serve: { variant: 'cards' } }],
    default_serve: {
      split: [
        { variant: 'classic', weight: 50 },
        { variant: 'table', weight: 50 },
      ],
    },
  },
  {
    key: 'search-results-limit',
    name: 'Search results per page',
    type: 'number',
    enabled: true,
    variants: [
      { key: 'ten', value: 10 },
      { key: 'twenty', value: 20 },
    ],
    rules: [{ id: 'modern-app', when: { attr: 'app_version', op: 'semver_gte', values: ['2.0.0'] }, serve: { variant: 'twenty' } }],
    default_serve: { variant: 'ten' },
  },
];

/**
 * How development and staging differ from production for each demo flag (fields over
 * production's state), so that the environments show the point at once: development serves the
 * new thing to everyone, staging tries it on a wider rollout, production is careful.
 */
const DEMO_STATES: Record<string, { development: Record<string, unknown>; staging: Record<string, unknown> }> = {
  'checkout-backend': { development: {}, staging: {} },
  'new-checkout': {
    development: { rules: [], default_serve: { variant: 'on' } },
    staging: {
      rules: [
        { id: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } },
        {
          id: 'beta',
          when: { segment: 'beta-testers' },
          serve: {
            split: [
              { variant: 'on', weight: 50 },
              { variant: 'off', weight: 50 },
            ],
          },
        },
      ],
    },
  },
  'pricing-page': { development: { rules: [], default_serve: { variant: 'cards' } }, staging: { default_serve: { variant: 'table' } } },
  'search-results-limit': { development: { default_serve: { variant: 'twenty' } }, staging: { enabled: false } },
};

const DEMO_STAGING = { key: 'staging', name: 'Staging', color: '#f59e0b', protected: false };

const DEMO_EXPERIMENT = {
  key: 'checkout-cta',
  name: 'Checkout button colour',
  hypothesis: 'A green checkout button converts better than the blue one',
  variants: [
    { key: 'control', weight: 50, value: 'blue' },
    { key: 'green', weight: 50, value: 'green' },
  ],
  metrics: [
    { key: 'purchase', type: 'conversion' },
    { key: 'revenue', type: 'mean' },
  ],
  primary_metric: 'purchase',
  guardrails: [{ metric: 'errors', max_relative_increase: 0.25 }],
};

/** How long the demo experiment has been running: its simulated traffic spans it. */
const DEMO_WEEK_MS = 7 * 86_400_000;

/** Simulated traffic: units enrolled as an SDK would enroll them, green converting ~12 % better. */
function simulatedEvents(ctx: ServerContext, units: number): StoredEvent[] {
  const compiled = compileConfig(ctx.config.document);
  const rnd = prng(42);
  const now = ctx.now();
  const events: StoredEvent[] = [];
  const base = { environment: 'production', experiment: null, variant: null, value: null, properties: null, receivedAt: now };
  for (let i = 0; i < units; i++) {
    const unitId = `demo-user-${i}`;
    const d = evaluate(compiled, DEMO_EXPERIMENT.key, { key: unitId }, 'blue');
    if (d.inExperiment !== true || d.variant === null) continue;
    const ts = now - DEMO_WEEK_MS + Math.floor((i / units) * DEMO_WEEK_MS);
    events.push({
      ...base,
      id: randomUUID(),
      type: 'exposure',
      key: DEMO_EXPERIMENT.key,
      unitId,
      environment: 'production',
      experiment: DEMO_EXPERIMENT.key,
      variant: d.variant,
      timestamp: ts,
    });
    const rate = d.variant === 'green' ? 0.12 : 0.1;
    if (rnd() < rate) {
      const value = Math.round((30 + rnd() * 70) * 100) / 100;
      events.push({ ...base, id: randomUUID(), type: 'track', key: 'purchase', unitId, value, timestamp: ts + 60_000 });
      events.push({ ...base, id: randomUUID(), type: 'track', key: 'revenue', unitId, value, timestamp: ts + 60_000 });
    }
    if (rnd() < 0.02) events.push({ ...base, id: randomUUID(), type: 'track', key: 'errors', unitId, value: 1, timestamp: ts + 1000 });
  }
  return events;
}

/**
 * Seeds a `staging` environment, demo flags (different states in development, staging and
 * production) and a segment, and a running experiment in production, idempotently: only what is
 * missing is created, as the first ADMIN, through the same services (and audit) as the API.
 */
export async function seedDemo(ctx: ServerContext, admin: UserRow): Promise<string[]> {
  const origin = {
    ...systemOrigin('production'),
    actor: { type: 'user' as const, id: admin.id, email: admin.email, role: admin.role, label: 'demo seed' },
  };
  const created: string[] = [];
  if ((await ctx.store.getResource('environment', DEMO_STAGING.key)) === null) {
    const at = new Date(ctx.now()).toISOString();
    const row = {
      seq: 0,
      id: randomUUID(),
      kind: 'environment' as const,
      environment: null,
      key: DEMO_STAGING.key,
      ownerId: null,
      status: null,
      data: DEMO_STAGING,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    await commitMutation(ctx, origin, {
      writes: [{ table: 'resources', action: 'insert', row }],
      audit: {
        action: 'environment.create',
        resourceType: 'environment',
        resourceId: row.id,
        resourceKey: row.key,
        environment: row.key,
        before: null,
        after: row.data,
      },
    });
    created.push('environment staging');
  }
  const environments = new Set((await ctx.store.allResources('environment')).map((r) => r.key));
  const segments = new ResourceService(segmentSpec, ctx);
  for (const s of DEMO_SEGMENTS) {
    if ((await ctx.store.getResource('segment', s.key)) === null) {
      await segments.create(origin, s);
      created.push(`segment ${s.key}`);
    }
  }
  const flags = new FlagService(ctx);
  for (const f of DEMO_FLAGS) {
    if ((await ctx.store.findByKey(['flag', 'experiment'], f.key)) === null) {
      const production = stateFieldsOf(f);
      const others: Record<string, Record<string, unknown>> = {};
      for (const [env, over] of Object.entries(DEMO_STATES[f.key] ?? {}))
        if (environments.has(env)) others[env] = { ...production, ...over };
      await flags.create(origin, { ...f, environments: others });
      created.push(`flag ${f.key}`);
    }
  }
  if ((await ctx.store.findByKey(['flag', 'experiment'], DEMO_EXPERIMENT.key)) === null) {
    const experiments = new ExperimentService(ctx);
    await experiments.create(origin, DEMO_EXPERIMENT);
    // Started when its simulated week began: results count only exposures from the start on.
    const draft = await experiments.get(origin, DEMO_EXPERIMENT.key);
    await experiments.transitionRow(origin, draft, 'start', { started_at: new Date(ctx.now() - DEMO_WEEK_MS).toISOString() });
    const events = simulatedEvents(ctx, 20_000);
    for (let i = 0; i < events.length; i += 1000) await ctx.events.write(events.slice(i, i + 1000));
    created.push(`experiment ${DEMO_EXPERIMENT.key} with ${events.length} simulated events`);
  }
  return created;
}
