import type { ConfigDocument } from './types';

/**
 * One case of the published evaluation vectors (`spec/evaluation.json`): evaluating `flag` in
 * the named config for `context`, with `default` as the caller's default, must give `expected`.
 * Every SDK runs the same cases; this is their one type.
 *
 * @example
 * ```ts
 * const vectors: EvaluationVectors = JSON.parse(readFileSync('spec/evaluation.json', 'utf8'));
 * for (const c of vectors.cases) expect(evaluate(vectors.configs[c.config]!, c.flag, c.context, c.default)).toMatchObject(c.expected);
 * ```
 */
export interface EvaluationVector {
  name: string;
  tags?: string[];
  /** A key of {@link EvaluationVectors.configs}. */
  config: string;
  flag: string;
  context: Record<string, unknown>;
  default: unknown;
  /** Absent fields are absent from the detail too. */
  expected: {
    value: unknown;
    variant: string | null;
    reason: string;
    ruleId?: string;
    errorCode?: string;
    inExperiment?: boolean;
    experiment?: string;
  };
  /** How a bucket-dependent expectation was computed, for whoever debugs a failing SDK. */
  note?: string;
}

/** A config document of the vectors; `valid: false` when the management API would refuse to save it. */
export type EvaluationVectorConfig = ConfigDocument & { valid?: boolean };

/**
 * The whole `spec/evaluation.json`.
 *
 * @example
 * ```ts
 * const vectors: EvaluationVectors = JSON.parse(readFileSync('spec/evaluation.json', 'utf8'));
 * ```
 */
export interface EvaluationVectors {
  configs: Record<string, EvaluationVectorConfig>;
  cases: EvaluationVector[];
}
