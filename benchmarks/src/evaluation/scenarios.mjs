/**
 * The four evaluation scenarios every adapter implements, and the users they run over.
 *
 * S1  boolean flag, no rules: every unit gets `true`.
 * S2  50 % rollout: about half the units get `true`.
 * S3  five rules in order -- country in 20 values, plan eq, email ends_with, semver gte, then a
 *     20 % rollout. The generated users miss the first four by construction, so every
 *     evaluation walks all five rules and about 20 % get `true`.
 * S4  a 3-variant experiment split 34/33/33.
 *
 * Users are generated from a fixed seed, so every run (and every SDK) sees the same 10,000
 * distinct units; cycling through them defeats any per-unit caching.
 */

/** Flag / feature keys, identical in every SDK (they double as the hashing salt). */
export const KEYS = Object.freeze({
  s1: 's1-boolean',
  s2: 's2-rollout',
  s3: 's3-rules',
  s4: 's4-experiment',
});

/** S3 rule 1: `country in` these 20 values. No generated user has one of them. */
export const TARGET_COUNTRIES = Object.freeze([
  'US',
  'CA',
  'GB',
  'DE',
  'FR',
  'ES',
  'IT',
  'NL',
  'SE',
  'NO',
  'DK',
  'FI',
  'IE',
  'PT',
  'AT',
  'CH',
  'BE',
  'PL',
  'AU',
  'NZ',
]);
/** S3 rule 2: `plan eq` this. */
export const TARGET_PLAN = 'enterprise';
/** S3 rule 3: `email ends_with` this. */
export const TARGET_EMAIL_SUFFIX = '@example.com';
/** S3 rule 4: `version semver_gte` this. */
export const TARGET_VERSION = '5.0.0';
/** S3 rule 5: rollout percentage. */
export const S3_ROLLOUT = 20;
/** S2 rollout percentage. */
export const S2_ROLLOUT = 50;
/** S4 variants and weights (percent). */
export const S4_VARIANTS = Object.freeze([
  Object.freeze({ key: 'control', weight: 34 }),
  Object.freeze({ key: 'a', weight: 33 }),
  Object.freeze({ key: 'b', weight: 33 }),
]);

const USER_COUNTRIES = ['BR', 'MX', 'IN', 'JP', 'KR', 'ZA', 'AR', 'CL', 'NG', 'EG'];
const USER_PLANS = ['free', 'starter', 'pro', 'team'];
const USER_DOMAINS = ['@mail.test', '@corp.test', '@users.test'];

/** mulberry32: a tiny seeded PRNG, so the users are the same in every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(rand, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += ((rand() * 16) | 0).toString(16);
  return s;
}

/**
 * @typedef {{ key: string, country: string, plan: string, email: string, version: string }} User
 */

/**
 * Generates `n` distinct users: UUID-shaped keys (the common case for a unit id) and attributes
 * that miss S3's first four rules.
 *
 * @param {number} [n]
 * @param {number} [seed]
 * @returns {User[]}
 */
