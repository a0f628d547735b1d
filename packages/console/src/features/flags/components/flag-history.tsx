import { JsonDiff } from '../../../components/diff/json-diff';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { useFlagHistory } from '../api/flags';

/** The flag's audit records, newest first, each with what it changed. The audit log is ADMIN-only. */
export function FlagHistory({ flagId, isAdmin }: { flagId: string; isAdmin: boolean }) {
  const history = useFlagHistory(flagId, isAdmin);
  if (!isAdmin) return <p className="banner banner-info">Only admins can read the audit log.</p>;
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <ErrorBanner error={history.error} />
      {history.data?.length === 0 && <p className="muted">No changes recorded.</p>}
      <ol className="history">
        {history.data?.map((h) => (
          <li key={h.id}>
            <p>
              <time dateTime={h.attributes.at}>{new Date(h.attributes.at).toLocaleString()}</time> · <strong>{h.attributes.action}</strong>{' '}
              by {h.attributes.actor.label ?? h.attributes.actor.id ?? 'system'}
            </p>
            <JsonDiff before={h.attributes.before ?? undefined} after={h.attributes.after ?? undefined} label={`Change ${h.id}`} />
          </li>
        ))}
      </ol>
    </section>
  );
}
