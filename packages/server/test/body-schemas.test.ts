import { configExperimentSchema, FLAG_STATE_FIELDS, flagSchema, segmentSchema } from '@switchyard/core/schema';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { experimentCreateBody, experimentUpdateBody } from '../src/routes/experiments';
import { flagCreateBody, flagStateBody, flagUpdateBody } from '../src/routes/feature-flags';
import { segmentCreateBody, segmentUpdateBody } from '../src/routes/segments';

/**
 * The management API's flag, segment and experiment bodies are built from core's shapes (the config
 * document's): a field core adds, or a constraint it tightens, reaches the API without a second
 * list to keep in step. These fail when the two diverge.
 */

/** The schema a body field wraps (bodies make core's fields optional, and `when` nullable too). */
function core(field: z.ZodType): z.ZodType {
  let s = field as z.ZodType & { unwrap?: () => z.ZodType };
  while (s.unwrap !== undefined && ['optional', 'nullable'].includes((s as unknown as { def: { type: string } }).def.type)) s = s.unwrap();
  return s;
}

describe('management API bodies derived from core', () => {
  it("every field of core's flag is in the create and update bodies, with core's own schema", () => {
    for (const [field, schema] of Object.entries(flagSchema.shape)) {
      for (const body of [flagCreateBody, flagUpdateBody]) {
        const mine = (body.shape as Record<string, z.ZodType>)[field];
        expect(mine, `${field} is missing from a flag body`).toBeDefined();
        expect(core(mine!), field).toBe(core(schema));
      }
    }
    // The contract's required fields at creation.
    expect(flagCreateBody.shape.key).toBe(flagSchema.shape.key);
    expect(flagCreateBody.shape.type).toBe(flagSchema.shape.type);
  });

  it("a flag's per-environment state body holds exactly core's state fields", () => {
    expect(Object.keys(flagStateBody.shape).sort()).toEqual([...FLAG_STATE_FIELDS].sort());
    for (const field of FLAG_STATE_FIELDS) expect(core(flagStateBody.shape[field]), field).toBe(core(flagSchema.shape[field]));
  });

  it("every field of core's segment is in the segment bodies, with core's own schema", () => {
    for (const [field, schema] of Object.entries(segmentSchema.shape)) {
      for (const body of [segmentCreateBody, segmentUpdateBody]) {
        const mine = (body.shape as Record<string, z.ZodType>)[field];
        expect(mine, `${field} is missing from a segment body`).toBeDefined();
        expect(core(mine!), field).toBe(core(schema));
      }
    }
  });

  it("every field of core's experiment (as the config document holds it) is in the experiment bodies, with core's own schema", () => {
    for (const [field, schema] of Object.entries(configExperimentSchema.shape)) {
      // `status` is changed by the lifecycle actions and `rollout` set by a guarded rollout, never by a body.
      if (field === 'status' || field === 'rollout') continue;
      for (const body of [experimentCreateBody, experimentUpdateBody]) {
        const mine = (body.shape as Record<string, z.ZodType>)[field];
        expect(mine, `${field} is missing from an experiment body`).toBeDefined();
        expect(core(mine!), field).toBe(core(schema));
      }
    }
    expect(experimentCreateBody.shape.variants).toBe(configExperimentSchema.shape.variants);
    // A body cannot mark an experiment as a rollout's (that would hide it from every-flag listings).
    const variants = [{ key: 'control', weight: 100 }];
    const rollout = { id: 'r1', flag: 'f' };
    expect(experimentCreateBody.safeParse({ key: 'e', variants, rollout }).success).toBe(false);
    expect(experimentUpdateBody.safeParse({ rollout }).success).toBe(false);
  });

  it('rejects at the body what core rejects in the document (a constraint is not lost on the way)', () => {
    const rule = { id: '', serve: { variant: 'on' } };
    expect(flagCreateBody.safeParse({ key: 'f', type: 'boolean', rules: [rule] }).success).toBe(false);
    expect(flagCreateBody.safeParse({ key: 'f', type: 'boolean', bucket_by: '' }).success).toBe(false);
    expect(segmentCreateBody.safeParse({ key: 's', included: ['x'.repeat(257)] }).success).toBe(false);
    expect(flagCreateBody.safeParse({ key: 'f', type: 'boolean', rules: [{ id: 'r', serve: { variant: 'on' } }] }).success).toBe(true);
    const variants = [
      { key: 'control', weight: 50 },
      { key: 'b', weight: 50 },
    ];
    expect(experimentCreateBody.safeParse({ key: 'e', variants, traffic_allocation: 101 }).success).toBe(false);
    expect(experimentCreateBody.safeParse({ key: 'e', variants, bucket_by: '' }).success).toBe(false);
    expect(experimentCreateBody.safeParse({ key: 'e', variants, traffic_allocation: 50, namespace: null, targeting: null }).success).toBe(
      true,
    );
  });
});
