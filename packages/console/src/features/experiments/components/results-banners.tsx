import { intervalOf, type Experiment, type Results } from '../api/experiments';
import { pct } from './format';

/**
 * Warnings that change how results should be read: a sample ratio mismatch, guardrails whose
 * interval lies past their limit (or whose estimate does), and a pause by the safety monitor.
 */
export function ResultsBanners({ experiment, results }: { experiment: Experiment; results: Results }) {
  const banners: { kind: 'error' | 'warn'; text: string }[] = [];
  if (results.srm?.mismatch === true)
    banners.push({
      kind: 'error',
      text: `Sample ratio mismatch (p = ${results.srm.p_value?.toPrecision(2) ?? '?'}): units did not split by the configured weights, so the results are not trustworthy until the cause is found.`,
    });
  for (const g of experiment.attributes.guardrails ?? []) {
    const m = results.metrics[g.metric];
    for (const c of m?.comparisons ?? []) {
      const ci = intervalOf(c);
      const limit = g.max_relative_increase;
      if (limit === undefined || c.relative_lift === null || ci === null) continue;
      if (ci[0] > limit)
        banners.push({
          kind: 'error',
          text: `Guardrail ${g.metric} breached by ${c.variant}: ${pct(c.relative_lift)} against a limit of ${pct(limit)}.`,
        });
      else if (c.relative_lift > limit)
        banners.push({
          kind: 'warn',
          text: `Guardrail ${g.metric} at risk for ${c.variant}: estimate ${pct(c.relative_lift)} is past ${pct(limit)}.`,
        });
    }
  }
  const reason = experiment.attributes.pause_reason;
  if (experiment.attributes.status === 'PAUSED' && reason !== undefined)
    banners.push({ kind: 'error', text: `Paused by the safety monitor: ${JSON.stringify(reason)}` });
  if (banners.length === 0) return null;
  return (
    <div>
      {banners.map((b, i) => (
        <div key={i} className={`banner banner-${b.kind}`} role="alert">
          {b.text}
        </div>
      ))}
    </div>
  );
}
