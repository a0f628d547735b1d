import type { DayRow } from '../../store/daily-series-sql';
import type { ResourceRow } from '../../store/types';
import type { ServerContext } from '../context';
import { metricsOf } from './results';

const DAY_MS = 86_400_000;
/** A run longer than this is summarized over its last this-many days (the chart stays readable). */
const MAX_DAYS = 366;

/** One variant's cumulative figures, one entry per day of `days`. */
export interface VariantSeries {
  key: string;
  units: number[];
  /** Per metric: the cumulative value (conversion rate, or mean per exposed unit) and its relative lift over control. */
  metrics: Record<string, { value: (number | null)[]; relative_lift: (number | null)[] }>;
}

/** The daily cumulative series of an experiment, as the API returns it. */
export interface DailyResultsPayload {
  experiment: { id: string; key: string; status: unknown };
  days: string[];
  variants: VariantSeries[];
  metrics: { key: string; type: 'conversion' | 'mean'; role: string }[];
  method: string;
}

const byVariantDay = (rows: DayRow[]) => {
  const m = new Map<string, Map<number, number>>();
  for (const r of rows) {
    if (!m.has(r.variant)) m.set(r.variant, new Map());
    m.get(r.variant)!.set(r.day, (m.get(r.variant)!.get(r.day) ?? 0) + r.n);
  }
  return m;
};

function cumulative(perDay: Map<number, number> | undefined, days: number[]): number[] {
  let sum = 0;
  let i = 0;
  const sorted = [...(perDay?.entries() ?? [])].sort((a, b) => a[0] - b[0]);
  return days.map((d) => {
    while (i < sorted.length && sorted[i]![0] <= d) sum += sorted[i++]![1];
    return sum;
  });
}

/**
 * An experiment's results day by day, cumulative: at the end of each UTC day since its first
 * exposure, the units exposed so far per variant and, per metric, the conversion rate (units
 * with an event / units) or the mean (summed values / units), with the relative lift over
 * control. Computed from the stored events of the run's window (`started_at` to `completed_at`
 * or now), with the results' rules: a unit counts from its first exposure, a unit exposed to two
 * variants not at all, and a metric event only at or after the unit's first exposure. Events
 * deleted by retention no longer count, so early days of a long run may read low.
 */
export async function dailyResults(ctx: ServerContext, row: ResourceRow): Promise<DailyResultsPayload> {
  const metrics = metricsOf(row.data);
  const variantKeys = (row.data.variants as { key: string }[]).map((v) => v.key);
  const started = Date.parse(String(row.data.started_at ?? ''));
  const completed = Date.parse(String(row.data.completed_at ?? ''));
  const now = ctx.now();
  const window = { from: Number.isFinite(started) ? started : 0, to: Number.isFinite(completed) ? completed : now };
  const rows = await ctx.store.experimentDailySeries(row.environment ?? ctx.options.defaultEnvironment, row.key, window, metrics);
  const firstDay = rows.units.reduce((min, r) => Math.min(min, r.day), Infinity);
  const lastDay = Math.floor(window.to / DAY_MS);
  const days: number[] = [];
  if (Number.isFinite(firstDay)) for (let d = Math.max(firstDay, lastDay - MAX_DAYS + 1); d <= lastDay; d++) days.push(d);

  const units = byVariantDay(rows.units);
  const unitSeries = new Map(variantKeys.map((k) => [k, cumulative(units.get(k), days)]));
  // Per metric, new converters (conversion) or summed values (mean) per day.
  const valueOf = (metricKey: string, variant: string): (number | null)[] => {
    const totals = cumulative(byVariantDay(rows.metrics[metricKey] ?? []).get(variant), days);
    const n = unitSeries.get(variant)!;
    return totals.map((t, i) => (n[i]! > 0 ? t / n[i]! : null));
  };
  const values = new Map(metrics.map((m) => [m.key, new Map(variantKeys.map((v) => [v, valueOf(m.key, v)]))]));
  const control = variantKeys[0];
  const variants: VariantSeries[] = variantKeys.map((key) => ({
    key,
    units: unitSeries.get(key)!,
    metrics: Object.fromEntries(
      metrics.map((m) => {
        const mine = values.get(m.key)!.get(key)!;
        const base = values.get(m.key)!.get(control!)!;
        const lift = mine.map((v, i) => (v === null || base[i] === null || base[i] === 0 ? null : v / base[i]! - 1));
        return [m.key, { value: mine, relative_lift: lift }];
      }),
    ),
  }));
  return {
    experiment: { id: row.id, key: row.key, status: row.data.status },
    days: days.map((d) => new Date(d * DAY_MS).toISOString().slice(0, 10)),
    variants,
    metrics: metrics.map((m) => ({ key: m.key, type: m.type, role: m.role })),
    method:
      'cumulative to the end of each UTC day, from the stored events of the run (started_at to completed_at or now): units from their first exposure, units exposed to two variants left out, metric events at or after the first exposure; conversion = units with an event / units, mean = summed values / units',
  };
}
