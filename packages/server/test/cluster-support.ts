import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import type { TestServer } from './helpers';

/** Runs one query on a fresh connection to `url`. */
export async function sql(url: string, query: string, params: unknown[] = []): Promise<any[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(query, params)).rows;
  } finally {
    await c.end();
  }
}

/** Audit records of one action on one resource key, straight from the database. */
export async function auditCount(url: string, action: string, key: string): Promise<number> {
  return (await sql(url, 'SELECT COUNT(*)::int AS n FROM audit_log WHERE action = $1 AND resource_key = $2', [action, key]))[0].n;
}

/** An experiment body with an `errors` guardrail (10 % relative increase). */
export const guardedExperiment = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  variants: [
    { key: 'control', weight: 50 },
    { key: 'treatment', weight: 50 },
  ],
  metrics: [{ key: 'purchase', type: 'conversion' }],
  guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }],
  ...extra,
});

/**
 * Sends exposures of `units` units split over control and treatment of experiment `key`, with
 * an `errors` event for 5 % of control units and 40 % of treatment units: a clear breach.
 * `ts` (default now) must lie after the experiment started: results count only its run.
 */
export async function feedBreach(t: TestServer, key: string, units = 1200, ts = Date.now()): Promise<void> {
  let events: unknown[] = [];
  for (let i = 0; i < units; i++) {
    const variant = i % 2 === 0 ? 'control' : 'treatment';
    const unit = `${key}-${i}`;
    events.push({ id: randomUUID(), type: 'exposure', key, experiment: key, variant, unit_id: unit, timestamp: ts });
    const rate = variant === 'control' ? 0.05 : 0.4;
    if ((i * 7919) % 1000 < rate * 1000)
      events.push({ id: randomUUID(), type: 'track', key: 'errors', unit_id: unit, value: 1, timestamp: ts + 1 });
    if (events.length >= 900 || i === units - 1) {
      const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      events = [];
    }
  }
}

/** A counter's value in a Prometheus text exposition (0 when absent). */
export function counterValue(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    if (want.every((w) => body.split(',').includes(w))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
