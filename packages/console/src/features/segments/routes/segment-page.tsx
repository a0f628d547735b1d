import { Link, useNavigate, useParams } from 'react-router';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { can } from '../../../lib/permissions';
import { ownerOf } from '../../../lib/api/resources';
import { useMe } from '../../../lib/session';
import { useCreateSegment, useDeleteSegment, useSegment, useSegments, useUpdateSegment } from '../api/segments';
import { SegmentForm, type SegmentDraft } from '../components/segment-form';

/** Creates a segment (`/segments/new`) or edits one (`/segments/:key`). */
export default function SegmentPage() {
  const { key: param = 'new' } = useParams();
  const isNew = param === 'new';
  const me = useMe();
  const navigate = useNavigate();
  const segment = useSegment(isNew ? null : param);
  const all = useSegments();
  const create = useCreateSegment();
  const update = useUpdateSegment();
  const remove = useDeleteSegment();
  if (!isNew && segment.isPending) return <p className="loading">Loading…</p>;
  if (!isNew && segment.error) return <ErrorBanner error={segment.error} />;
  const s = isNew ? null : (segment.data ?? null);
  const allowed = isNew ? can(me.role, 'create') : can(me.role, 'editOwn', { ownerId: ownerOf(s), userId: me.id });
  const others = (all.data ?? []).map((x) => x.attributes.key).filter((k) => k !== s?.attributes.key);
  const title = isNew ? 'New segment' : (s?.attributes.name ?? s?.attributes.key ?? param);

  const submit = (d: SegmentDraft) => {
    const fields = { name: d.name, description: d.description, included: d.included, excluded: d.excluded };
    if (isNew)
      create.mutate(
        { key: d.key, ...fields, ...(d.when === undefined ? {} : { when: d.when }) },
        { onSuccess: (created) => void navigate(`/segments/${encodeURIComponent(created.attributes.key)}`, { replace: true }) },
      );
    else update.mutate({ key: s!.attributes.key, body: { ...fields, when: d.when ?? null }, version: s!.attributes.version });
  };

  return (
    <article aria-labelledby="segment-title">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/segments">Segments</Link> / <span aria-current="page">{isNew ? 'new' : param}</span>
      </nav>
      <header className="page-header">
        <div>
          <h1 id="segment-title">{title}</h1>
          {s && (
            <p className="muted">
              <code>{s.attributes.key}</code>
            </p>
          )}
        </div>
        {s && (
          <Button
            variant="danger"
            disabled={!allowed || remove.isPending}
            disabledReason="Only the owner of this segment or an admin can delete it"
            onClick={() => {
              if (window.confirm(`Delete the segment "${s.attributes.key}"?`))
                remove.mutate(
                  { key: s.attributes.key, version: s.attributes.version },
                  { onSuccess: () => void navigate('/segments', { replace: true }) },
                );
            }}
          >
            Delete segment
          </Button>
        )}
      </header>
      {!allowed && (
        <p className="banner banner-info">
          {me.role === 'VIEWER'
            ? 'Viewers can read segments but not change them.'
            : 'Only the owner of this segment or an admin can change it.'}
        </p>
      )}
      <ErrorBanner error={remove.error} />
      <SegmentForm
        // A save elsewhere (or here) starts the form again from the stored copy.
        key={s?.attributes.updated_at ?? 'new'}
        initial={s?.attributes ?? null}
        isNew={isNew}
        disabled={!allowed}
        otherSegments={others}
        error={isNew ? create.error : update.error}
        pending={create.isPending || update.isPending}
        submitLabel={isNew ? 'Create segment' : 'Save segment'}
        onSubmit={submit}
      />
      {update.isSuccess && <p role="status">Saved.</p>}
    </article>
  );
}
