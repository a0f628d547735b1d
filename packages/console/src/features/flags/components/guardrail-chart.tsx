import type { RolloutCheck, RolloutGuardrail } from '../api/rollouts';

const ROW = 34;
const LEFT = 150;
const WIDTH = 640;
const PLOT = WIDTH - LEFT - 90;
const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;

/**
 * Each guardrail's estimate (relative change of the new arm against control) with its
 * always-valid interval, on one axis through zero, and the guardrail's allowed increase marked:
 * an interval wholly past the mark is a regression. SVG drawn by the console, with a text
 * alternative.
 */
export function GuardrailChart({ checks, guardrails }: { checks: RolloutCheck[]; guardrails: RolloutGuardrail[] }) {
  const rows = checks.filter(
    (c): c is RolloutCheck & { estimate: number; interval: number[] } =>
      c.estimate !== null && c.interval !== null && c.interval.length === 2 && c.interval.every(Number.isFinite),
  );
  if (rows.length === 0) return <p className="muted">No guardrail has enough data for a chart yet.</p>;
  const limit = (metric: string) => guardrails.find((g) => g.metric === metric)?.max_relative_increase;
  const extent = Math.max(
    0.05,
    ...rows.flatMap((r) => [Math.abs(r.interval[0]!), Math.abs(r.interval[1]!), Math.abs(r.estimate), limit(r.metric) ?? 0]),
  );
  const x = (v: number) => LEFT + ((Math.max(-extent, Math.min(extent, v)) + extent) / (2 * extent)) * PLOT;
  const height = rows.length * ROW + 40;
  const summary = rows
    .map((r) => `${r.metric}: ${pct(r.estimate)} (${pct(r.interval[0]!)} to ${pct(r.interval[1]!)}), ${r.verdict}`)
    .join('; ');
  return (
    <figure className="chart">
      <figcaption>Change of each guardrail metric in the new arm against control, with its interval</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} width={WIDTH} height={height} role="img" aria-label={`Guardrail chart. ${summary}`}>
        <line className="forest-axis" x1={x(0)} x2={x(0)} y1={10} y2={height - 24} />
        <text x={x(0)} y={height - 8} textAnchor="middle" fontSize="12" fill="#374151">
          0
        </text>
        {rows.map((r, i) => {
          const y = 24 + i * ROW;
          const color = r.verdict === 'breach' ? '#b91c1c' : '#4b5563';
          const l = limit(r.metric);
          return (
            <g key={r.metric} data-guardrail={r.metric}>
              <text x={8} y={y + 4} fontSize="13" fill="#111827">
                {r.metric}
              </text>
              {l !== undefined && <line x1={x(l)} x2={x(l)} y1={y - 12} y2={y + 12} stroke="#b45309" strokeDasharray="3 2" />}
              <line x1={x(r.interval[0]!)} x2={x(r.interval[1]!)} y1={y} y2={y} stroke={color} strokeWidth={2} />
              <rect x={x(r.estimate) - 5} y={y - 5} width={10} height={10} fill={color} />
              <text x={WIDTH - 8} y={y + 4} fontSize="13" textAnchor="end" fill={color}>
                {pct(r.estimate)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
