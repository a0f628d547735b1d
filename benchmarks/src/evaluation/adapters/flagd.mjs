import { FlagdCore } from '@openfeature/flagd-core';
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

const ON_OFF = { on: true, off: false };

/**
 * flagd flag definitions. Rules in order are an `if` chain; rollouts and the experiment are
 * `fractional` (bucketed by flag key + targetingKey).
 */
export const flags = {
  flags: {
    [KEYS.s1]: { state: 'ENABLED', variants: ON_OFF, defaultVariant: 'on' },
    [KEYS.s2]: {
      state: 'ENABLED',
      variants: ON_OFF,
      defaultVariant: 'off',
      targeting: {
        fractional: [
          ['on', S2_ROLLOUT],
          ['off', 100 - S2_ROLLOUT],
        ],
      },
    },
    [KEYS.s3]: {
      state: 'ENABLED',
      variants: ON_OFF,
      defaultVariant: 'off',
      targeting: {
        if: [
          { in: [{ var: 'country' }, [...TARGET_COUNTRIES]] },
          'on',
          { '==': [{ var: 'plan' }, TARGET_PLAN] },
          'on',
          { ends_with: [{ var: 'email' }, TARGET_EMAIL_SUFFIX] },
          'on',
          { sem_ver: [{ var: 'version' }, '>=', TARGET_VERSION] },
          'on',
          {
            fractional: [
              ['on', S3_ROLLOUT],
              ['off', 100 - S3_ROLLOUT],
            ],
          },
        ],
      },
    },
    [KEYS.s4]: {
      state: 'ENABLED',
      variants: Object.fromEntries(S4_VARIANTS.map((v) => [v.key, v.key])),
      defaultVariant: 'control',
      targeting: { fractional: S4_VARIANTS.map((v) => [v.key, v.weight]) },
    },
  },
};

const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'flagd',
  name: 'flagd (OpenFeature)',
  role: 'peer',
  pkg: '@openfeature/flagd-core',
  api: '`FlagdCore#resolveBooleanEvaluation` / `resolveStringEvaluation(key, default, context)` -> resolution details',
  async create() {
    const core = new FlagdCore(undefined, silent);
    core.setConfigurations(JSON.stringify(flags));
    /** @param {import('./types.mjs').User} u */
    const context = (u) => ({ targetingKey: u.key, country: u.country, plan: u.plan, email: u.email, version: u.version });
    /** @param {any} r */
    const value = (r) => r.value;
    return {
      context,
      async: false,
      scenarios: {
        s1: { run: (c) => core.resolveBooleanEvaluation(KEYS.s1, false, c, silent), value },
        s2: { run: (c) => core.resolveBooleanEvaluation(KEYS.s2, false, c, silent), value },
        s3: { run: (c) => core.resolveBooleanEvaluation(KEYS.s3, false, c, silent), value },
        s4: { run: (c) => core.resolveStringEvaluation(KEYS.s4, 'control', c, silent), value },
      },
      close() {},
    };
  },
};
