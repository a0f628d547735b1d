/**
 * The `ETag` of config version `version`: `"v<version>"` (strong; the document of a version
 * never changes).
 *
 * @example
 * ```ts
 * configEtag(42); // '"v42"'
 * ```
 */
export function configEtag(version: number): string {
  return `"v${version}"`;
}

/**
 * Whether an `If-None-Match` header names `etag` (a list, weak forms and `*` included).
 *
 * @example
 * ```ts
 * etagMatches('W/"v42", "v41"', configEtag(42)); // true
 * ```
 */
export function etagMatches(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (ifNoneMatch === null || ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((t) => {
    const s = t.trim();
    return s === '*' || s.replace(/^W\//, '') === etag;
  });
}
