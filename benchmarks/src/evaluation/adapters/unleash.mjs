import { Unleash, InMemStorageProvider } from 'unleash-client';
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

/** @param {string} group @param {number} p */
const flexibleRollout = (group, p) => ({
  name: 'flexibleRollout',
  parameters: { rollout: String(p), stickiness: 'userId', groupId: group },
  constraints: [],
});
/** @param {object} constraint */
const constrained = (constraint) => ({ name: 'default', parameters: {}, constraints: [constraint] });

/**
 * Unleash toggles. Rules are strategies (Unleash enables a toggle when any strategy matches, in
 * order); string equality is `IN` with one value, as Unleash has no `eq`; the experiment is a
 * toggle with variants (weights are out of 1000).
 */
export const toggles = [
  { name: KEYS.s1, enabled: true, strategies: [] },
  { name: KEYS.s2, enabled: true, strategies: [flexibleRollout(KEYS.s2, S2_ROLLOUT)] },
  {
    name: KEYS.s3,
    enabled: true,
    strategies: [
      constrained({ contextName: 'country', operator: 'IN', values: [...TARGET_COUNTRIES] }),
      constrained({ contextName: 'plan', operator: 'IN', values: [TARGET_PLAN] }),
      constrained({ contextName: 'email', operator: 'STR_ENDS_WITH', values: [TARGET_EMAIL_SUFFIX] }),
      constrained({ contextName: 'version', operator: 'SEMVER_GTE', value: TARGET_VERSION }),
      flexibleRollout(KEYS.s3, S3_ROLLOUT),
    ],
  },
  {
    name: KEYS.s4,
    enabled: true,
    strategies: [{ name: 'default', parameters: {}, constraints: [] }],
    variants: S4_VARIANTS.map((v) => ({ name: v.key, weight: v.weight * 10, weightType: 'variable', stickiness: 'default' })),
  },
];

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'unleash',
  name: 'Unleash',
  role: 'peer',
  pkg: 'unleash-client',
  api: '`Unleash#isEnabled(key, context)` (S1-S3), `Unleash#getVariant(key, context)` (S4); bootstrapped, no network, metrics off',
  async create() {
    const unleash = new Unleash({
      appName: 'switchyard-benchmark',
      url: 'http://127.0.0.1:9/api/', // never contacted: refreshInterval 0 disables fetching
      refreshInterval: 0,
      disableMetrics: true,
      skipInstanceCountWarning: true,
      storageProvider: new InMemStorageProvider(),
      bootstrap: { data: /** @type {any} */ (toggles) },
    });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('unleash did not become ready')), 10_000);
      unleash.once('ready', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    /** @param {import('./types.mjs').User} u */
    const context = (u) => ({ userId: u.key, properties: { country: u.country, plan: u.plan, email: u.email, version: u.version } });
    /** @param {boolean} r */
    const value = (r) => r;
    return {
      context,
      async: false,
      scenarios: {
        s1: { run: (c) => unleash.isEnabled(KEYS.s1, c), value },
        s2: { run: (c) => unleash.isEnabled(KEYS.s2, c), value },
        s3: { run: (c) => unleash.isEnabled(KEYS.s3, c), value },
        s4: { run: (c) => unleash.getVariant(KEYS.s4, c), value: (v) => v.name },
      },
      close() {
        unleash.destroy();
      },
    };
  },
};
