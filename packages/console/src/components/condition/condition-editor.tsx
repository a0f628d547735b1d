import { useState } from 'react';
import type { Condition, Operator } from '@switchyard/core';
import { ALL_OPERATORS, NO_VALUE_OPS, fromClauses, toClauses, type Clause } from './condition-model';

/**
 * Edits a rule's condition as a list of clauses that must all hold: attribute comparisons with
 * any of the 22 operators, or segment membership. Conditions nested deeper than that are edited
 * as JSON. `errors` are the server's messages for this condition, shown under it.
 */
export function ConditionEditor({
  when,
  onChange,
  segments,
  disabled,
  ruleLabel,
  errors,
}: {
  when: Condition | undefined;
  onChange: (c: Condition | undefined) => void;
  segments: string[];
  disabled: boolean;
  ruleLabel: string;
  errors: string[];
}) {
  const clauses = toClauses(when);
  const [json, setJson] = useState(() => JSON.stringify(when ?? null, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);

  if (clauses === null) {
    return (
      <div className="field">
        <label>
          Condition of {ruleLabel} (JSON)
          <textarea
            rows={6}
            value={json}
            disabled={disabled}
            aria-invalid={jsonError !== null || errors.length > 0 ? true : undefined}
            onChange={(e) => {
              setJson(e.target.value);
              try {
                onChange(JSON.parse(e.target.value) as Condition);
                setJsonError(null);
              } catch (err) {
                setJsonError((err as Error).message);
              }
            }}
          />
        </label>
        {[jsonError, ...errors].filter(Boolean).map((m, i) => (
          <p key={i} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </div>
    );
  }

  const set = (i: number, c: Clause) => onChange(fromClauses(clauses.map((x, j) => (j === i ? c : x))));
  return (
    <fieldset className="condition" disabled={disabled}>
      <legend>Condition of {ruleLabel}</legend>
      {clauses.length === 0 && <p className="muted">Matches everyone.</p>}
      {clauses.map((c, i) => (
        <div className="clause" key={i} data-clause={i}>
          <span className="clause-join">{i === 0 ? 'If' : 'and'}</span>
          {c.kind === 'segment' ? (
            <label className="inline-field">
              <span>Segment {i + 1}</span>
              <select value={c.segment} onChange={(e) => set(i, { kind: 'segment', segment: e.target.value })}>
                {[...new Set([c.segment, ...segments])].map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            </label>
          ) : (
            <>
              <label className="inline-field">
                <span>Attribute {i + 1}</span>
                <input value={c.attr} onChange={(e) => set(i, { ...c, attr: e.target.value })} placeholder="email" />
              </label>
              <label className="inline-field">
                <span>Operator {i + 1}</span>
                <select value={c.op} onChange={(e) => set(i, { ...c, op: e.target.value as Operator })}>
                  {ALL_OPERATORS.map((op) => (
                    <option key={op}>{op}</option>
                  ))}
                </select>
              </label>
              {!NO_VALUE_OPS.has(c.op) && (
                <label className="inline-field">
                  <span>Values {i + 1}</span>
                  <input value={c.values} onChange={(e) => set(i, { ...c, values: e.target.value })} placeholder="comma, separated" />
                </label>
              )}
            </>
          )}
          <button
            type="button"
            className="btn btn-ghost"
            aria-label={`Remove clause ${i + 1} of ${ruleLabel}`}
            onClick={() => onChange(fromClauses(clauses.filter((_, j) => j !== i)))}
          >
            Remove
          </button>
        </div>
      ))}
      <div className="actions">
        <button
          type="button"
          className="btn btn-secondary"
          onClick={() => onChange(fromClauses([...clauses, { kind: 'attr', attr: '', op: 'eq', values: '' }]))}
        >
          Add attribute clause
        </button>
        <button
          type="button"
          className="btn btn-secondary"
          disabled={segments.length === 0}
          onClick={() => onChange(fromClauses([...clauses, { kind: 'segment', segment: segments[0] ?? '' }]))}
        >
          Add segment clause
        </button>
      </div>
      {errors.map((m, i) => (
        <p key={i} className="field-error" role="alert">
          {m}
        </p>
      ))}
    </fieldset>
  );
}
