import { useState, type FormEvent } from 'react';
import { Field } from '../../../components/ui/field';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { ApiError } from '../../../lib/api/api-error';
import type { Schemas } from '../../../lib/api/client';

type Input = Schemas['ExperimentInput'];
type Metric = NonNullable<Input['metrics']>[number];
interface GuardrailRow {
  metric: string;
  limitPct: string;
}

const sum = (xs: { weight: number }[]) => Math.round(xs.reduce((s, v) => s + (Number.isFinite(v.weight) ? v.weight : 0), 0) * 100) / 100;
const toIso = (local: string) => (local === '' ? undefined : new Date(local).toISOString());

/**
 * The experiment set-up form: variants and weights (first = control, summing to 100), metrics
 * and the primary one, guardrails, targeting (JSON condition), traffic, namespace and schedule.
 * The server's validation messages appear beside the field they name.
 */
export function ExperimentForm({ onSubmit, pending, error }: { onSubmit: (body: Input) => void; pending: boolean; error: unknown }) {
  const [variants, setVariants] = useState([
    { key: 'control', weight: 50 },
    { key: 'treatment', weight: 50 },
  ]);
  const [metrics, setMetrics] = useState<Metric[]>([{ key: 'purchase', type: 'conversion' }]);
  const [guardrails, setGuardrails] = useState<GuardrailRow[]>([]);
  const [targeting, setTargeting] = useState('');
  const err = error instanceof ApiError ? error : null;
  const weightProblem = sum(variants) === 100 ? null : `weights add up to ${sum(variants)}, not 100`;
  let targetingProblem: string | null = null;
  try {
    if (targeting.trim() !== '') JSON.parse(targeting);
  } catch (e) {
    targetingProblem = (e as Error).message;
  }

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const s = (k: string) => String(f.get(k) ?? '').trim();
    const nsKey = s('namespace_key');
    const start = toIso(s('start_at'));
    const end = toIso(s('end_at'));
    onSubmit({
      key: s('key'),
      name: s('name') || s('key'),
      ...(s('hypothesis') ? { hypothesis: s('hypothesis') } : {}),
      variants,
      metrics,
      ...(s('primary_metric') ? { primary_metric: s('primary_metric') } : {}),
      guardrails: guardrails.map((g) => ({ metric: g.metric, max_relative_increase: Number(g.limitPct) / 100 })),
      traffic_allocation: Number(s('traffic_allocation')),
      ...(targeting.trim() ? { targeting: JSON.parse(targeting) as Input['targeting'] } : {}),
      ...(nsKey ? { namespace: { key: nsKey, start: Number(s('namespace_start')), end: Number(s('namespace_end')) } } : {}),
      ...(start || end ? { schedule: { ...(start ? { start_at: start } : {}), ...(end ? { end_at: end } : {}) } } : {}),
    });
  };

  return (
    <form onSubmit={submit} className="experiment-form">
      <Field label="Key" errors={err?.at('key')}>
        {(p) => <input {...p} name="key" required />}
      </Field>
      <Field label="Name" errors={err?.at('name')}>
        {(p) => <input {...p} name="name" />}
      </Field>
      <Field label="Hypothesis" errors={err?.at('hypothesis')}>
        {(p) => <textarea {...p} name="hypothesis" rows={2} />}
      </Field>

      <fieldset>
        <legend>Variants (the first is control)</legend>
        {variants.map((v, i) => (
          <div className="clause" key={i}>
            <label className="inline-field">
              <span>Variant {i + 1} key</span>
              <input value={v.key} onChange={(e) => setVariants(variants.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)))} />
            </label>
            <label className="inline-field">
              <span>Variant {i + 1} weight (%)</span>
              <input
                type="number"
                step={0.01}
                min={0}
                max={100}
                value={v.weight}
                aria-invalid={weightProblem !== null ? true : undefined}
                onChange={(e) => setVariants(variants.map((x, j) => (j === i ? { ...x, weight: Number(e.target.value) } : x)))}
              />
            </label>
            <button
              type="button"
              className="btn btn-ghost"
              disabled={variants.length <= 2}
              onClick={() => setVariants(variants.filter((_, j) => j !== i))}
            >
              Remove variant {i + 1}
            </button>
          </div>
        ))}
        <button
          type="button"
          className="btn btn-secondary"
          onClick={() => setVariants([...variants, { key: `variant-${variants.length + 1}`, weight: 0 }])}
        >
          Add variant
        </button>
        {[weightProblem, ...(err?.at('variants') ?? [])].filter(Boolean).map((m) => (
          <p key={m} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </fieldset>

      <fieldset>
        <legend>Metrics</legend>
        {metrics.map((m, i) => (
          <div className="clause" key={i}>
            <label className="inline-field">
              <span>Metric {i + 1} event key</span>
              <input value={m.key} onChange={(e) => setMetrics(metrics.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)))} />
            </label>
            <label className="inline-field">
              <span>Metric {i + 1} type</span>
              <select
                value={m.type}
                onChange={(e) => setMetrics(metrics.map((x, j) => (j === i ? { ...x, type: e.target.value as Metric['type'] } : x)))}
              >
                <option value="conversion">conversion (share of units)</option>
                <option value="mean">mean (per-unit value)</option>
              </select>
            </label>
            <button type="button" className="btn btn-ghost" onClick={() => setMetrics(metrics.filter((_, j) => j !== i))}>
              Remove metric {i + 1}
            </button>
          </div>
        ))}
        <button type="button" className="btn btn-secondary" onClick={() => setMetrics([...metrics, { key: '', type: 'mean' }])}>
          Add metric
        </button>
        <Field label="Primary metric" errors={err?.at('primary_metric')}>
          {(p) => (
            <select {...p} name="primary_metric" defaultValue="">
              <option value="">(first metric)</option>
              {metrics.map((m) => (
                <option key={m.key}>{m.key}</option>
              ))}
            </select>
          )}
        </Field>
        {(err?.at('metrics') ?? []).map((m) => (
          <p key={m} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </fieldset>

      <fieldset>
        <legend>Guardrails</legend>
        {guardrails.map((g, i) => (
          <div className="clause" key={i}>
            <label className="inline-field">
              <span>Guardrail {i + 1} metric</span>
              <input
                value={g.metric}
                onChange={(e) => setGuardrails(guardrails.map((x, j) => (j === i ? { ...x, metric: e.target.value } : x)))}
              />
            </label>
            <label className="inline-field">
              <span>Guardrail {i + 1} max increase (%)</span>
              <input
                type="number"
                min={0}
                step={0.1}
                value={g.limitPct}
                onChange={(e) => setGuardrails(guardrails.map((x, j) => (j === i ? { ...x, limitPct: e.target.value } : x)))}
              />
            </label>
            <button type="button" className="btn btn-ghost" onClick={() => setGuardrails(guardrails.filter((_, j) => j !== i))}>
              Remove guardrail {i + 1}
            </button>
          </div>
        ))}
        <button
          type="button"
          className="btn btn-secondary"
          onClick={() => setGuardrails([...guardrails, { metric: 'errors', limitPct: '10' }])}
        >
          Add guardrail
        </button>
        {(err?.at('guardrails') ?? []).map((m) => (
          <p key={m} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </fieldset>

      <fieldset>
        <legend>Who takes part</legend>
        <Field label="Traffic allocation (%)" errors={err?.at('traffic_allocation')}>
          {(p) => <input {...p} name="traffic_allocation" type="number" min={0} max={100} step={0.01} defaultValue={100} />}
        </Field>
        <Field
          label="Targeting condition (JSON, optional)"
          errors={[...(targetingProblem ? [targetingProblem] : []), ...(err?.at('targeting') ?? [])]}
          hint='e.g. {"attr": "country", "op": "in", "values": ["US", "CA"]}'
        >
          {(p) => <textarea {...p} rows={3} value={targeting} onChange={(e) => setTargeting(e.target.value)} />}
        </Field>
        <div className="clause">
          <label className="inline-field">
            <span>Namespace (optional)</span>
            <input name="namespace_key" />
          </label>
          <label className="inline-field">
            <span>Namespace start (%)</span>
            <input name="namespace_start" type="number" min={0} max={100} defaultValue={0} />
          </label>
          <label className="inline-field">
            <span>Namespace end (%)</span>
            <input name="namespace_end" type="number" min={0} max={100} defaultValue={100} />
          </label>
        </div>
        {(err?.at('namespace') ?? []).map((m) => (
          <p key={m} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </fieldset>

      <fieldset>
        <legend>Schedule (optional)</legend>
        <div className="clause">
          <label className="inline-field">
            <span>Start at</span>
            <input name="start_at" type="datetime-local" />
          </label>
          <label className="inline-field">
            <span>End at</span>
            <input name="end_at" type="datetime-local" />
          </label>
        </div>
        {(err?.at('schedule') ?? []).map((m) => (
          <p key={m} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </fieldset>
      {err && <ErrorBanner error={err} />}
      {error !== null && error !== undefined && !(error instanceof ApiError) && <ErrorBanner error={error} />}
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={pending || weightProblem !== null || targetingProblem !== null}>
          Create experiment
        </button>
      </div>
    </form>
  );
}
