import { Link, useNavigate } from 'react-router';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { can } from '../../../lib/permissions';
import { useMe } from '../../../lib/session';
import { useSegments } from '../api/segments';

/** Segments: reusable audiences (unit lists plus a condition) that flag rules refer to by key. */
export default function SegmentsPage() {
  const me = useMe();
  const segments = useSegments();
  const navigate = useNavigate();
  const allowed = can(me.role, 'create');
  return (
    <section aria-labelledby="segments-title">
      <header className="page-header">
        <div>
          <h1 id="segments-title">Segments</h1>
          <p className="muted">Shared by every environment. A rule targets one with a segment clause.</p>
        </div>
        <Button
          variant="primary"
          disabled={!allowed}
          disabledReason="Viewers cannot create segments"
          onClick={() => void navigate('/segments/new')}
        >
          New segment
        </Button>
      </header>
      <ErrorBanner error={segments.error} />
      {segments.data?.length === 0 && <p className="muted">No segments yet.</p>}
      {segments.data !== undefined && segments.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Segment</th>
              <th scope="col">Included</th>
              <th scope="col">Excluded</th>
              <th scope="col">Condition</th>
            </tr>
          </thead>
          <tbody>
            {segments.data.map((s) => (
              <tr key={s.id} data-segment={s.attributes.key}>
                <th scope="row">
                  <Link to={`/segments/${encodeURIComponent(s.attributes.key)}`}>{s.attributes.key}</Link>
                  {s.attributes.name && <span className="muted"> {s.attributes.name}</span>}
                </th>
                <td>{s.attributes.included?.length ?? 0}</td>
                <td>{s.attributes.excluded?.length ?? 0}</td>
                <td>{s.attributes.when ? <code>{JSON.stringify(s.attributes.when)}</code> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
