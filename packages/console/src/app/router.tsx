import { lazy, Suspense, type ComponentType } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { AppShell } from '../components/layout/app-shell';
import { SignInPage } from '../features/auth/routes/sign-in-page';
import { FlagsPage } from '../features/flags/routes/flags-page';
import { RequireSession } from './require-session';
import { RouteError } from './route-error';

// Everything but sign-in and the flags list loads on demand, keeping the first load small.
function later(load: () => Promise<{ default: ComponentType }>) {
  const Page = lazy(load);
  return (
    <Suspense fallback={<p className="loading">Loading…</p>}>
      <Page />
    </Suspense>
  );
}

/** The console's routes. */
export const router = createBrowserRouter([
  { path: '/sign-in', element: <SignInPage /> },
  {
    path: '/',
    errorElement: <RouteError />,
    element: (
      <RequireSession>
        <AppShell />
      </RequireSession>
    ),
    children: [
      { index: true, element: <Navigate to="/flags" replace /> },
      { path: 'flags', element: <FlagsPage /> },
      { path: 'flags/:key', element: later(() => import('../features/flags/routes/flag-page')) },
      { path: 'experiments', element: later(() => import('../features/experiments/routes/experiments-page')) },
      { path: 'experiments/new', element: later(() => import('../features/experiments/routes/experiment-new-page')) },
      { path: 'segments', element: later(() => import('../features/segments/routes/segments-page')) },
      { path: 'segments/:key', element: later(() => import('../features/segments/routes/segment-page')) },
      { path: 'environments', element: later(() => import('../features/environments/routes/environments-page')) },
      { path: 'users', element: later(() => import('../features/users/routes/users-page')) },
      { path: 'api-keys', element: later(() => import('../features/api-keys/routes/api-keys-page')) },
      { path: 'audit-log', element: later(() => import('../features/audit-log/routes/audit-log-page')) },
      { path: 'webhooks', element: later(() => import('../features/webhooks/routes/webhooks-page')) },
      { path: 'experiments/:key', element: later(() => import('../features/experiments/routes/experiment-page')) },
      {
        path: '*',
        element: (
          <p>
            Nothing here. <a href="/flags">Go to flags</a>
          </p>
        ),
      },
    ],
  },
]);
