import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { ROLES, type Role } from '../../../lib/api/resources';
import { useDeleteUser, useUpdateUser, type User } from '../api/users';

/** One user: role changed in place, delete after a confirmation; the server's refusals show on the row. */
export function UserRow({ user, allowed, isMe }: { user: User; allowed: boolean; isMe: boolean }) {
  const update = useUpdateUser();
  const remove = useDeleteUser();
  const a = user.attributes;
  const why = allowed ? undefined : 'Only admins change users';
  return (
    <tr data-user={a.email}>
      <th scope="row">
        {a.email}
        {isMe && <span className="badge">you</span>}
      </th>
      <td>{a.name ?? '—'}</td>
      <td>{a.source === 'oidc' ? 'identity provider' : 'password'}</td>
      <td>
        <label className="inline-row">
          <span className="visually-hidden">Role of {a.email}</span>
          <select
            value={update.isPending ? (update.variables.body.role ?? a.role) : a.role}
            disabled={!allowed || update.isPending}
            title={why}
            onChange={(e) => update.mutate({ id: user.id, body: { role: e.target.value as Role } })}
          >
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
      </td>
      <td>
        <Button
          variant="danger"
          disabled={!allowed || remove.isPending}
          disabledReason={why}
          onClick={() => {
            if (window.confirm(`Delete ${a.email}? Their sessions and API keys stop working at once.`)) remove.mutate(user.id);
          }}
        >
          Delete {a.email}
        </Button>
        <ErrorBanner error={update.error ?? remove.error} />
      </td>
    </tr>
  );
}
