import type { EvaluationDetail } from './reasons';
import { Reason } from './reasons';
import type { ConfigExperiment, EvaluationContext } from './types';
import type { ConditionCompiler, Predicate } from './condition';
import type { CompiledEntry } from './flag';
import { detail, unitIdOf } from './detail';
import { createBucketer, toBasisPoints, BUCKETS, type Bucketer } from './hash';
import { compileSplit, type CompiledSplit } from './split';

const NOT_ENROLLED = detail(null, null, Reason.DEFAULT, { inExperiment: false });

/**
 * Compiled form of a running or paused experiment. Enrollment is targeting, then traffic
 * (its own hash, so changing traffic never moves a unit between variants), then the
 * namespace range; enrolled units get a weighted split.
 */
export class CompiledExperiment implements CompiledEntry {
  readonly kind = 'experiment' as const;
  readonly key: string;
  /** Variant keys, control first. */
  readonly variants: readonly string[];
  private readonly status: ConfigExperiment['status'];
  private readonly targeting: Predicate;
  private readonly bucketBy: string;
  private readonly split: CompiledSplit;
  private readonly traffic: number;
  private readonly trafficBucketer: Bucketer;
  private readonly namespace: { bucketer: Bucketer; start: number; end: number } | null;
  private readonly paused: EvaluationDetail;

  constructor(exp: ConfigExperiment & { key: string }, conditions: ConditionCompiler) {
    this.key = exp.key;
    this.status = exp.status;
    const salt = exp.salt ?? exp.key;
    this.bucketBy = exp.bucket_by ?? 'key';
    this.targeting = conditions.compile(exp.targeting);
    const variants = exp.variants ?? [];
    this.variants = variants.map((v) => v.key);
    this.split = compileSplit(
      salt,
      variants.map((v) => v.weight),
      variants.map((v) => detail(v.value === undefined ? v.key : v.value, v.key, Reason.SPLIT, { inExperiment: true })),
    );
    this.traffic = toBasisPoints(exp.traffic_allocation ?? 100);
    this.trafficBucketer = createBucketer(salt + '.traffic');
    const ns = exp.namespace;
    this.namespace =
      ns === undefined || ns === null
        ? null
        : { bucketer: createBucketer('ns.' + ns.key), start: toBasisPoints(ns.start), end: toBasisPoints(ns.end) };
    const control = variants[0];
    this.paused =
      control === undefined
        ? NOT_ENROLLED
        : detail(control.value === undefined ? control.key : control.value, control.key, Reason.DISABLED, { inExperiment: false });
  }

  resolve(context: EvaluationContext): EvaluationDetail {
    if (this.status !== 'RUNNING') return this.status === 'PAUSED' ? this.paused : NOT_ENROLLED;
    const unit = unitIdOf(context, this.bucketBy);
    if (unit === null || !this.targeting(context)) return NOT_ENROLLED;
    if (this.traffic < BUCKETS && this.trafficBucketer(unit) >= this.traffic) return NOT_ENROLLED;
    const ns = this.namespace;
    if (ns !== null) {
      const b = ns.bucketer(unit);
      if (b < ns.start || b >= ns.end) return NOT_ENROLLED;
    }
    return this.split.pick(unit);
  }
}
