import { Link, useParams } from 'react-router';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { useEnvironment } from '../../../lib/environment';
import { can } from '../../../lib/permissions';
import { ownerOf } from '../../../lib/api/resources';
import { useMe } from '../../../lib/session';
import { useDailyResults, useExperiment, useResults } from '../api/experiments';
import { CumulativeChart } from '../components/cumulative-chart';
import { ExperimentDetailsEditor } from '../components/experiment-details-editor';
import { ForestPlot } from '../components/forest-plot';
import { LifecycleButtons } from '../components/lifecycle-buttons';
import { ResultsBanners } from '../components/results-banners';
import { ResultsTable } from '../components/results-table';

/** One experiment: its set-up, lifecycle buttons and results (table, forest plot, banners, CSV). */
export default function ExperimentPage() {
  const { key = '' } = useParams();
  const me = useMe();
  const { current } = useEnvironment();
  const exp = useExperiment(key);
  const status = exp.data?.attributes.status;
  const results = useResults(key, status !== undefined && status !== 'DRAFT');
  const daily = useDailyResults(key, status !== undefined && status !== 'DRAFT');
  if (exp.isPending) return <p className="loading">Loading…</p>;
  if (exp.error) return <ErrorBanner error={exp.error} />;
  const e = exp.data;
  const a = e.attributes;
  const allowed = can(me.role, 'editOwn', { ownerId: ownerOf(e), userId: me.id, protectedEnv: current.protected });
  const reason =
    me.role === 'VIEWER'
      ? 'Viewers cannot run experiments'
      : current.protected
        ? `${current.name} is protected`
        : 'Only the owner or an admin';
  const csv = `/api/v1/experiments/${encodeURIComponent(a.key)}/results?format=csv${current.key ? `&environment=${encodeURIComponent(current.key)}` : ''}`;
  return (
    <article aria-labelledby="exp-title">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/experiments">Experiments</Link> / <span aria-current="page">{a.key}</span>
      </nav>
      <header className="page-header">
        <div>
          <h1 id="exp-title">{a.name || a.key}</h1>
          <p className="muted">
            <code>{a.key}</code> · <span className="badge">{a.status}</span> · traffic {a.traffic_allocation ?? 100}%
            {a.namespace ? ` · namespace ${a.namespace.key} [${a.namespace.start}, ${a.namespace.end})` : ''}
          </p>
          {a.hypothesis && <p>{a.hypothesis}</p>}
        </div>
        <LifecycleButtons experiment={e} allowed={allowed} reason={reason} />
      </header>
      <section aria-labelledby="setup-title">
        <h2 id="setup-title">Set-up</h2>
        <p>
          Variants: {a.variants.map((v) => `${v.key} ${v.weight}%`).join(' · ')}. Metrics:{' '}
          {(a.metrics ?? []).map((m) => `${m.key} (${m.type})`).join(', ') || 'none'}. Guardrails:{' '}
          {(a.guardrails ?? []).map((g) => `${g.metric} ≤ +${((g.max_relative_increase ?? 0) * 100).toFixed(1)}%`).join(', ') || 'none'}.
        </p>
      </section>
      <ExperimentDetailsEditor key={a.key} experiment={e} canEdit={allowed} reason={reason} />
      <section aria-labelledby="results-title">
        <h2 id="results-title">Results</h2>
        {status === 'DRAFT' && <p className="muted">Start the experiment to collect results.</p>}
        <ErrorBanner error={results.error} />
        {results.data && (
          <>
            <ResultsBanners experiment={e} results={results.data} />
            <p className="muted">
              {results.data.variants.map((v) => `${v.key}: ${v.units} units`).join(' · ')}
              {results.data.excluded_units ? ` · ${results.data.excluded_units} excluded` : ''} · computed{' '}
              {new Date(results.data.computed_at).toLocaleTimeString()}
              {results.data.srm?.p_value != null ? ` · SRM p = ${results.data.srm.p_value.toPrecision(2)}` : ''}
            </p>
            <ForestPlot results={results.data} />
            {daily.data && <CumulativeChart series={daily.data} primary={a.primary_metric ?? undefined} />}
            <ErrorBanner error={daily.error} />
            <ResultsTable results={results.data} alpha={results.data.method.alpha} />
            <p>
              <a className="btn btn-secondary" href={csv} download>
                Export CSV
              </a>
            </p>
          </>
        )}
      </section>
    </article>
  );
}
