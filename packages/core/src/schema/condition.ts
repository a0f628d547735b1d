import { z } from 'zod';
import { OPERATORS, type Condition } from '../types';
import { unsafePatternReason } from './regex-safety';

/** Maximum nesting depth of `all`/`any`/`not`: deep enough for people, shallow enough for stacks. */
export const MAX_CONDITION_DEPTH = 32;

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);
const NO_VALUES = new Set(['exists', 'not_exists']);

type Report = (message: string, path: (string | number)[]) => void;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a condition tree by hand rather than with a zod union, so each problem is reported
 * at its exact path (`rules.0.when.all.1.op`) instead of as one opaque "invalid union".
 */
export function checkCondition(value: unknown, path: (string | number)[], report: Report, depth = 0): void {
  if (depth > MAX_CONDITION_DEPTH) return report(`conditions nest deeper than ${MAX_CONDITION_DEPTH} levels`, path);
  if (!isRecord(value)) return report('a condition must be an object', path);
  const keys = Object.keys(value);
  for (const combinator of ['all', 'any'] as const) {
    if (combinator in value) {
      if (keys.length !== 1) return report(`'${combinator}' must be the only field of its condition`, path);
      const list = value[combinator];
      if (!Array.isArray(list)) return report(`'${combinator}' must be an array of conditions`, [...path, combinator]);
      list.forEach((c, i) => checkCondition(c, [...path, combinator, i], report, depth + 1));
      return;
    }
  }
  if ('not' in value) {
    if (keys.length !== 1) return report("'not' must be the only field of its condition", path);
    return checkCondition(value.not, [...path, 'not'], report, depth + 1);
  }
  if ('segment' in value) {
    if (keys.length !== 1) return report("'segment' must be the only field of its condition", path);
    if (typeof value.segment !== 'string' || value.segment === '') report('segment must be a segment key', [...path, 'segment']);
    return;
  }
  if (typeof value.attr !== 'string' || value.attr === '') report('attr must be a non-empty string', [...path, 'attr']);
  const op = value.op;
  if (typeof op !== 'string' || !OPERATOR_SET.has(op)) {
    return report(`unknown operator ${JSON.stringify(op)}; expected one of ${OPERATORS.join(', ')}`, [...path, 'op']);
  }
  const values = value.values;
  if (values === undefined) {
    if (!NO_VALUES.has(op)) report(`operator '${op}' needs a non-empty values array`, [...path, 'values']);
    return;
  }
  if (!Array.isArray(values)) return report('values must be an array', [...path, 'values']);
  if (values.length === 0 && !NO_VALUES.has(op)) report(`operator '${op}' needs a non-empty values array`, [...path, 'values']);
  values.forEach((v, i) => {
    if (!['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'number' && !Number.isFinite(v))) {
      report('each value must be a string, a finite number or a boolean', [...path, 'values', i]);
    } else if (op === 'matches') {
      const why = typeof v === 'string' ? unsafePatternReason(v) : 'a pattern must be a string';
      if (why !== null) report(why, [...path, 'values', i]);
    }
  });
  for (const k of keys) if (k !== 'attr' && k !== 'op' && k !== 'values') report(`unknown field '${k}'`, [...path, k]);
}

/** Collects the segment keys a condition refers to. */
export function segmentRefs(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (!isRecord(value)) return out;
  if (typeof value.segment === 'string') out.add(value.segment);
  for (const k of ['all', 'any'] as const) {
    const list = value[k];
    if (Array.isArray(list)) for (const c of list) segmentRefs(c, out);
  }
  if ('not' in value) segmentRefs(value.not, out);
  return out;
}

/**
 * A targeting condition: `{attr, op, values}`, `{all: [...]}`, `{any: [...]}`, `{not: c}` or
 * `{segment: key}`.
 *
 * @example
 * ```ts
 * conditionSchema.parse({ all: [{ attr: 'country', op: 'in', values: ['US'] }, { segment: 'beta' }] });
 * ```
 */
export const conditionSchema = z
  .custom<Condition>(() => true)
  .superRefine((value, ctx) => {
    checkCondition(value, [], (message, path) => ctx.addIssue({ code: 'custom', message, path }));
  })
  .meta({
    id: 'Condition',
    description: 'A leaf {attr, op, values}, or {all: [...]}, {any: [...]}, {not: condition}, {segment: key}.',
  });
