import { describe, expect, it } from 'vitest';
import { BUCKETS, bucket, createBucketer, hash32, toBasisPoints } from './hash';

describe('hash32 / bucket / toBasisPoints', () => {
  it('matches the documented examples', () => {
    expect(hash32('hello')).toBe(613153351);
    expect(hash32('')).toBe(0);
    expect(hash32('new-checkout.user-1')).toBe(240508746);
    expect(bucket('new-checkout', 'user-1')).toBe(559); // floor(240508746 * 10000 / 2^32) = floor(559.98)
    expect(createBucketer('new-checkout')('user-1')).toBe(559);
  });

  it('hashes salt + "." + unit, so the dot is part of the input', () => {
    expect(bucket('a.b', 'c')).toBe(bucket('a', 'b.c'));
    expect(bucket('ab', 'c')).not.toBe(bucket('a', 'bc'));
  });

  it('buckets stay in [0, 9999] and are integers', () => {
    expect(BUCKETS).toBe(10_000);
    for (let i = 0; i < 2000; i++) {
      const b = bucket('range', `u${i}`);
      expect(Number.isInteger(b)).toBe(true);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(BUCKETS);
    }
  });

  it('a bucketer keeps no state between units, whatever their encoding', () => {
    const b = createBucketer('sälz-😀');
    const units = ['', 'a', 'José', '😀', 'abc', 'a\ud800', 'abcd'];
    const first = units.map(b);
    expect([...units].reverse().map(b)).toEqual([...first].reverse());
    expect(first).toEqual(units.map((u) => bucket('sälz-😀', u)));
  });

  it('toBasisPoints rounds percentages with two decimals', () => {
    expect(toBasisPoints(12.5)).toBe(1250);
    expect(toBasisPoints(33.33)).toBe(3333);
    expect(toBasisPoints(0.01)).toBe(1);
    expect(toBasisPoints(0.29)).toBe(29); // 0.29 * 100 = 28.999999999999996
    expect(toBasisPoints(100)).toBe(10_000);
    expect(toBasisPoints(0)).toBe(0);
  });
});
