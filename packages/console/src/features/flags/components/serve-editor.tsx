import type { Serve } from '@switchyard/core';

/** Weights of a split must add up to 100 (two decimals): the same rule the server applies. */
export function splitProblem(serve: Serve): string | null {
  if (!('split' in serve)) return null;
  const total = Math.round(serve.split.reduce((s, e) => s + (Number.isFinite(e.weight) ? e.weight : 0), 0) * 100) / 100;
  if (serve.split.some((e) => !Number.isFinite(e.weight) || e.weight < 0)) return 'every weight must be a number of 0 or more';
  return total === 100 ? null : `weights add up to ${total}, not 100`;
}

/**
 * Edits what a rule (or the default) serves: one variant, a split over the variants whose
 * weights must add up to 100, or an experiment (by key) whose arms are flag variants.
 */
export function ServeEditor({
  serve,
  variants,
  onChange,
  disabled,
  label,
  serverErrors = [],
}: {
  serve: Serve;
  variants: string[];
  onChange: (s: Serve) => void;
  disabled: boolean;
  label: string;
  serverErrors?: string[];
}) {
  const isSplit = 'split' in serve;
  const isExperiment = 'experiment' in serve;
  const problem = splitProblem(serve);
  const weightOf = (v: string) => (isSplit ? (serve.split.find((e) => e.variant === v)?.weight ?? 0) : 0);
  return (
    <fieldset className="serve-editor" disabled={disabled}>
      <legend>{label}</legend>
      <div className="radio-row">
        <label>
          <input
            type="radio"
            name={`${label}-mode`}
            checked={!isSplit && !isExperiment}
            onChange={() => onChange({ variant: variants[0] ?? '' })}
          />
          Fixed variant
        </label>
        <label>
          <input
            type="radio"
            name={`${label}-mode`}
            checked={isSplit}
            onChange={() => onChange({ split: variants.map((v, i) => ({ variant: v, weight: i === 0 ? 100 : 0 })) })}
          />
          Percentage split
        </label>
        <label>
          <input type="radio" name={`${label}-mode`} checked={isExperiment} onChange={() => onChange({ experiment: '' })} />
          Experiment
        </label>
      </div>
      {isExperiment && (
        <label className="inline-field">
          <span>Experiment key</span>
          <input value={serve.experiment} onChange={(e) => onChange({ experiment: e.target.value })} />
        </label>
      )}
      {'variant' in serve && (
        <label className="inline-field">
          <span>Variant to serve</span>
          <select value={serve.variant} onChange={(e) => onChange({ variant: e.target.value })}>
            {variants.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
      )}
      {isSplit && (
        <div className="split">
          {variants.map((v) => (
            <label key={v} className="inline-field">
              <span>
                Weight of {v} (%) <span className="visually-hidden">in {label}</span>
              </span>
              <input
                type="number"
                min={0}
                max={100}
                step={0.01}
                value={weightOf(v)}
                aria-invalid={problem !== null ? true : undefined}
                onChange={(e) =>
                  onChange({ split: variants.map((x) => ({ variant: x, weight: x === v ? Number(e.target.value) : weightOf(x) })) })
                }
              />
            </label>
          ))}
          {problem !== null && (
            <p className="field-error" role="alert">
              {problem}
            </p>
          )}
        </div>
      )}
      {serverErrors.length > 0 && (
        <p className="field-error" role="alert">
          {serverErrors.join('; ')}
        </p>
      )}
    </fieldset>
  );
}
