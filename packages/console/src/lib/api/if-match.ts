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
