/**
 * One table both SDK test suites run against a real server, so the Node SDK, the browser SDK and
 * the server provably agree on what a unit is: `unit` is the id every event carries, or `null`
 * when the context has none (no exposure, no track, and the server would reject it).
 *
 * JSON carries every context here, so the browser page receives exactly these values.
 */
export const UNIT_ROWS: readonly { name: string; context: Record<string, unknown>; unit: string | null }[] = [
  { name: 'a string key', context: { key: 'agree-user-1' }, unit: 'agree-user-1' },
  { name: 'a numeric key', context: { key: 4242 }, unit: '4242' },
  { name: 'a fractional key', context: { key: 1.5 }, unit: '1.5' },
  { name: 'an empty key', context: { key: '' }, unit: null },
  { name: 'no key', context: { plan: 'pro' }, unit: null },
  { name: 'a boolean key', context: { key: true }, unit: null },
  { name: 'a null key', context: { key: null }, unit: null },
  { name: 'an object key', context: { key: { id: 'x' } }, unit: null },
];

/** A running experiment every unit with an id enrols in (100 % traffic), for exposures. */
export const AGREEMENT_EXPERIMENT = {
  key: 'agree-exp',
  variants: [
    { key: 'control', weight: 50, value: 'a' },
    { key: 'treatment', weight: 50, value: 'b' },
  ],
  metrics: [{ key: 'agree-metric', type: 'conversion' }],
};
