import { Link, useNavigate } from 'react-router';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { can } from '../../../lib/permissions';
import { useMe } from '../../../lib/session';
import { useExperiments } from '../api/experiments';

/** Experiments of the current environment with their status. */
export default function ExperimentsPage() {
  const me = useMe();
  const list = useExperiments();
  const navigate = useNavigate();
  return (
    <section aria-labelledby="exp-title">
      <header className="page-header">
        <h1 id="exp-title">Experiments</h1>
        <Button
          variant="primary"
          disabled={!can(me.role, 'create')}
          disabledReason="Viewers cannot create experiments"
          onClick={() => void navigate('/experiments/new')}
        >
          New experiment
        </Button>
      </header>
      <ErrorBanner error={list.error} />
      {list.data?.length === 0 && <p className="muted">No experiments yet.</p>}
      {list.data && list.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Experiment</th>
              <th scope="col">Status</th>
              <th scope="col">Variants</th>
              <th scope="col">Primary metric</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((e) => (
              <tr key={e.id}>
                <td>
                  <Link to={`/experiments/${encodeURIComponent(e.attributes.key)}`}>{e.attributes.key}</Link>{' '}
                  <span className="muted">{e.attributes.name}</span>
                </td>
                <td>
                  <span className="badge">{e.attributes.status}</span>
                </td>
                <td>{e.attributes.variants.map((v) => `${v.key} ${v.weight}%`).join(' · ')}</td>
                <td>{e.attributes.primary_metric ?? e.attributes.metrics?.[0]?.key ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
