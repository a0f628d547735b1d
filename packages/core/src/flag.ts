import type { EvaluationDetail } from './reasons';
import { ErrorCode, Reason } from './reasons';
import type { EvaluationContext, Flag, Serve } from './types';
import type { ConditionCompiler, Predicate } from './condition';
import { detail, unitIdOf, type Resolver } from './detail';
import { compileSplit } from './split';
import type { CompiledExperiment } from './experiment';

/** A compiled flag or experiment: one entry of the compiled config. */
export interface CompiledEntry {
  readonly kind: 'flag' | 'experiment';
  readonly key: string;
  /** Resolves to a prebuilt detail; `variant: null` means "use the caller's default". */
  resolve(context: EvaluationContext): EvaluationDetail;
}

const MISSING_UNIT = detail(null, null, Reason.ERROR, { errorCode: ErrorCode.TARGETING_KEY_MISSING });

interface LinkedPrerequisite {
  key: string;
  variants: ReadonlySet<string>;
  entry: CompiledEntry | undefined;
}

/** Compiled form of a {@link Flag}. Prerequisites are linked after every flag is compiled. */
export class CompiledFlag implements CompiledEntry {
  readonly kind = 'flag' as const;
  readonly key: string;
  readonly prerequisites: LinkedPrerequisite[];
  private readonly enabled: boolean;
  private readonly offDetail: EvaluationDetail;
  private readonly prereqFailed: EvaluationDetail;
  private readonly rules: { when: Predicate; serve: Resolver }[];
  private readonly fallback: Resolver;
  /** The detail every context gets when there are no prerequisites or rules and the default is a fixed variant. */
  private readonly constant: EvaluationDetail | null;
  /** Set when linking finds this flag on a prerequisite cycle: it then always fails them. */
  cyclic = false;

  constructor(flag: Flag, conditions: ConditionCompiler, experiments: ReadonlyMap<string, CompiledExperiment>) {
    this.key = flag.key;
    this.enabled = flag.enabled === true;
    const values = new Map<string, unknown>();
    for (const v of flag.variants ?? []) values.set(v.key, v.value);
    const salt = flag.salt ?? flag.key;
    const bucketBy = flag.bucket_by ?? 'key';
    const variantDetail = (key: string, reason: Reason, ruleId?: string, experiment?: string): EvaluationDetail =>
      values.has(key)
        ? detail(values.get(key), key, reason, { ruleId, inExperiment: experiment ? true : undefined, experiment })
        : detail(null, null, Reason.ERROR, { ruleId, errorCode: ErrorCode.GENERAL });
    const off = flag.off_variant;
    const offAs = (reason: Reason) =>
      off !== undefined && values.has(off) ? detail(values.get(off), off, reason) : detail(null, null, reason);
    /**
     * An experiment serve: the experiment decides enrolment and arm, the flag serves its own
     * variant of that name; `undefined` for a unit it does not enrol (also when the experiment is
     * missing from the document: a draft, a completed one), which falls through.
     */
    const enrol = (key: string, ruleId?: string) => {
      const exp = experiments.get(key);
      const arms = new Map(exp?.variants.map((v) => [v, variantDetail(v, Reason.SPLIT, ruleId, key)]));
      return (ctx: EvaluationContext) => {
        const e = exp?.resolve(ctx);
        return e?.inExperiment ? arms.get(e.variant!) : undefined;
      };
    };
    const compileServe = (serve: Serve, fixedReason: Reason, ruleId?: string): Resolver => {
      if ('experiment' in serve) {
        const pick = enrol(serve.experiment, ruleId);
        // Only the default serve (reason DEFAULT) gets here: nothing follows it, so the off variant.
        const unserved = offAs(fixedReason);
        return (ctx) => pick(ctx) ?? unserved;
      }
      if ('variant' in serve) {
        const d = variantDetail(serve.variant, fixedReason, ruleId);
        return () => d;
      }
      const split = compileSplit(
        salt,
        serve.split.map((s) => s.weight),
        serve.split.map((s) => variantDetail(s.variant, Reason.SPLIT, ruleId)),
      );
      return (ctx) => {
        const unit = unitIdOf(ctx, bucketBy);
        return unit === null ? MISSING_UNIT : split.pick(unit);
      };
    };
    this.offDetail = offAs(Reason.DISABLED);
    this.prereqFailed = offAs(Reason.PREREQUISITE_FAILED);
    this.rules = (flag.rules ?? []).map((r) => {
      const when = conditions.compile(r.when);
      if (!('experiment' in r.serve)) return { when, serve: compileServe(r.serve, Reason.TARGETING_MATCH, r.id) };
      // A rule serving an experiment matches only the units it enrols, so the rule loop stays the
      // plain one; the detail found by the match is served right after it (same call, same context).
      const pick = enrol(r.serve.experiment, r.id);
      let hit: EvaluationDetail | undefined;
      return { when: (ctx: EvaluationContext) => when(ctx) && (hit = pick(ctx)) !== undefined, serve: () => hit! };
    });
    const defaultServe = flag.default_serve ?? { variant: off ?? '' };
    this.fallback = compileServe(defaultServe, Reason.DEFAULT);
    this.prerequisites = (flag.prerequisites ?? []).map((p) => ({ key: p.flag, variants: new Set(p.variants), entry: undefined }));
    // A flag with nothing to decide (a plain on/off switch) skips the rule loop and the serve call.
    this.constant =
      this.rules.length === 0 && this.prerequisites.length === 0 && 'variant' in defaultServe
        ? variantDetail(defaultServe.variant, Reason.DEFAULT)
        : null;
  }

  resolve(context: EvaluationContext): EvaluationDetail {
    if (!this.enabled) return this.offDetail;
    if (this.constant !== null) return this.constant;
    const pre = this.prerequisites;
    if (pre.length !== 0) {
      if (this.cyclic) return this.prereqFailed;
      for (let i = 0; i < pre.length; i++) {
        const p = pre[i]!;
        const served = p.entry === undefined ? null : p.entry.resolve(context).variant;
        if (served === null || !p.variants.has(served)) return this.prereqFailed;
      }
    }
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.when(context)) return r.serve(context);
    }
    return this.fallback(context);
  }
}
