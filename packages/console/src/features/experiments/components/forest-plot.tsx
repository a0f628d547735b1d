import { intervalOf, type Results } from '../api/experiments';
import { pct } from './format';

const ROW = 34;
const LEFT = 210;
const WIDTH = 720;
const PLOT = WIDTH - LEFT - 90;

interface Row {
  label: string;
  lift: number;
  lo: number;
  hi: number;
  significant: boolean;
}

/** The interval a comparison is judged by: the always-valid sequential one when present. */
function rowsOf(results: Results): Row[] {
  const rows: Row[] = [];
  for (const m of Object.values(results.metrics)) {
    for (const c of m.comparisons) {
      const ci = intervalOf(c);
      if (c.relative_lift === null || ci === null || !Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) continue;
      rows.push({ label: `${m.key} · ${c.variant}`, lift: c.relative_lift, lo: ci[0], hi: ci[1], significant: ci[0] > 0 || ci[1] < 0 });
    }
  }
  return rows;
}

/**
 * Forest plot: each treatment's relative lift over control per metric, with its interval, on
 * one axis through zero. Drawn as SVG by the console itself (no chart library to load) with a
 * text alternative for every row.
 */
export function ForestPlot({ results }: { results: Results }) {
  const rows = rowsOf(results);
  if (rows.length === 0) return <p className="muted">No comparison has enough data for a plot yet.</p>;
  const extent = Math.max(0.05, ...rows.flatMap((r) => [Math.abs(r.lo), Math.abs(r.hi)]));
  const x = (v: number) => LEFT + ((v + extent) / (2 * extent)) * PLOT;
  const height = rows.length * ROW + 40;
  const summary = rows.map((r) => `${r.label}: ${pct(r.lift)} (${pct(r.lo)} to ${pct(r.hi)})`).join('; ');
  return (
    <figure className="chart">
      <figcaption>Relative lift over control with its interval</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} width={WIDTH} height={height} role="img" aria-label={`Forest plot. ${summary}`}>
        <line className="forest-axis" x1={x(0)} x2={x(0)} y1={10} y2={height - 24} />
        <text x={x(0)} y={height - 8} textAnchor="middle" fontSize="12" fill="#374151">
          0
        </text>
        <text x={x(-extent)} y={height - 8} fontSize="12" fill="#374151">
          {pct(-extent)}
        </text>
        <text x={x(extent)} y={height - 8} textAnchor="end" fontSize="12" fill="#374151">
          {pct(extent)}
        </text>
        {rows.map((r, i) => {
          const y = 24 + i * ROW;
          const color = !r.significant ? '#4b5563' : r.lift > 0 ? '#047857' : '#b91c1c';
          return (
            <g key={r.label} data-row={r.label}>
              <title>{`${r.label}: ${pct(r.lift)} (${pct(r.lo)} to ${pct(r.hi)})`}</title>
              <text x={8} y={y + 4} fontSize="13" fill="#111827">
                {r.label}
              </text>
              <line x1={x(Math.max(-extent, r.lo))} x2={x(Math.min(extent, r.hi))} y1={y} y2={y} stroke={color} strokeWidth={2} />
              <rect x={x(r.lift) - 5} y={y - 5} width={10} height={10} fill={color} />
              <text x={WIDTH - 8} y={y + 4} fontSize="13" textAnchor="end" fill={color}>
                {pct(r.lift)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
