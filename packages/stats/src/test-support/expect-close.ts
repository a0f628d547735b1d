import { expect } from 'vitest';

/** Asserts `|actual - expected| <= rtol * |expected| + atol`, naming the case when it fails. */
export function expectClose(actual: number | null | undefined, expected: number, label: string, rtol = 1e-9, atol = 0): void {
  expect(actual, label).toBeTypeOf('number');
  const a = actual as number;
  if (a === expected) return;
  const error = Math.abs(a - expected);
  const bound = rtol * Math.abs(expected) + atol;
  expect(error <= bound, `${label}: got ${a}, expected ${expected} (error ${error}, allowed ${bound})`).toBe(true);
}
