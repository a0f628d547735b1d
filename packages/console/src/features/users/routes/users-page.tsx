import { ErrorBanner } from '../../../components/ui/error-banner';
import { can } from '../../../lib/permissions';
import { useMe } from '../../../lib/session';
import { useUsers } from '../api/users';
import { CreateUserForm } from '../components/create-user-form';
import { UserRow } from '../components/user-row';

/** Users (ADMIN): create with a password, change a role, delete. Others see only themselves. */
export default function UsersPage() {
  const me = useMe();
  const users = useUsers();
  const allowed = can(me.role, 'admin');
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      {!allowed && <p className="banner banner-info">Only admins see and change other users.</p>}
      <ErrorBanner error={users.error} />
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Signs in with</th>
            <th scope="col">Role</th>
            <th scope="col">Delete</th>
          </tr>
        </thead>
        <tbody>
          {users.data?.map((u) => (
            <UserRow key={u.id} user={u} allowed={allowed} isMe={u.id === me.id} />
          ))}
        </tbody>
      </table>
      <CreateUserForm allowed={allowed} />
    </section>
  );
}
