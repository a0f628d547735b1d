import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './adapters/index.mjs';
import { EXPECTATIONS, KEYS, SCENARIO_IDS, TARGET_COUNTRIES, TARGET_PLAN, checkSummary, generateUsers, summarize } from './scenarios.mjs';

// Correctness only: every adapter must give the answers the scenario promises, so the timings
// in RESULTS.md compare equivalent work. No timing assertions here.

// 2,000 users: enough that ±3 points on a 33 % share is about 3 standard deviations of sampling noise.
const USERS = generateUsers(2_000);

/**
 * @param {import('./adapters/types.mjs').AdapterInstance} inst
 * @param {'s1' | 's2' | 's3' | 's4'} scenario
 * @param {any} context
 */
async function evalOnce(inst, scenario, context) {
  const sc = inst.scenarios[scenario];
  let r = sc.run(context);
  if (inst.async) r = await r;
  return { result: r, value: sc.value(r), rule: sc.rule ? sc.rule(r) : null };
}

describe('generated users', () => {
  it('are distinct, flat, and miss S3 rules 1-4 by construction', () => {
    const all = generateUsers();
    expect(all).toHaveLength(10_000);
    expect(new Set(all.map((u) => u.key)).size).toBe(10_000);
    expect(generateUsers(600)).toEqual(all.slice(0, 600)); // a prefix of the same sequence
    for (const u of all) {
      expect(TARGET_COUNTRIES).not.toContain(u.country);
      expect(u.plan).not.toBe(TARGET_PLAN);
      expect(u.email.endsWith('@example.com')).toBe(false);
      expect(Number(u.version.split('.')[0])).toBeLessThan(5);
    }
  });
});

for (const adapter of ADAPTERS) {
  describe(`${adapter.name} adapter`, () => {
    /** @type {import('./adapters/types.mjs').AdapterInstance} */
    let inst;
    beforeAll(async () => {
      inst = await adapter.create();
    });
    afterAll(async () => {
      await inst?.close();
    });

    for (const scenario of SCENARIO_IDS) {
      it(`${scenario}: matches the scenario's expectation over ${USERS.length} users`, async () => {
        const values = [];
        const rules = inst.scenarios[scenario].rule ? [] : null;
        for (const u of USERS) {
          const { value, rule } = await evalOnce(inst, scenario, inst.context(u));
          values.push(value);
          if (rules !== null) rules.push(rule);
        }
        const summary = summarize(EXPECTATIONS[scenario].kind, values, rules);
        expect(checkSummary(scenario, summary)).toEqual([]);
      });
    }

    it('s3: each of rules 1-4 serves true on its own (the rules are really evaluated)', async () => {
      const base = USERS[0];
      const variants = [
        { ...base, country: TARGET_COUNTRIES[7] },
        { ...base, plan: TARGET_PLAN },
        { ...base, email: 'someone@example.com' },
        { ...base, version: '5.0.0' },
        { ...base, version: '12.3.4' },
      ];
      for (const u of variants) {
        const { value } = await evalOnce(inst, 's3', inst.context(u));
        expect(value, JSON.stringify(u)).toBe(true);
      }
    });

    it('is deterministic: the same user gets the same answer every time', async () => {
      for (const scenario of SCENARIO_IDS) {
        for (const u of USERS.slice(0, 50)) {
          const a = await evalOnce(inst, scenario, inst.context(u));
          const b = await evalOnce(inst, scenario, inst.context(u));
          expect(b.value).toEqual(a.value);
        }
      }
    });
  });
}

describe('Switchyard and the floors', () => {
  it('agree user by user (same hashing contract), and Switchyard returns full details', async () => {
    const byId = Object.fromEntries(ADAPTERS.map((a) => [a.id, a]));
    const sw = await byId.switchyard.create();
    const floors = [await byId['floor-chars'].create(), await byId['floor-bytes'].create()];
    for (const u of USERS) {
      for (const scenario of SCENARIO_IDS) {
        const d = (await evalOnce(sw, scenario, sw.context(u))).result;
        expect(d).toMatchObject({ variant: expect.any(String), reason: expect.any(String) });
        for (const f of floors) expect((await evalOnce(f, scenario, f.context(u))).value).toEqual(sw.scenarios[scenario].value(d));
      }
      const s3 = (await evalOnce(sw, 's3', sw.context(u))).result;
      expect(s3).toMatchObject({ reason: 'SPLIT', ruleId: 'rollout' });
      expect((await evalOnce(sw, 's4', sw.context(u))).result).toMatchObject({ reason: 'SPLIT', inExperiment: true });
    }
    expect(Object.values(KEYS)).toHaveLength(4);
  });
});
