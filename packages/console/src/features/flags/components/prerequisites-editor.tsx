import type { Prerequisite } from '@switchyard/core';

/** Prerequisites: flags that must serve one of the listed variants before this flag's rules run. */
export function PrerequisitesEditor({
  value,
  onChange,
  errors,
}: {
  value: Prerequisite[];
  onChange: (p: Prerequisite[]) => void;
  errors: string[];
}) {
  const set = (i: number, p: Prerequisite) => onChange(value.map((x, j) => (j === i ? p : x)));
  return (
    <fieldset className="prerequisites">
      <legend>Prerequisites</legend>
      {value.length === 0 && <p className="muted">None.</p>}
      {value.map((p, i) => (
        <div className="clause" key={i}>
          <label className="inline-field">
            <span>Prerequisite flag {i + 1}</span>
            <input value={p.flag} onChange={(e) => set(i, { ...p, flag: e.target.value })} />
          </label>
          <label className="inline-field">
            <span>Must serve (variants) {i + 1}</span>
            <input
              value={p.variants.join(', ')}
              onChange={(e) =>
                set(i, {
                  ...p,
                  variants: e.target.value
                    .split(',')
                    .map((v) => v.trim())
                    .filter(Boolean),
                })
              }
            />
          </label>
          <button type="button" className="btn btn-ghost" onClick={() => onChange(value.filter((_, j) => j !== i))}>
            Remove prerequisite {i + 1}
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-secondary" onClick={() => onChange([...value, { flag: '', variants: ['on'] }])}>
        Add prerequisite
      </button>
      {errors.map((m, i) => (
        <p key={i} className="field-error" role="alert">
          {m}
        </p>
      ))}
    </fieldset>
  );
}
