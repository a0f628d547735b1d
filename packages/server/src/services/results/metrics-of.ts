/** What a metric is to an experiment: its primary metric, another of its metrics, or only a guardrail. */
export type MetricRole = 'primary' | 'secondary' | 'guardrail';
export interface MetricDef {
  key: string;
  type: 'conversion' | 'mean';
  role: MetricRole;
  /** CUPED's pre-exposure window, when the metric sets one. */
  cupedWindowDays?: number;
}

/**
 * The metrics an experiment analyzes: its metrics, then guardrails that are not already among them.
 * The primary metric is `primary_metric`, or the first metric when none is named (as the console's
 * "(first metric)" choice and LaunchDarkly's experiments promise).
 */
export function metricsOf(data: Record<string, unknown>): MetricDef[] {
  const metrics = (data.metrics as { key: string; type: 'conversion' | 'mean'; cuped_window_days?: number }[] | undefined) ?? [];
  const primary = typeof data.primary_metric === 'string' ? data.primary_metric : metrics[0]?.key;
  const out: MetricDef[] = metrics.map((m) => ({
    key: m.key,
    type: m.type,
    role: m.key === primary ? 'primary' : 'secondary',
    ...(m.cuped_window_days === undefined ? {} : { cupedWindowDays: m.cuped_window_days }),
  }));
  for (const g of (data.guardrails as { metric: string; type?: 'conversion' | 'mean' }[] | undefined) ?? []) {
    if (!out.some((m) => m.key === g.metric)) out.push({ key: g.metric, type: g.type ?? 'mean', role: 'guardrail' });
  }
  return out;
}
