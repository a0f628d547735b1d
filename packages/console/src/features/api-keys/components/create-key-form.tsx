import { useState, type FormEvent } from 'react';
import { CopyButton } from '../../../components/ui/copy-button';
import { Dialog } from '../../../components/ui/dialog';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import { ROLES, type Role } from '../../../lib/api/resources';
import { useEnvironment } from '../../../lib/environment';
import { can } from '../../../lib/permissions';
import { useCreateApiKey } from '../api/api-keys';

type Kind = 'server' | 'client' | 'management';

/** Creates a key and shows its secret once, with a copy button; it cannot be shown again. */
export function CreateKeyForm({ myRole }: { myRole: Role }) {
  const create = useCreateApiKey();
  const { environments, current, supported } = useEnvironment();
  // Only an ADMIN may create server and client keys; others, management keys up to their own role.
  const admin = can(myRole, 'admin');
  const [kind, setKind] = useState<Kind>(admin ? 'server' : 'management');
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const err = create.error instanceof ApiError ? create.error : null;
  const roles = ROLES.slice(0, ROLES.indexOf(myRole) + 1);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const role = String(f.get('role') ?? '');
    const environment = String(f.get('environment') ?? '');
    create.mutate(
      {
        name: String(f.get('name')),
        kind,
        ...(kind === 'management' && role ? { role: role as Role } : {}),
        // Server and client keys belong to one environment: everything they read and send is its.
        ...(kind !== 'management' && supported && environment ? { environment } : {}),
      },
      { onSuccess: (k) => setSecret({ name: k.attributes.name, key: k.attributes.key }) },
    );
  };

  return (
    <>
      <form onSubmit={submit} className="toolbar" aria-label="New API key">
        <Field label="Key name" errors={err?.at('name')}>
          {(p) => <input {...p} name="name" required />}
        </Field>
        <Field label="Kind" errors={err?.at('kind')}>
          {(p) => (
            <select {...p} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              {admin && <option value="server">server (reads the whole config)</option>}
              {admin && <option value="client">client (browser-safe: evaluated values only)</option>}
              <option value="management">management (the API, with a role)</option>
            </select>
          )}
        </Field>
        {kind !== 'management' && supported && (
          <Field label="Key environment" errors={err?.at('environment')}>
            {(p) => (
              <select {...p} name="environment" defaultValue={current.key}>
                {environments.map((e) => (
                  <option key={e.key} value={e.key}>
                    {e.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        {kind === 'management' && (
          <Field label="Role" errors={err?.at('role')}>
            {(p) => (
              <select {...p} name="role" defaultValue={myRole}>
                {roles.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            )}
          </Field>
        )}
        <div className="field">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            Create key
          </button>
        </div>
      </form>
      {err && err.details.length === 0 && <ErrorBanner error={err} />}
      <Dialog open={secret !== null} title={`Key "${secret?.name ?? ''}" created`} onClose={() => setSecret(null)}>
        <p className="banner banner-warn">Copy this secret now: it is stored only as a hash and will not be shown again.</p>
        <p>
          <code className="secret" data-testid="new-secret">
            {secret?.key}
          </code>
        </p>
        <div className="actions">
          {secret && <CopyButton text={secret.key} label="Copy key" />}
          <button type="button" className="btn btn-secondary" onClick={() => setSecret(null)}>
            Done
          </button>
        </div>
      </Dialog>
    </>
  );
}
