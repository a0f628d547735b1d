import { DraftConflict } from '../../../components/conflict/draft-conflict';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { useDraftSave } from '../../../lib/use-draft-save';
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
  const s = useDraftSave(draftOf(experiment), experiment.attributes.version, update, {
    request: (body, version) => ({ key: experiment.attributes.key, body, version }),
    stored: (e) => [draftOf(e), e.attributes.version],
  });
  const { draft: d, error: err } = s;
  const { draft, setDraft } = d;

  const text = (k: 'name' | 'hypothesis' | 'description') => (
    <Field label={LABELS[k]} errors={err?.at(k)}>
      {(p) => <input {...p} value={draft[k]} onChange={(e) => setDraft({ ...draft, [k]: e.target.value })} />}
    </Field>
  );

  return (
    <section aria-labelledby="details-title">
      <h2 id="details-title">Details</h2>
      <DraftConflict what="experiment" labels={LABELS} {...s.conflictProps} />
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
          onClick={s.save}
        >
          {update.isPending ? 'Saving…' : 'Save details'}
        </Button>
        {s.saved && <span role="status">Saved.</span>}
      </div>
    </section>
  );
}
