import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/options';

describe('SWITCHYARD_AGGREGATOR_SHARE', () => {
  it('defaults to one 40 ms slice a second (0.04) and takes a fraction above 0 and at most 1', () => {
    expect(resolveOptions({}, {}).aggregatorShare).toBe(0.04);
    expect(resolveOptions({}, { SWITCHYARD_AGGREGATOR_SHARE: '0.5' }).aggregatorShare).toBe(0.5);
    expect(resolveOptions({}, { SWITCHYARD_AGGREGATOR_SHARE: '1' }).aggregatorShare).toBe(1);
    expect(resolveOptions({}, {}, { 'aggregator-share': '.25' }).aggregatorShare).toBe(0.25);
  });

  it.each(['0', '1.5', '-0.1', 'half'])('refuses %j, naming the variable', (raw) => {
    expect(() => resolveOptions({}, { SWITCHYARD_AGGREGATOR_SHARE: raw })).toThrow(
      /SWITCHYARD_AGGREGATOR_SHARE: .* is not a fraction above 0 and at most 1/,
    );
  });
});
