import type { ExperimentAggregates } from '../types';
import { num, scoped, type Row } from '../rows';
import { noExclusions, readExclusions } from '../run-attribution';

/**
 * Reads of the results' summaries on PostgreSQL (kept behind ingestion by the aggregator, see
 * aggregator.ts; the store drains it before calling these): units per variant, per-metric sums per variant, exclusions.
 *
 * @example
 * ```ts
 * const { experimentAggregates } = postgresSummaryReads(q);
 * const a = await experimentAggregates('production', 'checkout', [{ key: 'purchase', type: 'mean' }]);
 * ```
 */
export function postgresSummaryReads(q: (sql: string, params?: unknown[]) => Promise<Row[]>) {
  /** The summaries' name of the experiment of this key that exists now (see run-attribution.ts). */
  const summaryOf = async (environment: string, key: string): Promise<string> => {
    const rows = await q("SELECT id FROM resources WHERE kind = 'experiment' AND environment = $1 AND key = $2", [environment, key]);
    return rows.length === 0 ? scoped(environment, key) : (rows[0]!.id as string);
  };

  const experimentAggregates = async (
    environment: string,
    key: string,
    metrics: readonly { key: string; type: 'conversion' | 'mean' }[],
  ): Promise<ExperimentAggregates> => {
    const experiment = await summaryOf(environment, key);
    const [units, sums, exclusions] = await Promise.all([
      q('SELECT conflicted, variant, units FROM experiment_unit_counts WHERE experiment = $1 AND units > 0', [experiment]),
      metrics.length === 0
        ? Promise.resolve([] as Row[])
        : q(
            // A square that would overflow is Infinity, not an error: results then report the metric
            // as not computable (as on SQLite) instead of failing.
            `SELECT metric, variant, COUNT(*) AS k, SUM(value) AS sum,
          SUM(CASE WHEN abs(value) < 1e150 THEN value * value ELSE 'Infinity'::float8 END) AS sq
        FROM unit_metrics WHERE experiment = $1 AND metric = ANY($2::text[]) GROUP BY metric, variant`,
            [experiment, metrics.map((m) => m.key)],
          ),
      q('SELECT reason, sent_by, events FROM experiment_exclusions WHERE experiment = $1 AND events > 0', [experiment]),
    ]);
    const out: ExperimentAggregates = { units: {}, excludedUnits: 0, exclusions: noExclusions(), exclusionsBySender: [], metrics: {} };
    for (const r of units) {
      if (num(r.conflicted) !== 0) out.excludedUnits += num(r.units);
      else out.units[r.variant as string] = num(r.units);
    }
    out.exclusions.multiple_variants = out.excludedUnits;
    readExclusions(out, exclusions as { reason: string; sent_by: string; events: number }[]);
    for (const m of metrics) out.metrics[m.key] = {};
    for (const m of metrics) {
      const per = out.metrics[m.key]!;
      for (const r of sums) {
        if (r.metric !== m.key) continue;
        const k = num(r.k);
        // A conversion is 1 for each unit with a row.
        per[r.variant as string] =
          m.type === 'conversion'
            ? { sum: k, sumSquares: k, unitsWithEvents: k }
            : { sum: num(r.sum), sumSquares: num(r.sq), unitsWithEvents: k };
      }
    }
    return out;
  };

  return { summaryOf, experimentAggregates };
}
