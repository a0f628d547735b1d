import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { isActive, type Rollout, type RolloutCheck } from '../api/rollouts';
import { GuardrailChart } from './guardrail-chart';

const STATUS_TEXT: Record<Rollout['attributes']['status'], string> = {
  running: 'Running',
  paused: 'Paused after a regression: waiting for a person',
  completed: 'Completed: the variant ships to everyone',
  rolled_back: 'Rolled back to the control',
  stopped: 'Stopped',
};
// The verdict as the API names it, in words; an arm without units has nothing to judge (not a pass).
const VERDICT_TEXT: Record<RolloutCheck['verdict'], string> = {
  ok: 'ok',
  breach: 'breach',
  insufficient_data: 'insufficient data',
  uncomputable: 'uncomputable',
};
const num = (v: number | null, digits = 4) => (v === null ? '–' : Number(v.toFixed(digits)).toString());
const rel = (v: number | null) => (v === null ? '–' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
const when = (iso: string) => new Date(iso).toLocaleString();

function ChecksTable({ checks, caption }: { checks: RolloutCheck[]; caption: string }) {
  return (
    <table className="table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Guardrail</th>
          <th scope="col">Control</th>
          <th scope="col">New arm</th>
          <th scope="col">Change</th>
          <th scope="col">Interval</th>
          <th scope="col">Verdict</th>
        </tr>
      </thead>
      <tbody>
        {checks.map((c) => (
          <tr key={c.metric} data-check={c.metric}>
            <th scope="row">{c.metric}</th>
            <td>{num(c.control_mean)}</td>
            <td>{num(c.variant_mean)}</td>
            <td>{rel(c.estimate)}</td>
            <td>{c.interval ? `${rel(c.interval[0] ?? null)} to ${rel(c.interval[1] ?? null)}` : '–'}</td>
            <td className={`verdict verdict-${c.verdict}`}>
              {VERDICT_TEXT[c.verdict]}
              {c.rule ? ` (${c.rule})` : ''}
              {c.reason ? <span className="muted"> · {c.reason}</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * One rollout: status, stage and share, when the hold ends, units per arm, each guardrail's
 * estimate, interval and verdict (table and chart), the history of transitions, and a stop
 * button while it is active.
 */
export function RolloutStatus({
  rollout,
  canEdit,
  reason,
  onStop,
  stopping,
  stopError,
}: {
  rollout: Rollout;
  canEdit: boolean;
  reason: string;
  onStop: () => void;
  stopping: boolean;
  stopError: unknown;
}) {
  const a = rollout.attributes;
  const active = isActive(rollout);
  return (
    <section className="rollout" aria-labelledby={`rollout-${rollout.id}`} data-rollout={rollout.id}>
      <h3 id={`rollout-${rollout.id}`}>
        Rollout of <code>{a.variant}</code> over <code>{a.control}</code>
      </h3>
      <p className={`banner ${a.status === 'rolled_back' || a.status === 'paused' ? 'banner-warn' : 'banner-info'}`} role="status">
        <strong>{STATUS_TEXT[a.status]}</strong>
        {a.end_reason ? ` — ${a.end_reason}` : ''}
      </p>
      <dl className="facts">
        <dt>Stage</dt>
        <dd>
          {a.stage} of {a.stages.length}
        </dd>
        {/* "served", not "on": variants are often called on and off ("Share on on"). */}
        <dt>
          Share served <code>{a.variant}</code>
        </dt>
        <dd>{a.share}%</dd>
        <dt>Stages</dt>
        <dd>{a.stages.map((s) => `${s.percent}%${s.hold_minutes ? ` for ${s.hold_minutes} min` : ''}`).join(' → ')}</dd>
        {active && a.hold_ends_at && (
          <>
            <dt>Next stage at the earliest</dt>
            <dd>{when(a.hold_ends_at)}</dd>
          </>
        )}
        <dt>On a regression</dt>
        <dd>{a.on_regression === 'rollback' ? 'roll back' : 'pause'}</dd>
        <dt>Units</dt>
        <dd>
          {a.units
            ? `${a.units.variant} served ${a.variant}, ${a.units.control} served ${a.control}${a.units.excluded ? `, ${a.units.excluded} excluded (saw both)` : ''}`
            : (a.figures_error ?? '–')}
        </dd>
      </dl>
      {a.guardrail_checks && a.guardrail_checks.length > 0 && (
        <>
          <ChecksTable checks={a.guardrail_checks} caption="Guardrails now" />
          <GuardrailChart checks={a.guardrail_checks} guardrails={a.guardrails} />
        </>
      )}
      {active && (
        <div className="actions">
          <Button variant="danger" disabled={!canEdit || stopping} disabledReason={!canEdit ? reason : undefined} onClick={onStop}>
            {stopping ? 'Stopping…' : `Stop rollout (serve ${a.control})`}
          </Button>
        </div>
      )}
      {stopError !== null && stopError !== undefined && <ErrorBanner error={stopError} />}
      <h4>History</h4>
      <ol className="rollout-history">
        {[...a.history].reverse().map((h, i) => (
          <li key={i}>
            <time dateTime={h.at}>{when(h.at)}</time> · {h.action.replace('_', ' ')} · stage {h.stage} ({h.percent}%) · by{' '}
            {h.by === 'rollout-monitor' ? 'the rollout monitor' : 'a person'}
            {h.reason ? ` · ${h.reason}` : ''}
          </li>
        ))}
      </ol>
    </section>
  );
}
