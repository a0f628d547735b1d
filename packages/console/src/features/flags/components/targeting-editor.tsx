import type { Prerequisite, Rule, Serve } from '@switchyard/core';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { ApiError } from '../../../lib/api/api-error';
import type { FlagState } from '../../../lib/api/resources';
import { DraftConflict } from '../../../components/conflict/draft-conflict';
import { useDraftSave } from '../../../lib/use-draft-save';
import type { Environment } from '../../../lib/environment';
import { useSegmentKeys, useUpdateFlag, type Flag } from '../api/flags';
import { ConditionEditor } from '../../../components/condition/condition-editor';
import { ServeEditor, splitProblem } from './serve-editor';
import { PrerequisitesEditor } from './prerequisites-editor';

interface Draft {
  enabled: boolean;
  off_variant: string;
  prerequisites: Prerequisite[];
  rules: Rule[];
  default_serve: Serve;
}

function draftOf(flag: Flag): Draft {
  const a = flag.attributes;
  const first = a.variants?.[0]?.key ?? 'off';
  return {
    enabled: a.enabled === true,
    off_variant: a.off_variant ?? first,
    prerequisites: a.prerequisites ?? [],
    rules: (a.rules ?? []) as Rule[],
    default_serve: a.default_serve ?? { variant: first },
  };
}

const LABELS: Record<keyof Draft, string> = {
  enabled: 'Serving',
  off_variant: 'Off variant',
  prerequisites: 'Prerequisites',
  rules: 'Rules',
  default_serve: 'Default',
};

let ruleCounter = 0;
const newRuleId = (rules: Rule[]) => {
  let id: string;
  do id = `rule-${rules.length + 1 + ruleCounter++}`;
  while (rules.some((r) => r.id === id));
  return id;
};

/**
 * The per-environment targeting editor: kill switch, prerequisites, ordered rules (condition +
 * what to serve), the default and the off variant. Edits stay in a draft until "Save"; the
 * server's validation errors appear next to the rule or field they name.
 */
