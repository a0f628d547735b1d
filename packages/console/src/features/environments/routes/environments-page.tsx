import { useEnvironment } from '../../../lib/environment';
import { can } from '../../../lib/permissions';
import { useMe } from '../../../lib/session';
import { EnvironmentForm } from '../components/environment-form';
import { EnvironmentRow } from '../components/environment-row';

/** Environments: everyone reads them; an admin creates, recolours, protects and deletes them. */
export default function EnvironmentsPage() {
  const me = useMe();
  const { environments, supported, defaultKey } = useEnvironment();
  const allowed = can(me.role, 'admin');
  return (
    <section aria-labelledby="environments-title">
      <h1 id="environments-title">Environments</h1>
      {!supported && <p className="banner banner-info">This server has a single environment.</p>}
      {!allowed && <p className="banner banner-info">Only admins create, change or delete environments.</p>}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Environment</th>
            <th scope="col">Colour</th>
            <th scope="col">Protected</th>
            <th scope="col">Delete</th>
          </tr>
        </thead>
        <tbody>
          {environments.map((e) => (
            <EnvironmentRow
              key={`${e.key}|${e.color ?? ''}|${e.protected}`}
              env={e}
              allowed={allowed && supported}
              isDefault={e.key === defaultKey}
            />
          ))}
        </tbody>
      </table>
      <EnvironmentForm allowed={allowed && supported} />
    </section>
  );
}
