import { useState, type FormEvent } from 'react';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import type { RolloutInput } from '../api/rollouts';

interface StageRow {
  percent: string;
  hold: string;
}
interface GuardrailRow {
  metric: string;
  type: 'conversion' | 'mean';
  /** Percent, as people say it ("5" = at most 5 % worse); sent as a fraction. */
  increasePct: string;
  maxValue: string;
}

const FIRST_STAGES: StageRow[] = [
  { percent: '5', hold: '60' },
  { percent: '25', hold: '60' },
  { percent: '50', hold: '120' },
  { percent: '100', hold: '' },
];
const optionalNumber = (s: string) => (s.trim() === '' ? undefined : Number(s));

/**
 * The form that starts a guarded rollout: the variant to ship, the control, the stages (share and
 * hold), the guardrails and what a regression does. The server checks the plan; its messages
 * appear beside the stage or guardrail field they name (`stages.1.percent`).
 */
export function RolloutForm({
  variants,
  defaultControl,
  envName,
  canEdit,
  reason,
  pending,
  error,
  onSubmit,
}: {
  variants: string[];
  defaultControl: string | undefined;
  envName: string;
  canEdit: boolean;
  reason: string;
  pending: boolean;
  error: unknown;
  onSubmit: (body: RolloutInput) => void;
}) {
  const [variant, setVariant] = useState(variants.find((v) => v !== defaultControl) ?? variants[0] ?? '');
  const [control, setControl] = useState(defaultControl ?? '');
  const [stages, setStages] = useState<StageRow[]>(FIRST_STAGES);
  const [guardrails, setGuardrails] = useState<GuardrailRow[]>([{ metric: 'errors', type: 'conversion', increasePct: '5', maxValue: '' }]);
  const err = error instanceof ApiError ? error : null;
  const at = (path: string) => err?.at(path);
  const setStage = (i: number, s: StageRow) => setStages(stages.map((x, j) => (j === i ? s : x)));
  const setGuardrail = (i: number, g: GuardrailRow) => setGuardrails(guardrails.map((x, j) => (j === i ? g : x)));

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    onSubmit({
      variant,
      ...(control === '' ? {} : { control }),
      stages: stages.map((s) => {
        const hold = optionalNumber(s.hold);
        return { percent: Number(s.percent), ...(hold === undefined ? {} : { hold_minutes: hold }) };
      }),
      guardrails: guardrails.map((g) => {
        const pct = optionalNumber(g.increasePct);
        const max = optionalNumber(g.maxValue);
        return {
          metric: g.metric.trim(),
          type: g.type,
          ...(pct === undefined ? {} : { max_relative_increase: pct / 100 }),
          ...(max === undefined ? {} : { max_value: max }),
        };
      }),
      on_regression: f.get('on_regression') === 'pause' ? 'pause' : 'rollback',
    });
  };

  return (
    <form onSubmit={submit} aria-labelledby="rollout-form-title" className="rollout-form">
      <h3 id="rollout-form-title">Start a guarded rollout in {envName}</h3>
      {!canEdit && <p className="banner banner-info">{reason}</p>}
      <fieldset disabled={!canEdit || pending} className="plain">
        <div className="row">
          <Field label="Variant to roll out" errors={at('variant')}>
            {(p) => (
              <select {...p} value={variant} onChange={(e) => setVariant(e.target.value)}>
                {variants.map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Control (everyone else, and what a rollback serves)" errors={at('control')}>
            {(p) => (
              <select {...p} value={control} onChange={(e) => setControl(e.target.value)}>
                <option value="">(the server's default)</option>
                {variants.map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <fieldset>
          <legend>Stages</legend>
          {(at('stages') ?? []).length > 0 && stages.every((_, i) => (at(`stages.${i}`) ?? []).length === 0) && (
            <p className="field-error" role="alert">
              {at('stages')!.join('; ')}
            </p>
          )}
          <ol className="stages">
            {stages.map((s, i) => (
              <li key={i} className="row">
                <Field label={`Stage ${i + 1} share (%)`} errors={at(`stages.${i}.percent`)}>
                  {(p) => (
                    <input
                      {...p}
                      type="number"
                      step="any"
                      value={s.percent}
                      onChange={(e) => setStage(i, { ...s, percent: e.target.value })}
                    />
                  )}
                </Field>
                <Field label={`Stage ${i + 1} hold (minutes)`} errors={at(`stages.${i}.hold_minutes`)}>
                  {(p) => (
                    <input
                      {...p}
                      type="number"
                      step="any"
                      min={0}
                      value={s.hold}
                      onChange={(e) => setStage(i, { ...s, hold: e.target.value })}
                    />
                  )}
                </Field>
                <Button variant="ghost" disabled={stages.length === 1} onClick={() => setStages(stages.filter((_, j) => j !== i))}>
                  Remove stage {i + 1}
                </Button>
              </li>
            ))}
          </ol>
          <Button onClick={() => setStages([...stages, { percent: '100', hold: '' }])}>Add stage</Button>
        </fieldset>
        <fieldset>
          <legend>Guardrails</legend>
          {(at('guardrails') ?? []).length > 0 && guardrails.every((_, i) => (at(`guardrails.${i}`) ?? []).length === 0) && (
            <p className="field-error" role="alert">
              {at('guardrails')!.join('; ')}
            </p>
          )}
          <ol className="guardrails">
            {guardrails.map((g, i) => (
              <li key={i} className="row">
                <Field label={`Guardrail ${i + 1} metric`} errors={at(`guardrails.${i}.metric`)}>
                  {(p) => <input {...p} value={g.metric} onChange={(e) => setGuardrail(i, { ...g, metric: e.target.value })} />}
                </Field>
                <Field label={`Guardrail ${i + 1} type`} errors={at(`guardrails.${i}.type`)}>
                  {(p) => (
                    <select {...p} value={g.type} onChange={(e) => setGuardrail(i, { ...g, type: e.target.value as GuardrailRow['type'] })}>
                      <option value="conversion">conversion (a rate)</option>
                      <option value="mean">mean (per unit)</option>
                    </select>
                  )}
                </Field>
                <Field label={`Guardrail ${i + 1} max increase (%)`} errors={at(`guardrails.${i}.max_relative_increase`)}>
                  {(p) => (
                    <input
                      {...p}
                      type="number"
                      step="any"
                      value={g.increasePct}
                      onChange={(e) => setGuardrail(i, { ...g, increasePct: e.target.value })}
                    />
                  )}
                </Field>
                <Field label={`Guardrail ${i + 1} ceiling`} errors={at(`guardrails.${i}.max_value`)}>
                  {(p) => (
                    <input
                      {...p}
                      type="number"
                      step="any"
                      value={g.maxValue}
                      onChange={(e) => setGuardrail(i, { ...g, maxValue: e.target.value })}
                    />
                  )}
                </Field>
                <Button
                  variant="ghost"
                  disabled={guardrails.length === 1}
                  onClick={() => setGuardrails(guardrails.filter((_, j) => j !== i))}
                >
                  Remove guardrail {i + 1}
                </Button>
              </li>
            ))}
          </ol>
          <Button onClick={() => setGuardrails([...guardrails, { metric: '', type: 'conversion', increasePct: '5', maxValue: '' }])}>
            Add guardrail
          </Button>
        </fieldset>
        <Field label="On a regression" errors={at('on_regression')}>
          {(p) => (
            <select {...p} name="on_regression" defaultValue="rollback">
              <option value="rollback">roll back to the control</option>
              <option value="pause">pause and wait for a person</option>
            </select>
          )}
        </Field>
      </fieldset>
      {err && (
        <ErrorBanner
          error={err}
          unplaced={err.details.map((d) => d.path ?? '').filter((p) => /^(variant|control|stages|guardrails|on_regression)/.test(p))}
        />
      )}
      <div className="actions">
        <Button type="submit" variant="primary" disabled={!canEdit || pending} disabledReason={!canEdit ? reason : undefined}>
          {pending ? 'Starting…' : `Start rollout in ${envName}`}
        </Button>
      </div>
    </form>
  );
}
