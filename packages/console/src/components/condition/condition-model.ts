import { OPERATORS, type Condition, type ConditionValue, type Operator } from '@switchyard/core';

/** One clause of a rule as the editor shows it; a rule's clauses must all hold. */
export type Clause = { kind: 'attr'; attr: string; op: Operator; values: string } | { kind: 'segment'; segment: string };

/** Operators that take no values. */
export const NO_VALUE_OPS: ReadonlySet<Operator> = new Set(['exists', 'not_exists']);
const NUMERIC_OPS: ReadonlySet<Operator> = new Set(['gt', 'gte', 'lt', 'lte']);

/** Every operator, in the contract's order. */
export const ALL_OPERATORS: readonly Operator[] = OPERATORS;

function leafOrSegment(c: Condition): Clause | null {
  if ('segment' in c) return { kind: 'segment', segment: c.segment };
  if ('attr' in c) return { kind: 'attr', attr: c.attr, op: c.op, values: (c.values ?? []).map(String).join(', ') };
  return null;
}

/**
 * The clauses of a condition when it is a leaf, a segment, or an `all` of those; `null` when it
 * nests `any`/`not` deeper than the form shows (the editor then offers the JSON).
 */
export function toClauses(when: Condition | undefined): Clause[] | null {
  if (when === undefined) return [];
  const single = leafOrSegment(when);
  if (single !== null) return [single];
  if ('all' in when) {
    const out: Clause[] = [];
    for (const c of when.all) {
      const x = leafOrSegment(c);
      if (x === null) return null;
      out.push(x);
    }
    return out;
  }
  return null;
}

function parseValue(op: Operator, raw: string): ConditionValue {
  if (NUMERIC_OPS.has(op) && raw !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return raw;
}

/** Clauses back to a condition: none is "always", one is itself, several are an `all`. */
export function fromClauses(clauses: Clause[]): Condition | undefined {
  const parts: Condition[] = clauses.map((c) =>
    c.kind === 'segment'
      ? { segment: c.segment }
      : NO_VALUE_OPS.has(c.op)
        ? { attr: c.attr, op: c.op }
        : {
            attr: c.attr,
            op: c.op,
            values: c.values
              .split(',')
              .map((v) => v.trim())
              .filter((v) => v !== '')
              .map((v) => parseValue(c.op, v)),
          },
  );
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return { all: parts };
}
