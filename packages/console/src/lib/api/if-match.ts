import type { QueryClient } from '@tanstack/react-query';
import { ApiError } from './api-error';

/**
 * `If-Match` for a write of a resource last read at `version`. The server answers a stale one
 * with `412 PRECONDITION_FAILED`; a server without versions sends none, and none is sent back.
 *
 * @example
 * ```ts
 * api.PATCH('/api/v1/feature-flags/{id}', { params, body, headers: ifMatch(flag.version) });
 * ```
 */
export function ifMatch(version: number | undefined): Record<string, string> {
  return version === undefined ? {} : { 'If-Match': `"${version}"` };
}

/**
 * The `onError` of a save sent with {@link ifMatch}: a `412` means the screen's copy is stale,
 * so the latest under `queryKey` is refetched (the conflict panel and "reapply" build on it);
 * other errors are left to the screen.
 *
 * @example
 * ```ts
 * useMutation({ mutationFn: save, onError: refetchWhenStale(client, ['flags']) });
 * ```
 */
export const refetchWhenStale =
  (client: QueryClient, queryKey: readonly unknown[]) =>
  (err: Error): Promise<void> | undefined =>
    err instanceof ApiError && err.status === 412 ? client.invalidateQueries({ queryKey }) : undefined;
