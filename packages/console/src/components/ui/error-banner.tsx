import { ApiError } from '../../lib/api/api-error';

/**
 * Shows a failed request: the server's message, its code and request id (for the server log),
 * and any details that no field on the screen claimed.
 *
 * @example
 * ```tsx
 * {mutation.error && <ErrorBanner error={mutation.error} />}
 * ```
 */
export function ErrorBanner({ error, unplaced }: { error: unknown; unplaced?: string[] }) {
  if (error === null || error === undefined) return null;
  const api = error instanceof ApiError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="banner banner-error" role="alert">
      <strong>{api ? `${api.code}: ` : ''}</strong>
      {message}
      {api && api.details.length > 0 && (
        <ul>
          {api.details
            .filter((d) => unplaced === undefined || !unplaced.includes(d.path ?? ''))
            .map((d, i) => (
              <li key={i}>
                {d.path ? <code>{d.path}</code> : null} {d.message}
              </li>
            ))}
        </ul>
      )}
      {api?.requestId && <div className="muted">request id {api.requestId}</div>}
    </div>
  );
}
