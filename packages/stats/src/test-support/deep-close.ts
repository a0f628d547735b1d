import { expect } from 'vitest';
import { expectClose } from './expect-close.js';

/** Fields compared only relatively: probabilities that may be legitimately tiny. */
const RELATIVE_ONLY = new Set(['pValue', 'chanceToBeatControl']);

/**
 * Compares a result with a reference value from JSON: same keys, same nulls, numbers to 1e-9
 * relative (plus 1e-13 absolute for quantities that can sit at 0, such as interval ends).
 */
export function expectDeepClose(actual: unknown, expected: unknown, path: string, key = ''): void {
  if (expected === null) {
    expect(actual, path).toBeNull();
  } else if (typeof expected === 'number') {
    expectClose(actual as number, expected, path, 1e-9, RELATIVE_ONLY.has(key) ? 0 : 1e-13);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    const a = actual as unknown[];
    expect(a.length, `${path}.length`).toBe(expected.length);
    expected.forEach((e, i) => expectDeepClose(a[i], e, `${path}[${i}]`, key));
  } else if (typeof expected === 'object') {
    expect(typeof actual === 'object' && actual !== null, `${path} is an object`).toBe(true);
    const a = actual as Record<string, unknown>;
    expect(Object.keys(a).sort(), `${path} keys`).toEqual(Object.keys(expected).sort());
    for (const [k, e] of Object.entries(expected)) expectDeepClose(a[k], e, `${path}.${k}`, k);
  } else {
    expect(actual, path).toBe(expected);
  }
}

/** Asserts that no number anywhere in `value` is NaN or infinite (JSON would silently turn them into null). */
export function expectAllFinite(value: unknown, path = 'result'): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => expectAllFinite(v, `${path}[${i}]`));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) expectAllFinite(v, `${path}.${k}`);
  }
}
