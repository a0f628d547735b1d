import { compileConfig, evaluate } from '@switchyard/core';
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

const ON_OFF = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];

/** @param {number} p */
const rollout = (p) => ({
  split: [
    { variant: 'on', weight: p },
    { variant: 'off', weight: 100 - p },
  ],
});

/** The Switchyard config document for the four scenarios. */
export const document = {
  schema_version: 1,
  version: 1,
  flags: {
    [KEYS.s1]: {
      key: KEYS.s1,
      type: 'boolean',
      enabled: true,
      variants: ON_OFF,
      off_variant: 'off',
      rules: [],
      default_serve: { variant: 'on' },
    },
    [KEYS.s2]: {
      key: KEYS.s2,
      type: 'boolean',
      enabled: true,
      variants: ON_OFF,
      off_variant: 'off',
      rules: [],
      default_serve: rollout(S2_ROLLOUT),
    },
    [KEYS.s3]: {
      key: KEYS.s3,
      type: 'boolean',
      enabled: true,
      variants: ON_OFF,
      off_variant: 'off',
      rules: [
        { id: 'country', when: { attr: 'country', op: 'in', values: [...TARGET_COUNTRIES] }, serve: { variant: 'on' } },
        { id: 'plan', when: { attr: 'plan', op: 'eq', values: [TARGET_PLAN] }, serve: { variant: 'on' } },
        { id: 'staff', when: { attr: 'email', op: 'ends_with', values: [TARGET_EMAIL_SUFFIX] }, serve: { variant: 'on' } },
        { id: 'new-app', when: { attr: 'version', op: 'semver_gte', values: [TARGET_VERSION] }, serve: { variant: 'on' } },
        { id: 'rollout', serve: rollout(S3_ROLLOUT) },
      ],
      default_serve: { variant: 'off' },
    },
  },
  segments: {},
  experiments: {
    [KEYS.s4]: {
      key: KEYS.s4,
      status: 'RUNNING',
      variants: S4_VARIANTS.map((v) => ({ key: v.key, weight: v.weight })),
      traffic_allocation: 100,
    },
  },
};

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'switchyard',
  name: 'Switchyard',
  role: 'switchyard',
  pkg: '@switchyard/core',
  api: '`evaluate(compiled, key, context, default)` -> full detail `{ value, variant, reason, ruleId? }`',
  async create() {
    const compiled = compileConfig(/** @type {any} */ (document));
    /** @param {import('./types.mjs').User} u */
    const context = (u) => ({ key: u.key, country: u.country, plan: u.plan, email: u.email, version: u.version });
    /** @param {any} d */
    const value = (d) => d.value;
    return {
      context,
      async: false,
      scenarios: {
        s1: { run: (c) => evaluate(compiled, KEYS.s1, c, false), value },
        s2: { run: (c) => evaluate(compiled, KEYS.s2, c, false), value },
        s3: { run: (c) => evaluate(compiled, KEYS.s3, c, false), value, rule: (d) => (d.ruleId === 'rollout' ? 'last' : 'other') },
        s4: { run: (c) => evaluate(compiled, KEYS.s4, c, 'control'), value: (d) => d.variant },
      },
      close() {},
    };
  },
};
