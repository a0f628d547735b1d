import { useState } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { JsonDiff } from '../../../components/diff/json-diff';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { api, unwrap } from '../../../lib/api/client';
import type { AuditRecord } from '../../../lib/api/resources';
import { can } from '../../../lib/permissions';
import { useMe } from '../../../lib/session';

const TYPES = ['', 'feature-flag', 'segment', 'experiment', 'user', 'api-key', 'environment'];

/** The append-only audit log (ADMIN), newest first, filtered by resource type, action and actor. */
export default function AuditLogPage() {
  const me = useMe();
  const admin = can(me.role, 'admin');
  const [filters, setFilters] = useState({ resource_type: '', action: '', actor_id: '' });
  const [open, setOpen] = useState<string | null>(null);
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== ''));
  const log = useInfiniteQuery({
    queryKey: ['audit-log', query],
    enabled: admin,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap<AuditRecord[]>(
        api.GET('/api/v1/audit-log', { params: { query: { limit: 50, ...query, ...(pageParam ? { cursor: pageParam } : {}) } } }),
      ),
    getNextPageParam: (last) => last.meta?.pagination?.next_cursor ?? undefined,
  });
  if (!admin) return <p className="banner banner-info">Only admins can read the audit log.</p>;
  const rows = log.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <div className="toolbar">
        <label className="inline-field">
          <span>Resource type</span>
          <select value={filters.resource_type} onChange={(e) => setFilters({ ...filters, resource_type: e.target.value })}>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t === '' ? 'All' : t}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          <span>Action</span>
          <input
            value={filters.action}
            onChange={(e) => setFilters({ ...filters, action: e.target.value })}
            placeholder="feature-flag.update"
          />
        </label>
        <label className="inline-field">
          <span>Actor id</span>
          <input value={filters.actor_id} onChange={(e) => setFilters({ ...filters, actor_id: e.target.value })} />
        </label>
      </div>
      <ErrorBanner error={log.error} />
      <table className="table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Resource</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-action={r.attributes.action}>
              <td>
                <time dateTime={r.attributes.at}>{new Date(r.attributes.at).toLocaleString()}</time>
              </td>
              <td>{r.attributes.actor.label ?? r.attributes.actor.id ?? 'system'}</td>
              <td>
                <code>{r.attributes.action}</code>
              </td>
              <td>{r.attributes.resource.key ?? r.attributes.resource.id}</td>
              <td>
                <button
                  type="button"
                  className="btn btn-ghost"
                  aria-expanded={open === r.id}
                  onClick={() => setOpen(open === r.id ? null : r.id)}
                >
                  {open === r.id ? 'Hide' : 'Show'} change {r.id}
                </button>
                {open === r.id && (
                  <JsonDiff before={r.attributes.before ?? undefined} after={r.attributes.after ?? undefined} label={`Change ${r.id}`} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {log.hasNextPage && (
        <button type="button" className="btn btn-secondary" disabled={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
          Load older
        </button>
      )}
    </section>
  );
}
