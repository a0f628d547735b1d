import { GrowthBookClient } from '@growthbook/growthbook';
import {
  KEYS,
  S2_ROLLOUT,
  S3_ROLLOUT,
  S4_VARIANTS,
  TARGET_COUNTRIES,
  TARGET_EMAIL_SUFFIX,
  TARGET_PLAN,
  TARGET_VERSION,
} from '../scenarios.mjs';

/** @param {string} s */
const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * GrowthBook features. GrowthBook has no `ends_with` operator, so rule 3 is the anchored
 * `$regex` its UI generates; rollouts are force rules with `coverage`, the experiment is an
 * experiment rule with weights.
 */
export const features = {
  [KEYS.s1]: { defaultValue: true },
  [KEYS.s2]: { defaultValue: false, rules: [{ id: 'rollout', force: true, coverage: S2_ROLLOUT / 100, hashAttribute: 'id' }] },
  [KEYS.s3]: {
    defaultValue: false,
    rules: [
      { id: 'country', condition: { country: { $in: [...TARGET_COUNTRIES] } }, force: true },
      { id: 'plan', condition: { plan: { $eq: TARGET_PLAN } }, force: true },
      { id: 'staff', condition: { email: { $regex: `${escapeRegex(TARGET_EMAIL_SUFFIX)}$` } }, force: true },
      { id: 'new-app', condition: { version: { $vgte: TARGET_VERSION } }, force: true },
      { id: 'rollout', force: true, coverage: S3_ROLLOUT / 100, hashAttribute: 'id' },
    ],
  },
  [KEYS.s4]: {
    defaultValue: 'control',
    rules: [
      {
        id: 'experiment',
        key: KEYS.s4,
        variations: S4_VARIANTS.map((v) => v.key),
        weights: S4_VARIANTS.map((v) => v.weight / 100),
        coverage: 1,
        hashAttribute: 'id',
      },
    ],
  },
};

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'growthbook',
  name: 'GrowthBook',
  role: 'peer',
  pkg: '@growthbook/growthbook',
  api: '`GrowthBookClient#evalFeature(key, { attributes })` (the multi-user server client) -> `FeatureResult`',
  async create() {
    const gb = new GrowthBookClient({});
    gb.initSync({ payload: { features } });
    /** @param {import('./types.mjs').User} u */
    const context = (u) => ({ attributes: { id: u.key, country: u.country, plan: u.plan, email: u.email, version: u.version } });
    /** @param {any} r */
    const value = (r) => r.value;
    return {
      context,
      async: false,
      scenarios: {
        s1: { run: (c) => gb.evalFeature(KEYS.s1, c), value },
        s2: { run: (c) => gb.evalFeature(KEYS.s2, c), value },
        // Units left out of the rollout fall through to the default value: both mean rule 5 was reached.
        s3: {
          run: (c) => gb.evalFeature(KEYS.s3, c),
          value,
          rule: (r) => (r.ruleId === 'rollout' || r.source === 'defaultValue' ? 'last' : 'other'),
        },
        s4: { run: (c) => gb.evalFeature(KEYS.s4, c), value },
      },
      close() {
        gb.destroy();
      },
    };
  },
};
