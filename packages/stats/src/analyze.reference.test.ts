import { describe, expect, it } from 'vitest';
import { analyze } from './analyze.js';
import { expectAllFinite, expectDeepClose } from './test-support/deep-close.js';
import { loadReference } from './test-support/reference.js';
import type { AnalyzeInput } from './types.js';

interface AnalyzeCase {
  name: string;
  input: AnalyzeInput;
  expected: unknown;
}

const { cases } = loadReference<{ cases: AnalyzeCase[] }>('analyze.json');

describe('analyze against the independent numpy/scipy implementation (spec/analyze.json)', () => {
  it('has the scenarios the spec asks for', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const name of [
      'spec-example',
      'cuped',
      'many-variants',
      'zero-conversions-and-all-converted',
      'baseline-zero',
      'single-unit-and-empty-holdout',
      'very-large-n',
    ]) {
      expect(cases.map((c) => c.name)).toContain(name);
    }
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = analyze(c.input);
    expectAllFinite(result);
    expectDeepClose(result, c.expected, 'result');
  });
});