export function generateUsers(n = 10_000, seed = 0x5eed) {
  const rand = prng(seed);
  const seen = new Set();
  /** @type {User[]} */
  const users = [];
  while (users.length < n) {
    const key = `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-${'89ab'[(rand() * 4) | 0]}${hex(rand, 3)}-${hex(rand, 12)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const i = users.length;
    users.push({
      key,
      country: USER_COUNTRIES[(rand() * USER_COUNTRIES.length) | 0],
      plan: USER_PLANS[(rand() * USER_PLANS.length) | 0],
      email: `user${i}${USER_DOMAINS[(rand() * USER_DOMAINS.length) | 0]}`,
      // 1.0.0 .. 4.19.29: always below TARGET_VERSION.
      version: `${1 + ((rand() * 4) | 0)}.${(rand() * 20) | 0}.${(rand() * 30) | 0}`,
    });
  }
  // Real unit ids and attributes arrive parsed from JSON or headers, as flat strings; the
  // concatenations above build ropes, which every SDK would read more slowly.
  return JSON.parse(JSON.stringify(users));
}

/** Scenario ids in table order. */
export const SCENARIO_IDS = /** @type {const} */ (['s1', 's2', 's3', 's4']);

/** Human labels for the results table. */
export const SCENARIO_LABELS = Object.freeze({
  s1: 'S1 boolean, no rules',
  s2: 'S2 50 % rollout',
  s3: 'S3 5 rules, last matches',
  s4: 'S4 3-variant 34/33/33',
});

/**
 * What each scenario's sanity figure must look like: the share of `true` for S1-S3 (percent)
 * and the share of each variant for S4. `tolerance` is in percentage points and allows for
 * sampling noise over a few hundred users; over 10,000 users real figures land much closer.
 */
export const EXPECTATIONS = Object.freeze({
  s1: { kind: 'boolean', truePercent: 100, tolerance: 0 },
  s2: { kind: 'boolean', truePercent: S2_ROLLOUT, tolerance: 5 },
  s3: { kind: 'boolean', truePercent: S3_ROLLOUT, tolerance: 5 },
  s4: { kind: 'variants', shares: { control: 34, a: 33, b: 33 }, tolerance: 3 },
});

/**
 * Summarises one adapter's answers for one scenario.
 *
 * @param {'boolean' | 'variants'} kind
 * @param {unknown[]} values the evaluated values, one per user
 * @param {(string | null)[] | null} [rules] the rule each user matched, when the SDK reports it
 * @returns {{ n: number, truePercent?: number, shares?: Record<string, number>, lastRulePercent?: number | null }}
 */
export function summarize(kind, values, rules = null) {
  const n = values.length;
  if (kind === 'boolean') {
    let t = 0;
    for (const v of values) if (v === true) t++;
    const out = { n, truePercent: (100 * t) / n, lastRulePercent: /** @type {number | null} */ (null) };
    if (rules !== null) {
      let last = 0;
      for (const r of rules) if (r === 'last') last++;
      out.lastRulePercent = (100 * last) / n;
    }
    return out;
  }
  /** @type {Record<string, number>} */
  const counts = {};
  for (const v of values) counts[String(v)] = (counts[String(v)] ?? 0) + 1;
  /** @type {Record<string, number>} */
  const shares = {};
  for (const [k, c] of Object.entries(counts)) shares[k] = (100 * c) / n;
  return { n, shares };
}

/**
 * Checks a summary against a scenario's expectation; returns the problems (empty when fine).
 *
 * @param {'s1' | 's2' | 's3' | 's4'} scenario
 * @param {ReturnType<typeof summarize>} summary
 * @returns {string[]}
 */
export function checkSummary(scenario, summary) {
  const e = EXPECTATIONS[scenario];
  const problems = [];
  if (e.kind === 'boolean') {
    const got = /** @type {number} */ (summary.truePercent);
    if (Math.abs(got - e.truePercent) > e.tolerance)
      problems.push(`${scenario}: ${got.toFixed(1)} % true, expected ${e.truePercent} ± ${e.tolerance}`);
    if (scenario === 's3' && summary.lastRulePercent !== null && summary.lastRulePercent !== undefined && summary.lastRulePercent !== 100) {
      problems.push(`s3: only ${summary.lastRulePercent.toFixed(1)} % of users reached the last rule`);
    }
  } else {
    const shares = summary.shares ?? {};
    for (const k of Object.keys(shares)) if (!(k in e.shares)) problems.push(`s4: unexpected variant ${k}`);
    for (const [k, want] of Object.entries(e.shares)) {
      const got = shares[k] ?? 0;
      if (Math.abs(got - want) > e.tolerance) problems.push(`s4: ${k} ${got.toFixed(1)} %, expected ${want} ± ${e.tolerance}`);
    }
  }
  return problems;
}

/**
 * The sanity column's text.
 *
 * @param {'s1' | 's2' | 's3' | 's4'} scenario
 * @param {ReturnType<typeof summarize>} summary
 */
export function formatSummary(scenario, summary) {
  if (EXPECTATIONS[scenario].kind === 'boolean') {
    let s = `${/** @type {number} */ (summary.truePercent).toFixed(1)} % true`;
    if (scenario === 's3' && typeof summary.lastRulePercent === 'number') s += `, ${summary.lastRulePercent.toFixed(0)} % reached rule 5`;
    return s;
  }
  const shares = summary.shares ?? {};
  return S4_VARIANTS.map((v) => (shares[v.key] ?? 0).toFixed(1)).join(' / ');
}
