import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/options';

describe('SWITCHYARD_AGGREGATOR_SHARE', () => {
  it('defaults to one 40 ms slice a second (0.04) and takes a fraction above 0 and at most 1', () => {
    expect(resolveOptions({}, {}).aggregatorShare).toBe(0.04);
    expect(resolveOptions({}, { SWITCHYARD_AGGREGATOR_SHARE: '0.5' }).aggregatorShare).toBe(0.5);
    expect(resolveOptions({}, { SWITCHYARD_AGGREGATOR_SHARE: '1' }).aggregatorShare).toBe(1);
    expect(resolveOptions({}, {}, { 'aggregator-share': '.25' }).aggregatorShare).toBe(0.25);
  });

  it('reads the number as every other number setting does (spaces, exponent)', () => {
    expect(resolveOptions({}, { SWITCHYARD_AGGREGATOR_SHARE: ' 0.5 ' }).aggregatorShare).toBe(0.5);
    expect(resolveOptions({}, { SWITCHYARD_AGGREGATOR_SHARE: '5e-2' }).aggregatorShare).toBe(0.05);
    expect(resolveOptions({}, { SWITCHYARD_EVENT_RETENTION_DAYS: '5e-1' }).eventRetentionDays).toBe(0.5);
  });

  it.each(['0', '1.5', '-0.1', 'half', '0x1', '1 %'])('refuses %j, naming the variable', (raw) => {
    expect(() => resolveOptions({}, { SWITCHYARD_AGGREGATOR_SHARE: raw })).toThrow(
      /SWITCHYARD_AGGREGATOR_SHARE: .* is not a fraction above 0 and at most 1/,
    );
  });
});

describe('number settings', () => {
  it.each(['0x10', 'Infinity', '12 days'])('refuse %j as a number greater than 0', (raw) => {
    expect(() => resolveOptions({}, { SWITCHYARD_EVENT_RETENTION_DAYS: raw })).toThrow(
      /SWITCHYARD_EVENT_RETENTION_DAYS: .* is not a number greater than 0/,
    );
  });
});
