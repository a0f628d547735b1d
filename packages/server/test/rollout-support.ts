import { randomUUID } from 'node:crypto';
import { compileConfig, evaluate, type ConfigDocument } from '@switchyard/core';
import { expect } from 'vitest';
import type { TestServer } from './helpers';

/** A boolean flag enabled in production that serves `off` by default. */
export const offFlag = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  type: 'boolean',
  enabled: true,
  default_serve: { variant: 'off' },
  ...extra,
});

/** A rollout body: `on` over `off`, an `errors` conversion guardrail of +10 %. */
export const rolloutBody = (extra: Record<string, unknown> = {}) => ({
  variant: 'on',
  stages: [{ percent: 20, hold_minutes: 10 }, { percent: 60, hold_minutes: 10 }, { percent: 100 }],
  guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.1 }],
  ...extra,
});

/** `/api/v1/feature-flags/{flag}/environments/{env}/rollouts` (+ `/{id}`). */
export const rolloutsPath = (flag: string, id?: string, env = 'production') =>
  `/api/v1/feature-flags/${flag}/environments/${env}/rollouts${id === undefined ? '' : `/${id}`}`;

/**
 * What an honest SDK does for `units` units: evaluates `flag` with the config the server publishes
 * now (core, as every SDK), reports one exposure per unit the flag's experiment enrols, and an
 * `errors` event for each unit `errs(variant, i)` says. Returns the variant each unit got.
 */
export async function trafficThrough(
  t: TestServer,
  flag: string,
  units: readonly string[],
  errs: (variant: string, i: number) => boolean = () => false,
): Promise<Map<string, string>> {
  const doc = (await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).body as ConfigDocument;
  const compiled = compileConfig(doc);
  const got = new Map<string, string>();
  let events: unknown[] = [];
  const ts = Date.now();
  for (const [i, unit] of units.entries()) {
    const d = evaluate(compiled, flag, { key: unit }, false);
    got.set(unit, d.variant!);
    if (d.experiment !== undefined)
      events.push({
        id: randomUUID(),
        type: 'exposure',
        key: d.experiment,
        experiment: d.experiment,
        variant: d.variant,
        unit_id: unit,
        timestamp: ts,
      });
    if (errs(d.variant!, i)) events.push({ id: randomUUID(), type: 'track', key: 'errors', unit_id: unit, value: 1, timestamp: ts + 1 });
    if (events.length >= 900 || (i === units.length - 1 && events.length > 0)) {
      const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      events = [];
    }
  }
  return got;
}
