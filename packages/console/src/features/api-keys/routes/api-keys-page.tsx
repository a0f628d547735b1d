import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { useMe } from '../../../lib/session';
import { useApiKeys, useRevokeApiKey } from '../api/api-keys';
import { CreateKeyForm } from '../components/create-key-form';

/** API keys: create (secret shown once), list, revoke. */
export default function ApiKeysPage() {
  const me = useMe();
  const keys = useApiKeys();
  const revoke = useRevokeApiKey();
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      <CreateKeyForm myRole={me.role} />
      <ErrorBanner error={keys.error ?? revoke.error} />
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Environment</th>
            <th scope="col">Role</th>
            <th scope="col">Prefix</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {keys.data?.map((k) => (
            <tr key={k.id} data-key={k.attributes.name}>
              <td>{k.attributes.name}</td>
              <td>{k.attributes.kind}</td>
              {/* Server and client keys work only in their own environment; management keys in all. */}
              <td>{k.attributes.kind === 'management' ? 'all' : (k.attributes.environment ?? '—')}</td>
              <td>{k.attributes.role ?? '—'}</td>
              <td>
                <code>{k.attributes.prefix}…</code>
              </td>
              <td>{k.attributes.last_used_at ? new Date(k.attributes.last_used_at).toLocaleString() : 'never'}</td>
              <td>
                {k.attributes.revoked ? (
                  <span className="badge">revoked</span>
                ) : (
                  <Button
                    variant="danger"
                    disabled={revoke.isPending}
                    onClick={() => {
                      if (window.confirm(`Revoke "${k.attributes.name}"? Anything using it stops working at once.`)) revoke.mutate(k.id);
                    }}
                  >
                    Revoke {k.attributes.name}
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
