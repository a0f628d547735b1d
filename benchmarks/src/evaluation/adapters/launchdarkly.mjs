import { init } from '@launchdarkly/node-server-sdk';
import { TestData } from '@launchdarkly/node-server-sdk/integrations';
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

/** LaunchDarkly weights are out of 100,000. */
/** @param {number} p */
const rollout = (p) => ({
  rollout: {
    bucketBy: 'key',
    variations: [
      { variation: 0, weight: p * 1000 },
      { variation: 1, weight: (100 - p) * 1000 },
    ],
  },
});

/** @param {string} key @param {object} rest */
const flag = (key, rest) => ({
  key,
  version: 1,
  on: true,
  salt: key,
  targets: [],
  contextTargets: [],
  prerequisites: [],
  rules: [],
  variations: [true, false],
  offVariation: 1,
  fallthrough: { variation: 0 },
  trackEvents: false,
  trackEventsFallthrough: false,
  ...rest,
});

/** @param {string} id @param {object} clause */
const rule = (id, clause) => ({ id, clauses: [{ contextKind: 'user', negate: false, ...clause }], variation: 0, trackEvents: false });

/**
 * LaunchDarkly flags in their wire format, loaded through the TestData source. LaunchDarkly has
 * no semver `>=`, so rule 4 is the negated `semVerLessThan`; the 20 % rollout is the fallthrough
 * (a rule needs at least one clause) and the experiment a fallthrough rollout.
 */
export const flags = [
  flag(KEYS.s1, {}),
  flag(KEYS.s2, { fallthrough: rollout(S2_ROLLOUT) }),
  flag(KEYS.s3, {
    rules: [
      rule('country', { attribute: 'country', op: 'in', values: [...TARGET_COUNTRIES] }),
      rule('plan', { attribute: 'plan', op: 'in', values: [TARGET_PLAN] }),
      rule('staff', { attribute: 'email', op: 'endsWith', values: [TARGET_EMAIL_SUFFIX] }),
      rule('new-app', { attribute: 'version', op: 'semVerLessThan', values: [TARGET_VERSION], negate: true }),
    ],
    fallthrough: rollout(S3_ROLLOUT),
  }),
  flag(KEYS.s4, {
    variations: S4_VARIANTS.map((v) => v.key),
    offVariation: 0,
    fallthrough: { rollout: { bucketBy: 'key', variations: S4_VARIANTS.map((v, i) => ({ variation: i, weight: v.weight * 1000 })) } },
  }),
];

const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'launchdarkly',
  name: 'LaunchDarkly',
  role: 'peer',
  pkg: '@launchdarkly/node-server-sdk',
  api: '`await LDClient#variationDetail(key, context, default)` (the API is Promise-based, so the figure includes one await); TestData source, events off',
  async create() {
    const td = new TestData();
    for (const f of flags) td.usePreconfiguredFlag(f);
    const client = init('sdk-benchmark-no-network', {
      updateProcessor: td.getFactory(),
      sendEvents: false,
      diagnosticOptOut: true,
      logger: silent,
    });
    await client.waitForInitialization({ timeout: 10 });
    /** @param {import('./types.mjs').User} u */
    const context = (u) => ({ kind: 'user', key: u.key, country: u.country, plan: u.plan, email: u.email, version: u.version });
    /** @param {any} d */
    const value = (d) => d.value;
    return {
      context,
      async: true,
      scenarios: {
        s1: { run: (c) => client.variationDetail(KEYS.s1, c, false), value },
        s2: { run: (c) => client.variationDetail(KEYS.s2, c, false), value },
        // Every user reaching the fallthrough means no targeting rule matched.
        s3: {
          run: (c) => client.variationDetail(KEYS.s3, c, false),
          value,
          rule: (d) => (d.reason?.kind === 'FALLTHROUGH' ? 'last' : 'other'),
        },
        s4: { run: (c) => client.variationDetail(KEYS.s4, c, 'control'), value },
      },
      close() {
        client.close();
      },
    };
  },
};
