import { NavLink, Outlet, useNavigate } from 'react-router';
import { useEnvironment } from '../../lib/environment';
import { useMe, useSession } from '../../lib/session';

// Screens appear here as they are built; each one is a feature folder under src/features.
const NAV = [
  { to: '/flags', label: 'Flags' },
  { to: '/segments', label: 'Segments' },
  { to: '/experiments', label: 'Experiments' },
  { to: '/api-keys', label: 'API keys' },
  { to: '/environments', label: 'Environments' },
  { to: '/users', label: 'Users' },
  { to: '/audit-log', label: 'Audit log' },
  { to: '/webhooks', label: 'Webhooks' },
];

/** The frame of every signed-in screen: navigation, the environment switcher, who is signed in. */
export function AppShell() {
  const { environments, current, select } = useEnvironment();
  const { signOut } = useSession();
  const me = useMe();
  const navigate = useNavigate();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Switchyard</span>
        <span className="env-switcher">
          {/* A label by id, not by nesting: nesting would fold the chosen option into the name. */}
          <span
            className="env-swatch"
            aria-hidden="true"
            ref={(el) => el?.style.setProperty('background', current.color ?? 'transparent')}
          />
          <label htmlFor="environment-switcher">Environment</label>
          <select id="environment-switcher" value={current.key} onChange={(e) => select(e.target.value)} data-env={current.key}>
            {environments.map((e) => (
              <option key={e.key} value={e.key}>
                {e.name}
                {e.protected ? ' (protected)' : ''}
              </option>
            ))}
          </select>
        </span>
        <span className="whoami">
          {me.email} · <span className="role">{me.role}</span>
        </span>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => {
            void signOut().then(() => navigate('/sign-in'));
          }}
        >
          Sign out
        </button>
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {NAV.map((n) => (
            <li key={n.to}>
              <NavLink to={n.to}>{n.label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content">
        <Outlet />
      </main>
    </div>
  );
}
