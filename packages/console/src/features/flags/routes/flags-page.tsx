import { useDeferredValue, useMemo, useState } from 'react';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { useEnvironment } from '../../../lib/environment';
import { can } from '../../../lib/permissions';
import { useMe } from '../../../lib/session';
import { useFlags } from '../api/flags';
import { CreateFlagDialog } from '../components/create-flag-dialog';
import { FlagsTable } from '../components/flags-table';

/** The flags list: search, tag filter, one switch per environment, and "New flag". */
export function FlagsPage() {
  const me = useMe();
  const { environments, current, supported } = useEnvironment();
  const flags = useFlags();
  const [search, setSearch] = useState('');
  const [tag, setTag] = useState('');
  const [creating, setCreating] = useState(false);
  const q = useDeferredValue(search.trim().toLowerCase());

  const all = flags.data ?? [];
  const tags = useMemo(() => [...new Set(all.flatMap((f) => f.attributes.tags ?? []))].sort(), [all]);
  const shown = useMemo(
    () =>
      all.filter(
        (f) =>
          (q === '' || f.attributes.key.toLowerCase().includes(q) || (f.attributes.name ?? '').toLowerCase().includes(q)) &&
          (tag === '' || (f.attributes.tags ?? []).includes(tag)),
      ),
    [all, q, tag],
  );
  const columns = supported ? environments : [current];
  const allowed = can(me.role, 'create');

  return (
    <section aria-labelledby="flags-title">
      <header className="page-header">
        <h1 id="flags-title">Feature flags</h1>
        <Button variant="primary" disabled={!allowed} disabledReason="Viewers cannot create flags" onClick={() => setCreating(true)}>
          New flag
        </Button>
      </header>
      <div className="toolbar">
        <label className="inline-field">
          <span>Search</span>
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="key or name" />
        </label>
        <label className="inline-field">
          <span>Tag</span>
          <select value={tag} onChange={(e) => setTag(e.target.value)} disabled={tags.length === 0}>
            <option value="">All tags</option>
            {tags.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <span className="muted" aria-live="polite">
          {flags.isPending ? 'Loading flags…' : `${shown.length} of ${all.length} flags`}
        </span>
      </div>
      <ErrorBanner error={flags.error} />
      {flags.data && <FlagsTable flags={shown} environments={columns} requestEnv={current.key} />}
      <CreateFlagDialog open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}