export function TargetingEditor({ flag, env, canEdit, reason }: { flag: Flag; env: Environment; canEdit: boolean; reason: string }) {
  const update = useUpdateFlag();
  // Saves send the version the draft was made from as If-Match, so a change someone else saved
  // meanwhile is a 412, never overwritten.
  const latest = draftOf(flag);
  const version = flag.attributes.version;
  const s = useDraftSave(latest, version, update, {
    request: (body, ifMatchVersion) => ({ key: flag.attributes.key, body, version: ifMatchVersion, environment: env.key }),
    stored: (f) => [draftOf(f), f.attributes.version],
  });
  const { draft: d, error: err } = s;
  const { draft, setDraft } = d;
  const segments = useSegmentKeys();
  const variants = (flag.attributes.variants ?? []).map((v) => v.key);

  const clientProblems = [
    ...draft.rules.flatMap((r, i) => {
      const p = splitProblem(r.serve);
      return p === null ? [] : [`rule ${i + 1}: ${p}`];
    }),
    ...(splitProblem(draft.default_serve) === null ? [] : [`default: ${splitProblem(draft.default_serve)}`]),
  ];

  const setRule = (i: number, r: Rule) => setDraft({ ...draft, rules: draft.rules.map((x, j) => (j === i ? r : x)) });
  const move = (i: number, d: -1 | 1) => {
    const rules = [...draft.rules];
    const [r] = rules.splice(i, 1);
    rules.splice(i + d, 0, r!);
    setDraft({ ...draft, rules });
  };
  return (
    <section className="targeting" aria-labelledby="targeting-title">
      <h2 id="targeting-title">
        Targeting in <span className="env-name">{env.name}</span>
      </h2>
      {!canEdit && <p className="banner banner-info">{reason}</p>}
      <DraftConflict what="flag" labels={LABELS} {...s.conflictProps} />
      <fieldset disabled={!canEdit} className="plain">
        <label className="checkbox">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })} />
          Serve targeting in {env.name} (off serves the off variant to everyone)
        </label>
        <PrerequisitesEditor
          value={draft.prerequisites}
          onChange={(prerequisites) => setDraft({ ...draft, prerequisites })}
          errors={err?.at('prerequisites') ?? []}
        />
        <h3>Rules</h3>
        {draft.rules.length === 0 && <p className="muted">No rules: everyone gets the default.</p>}
        <ol className="rules">
          {draft.rules.map((r, i) => (
            <li key={r.id} className="rule" data-rule={r.id}>
              <header className="rule-header">
                <strong>Rule {i + 1}</strong> <code>{r.id}</code>
                <span className="spacer" />
                <Button variant="ghost" aria-label={`Move rule ${i + 1} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                  ↑
                </Button>
                <Button
                  variant="ghost"
                  aria-label={`Move rule ${i + 1} down`}
                  disabled={i === draft.rules.length - 1}
                  onClick={() => move(i, 1)}
                >
                  ↓
                </Button>
                <Button variant="danger" onClick={() => setDraft({ ...draft, rules: draft.rules.filter((_, j) => j !== i) })}>
                  Delete rule {i + 1}
                </Button>
              </header>
              <ConditionEditor
                when={r.when}
                onChange={(when) => setRule(i, when === undefined ? { id: r.id, serve: r.serve } : { ...r, when })}
                segments={segments.data ?? []}
                disabled={!canEdit}
                ruleLabel={`rule ${i + 1}`}
                errors={err?.at(`rules.${i}.when`) ?? []}
              />
              <ServeEditor
                label={`Serve for rule ${i + 1}`}
                serve={r.serve}
                variants={variants}
                disabled={!canEdit}
                onChange={(serve) => setRule(i, { ...r, serve })}
                serverErrors={[...(err?.at(`rules.${i}.serve`) ?? []), ...(err?.at(`rules.${i}.id`) ?? [])]}
              />
            </li>
          ))}
        </ol>
        <Button
          onClick={() =>
            setDraft({ ...draft, rules: [...draft.rules, { id: newRuleId(draft.rules), serve: { variant: variants[0] ?? 'on' } }] })
          }
        >
          Add rule
        </Button>
        <ServeEditor
          label="Default (no rule matched)"
          serve={draft.default_serve}
          variants={variants}
          disabled={!canEdit}
          onChange={(default_serve) => setDraft({ ...draft, default_serve })}
          serverErrors={err?.at('default_serve') ?? []}
        />
        <label className="inline-field">
          <span>Off variant (served while off)</span>
          <select value={draft.off_variant} onChange={(e) => setDraft({ ...draft, off_variant: e.target.value })}>
            {variants.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
        {(err?.at('off_variant') ?? []).map((m) => (
          <p key={m} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </fieldset>
      {err && err.status !== 412 && (
        <ErrorBanner
          error={err}
          unplaced={err.details
            .map((d) => d.path ?? '')
            .filter((p) => /^(rules\.\d+\.(when|serve|id)|default_serve|off_variant|prerequisites)/.test(p))}
        />
      )}
      {update.error && !(update.error instanceof ApiError) && <ErrorBanner error={update.error} />}
      {clientProblems.length > 0 && (
        <p className="field-error" role="alert">
          Fix before saving: {clientProblems.join('; ')}
        </p>
      )}
      <div className="actions">
        <Button
          variant="primary"
          disabled={!canEdit || !d.dirty || update.isPending || clientProblems.length > 0}
          disabledReason={!canEdit ? reason : undefined}
          onClick={s.save}
        >
          {update.isPending ? 'Saving…' : `Save targeting in ${env.name}`}
        </Button>
        <Button
          disabled={!d.dirty}
          onClick={() => {
            update.reset();
            d.restart(latest, version);
          }}
        >
          Discard changes
        </Button>
        {s.saved && <span role="status">Saved.</span>}
      </div>
    </section>
  );
}

/** The state fields a targeting draft writes. */
export type TargetingFields = Pick<FlagState, 'enabled' | 'off_variant' | 'prerequisites' | 'rules' | 'default_serve'>;
