import { useNavigate } from 'react-router';
import { useEnvironment } from '../../../lib/environment';
import { can } from '../../../lib/permissions';
import { useMe } from '../../../lib/session';
import { useCreateExperiment } from '../api/experiments';
import { ExperimentForm } from '../components/experiment-form';

/** Set up a new experiment (it starts as a DRAFT). */
export default function ExperimentNewPage() {
  const me = useMe();
  const { current } = useEnvironment();
  const create = useCreateExperiment();
  const navigate = useNavigate();
  if (!can(me.role, 'create')) return <p className="banner banner-info">Viewers cannot create experiments.</p>;
  return (
    <section aria-labelledby="new-exp-title">
      <h1 id="new-exp-title">New experiment in {current.name}</h1>
      <ExperimentForm
        pending={create.isPending}
        error={create.error}
        onSubmit={(body) =>
          create.mutate(body, { onSuccess: (e) => void navigate(`/experiments/${encodeURIComponent(e.attributes.key)}`) })
        }
      />
    </section>
  );
}
