import { IntervalChart, type IntervalRow } from '../../../components/chart/interval-chart';
import { intervalOf, type Results } from '../api/experiments';
import { pct } from './format';

/** The interval a comparison is judged by: the always-valid sequential one when present. */
function rowsOf(results: Results): IntervalRow[] {
  const rows: IntervalRow[] = [];
  for (const m of Object.values(results.metrics)) {
    for (const c of m.comparisons) {
      const ci = intervalOf(c);
      if (c.relative_lift === null || ci === null || !Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) continue;
      const [lo, hi] = ci;
      const label = `${m.key} · ${c.variant}`;
      const significant = lo > 0 || hi < 0;
      const color = !significant ? '#4b5563' : c.relative_lift > 0 ? '#047857' : '#b91c1c';
      const title = `${label}: ${pct(c.relative_lift)} (${pct(lo)} to ${pct(hi)})`;
      rows.push({ id: label, label, estimate: c.relative_lift, lo, hi, color, title });
    }
  }
  return rows;
}

/**
 * Forest plot: each treatment's relative lift over control per metric, with its interval, on
 * one axis through zero, with a text alternative for every row.
 */
export function ForestPlot({ results }: { results: Results }) {
  const rows = rowsOf(results);
  if (rows.length === 0) return <p className="muted">No comparison has enough data for a plot yet.</p>;
  return (
    <IntervalChart
      name="Forest plot"
      caption="Relative lift over control with its interval"
      summary={rows.map((r) => r.title).join('; ')}
      rows={rows}
      format={pct}
      labelWidth={210}
      width={720}
      rowAttribute="data-row"
      axisEnds
    />
  );
}
