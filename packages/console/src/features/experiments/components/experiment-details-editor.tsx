import { useState } from 'react';
import { ConflictPanel } from '../../../components/conflict/conflict-panel';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import { changedFields, conflictRows, rebaseDraft } from '../../../lib/edit-conflict';
import { useUpdateExperiment, type Experiment } from '../api/experiments';

/** The fields this editor changes (any status: none of them moves a unit between variants). */
interface Draft {
  name: string;
  hypothesis: string;
  description: string;
  traffic_allocation: number;
}

const LABELS: Record<keyof Draft, string> = {
  name: 'Name',
  hypothesis: 'Hypothesis',
  description: 'Description',
  traffic_allocation: 'Traffic allocation (%)',
};

function draftOf(e: Experiment): Draft {
  const a = e.attributes;
  return {
    name: a.name ?? '',
    hypothesis: a.hypothesis ?? '',
    description: a.description ?? '',
    traffic_allocation: a.traffic_allocation ?? 100,
  };
}

/**
 * Edits an experiment's name, hypothesis, description and traffic. Saves send the version the
 * draft was made from as If-Match; a 412 shows each changed field, the server's value beside
 * the person's, with reapply (their changes on top of the latest) or discard.
 */
export function ExperimentDetailsEditor({ experiment, canEdit, reason }: { experiment: Experiment; canEdit: boolean; reason: string }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(experiment));
  const [base, setBase] = useState(() => ({ draft: draftOf(experiment), version: experiment.attributes.version }));
  const update = useUpdateExperiment();
  const err = update.error instanceof ApiError ? update.error : null;
  const latest = draftOf(experiment);
  const dirty = changedFields(base.draft, draft).length > 0;
  const latestLoaded = base.version !== experiment.attributes.version;

  const saveFrom = (from: Draft, next: Draft, version: number | undefined) =>
    update.mutate(
      { key: experiment.attributes.key, body: Object.fromEntries(changedFields(from, next).map((k) => [k, next[k]])), version },
      {
        onSuccess: (e) => {
          setDraft(draftOf(e));
          setBase({ draft: draftOf(e), version: e.attributes.version });
        },
      },
    );
  const text = (k: 'name' | 'hypothesis' | 'description') => (
    <Field label={LABELS[k]} errors={err?.at(k)}>
      {(p) => <input {...p} value={draft[k]} onChange={(e) => setDraft({ ...draft, [k]: e.target.value })} />}
    </Field>
  );

  return (
    <section aria-labelledby="details-title">
      <h2 id="details-title">Details</h2>
      {err?.status === 412 && (
        <ConflictPanel
          what="experiment"
          pending={update.isPending || !latestLoaded}
          fields={conflictRows(base.draft, draft, latest).map((r) => ({ ...r, label: LABELS[r.field] }))}
          onDiscard={() => {
            update.reset();
            setDraft(latest);
            setBase({ draft: latest, version: experiment.attributes.version });
          }}
          onReapply={() => {
            const next = rebaseDraft(base.draft, draft, latest);
            setDraft(next);
            setBase({ draft: latest, version: experiment.attributes.version });
            saveFrom(latest, next, experiment.attributes.version);
          }}
        />
      )}
      <fieldset disabled={!canEdit} className="plain">
        {text('name')}
        {text('hypothesis')}
        {text('description')}
        <Field label={LABELS.traffic_allocation} errors={err?.at('traffic_allocation')}>
          {(p) => (
            <input
              {...p}
              type="number"
              min={0}
              max={100}
              step="any"
              value={draft.traffic_allocation}
              onChange={(e) => setDraft({ ...draft, traffic_allocation: Number(e.target.value) })}
            />
          )}
        </Field>
      </fieldset>
      {err && err.status !== 412 && <ErrorBanner error={err} />}
      <div className="actions">
        <Button
          variant="primary"
          disabled={!canEdit || !dirty || update.isPending}
          disabledReason={!canEdit ? reason : undefined}
          onClick={() => saveFrom(base.draft, draft, base.version)}
        >
          {update.isPending ? 'Saving…' : 'Save details'}
        </Button>
        {update.isSuccess && !dirty && <span role="status">Saved.</span>}
      </div>
    </section>
  );
}
