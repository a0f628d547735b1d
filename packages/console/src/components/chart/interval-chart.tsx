const ROW = 34;

/** One row of an {@link IntervalChart}. */
export interface IntervalRow {
  /** Names the row in the DOM (`data-<rowAttribute>`) and as the React key. */
  id: string;
  label: string;
  /** The point estimate (a relative change: 0.05 is +5%). */
  estimate: number;
  lo: number;
  hi: number;
  color: string;
  /** A threshold drawn as a dashed tick on the row (a guardrail's allowed increase). */
  mark?: number | undefined;
  /** The row's tooltip. */
  title?: string;
}

/**
 * Estimates with their intervals, one row each, on one axis through zero that covers every
 * interval, estimate and mark (at least ±5%). Drawn as SVG by the console itself (no chart
 * library to load); `summary` is the text alternative.
 *
 * @example
 * ```tsx
 * <IntervalChart name="Forest plot" caption="Relative lift over control" summary="purchase · green: +4.0%"
 *   rows={[{ id: 'purchase · green', label: 'purchase · green', estimate: 0.04, lo: 0.01, hi: 0.07, color: '#047857' }]}
 *   format={pct} labelWidth={210} width={720} rowAttribute="data-row" axisEnds />
 * ```
 */
export function IntervalChart({
  name,
  caption,
  summary,
  rows,
  format,
  labelWidth,
  width,
  rowAttribute,
  axisEnds = false,
}: {
  /** What a screen reader announces before the summary. */
  name: string;
  caption: string;
  summary: string;
  rows: IntervalRow[];
  format: (v: number) => string;
  labelWidth: number;
  width: number;
  rowAttribute: `data-${string}`;
  /** Labels the axis's ends with the extent as well as its zero. */
  axisEnds?: boolean;
}) {
  const plot = width - labelWidth - 90;
  const extent = Math.max(0.05, ...rows.flatMap((r) => [Math.abs(r.lo), Math.abs(r.hi), Math.abs(r.estimate), Math.abs(r.mark ?? 0)]));
  const x = (v: number) => labelWidth + ((Math.max(-extent, Math.min(extent, v)) + extent) / (2 * extent)) * plot;
  const height = rows.length * ROW + 40;
  return (
    <figure className="chart">
      <figcaption>{caption}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={`${name}. ${summary}`}>
        <line className="forest-axis" x1={x(0)} x2={x(0)} y1={10} y2={height - 24} />
        <text x={x(0)} y={height - 8} textAnchor="middle" fontSize="12" fill="#374151">
          0
        </text>
        {axisEnds && (
          <>
            <text x={x(-extent)} y={height - 8} fontSize="12" fill="#374151">
              {format(-extent)}
            </text>
            <text x={x(extent)} y={height - 8} textAnchor="end" fontSize="12" fill="#374151">
              {format(extent)}
            </text>
          </>
        )}
        {rows.map((r, i) => {
          const y = 24 + i * ROW;
          return (
            <g key={r.id} {...{ [rowAttribute]: r.id }}>
              {r.title !== undefined && <title>{r.title}</title>}
              <text x={8} y={y + 4} fontSize="13" fill="#111827">
                {r.label}
              </text>
              {r.mark !== undefined && (
                <line x1={x(r.mark)} x2={x(r.mark)} y1={y - 12} y2={y + 12} stroke="#b45309" strokeDasharray="3 2" />
              )}
              <line x1={x(r.lo)} x2={x(r.hi)} y1={y} y2={y} stroke={r.color} strokeWidth={2} />
              <rect x={x(r.estimate) - 5} y={y - 5} width={10} height={10} fill={r.color} />
              <text x={width - 8} y={y + 4} fontSize="13" textAnchor="end" fill={r.color}>
                {format(r.estimate)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
