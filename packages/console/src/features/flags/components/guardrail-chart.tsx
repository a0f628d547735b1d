import { IntervalChart } from '../../../components/chart/interval-chart';
import type { RolloutCheck, RolloutGuardrail } from '../api/rollouts';

const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;

/**
 * Each guardrail's estimate (relative change of the new arm against control) with its
 * always-valid interval, on one axis through zero, and the guardrail's allowed increase marked:
 * an interval wholly past the mark is a regression.
 */
export function GuardrailChart({ checks, guardrails }: { checks: RolloutCheck[]; guardrails: RolloutGuardrail[] }) {
  const rows = checks.filter(
    (c): c is RolloutCheck & { estimate: number; interval: number[] } =>
      c.estimate !== null && c.interval !== null && c.interval.length === 2 && c.interval.every(Number.isFinite),
  );
  if (rows.length === 0) return <p className="muted">No guardrail has enough data for a chart yet.</p>;
  const summary = rows
    .map((r) => `${r.metric}: ${pct(r.estimate)} (${pct(r.interval[0]!)} to ${pct(r.interval[1]!)}), ${r.verdict}`)
    .join('; ');
  return (
    <IntervalChart
      name="Guardrail chart"
      caption="Change of each guardrail metric in the new arm against control, with its interval"
      summary={summary}
      rows={rows.map((r) => ({
        id: r.metric,
        label: r.metric,
        estimate: r.estimate,
        lo: r.interval[0]!,
        hi: r.interval[1]!,
        color: r.verdict === 'breach' ? '#b91c1c' : '#4b5563',
        mark: guardrails.find((g) => g.metric === r.metric)?.max_relative_increase,
      }))}
      format={pct}
      labelWidth={150}
      width={640}
      rowAttribute="data-guardrail"
    />
  );
}
