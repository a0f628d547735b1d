import { useState } from 'react';
import type { DailyResults } from '../api/experiments';
import { pct } from './format';

const WIDTH = 720;
const HEIGHT = 260;
const PAD = { left: 64, right: 110, top: 16, bottom: 32 };
const COLORS = ['#4b5563', '#2563eb', '#b45309', '#7c3aed', '#047857', '#be123c'];

const fmt = (type: string, v: number | null) => (v === null ? '—' : type === 'conversion' ? pct(v, false) : v.toFixed(2));

/**
 * Cumulative time series: each variant's metric (conversion rate or mean) at the end of every
 * day since the first exposure, drawn as SVG by the console (no chart library, nothing inline
 * that the CSP refuses). A converging pair of lines is the "wait before you call it" signal.
 * The figure's text alternative states the last day's values.
 */
export function CumulativeChart({ series, primary }: { series: DailyResults; primary: string | undefined }) {
  const [metric, setMetric] = useState(primary ?? series.metrics[0]?.key ?? '');
  const def = series.metrics.find((m) => m.key === metric) ?? series.metrics[0];
  if (def === undefined || series.days.length === 0)
    return <p className="muted">No exposures yet: the daily chart starts with the first.</p>;
  const lines = series.variants.map((v, i) => ({ key: v.key, color: COLORS[i % COLORS.length]!, values: v.metrics[def.key]?.value ?? [] }));
  const all = lines.flatMap((l) => l.values.filter((x): x is number => x !== null));
  const max = Math.max(def.type === 'conversion' ? 0.01 : 1e-9, ...all) * 1.1;
  const n = series.days.length;
  const x = (i: number) => PAD.left + (n === 1 ? (WIDTH - PAD.left - PAD.right) / 2 : (i / (n - 1)) * (WIDTH - PAD.left - PAD.right));
  const y = (v: number) => HEIGHT - PAD.bottom - (v / max) * (HEIGHT - PAD.top - PAD.bottom);
  const last = n - 1;
  const summary = lines.map((l) => `${l.key} ${fmt(def.type, l.values[last] ?? null)}`).join(', ');
  return (
    <figure className="chart" data-testid="cumulative-chart">
      <figcaption>
        <label className="inline-row">
          <span>Cumulative</span>
          <select value={def.key} onChange={(e) => setMetric(e.target.value)} aria-label="Metric of the daily chart">
            {series.metrics.map((m) => (
              <option key={m.key} value={m.key}>
                {m.key} ({m.type === 'conversion' ? 'conversion rate' : 'mean'})
              </option>
            ))}
          </select>
          <span>
            by day, {series.days[0]} to {series.days[last]}
          </span>
        </label>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width={WIDTH}
        height={HEIGHT}
        role="img"
        aria-label={`Cumulative ${def.key} by day. On ${series.days[last]}: ${summary}`}
      >
        <line className="forest-axis" x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={HEIGHT - PAD.bottom} />
        <line className="forest-axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={HEIGHT - PAD.bottom} y2={HEIGHT - PAD.bottom} />
        {[0, 0.5, 1].map((f) => (
          <text key={f} x={PAD.left - 6} y={y(max * f) + 4} textAnchor="end" fontSize="12" fill="#374151">
            {fmt(def.type, max * f)}
          </text>
        ))}
        <text x={PAD.left} y={HEIGHT - 10} fontSize="12" fill="#374151">
          {series.days[0]}
        </text>
        {n > 1 && (
          <text x={WIDTH - PAD.right} y={HEIGHT - 10} textAnchor="end" fontSize="12" fill="#374151">
            {series.days[last]}
          </text>
        )}
        {lines.map((l) => {
          const points = l.values.flatMap((v, i) => (v === null ? [] : [`${x(i)},${y(v)}`]));
          const end = l.values[last] ?? null;
          return (
            <g key={l.key} data-series={l.key}>
              <title>{`${l.key}: ${l.values.map((v, i) => `${series.days[i]} ${fmt(def.type, v)}`).join(', ')}`}</title>
              <polyline points={points.join(' ')} fill="none" stroke={l.color} strokeWidth={2} />
              {l.values.map((v, i) => (v === null ? null : <circle key={i} cx={x(i)} cy={y(v)} r={3} fill={l.color} />))}
              {end !== null && (
                <text x={WIDTH - PAD.right + 8} y={y(end) + 4} fontSize="13" fill={l.color}>
                  {l.key} {fmt(def.type, end)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
