import { useRouteError } from 'react-router';

/** What a screen shows instead of itself when rendering it failed: the error, not a blank page. */
export function RouteError() {
  const error = useRouteError();
  return (
    <div className="banner banner-error" role="alert">
      <strong>This screen failed to render.</strong> {error instanceof Error ? error.message : String(error)}{' '}
      <a href="/flags">Back to flags</a>
    </div>
  );
}
