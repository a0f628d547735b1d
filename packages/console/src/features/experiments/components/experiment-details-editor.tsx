import { DraftConflict } from '../../../components/conflict/draft-conflict';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import { changedFields } from '../../../lib/edit-conflict';
import { useVersionedDraft } from '../../../lib/use-versioned-draft';
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
  const update = useUpdateExperiment();
  const err = update.error instanceof ApiError ? update.error : null;
  const latest = draftOf(experiment);
  const version = experiment.attributes.version;
  const d = useVersionedDraft(latest, version, update.isPending || err?.status === 412);
  const { draft, setDraft } = d;

  const saveFrom = (from: Draft, next: Draft, ifMatchVersion: number | undefined) =>
    update.mutate(
      {
        key: experiment.attributes.key,
        body: Object.fromEntries(changedFields(from, next).map((k) => [k, next[k]])),
        version: ifMatchVersion,
      },
      {
        onSuccess: (e) => d.restart(draftOf(e), e.attributes.version),
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
      <DraftConflict
        what="experiment"
        draft={d}
        latest={latest}
        version={version}
        labels={LABELS}
        conflict={err?.status === 412}
        pending={update.isPending}
        reset={() => update.reset()}
        save={saveFrom}
      />
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
          disabled={!canEdit || !d.dirty || update.isPending}
          disabledReason={!canEdit ? reason : undefined}
          onClick={() => saveFrom(d.base.draft, draft, d.base.version)}
        >
          {update.isPending ? 'Saving…' : 'Save details'}
        </Button>
        {update.isSuccess && !d.dirty && <span role="status">Saved.</span>}
      </div>
    </section>
  );
}
