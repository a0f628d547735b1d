import { useState, type FormEvent } from 'react';
import type { Condition } from '@switchyard/core';
import { ConditionEditor } from '../../../components/condition/condition-editor';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import type { SegmentAttributes } from '../api/segments';
import { parseUnitList } from './unit-list';

/** What the form produces: every field of a segment (the key only when creating). */
export interface SegmentDraft {
  key: string;
  name: string;
  description: string;
  included: string[];
  excluded: string[];
  when: Condition | undefined;
}

const PLACED = ['key', 'name', 'description', 'included', 'excluded'];

/**
 * A segment's fields: units always in (included, which wins), units always out (excluded,
 * which wins over the condition), and a condition for everyone else. Server validation messages appear under the field they
 * concern.
 */
export function SegmentForm({
  initial,
  isNew,
  disabled,
  otherSegments,
  error,
  pending,
  submitLabel,
  onSubmit,
}: {
  initial: SegmentAttributes | null;
  isNew: boolean;
  disabled: boolean;
  otherSegments: string[];
  error: unknown;
  pending: boolean;
  submitLabel: string;
  onSubmit: (d: SegmentDraft) => void;
}) {
  const [when, setWhen] = useState<Condition | undefined>(initial?.when ?? undefined);
  const err = error instanceof ApiError ? error : null;
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    onSubmit({
      key: String(f.get('key') ?? initial?.key ?? '').trim(),
      name: String(f.get('name') ?? '').trim(),
      description: String(f.get('description') ?? '').trim(),
      included: parseUnitList(String(f.get('included') ?? '')),
      excluded: parseUnitList(String(f.get('excluded') ?? '')),
      when,
    });
  };
  return (
    <form onSubmit={submit} aria-label={submitLabel} className="segment-form">
      <fieldset disabled={disabled} className="plain">
        {isNew && (
          <Field label="Segment key" errors={err?.at('key')} hint="Letters, digits, dot, dash, underscore.">
            {(p) => <input {...p} name="key" required />}
          </Field>
        )}
        <Field label="Segment name" errors={err?.at('name')}>
          {(p) => <input {...p} name="name" defaultValue={initial?.name ?? ''} />}
        </Field>
        <Field label="Description" errors={err?.at('description')}>
          {(p) => <input {...p} name="description" defaultValue={initial?.description ?? ''} />}
        </Field>
        <div className="two-columns">
          <Field
            label="Included units (one per line)"
            errors={err?.at('included')}
            hint="Always in the segment (this wins over the excluded list)."
          >
            {(p) => <textarea {...p} name="included" rows={6} defaultValue={(initial?.included ?? []).join('\n')} />}
          </Field>
          <Field
            label="Excluded units (one per line)"
            errors={err?.at('excluded')}
            hint="Never in the segment, even when the condition matches."
          >
            {(p) => <textarea {...p} name="excluded" rows={6} defaultValue={(initial?.excluded ?? []).join('\n')} />}
          </Field>
        </div>
        <ConditionEditor
          when={when}
          onChange={setWhen}
          segments={otherSegments}
          disabled={disabled}
          ruleLabel="the segment"
          errors={err?.at('when') ?? []}
        />
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={disabled || pending}>
            {pending ? 'Saving…' : submitLabel}
          </button>
        </div>
      </fieldset>
      {err && (
        <ErrorBanner
          error={err}
          unplaced={err.details.map((d) => d.path ?? '').filter((p) => PLACED.includes(p) || p.startsWith('when'))}
        />
      )}
      {error !== null && error !== undefined && !(error instanceof ApiError) && <ErrorBanner error={error} />}
    </form>
  );
}
