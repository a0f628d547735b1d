import type { Condition, EvaluationContext, Segment } from './types';
import { compileOperator, compileStringLeaf } from './operators';
import { toComparable } from './parse';
import { isPresent } from './limits';

/** A compiled condition. */
export type Predicate = (context: EvaluationContext) => boolean;

const always: Predicate = () => true;
const never: Predicate = () => false;

/** The unit key a segment's explicit lists are matched against: the context's `key`. */
export function unitKeyOf(context: EvaluationContext): string | null {
  return toComparable(context.key);
}

/**
 * Reads an attribute. Names that exist on `Object.prototype` (`constructor`, `toString`, ...)
 * must be own properties of the context, or every context would seem to have them.
 */
export function attributeReader(attr: string): (context: EvaluationContext) => unknown {
  if (!(attr in Object.prototype)) return (ctx) => ctx[attr];
  return (ctx) => (Object.prototype.hasOwnProperty.call(ctx, attr) ? ctx[attr] : undefined);
}

/**
 * Compiles conditions and segments of one config document. Segments are compiled on first
 * reference and memoized; a segment that reaches itself again never matches (saving rejects
 * such cycles, this only keeps a hand-made document from recursing forever).
 *
 * Every segment a condition names is recorded in {@link ConditionCompiler.refs} (as `'s' + key`),
 * and each segment compiled here keeps its own in {@link ConditionCompiler.segmentRefs}: an
 * incremental update recompiles what refers to a changed segment from these.
 */
export class ConditionCompiler {
  /** Segments compiled by this compiler. */
  readonly fresh = new Map<string, Predicate>();
  /** The segments each segment in {@link fresh} names directly. */
  readonly segmentRefs = new Map<string, string[]>();
  /** The segments named since this was last reset (the caller resets it per flag or experiment). */
  refs: string[] = [];
  private readonly resolving = new Set<string>();

  /**
   * @param lookup the segment with this key in the document being compiled
   * @param cached an already compiled segment that is still valid, if any
   */
  constructor(
    private readonly lookup: (key: string) => Segment | null | undefined,
    private readonly cached: (key: string) => Predicate | undefined = () => undefined,
  ) {}

  compile(condition: Condition | undefined): Predicate {
    if (condition === undefined || condition === null) return always;
    if ('all' in condition || 'any' in condition) {
      // `all` stops at the first part that fails, `any` at the first that holds; empty: true and false.
      const all = 'all' in condition;
      const parts = (all ? condition.all : condition.any).map((c) => this.compile(c));
      if (parts.length === 1) return parts[0]!;
      return (ctx) => {
        for (const p of parts) if (p(ctx) !== all) return !all;
        return all;
      };
    }
    if ('not' in condition) {
      const inner = this.compile(condition.not);
      return (ctx) => !inner(ctx);
    }
    if ('segment' in condition) {
      this.refs.push('s' + condition.segment);
      return this.segment(condition.segment);
    }
    const { attr } = condition;
    const read = attributeReader(attr);
    // An over-long string counts as missing, so `not_exists` is the one operator it satisfies.
    if (condition.op === 'not_exists') return (ctx) => !isPresent(read(ctx));
    const test = compileOperator(condition);
    // Ordinary attribute names get an operator-specialised leaf (see compileStringLeaf).
    const fast = attr in Object.prototype ? null : compileStringLeaf(attr, condition, test);
    if (fast !== null) return fast;
    return (ctx) => {
      const v = read(ctx);
      return isPresent(v) && test(v);
    };
  }

  segment(key: string): Predicate {
    const done = this.fresh.get(key) ?? this.cached(key);
    if (done !== undefined) return done;
    const seg = this.lookup(key);
    if (!seg || this.resolving.has(key)) return never;
    const outer = this.refs;
    this.refs = [];
    this.resolving.add(key);
    const when = seg.when === undefined ? never : this.compile(seg.when);
    this.resolving.delete(key);
    this.segmentRefs.set(key, this.refs);
    this.refs = outer;
    const included = new Set(seg.included ?? []);
    const excluded = new Set(seg.excluded ?? []);
    // Explicit inclusion wins over exclusion, as in LaunchDarkly; both win over the condition.
    const predicate: Predicate = (ctx) => {
      const unit = unitKeyOf(ctx);
      if (unit !== null) {
        if (included.has(unit)) return true;
        if (excluded.has(unit)) return false;
      }
      return when(ctx);
    };
    this.fresh.set(key, predicate);
    return predicate;
  }
}
